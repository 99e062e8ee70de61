"""Tests of the cohort autograder (run by `make test`, or `python -m pytest autograder/tests`)."""
