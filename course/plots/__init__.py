"""Drawing helpers shared by every segment's plot (``course/segments/<name>/plot.py``): ``course.plots.common``."""
