"""Widgets shared by every segment: the explorer mechanism (``explorer``) and the flashcard review.

Each segment's own explorer lives in its room, ``course/segments/<name>/explorer.py``.
"""
