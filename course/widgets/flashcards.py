"""Flashcard review widget: question, reveal, then "knew it" or "again" (Leitner boxes).

Formulas in a card (``$...$``) are typeset by JupyterLab's MathJax (an ``HTMLMath`` widget). With
``COURSE_HEADLESS=1`` (the grader) ``flashcard_review`` draws nothing and does not import ipywidgets.
"""

from __future__ import annotations

import html

from course import flashcards
from course.headless import is_headless

BOX_EXPLAINED = ("Box 1 means you will see the card again in this session; each “Knew it” moves it up a box, "
                 "and a card in box k comes back only after 2<sup>k−1</sup> sessions, so higher boxes come back "
                 "less often. “Again” puts it back in box 1.")
"""The one line under every card that says what its box means (see ``flashcards.LeitnerSchedule``)."""


def card_html(text: str) -> str:
    """A card's text as HTML for an ``HTMLMath`` widget: escaped, its ``$...$`` left for MathJax."""
    return html.escape(text, quote=False)


class FlashcardReview:
    """Review one segment's due cards; every answer is saved to the learner's schedule file.

    ``widget`` is what the notebook shows (a VBox); the object displays as that widget.
    """

    def __init__(self, segment: str, schedule_path=None):
        import ipywidgets as widgets

        self.segment = segment
        self.path = schedule_path if schedule_path is not None else flashcards.schedule_file()
        self.schedule = flashcards.load_schedule(self.path).next_session()
        self.queue = self.schedule.due(flashcards.cards_for(segment))
        self.card_html = widgets.HTMLMath()
        self.status = widgets.HTML()
        self.reveal_button = widgets.Button(description="Show answer")
        self.knew_button = widgets.Button(description="Knew it", button_style="success")
        self.again_button = widgets.Button(description="Again", button_style="warning")
        self.reveal_button.on_click(lambda _: self.reveal())
        self.knew_button.on_click(lambda _: self.answer(True))
        self.again_button.on_click(lambda _: self.answer(False))
        buttons = widgets.HBox([self.reveal_button, self.knew_button, self.again_button])
        explained = widgets.HTML(f"<small>{BOX_EXPLAINED}</small>")
        self.widget = widgets.VBox([widgets.HTML(f"<b>Flashcards · segment {segment}</b>"), self.card_html,
                                    buttons, self.status, explained])
        self.widget.add_class("course-flashcards")
        self._show_question()

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = f"Flashcards for segment {self.segment} (run the notebook to review them)"
        return bundle

    @property
    def current(self) -> flashcards.Card | None:
        """The card on screen, or None when the session is done."""
        return self.queue[0] if self.queue else None

    def _show_question(self) -> None:
        card = self.current
        if card is None:
            self.card_html.value = "<i>No cards due in this segment. Come back after another session.</i>"
            for button in (self.reveal_button, self.knew_button, self.again_button):
                button.disabled = True
        else:
            self.card_html.value = f"<p><b>Q:</b> {card_html(card.question)}</p>"
            self.reveal_button.disabled = False
            self.knew_button.disabled = self.again_button.disabled = True
        self.status.value = f"{len(self.queue)} card(s) due · this card is in box " + (
            f"{self.schedule.box(card.key)} of {flashcards.BOXES}" if card else "-")

    def reveal(self) -> None:
        """Show the answer and enable the two choices."""
        card = self.current
        if card is None:
            return
        self.card_html.value += f"<p><b>A:</b> {card_html(card.answer)}</p>"
        self.reveal_button.disabled = True
        self.knew_button.disabled = self.again_button.disabled = False

    def answer(self, knew_it: bool) -> None:
        """Schedule the current card, save, and move on (a forgotten card comes back this session)."""
        card = self.current
        if card is None:
            return
        self.schedule = self.schedule.answer(card.key, knew_it)
        flashcards.save_schedule(self.schedule, self.path)
        self.queue = self.queue[1:] + ([] if knew_it else [card])
        self._show_question()


def flashcard_review(segment: str) -> FlashcardReview | None:
    """The review widget for one segment ("01" to "07"); None, and nothing drawn, with ``COURSE_HEADLESS=1``."""
    if is_headless():
        return None
    return FlashcardReview(segment)
