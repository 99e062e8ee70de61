"""Widgets shared by every segment: the explorer shell and the flashcard review.

Each segment's own explorer lives in its room, ``course/segments/<name>/explorer.py``.
"""
