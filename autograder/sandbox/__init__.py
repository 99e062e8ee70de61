"""Running learner code in bubblewrap: the worker (inside) and the pool (outside)."""
