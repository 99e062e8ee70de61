"""The autograded notebook: the submission as graded, with outputs and nbgrader grade metadata.

Learner cells keep the outputs the sandbox sent back (validated: only the four
nbformat output types, text only where text belongs). Test cells show the
course's *visible* source and the trusted judge's output: the self-check line it
printed and, on failure, an error whose traceback is only the hint message. The
hidden test source never appears, so ``nbgrader generate_feedback`` on this
notebook cannot reveal it.
"""

from __future__ import annotations

import copy
import re

from autograder.results import ExerciseResult
from autograder.plan import Plan
from autograder.spec import NotebookSpec

OUTPUT_TYPES = ("stream", "display_data", "execute_result", "error")
MAX_TEXT_CHARS = 2_000_000


def _text(value) -> str | None:
    if isinstance(value, str):
        return value[:MAX_TEXT_CHARS]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "".join(value)[:MAX_TEXT_CHARS]
    return None


def _mime_bundle(data) -> dict:
    if not isinstance(data, dict):
        return {}
    bundle = {}
    for mime, value in data.items():
        if not isinstance(mime, str) or "/" not in mime:
            continue
        if mime.endswith("json"):
            if isinstance(value, (dict, list)):
                bundle[mime] = value
        else:
            text = _text(value)
            if text is not None:
                bundle[mime] = text
    return bundle


def clean_output(output) -> dict | None:
    """A well-formed nbformat output built from untrusted ``output``, or None."""
    if not isinstance(output, dict) or output.get("output_type") not in OUTPUT_TYPES:
        return None
    kind = output["output_type"]
    if kind == "stream":
        text = _text(output.get("text"))
        name = output.get("name")
        return {"output_type": "stream", "name": name, "text": text} if text is not None and name in (
            "stdout", "stderr") else None
    if kind == "error":
        traceback = output.get("traceback")
        return {"output_type": "error", "ename": str(output.get("ename", "Error"))[:200],
                "evalue": str(output.get("evalue", ""))[:5000],
                "traceback": [str(line)[:20000] for line in traceback[:200]] if isinstance(traceback, list) else []}
    cleaned = {"output_type": kind, "data": _mime_bundle(output.get("data")),
               "metadata": output.get("metadata") if isinstance(output.get("metadata"), dict) else {}}
    if kind == "execute_result":
        count = output.get("execution_count")
        cleaned["execution_count"] = count if isinstance(count, int) else None
    return cleaned


def test_outputs(result: ExerciseResult) -> list[dict]:
    """What a test cell shows: the judge's printed self-check line, then the hint if it failed."""
    outputs = []
    if result.stdout:
        outputs.append({"output_type": "stream", "name": "stdout", "text": result.stdout})
    if not result.passed:
        name = result.error_name or "AnswerError"
        message = result.message.split(": ", 1)[1] if result.message.startswith(name + ": ") else result.message
        outputs.append({"output_type": "error", "ename": name, "evalue": message,
                        "traceback": [f"{name}: {message}"]})
    return outputs


def autograded_notebook(spec: NotebookSpec, submitted: dict, plan: Plan, reply: dict,
                        exercises: list[ExerciseResult], status: str, message: str) -> dict:
    """The notebook to write to ``autograded/<student>/<assignment>/``."""
    by_id = {e.grade_id: e for e in exercises}
    outputs = reply.get("outputs") if isinstance(reply.get("outputs"), dict) else {}
    cells = []
    for entry in plan.entries:
        cell = copy.deepcopy(entry.cell)
        if entry.test_id is not None:
            result = by_id[entry.test_id]
            cell["outputs"] = test_outputs(result)
            cell["metadata"].setdefault("autograder", {}).update(score=result.score, outcome=result.outcome)
        elif cell.get("cell_type") == "code" and entry.job_index is not None:
            ran = outputs.get(str(entry.job_index))
            ran = ran if isinstance(ran, dict) else {}
            raw = ran.get("outputs") if isinstance(ran.get("outputs"), list) else []
            cell["outputs"] = [o for o in (clean_output(x) for x in raw) if o is not None]
            count = ran.get("count")
            cell["execution_count"] = count if isinstance(count, int) and count > 0 else None
        cells.append(cell)
    _unique_ids(cells)
    metadata = {key: copy.deepcopy(value) for key, value in submitted.get("metadata", {}).items()
                if key in ("kernelspec", "language_info")}
    metadata["autograder"] = {"status": status, "message": message}
    return {"cells": cells, "metadata": metadata, "nbformat": 4,
            "nbformat_minor": 5}


CELL_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def _unique_ids(cells: list[dict]) -> None:
    """Give every cell a valid id, unique in the notebook (nbformat 4.5)."""
    seen = set()
    for number, cell in enumerate(cells):
        cell_id = cell.get("id")
        if not isinstance(cell_id, str) or not CELL_ID.match(cell_id) or cell_id in seen:
            cell_id = f"autograded-{number}"
        cell["id"] = cell_id
        seen.add(cell_id)
        if cell.get("cell_type") != "code":
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
