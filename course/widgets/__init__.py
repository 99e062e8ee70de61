"""Explorers: thin wiring of ipywidgets controls to ``course.models`` and ``course.plots``."""
