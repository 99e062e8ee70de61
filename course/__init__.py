"""Economics of LLM inference: models, presets, plots, widgets and answer checks.

Import the layer you need, e.g. ``from course.models import roofline``; nothing
is computed or drawn at import time.
"""

__version__ = "0.1.0"
