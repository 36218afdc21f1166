"""A course in a box: tasks a student does, from the chain rule to BPTT by hand, graded by
property tests. Read ``exercises/README.md``; grade with ``python -m exercises check``."""
