"""The package layering of DESIGN.md: Dagster only in dagster_project, identity stands alone."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("pipelines", "identity", "quality", "dagster_project")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def is_dagster(module: str) -> bool:
    """Dagster itself or one of its integration packages (not our dagster_project)."""
    top = module.split(".")[0]
    return top == "dagster" or (top.startswith("dagster_") and top != "dagster_project")


def python_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def test_dagster_is_imported_only_under_dagster_project() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for package in ("pipelines", "identity", "quality")
        for path in python_files(package)
        if any(is_dagster(m) for m in imported_modules(path))
    ]
    assert offenders == []
    assert any("dagster" in imported_modules(p) for p in python_files("dagster_project"))


def test_identity_imports_nothing_of_ours() -> None:
    ours = ("pipelines", "quality", "dagster_project")
    offenders = [
        str(path.relative_to(ROOT))
        for path in python_files("identity")
        if any(m.split(".")[0] in ours for m in imported_modules(path))
    ]
    assert offenders == []


def test_quality_imports_only_the_canonical_schema() -> None:
    for path in python_files("quality"):
        ours = {m for m in imported_modules(path) if m.split(".")[0] in PACKAGES}
        assert ours <= {"pipelines.schema"}, path
