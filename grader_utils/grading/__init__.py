"""Trusted grading: the engine (plan -> run in the sandbox -> judge), nbgrader's autograde hooked to it, the test
cells' specs, the records and the gradebook's scores, the course layout."""
