"""Practise again: a fresh variant of an exercise family with its own answer box.

The graded answer stays the learner's own variant (attempt 0); practice variants
are attempts 1, 2, ... and only feed the mastery count on the start page.
"""

from __future__ import annotations

import html
import re

import ipywidgets as widgets

from course import variants
from course.headless import Placeholder, is_headless

_BOLD = re.compile(r"\*\*(.+?)\*\*")


def markdown_to_html(text: str) -> str:
    """The little Markdown a statement uses (paragraphs, **bold**, `code`), as HTML; $math$ is left for MathJax."""
    escaped = html.escape(text, quote=False)
    escaped = _BOLD.sub(r"<b>\1</b>", escaped)
    escaped = re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)
    return "".join(f"<p>{paragraph}</p>" for paragraph in escaped.split("\n\n"))


def practice_widget(family: variants.Family):
    """Statement with fresh numbers, an answer box, Check and New numbers buttons."""
    if is_headless():
        return Placeholder(f"practice for {family.variable}")
    learner = variants.learner_id()
    state = {"attempt": int(variants.practice_log().get(family.key, {}).get("fresh", 0)) + 1}
    statement = widgets.HTMLMath()
    answer = widgets.Text(description="your answer", placeholder=family.unit)
    check = widgets.Button(description="Check")
    fresh = widgets.Button(description="New numbers")
    verdict = widgets.HTML()

    def show_variant() -> None:
        params = family.params(learner, state["attempt"])
        statement.value = (f"<b>Practice {state['attempt']}</b> (does not change your graded answer)"
                           + markdown_to_html(family.render(params)))
        answer.value = ""
        verdict.value = ""

    def on_check(_button) -> None:
        try:
            value = float(answer.value.replace(",", "").replace("_", ""))
        except ValueError:
            verdict.value = "✗ type a plain number, e.g. 2400 or 1.5e-3"
            return
        problem = family.verdict(value, learner=learner, attempt=state["attempt"])
        variants.record_practice(family.key, state["attempt"], problem is None)
        verdict.value = "✓ right." if problem is None else html.escape("✗ " + problem.replace("`", ""))

    def on_fresh(_button) -> None:
        state["attempt"] += 1
        show_variant()

    check.on_click(on_check)
    fresh.on_click(on_fresh)
    show_variant()
    box = widgets.VBox([statement, widgets.HBox([answer, check, fresh]), verdict])
    box.add_class("course-practice")
    return box
