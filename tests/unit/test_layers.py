"""One-way imports: core, then domain, then models, then documents, then workflows, then api, then cli
(shared/STYLE.md); the domain's rules import no database, web, Temporal or document code."""

from __future__ import annotations

import ast
import os
import tomllib
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "domain", "models", "documents", "workflows", "api")


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


def test_package_inits_stay_empty():  # the workflow sandbox imports parent packages
    for package in ("models", "domain"):
        assert (ROOT / package / "__init__.py").read_text().strip() == "", package


def test_the_zone_is_defined_once():
    """Asia/Shanghai is named in one place (domain/time.py); every other module imports it."""
    definitions = []
    for package in (*PACKAGES, "bench"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "SHANGHAI"
                                                        for t in node.targets):
                    definitions.append(str(path.relative_to(ROOT)))
    assert definitions == ["domain/time.py"]


def test_the_domain_contract_forbids_the_database_and_the_web():
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    [pure] = [c for c in contracts if c["type"] == "forbidden" and c["source_modules"] == ["domain"]]
    assert {"sqlalchemy", "sqlmodel", "fastapi", "api", "models"} <= set(pure["forbidden_modules"])
