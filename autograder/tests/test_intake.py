"""Reading submitted files: each way a file can be unreadable has its own status and message."""

from __future__ import annotations

import json

import pytest

from autograder import statuses
from autograder.intake import read_notebook

GOOD = {"cells": [{"cell_type": "code", "source": ["x = ", "1"], "metadata": {}, "outputs": []}],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


@pytest.mark.parametrize("data, status, words", [
    (b"", statuses.EMPTY_FILE, "empty"),
    (b"  \n", statuses.EMPTY_FILE, "whitespace"),
    (b'{"cells": [\xff]}', statuses.NOT_UTF8, "offset 11"),
    (json.dumps(GOOD).encode("utf-16"), statuses.NOT_UTF8, "offset 0"),
    (b'{"cells": [', statuses.NOT_JSON, "line 1"),
    (b"[" * 100_000, statuses.NOT_JSON, "not valid JSON"),
    (b'{"a": 1}', statuses.NOT_A_NOTEBOOK, "no list of cells"),
    (b'{"worksheets": [], "cells": 3}', statuses.NOT_A_NOTEBOOK, "nbformat 3"),
    (json.dumps(dict(GOOD, nbformat=3)).encode(), statuses.NOT_A_NOTEBOOK, "not 4"),
])
def test_unreadable_files_get_specific_statuses(tmp_path, data, status, words):
    path = tmp_path / "nb.ipynb"
    path.write_bytes(data)
    intake = read_notebook(path)
    assert not intake.ok and intake.status == status and words in intake.message and "nb.ipynb" in intake.message


def test_too_large_files_are_not_read(tmp_path):
    path = tmp_path / "big.ipynb"
    path.write_bytes(b" " * 2048)
    intake = read_notebook(path, max_bytes=1024)
    assert intake.status == statuses.TOO_LARGE


def test_a_good_notebook_is_read_and_malformed_cells_dropped_with_a_note(tmp_path):
    notebook = dict(GOOD, cells=GOOD["cells"] + [42, {"cell_type": "weird"}])
    path = tmp_path / "nb.ipynb"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(notebook).encode())
    intake = read_notebook(path)
    assert intake.ok and len(intake.notebook["cells"]) == 1
    assert intake.notebook["cells"][0]["source"] == "x = 1"
    assert len(intake.notes) == 2


def test_deeply_nested_json_is_refused_without_exhausting_the_stack(tmp_path):
    deep = {"cells": [], "nbformat": 4, "metadata": {}}
    node = deep["metadata"]
    for _ in range(500):
        node["x"] = {}
        node = node["x"]
    path = tmp_path / "deep.ipynb"
    path.write_text(json.dumps(deep))
    intake = read_notebook(path)
    assert intake.status == statuses.NOT_A_NOTEBOOK and "nests" in intake.message
