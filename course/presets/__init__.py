"""Presets: chips, language models and API prices, each number with its source.

``course.presets.chips``, ``course.presets.llms`` and ``course.presets.prices``
hold plain frozen dataclasses; nothing is computed here.
"""
