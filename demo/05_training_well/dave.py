# Demo student "dave": opened the notebook and submitted it without answering.
# Expected: 0 everywhere, and the notebook still runs to the end.
