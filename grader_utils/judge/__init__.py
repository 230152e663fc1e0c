"""The judging core: pure functions over plain data (Keras ground truth, cases, the comparator, likely causes,
verdicts, the exercise registry). Nothing here runs student code; nothing here imports the sandbox."""
