"""The learner's side: own copies, start page, progress from self-checks, flashcards, lab set-up."""

from __future__ import annotations

import html
import json

import pytest

from course import flashcards, lab, progress, workspace
from course.segments.batch_size import checks as batch_size
from course.segments import SEGMENTS
from course.widgets.flashcards import FlashcardReview


@pytest.fixture()
def fake_release(tmp_path):
    """A release folder with segment 1's notebook only."""
    release = tmp_path / "release"
    (release / "01-batch-size").mkdir(parents=True)
    (release / "01-batch-size" / "01-batch-size.ipynb").write_text('{"version": 1}')
    return release


def test_copies_are_created_once_and_never_overwritten(tmp_path, fake_release):
    """A learner's answers survive a later `make lab` and a regenerated release/."""
    work = tmp_path / "my-work"
    assert [p.name for p in workspace.prepare(work, fake_release)] == ["01-batch-size.ipynb"]
    (work / "01-batch-size.ipynb").write_text('{"my": "answers"}')
    (fake_release / "01-batch-size" / "01-batch-size.ipynb").write_text('{"version": 2}')
    assert workspace.prepare(work, fake_release) == []
    assert json.loads((work / "01-batch-size.ipynb").read_text()) == {"my": "answers"}


def test_start_page_lists_every_segment_with_progress(tmp_path, fake_release):
    """The start page names all seven segments, links the present copies and counts passed exercises."""
    work = tmp_path / "my-work"
    progress.record("critical_batch_quarter", True, work / workspace.PROGRESS_FILE)
    progress.record("rubin_drain_time_s", False, work / workspace.PROGRESS_FILE)
    workspace.prepare(work, fake_release)
    page = json.loads((work / workspace.START_PAGE).read_text())
    table = page["cells"][1]["outputs"][0]["data"]["text/html"]
    for segment in SEGMENTS:
        assert segment.title in table
    assert 'href="01-batch-size.ipynb"' in table
    assert f"1 / {len(batch_size.EXERCISES)} exercises pass" in table


def test_visible_check_prints_verdict_and_records_progress(tmp_path, monkeypatch, capsys):
    """Running an exercise's check cell tells the learner at once and remembers it for the start page."""
    store = tmp_path / "progress.json"
    monkeypatch.setenv(progress.ENV_VAR, str(store))
    batch_size.CRITICAL_BATCH_QUARTER.check(1200)
    batch_size.RUBIN_DRAIN_TIME_S.check(14.4)
    out = capsys.readouterr().out
    assert "✓ critical_batch_quarter: correct." in out
    assert "✗ rubin_drain_time_s: not yet right." in out and "units" in out
    assert progress.load(store) == {"critical_batch_quarter": True, "rubin_drain_time_s": False}


def test_no_progress_is_written_outside_a_learner_lab(monkeypatch, tmp_path):
    """Without the lab's environment variable (grading, tests) nothing is recorded."""
    monkeypatch.delenv(progress.ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)
    batch_size.CRITICAL_BATCH_QUARTER.check(1200)
    assert list(tmp_path.iterdir()) == []


def test_every_segment_has_cards_and_variables_are_unique():
    """Each segment ends with a review of its own cards; progress keys (variables) are unique course-wide."""
    for segment in SEGMENTS:
        assert flashcards.cards_for(segment.number), segment.assignment
    variables = [e.variable for s in SEGMENTS for e in s.exercises()]
    assert len(variables) == len(set(variables))


def test_leitner_schedule_promotes_demotes_and_spaces_cards():
    """Known cards move up a box and come back later; forgotten cards go back to box 1."""
    schedule = flashcards.LeitnerSchedule().next_session()
    schedule = schedule.answer("a", knew_it=True).answer("b", knew_it=False)
    assert (schedule.box("a"), schedule.box("b")) == (2, 1)
    schedule = schedule.next_session()
    assert schedule.is_due("b") and not schedule.is_due("a")
    assert schedule.next_session().is_due("a")


def test_review_widget_remembers_across_sessions(tmp_path):
    """Answers are saved; a reopened review (a new session) no longer shows the card known last time."""
    path = tmp_path / "cards.json"
    review = FlashcardReview("01", schedule_path=path)
    first = review.current
    review.reveal()
    assert html.escape(first.answer) in review.card_html.value
    review.answer(True)
    reopened = FlashcardReview("01", schedule_path=path)
    assert first.key not in [card.key for card in reopened.queue]
    assert flashcards.load_schedule(path).box(first.key) == 2


def test_anki_export(tmp_path):
    """All cards export as an Anki package."""
    deck = tmp_path / "deck.apkg"
    assert flashcards.export_anki(deck) == len(flashcards.CARDS)
    assert deck.stat().st_size > 0


def test_learner_lab_hides_instructor_panels(tmp_path):
    """The learner's Jupyter config disables nbgrader's instructor plugins and points to the workspace files."""
    env = lab.learner_environment(tmp_path)
    page_config = json.loads((tmp_path / ".jupyter" / "labconfig" / "page_config.json").read_text())
    assert set(lab.INSTRUCTOR_PLUGINS) <= set(page_config["disabledExtensions"])
    assert "@jupyter/nbgrader:formgrader" in page_config["disabledExtensions"]
    assert env["JUPYTER_CONFIG_DIR"] == str(tmp_path.resolve() / ".jupyter")
    assert env[progress.ENV_VAR].endswith(workspace.PROGRESS_FILE)
    command = lab.lab_command(tmp_path, [])
    assert command[-1].endswith(workspace.START_PAGE)
