"""``course/`` touches no private name of another library (matplotlib, ipywidgets, nbgrader, ...).

The check reads every module's syntax tree: an attribute access ``x._name`` fails unless ``_name`` is a
private name that ``course`` itself defines (a function, class, method, attribute or variable), a dunder,
or part of IPython's display protocol (``_repr_*_``). So ``ax._axis_map``, ``FT2Font._layout`` or
``artist._stale = False`` fail, while ``self._background`` (set on a ``course`` object) passes.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

COURSE = Path(__file__).resolve().parents[1] / "course"
MODULES = sorted(COURSE.rglob("*.py"))
DISPLAY_PROTOCOL = re.compile(r"^_repr_[a-z0-9_]+_$|^_ipython_[a-z_]+_$")


def private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def defined_private_names(trees) -> set[str]:
    """Private names that course's own code defines: defs, classes, variables, attributes of ``self``/``cls``."""
    names = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif (isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store)
                  and isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                names.add(node.attr)
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names.add(node.target.id)
            elif isinstance(node, ast.alias) and node.asname:
                names.add(node.asname)
    return {name for name in names if private(name)}


def foreign_private_accesses(tree: ast.AST, own: set[str]) -> list[tuple[int, str]]:
    return [(node.lineno, node.attr) for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and private(node.attr) and node.attr not in own
            and not DISPLAY_PROTOCOL.match(node.attr)]


TREES = {path: ast.parse(path.read_text(), filename=str(path)) for path in MODULES}
OWN = defined_private_names(TREES.values())


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(COURSE.parent)))
def test_no_private_attribute_of_another_library(path):
    found = foreign_private_accesses(TREES[path], OWN)
    assert not found, f"{path.relative_to(COURSE.parent)} uses private names of other libraries: {found}"


def test_the_check_catches_matplotlib_privates():
    """The scan itself flags the kinds of access the old renderer made (an honest test must be able to fail)."""
    sample = ast.parse("ax._axis_map\nfont._layout(x)\nartist._stale = False\nself._mine = 1\nself._mine\n"
                       "bundle = super()._repr_mimebundle_()\n")
    own = defined_private_names([sample])
    assert sorted(name for _, name in foreign_private_accesses(sample, own)) == ["_axis_map", "_layout", "_stale"]
