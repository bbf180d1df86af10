"""The shared library never names a service, not even in a string: it finds them through their
declarations (``shared/service.py``). Imports are held by the contracts of test_layering.py."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from shared.service import declared

ROOT = Path(__file__).resolve().parents[2]
# Event families (dispatch.*, publication.*) are named after what they record; the catalog's
# family table is the one place a service's name may appear as a word in shared code.
FAMILY_TABLE = ROOT / "shared" / "events" / "catalog.py"


def _strings(tree: ast.AST) -> Iterator[tuple[int, str]]:
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or id(node) in docstrings:
            continue
        if isinstance(node.value, str):
            yield node.lineno, node.value


def _imports(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.lineno, node.module


def test_the_shared_library_names_no_service() -> None:
    names = set(declared())
    assert names, "no declared services found"
    found: list[str] = []
    for path in sorted((ROOT / "shared").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = path.relative_to(ROOT)
        for line, module in _imports(tree):
            if module == "services" or module.startswith("services."):
                found.append(f"{where}:{line} imports {module}")
        for line, text in _strings(tree):
            if "services." in text or "services/" in text:
                found.append(f"{where}:{line} names the services package")
            words = {text, *text.replace("/", " ").split()}
            if path != FAMILY_TABLE and words & names:
                found.append(f"{where}:{line} names service {sorted(words & names)}")
    assert not found, "\n".join(found)
