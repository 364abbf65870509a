"""The layer rules of python/plait (docs/architecture.md), checked on the source."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "python" / "plait"


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "_protocol" not in p.parts)


def test_import_linter_contracts_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    """Imports only run downward and sibling modules form no cycle (pyproject.toml)."""
    # The use case, not the CLI entry: the CLI reconfigures logging for the whole process.
    from importlinter.application.use_cases import SUCCESS, lint_imports
    from importlinter.configuration import configure

    configure()
    monkeypatch.chdir(ROOT)
    ok = lint_imports("pyproject.toml", cache_dir=None, no_logo=True, is_debug_mode=True)
    assert ok == SUCCESS, "broken import contracts: the report above names them"


def _function_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, (ast.Import, ast.ImportFrom)):
                    found.append(inner)
    return found


def test_every_deferred_import_says_why() -> None:
    """An import inside a function is how a cycle hides: each one carries a noqa and a
    reason (in parentheses after it, or in a comment right above)."""
    unexplained = []
    for path in _modules():
        lines = path.read_text().splitlines()
        for imp in _function_imports(ast.parse("\n".join(lines))):
            line = lines[imp.lineno - 1]
            above = lines[imp.lineno - 2].strip() if imp.lineno >= 2 else ""
            # A block of imports shares the comment above its first line.
            k = imp.lineno - 2
            while k > 0 and lines[k].strip().startswith(("from ", "import ")):
                k -= 1
                above = lines[k].strip()
            noqa = re.search(r"noqa:[^#]*PLC0415", line)
            reason = re.search(r"noqa:[^#]*PLC0415[^#(]*\(", line) or above.startswith("#")
            if not noqa or not reason:
                unexplained.append(f"{path.relative_to(ROOT)}:{imp.lineno}: {line.strip()}")
    assert not unexplained, "deferred imports without a reason:\n" + "\n".join(unexplained)


def test_no_import_time_hooks() -> None:
    """Dependencies are passed in: no module calls a set_* hook while it is imported."""
    hooks = []
    for path in _modules():
        for stmt in ast.parse(path.read_text()).body:
            if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
                fn = stmt.value.func
                name = fn.id if isinstance(fn, ast.Name) else getattr(fn, "attr", "")
                if name.startswith("set_"):
                    hooks.append(f"{path.relative_to(ROOT)}:{stmt.lineno}: {name}(...)")
    assert not hooks, "import-time hooks:\n" + "\n".join(hooks)


def test_layer_packages_exist() -> None:
    """The layers named in docs/architecture.md are packages of plait."""
    for layer in ("_protocol", "_format", "_transport", "_core", "_services"):
        assert (PACKAGE / layer / "__init__.py").is_file(), layer
    doc = (ROOT / "docs" / "architecture.md").read_text()
    for layer in ("_protocol", "_format", "_transport", "_core", "_services"):
        assert f"plait/{layer}" in doc or f"plait.{layer}" in doc, f"{layer} not in the doc"
