"""Answer checks for the exercises, one module per segment.

Each exercise is an ``Exercise`` (see ``core``) with two checks:

* ``check_format(value)``: the visible test; the answer is a plain number of
  the right sign and rough size. Never reveals the expected value.
* ``check_value(value)``: the hidden test and the learner's self-check; passes
  within a tolerance, else names the likely mistake (an inverted ratio, a
  factor of 2, a unit slip of 1000) without giving the answer away.

Checks convert answers to plain ``float`` first, so an object whose ``__eq__``
always returns True can never pass.
"""
