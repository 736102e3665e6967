"""docs/architecture.md stays true: its package map lists every module of the package, and nothing else."""

from __future__ import annotations

import re

from tests.conftest import REPO


def package_modules() -> set[str]:
    """Every module of the package as a path, e.g. ``workload/allocate/lp.py``."""
    return {path.relative_to(REPO).as_posix() for path in (REPO / "workload").rglob("*.py")}


def mapped_modules() -> set[str]:
    text = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    return set(re.findall(r"^\| `(workload/[\w/]+\.py)` \|", text, flags=re.MULTILINE))


def test_the_package_map_lists_every_module_and_nothing_else() -> None:
    missing = sorted(package_modules() - mapped_modules())
    stale = sorted(mapped_modules() - package_modules())
    assert not missing, f"modules missing from docs/architecture.md: {missing}"
    assert not stale, f"docs/architecture.md lists modules that no longer exist: {stale}"


def test_no_module_is_over_about_600_lines() -> None:
    long = {
        path: n
        for path in package_modules()
        if (n := len((REPO / path).read_text(encoding="utf-8").splitlines())) > 700
    }
    assert not long, f"split these by concept: {long}"
