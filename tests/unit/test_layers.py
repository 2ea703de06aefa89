"""One-way imports: core, then models, then documents, then workflows, then api, then cli (shared/STYLE.md)."""

from __future__ import annotations

import ast
import os
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "models", "documents", "workflows", "api")


def test_lower_layers_never_import_higher_ones():
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        assert lint_imports() == 0  # the contract lives in pyproject.toml, [tool.importlinter]
    finally:
        os.chdir(cwd)


def test_nothing_imports_the_cli():
    offenders = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                if any(name == "cli" or name.startswith("cli.") for name in names):
                    offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_models_package_init_stays_empty():  # the workflow sandbox imports parent packages
    assert (ROOT / "models" / "__init__.py").read_text().strip() == ""
