"""Shared fixtures: small scenario folders that tests copy and break on purpose."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """A writable copy of tests/fixtures/tiny (3 cases, 2 practitioners, 1 partner, 1 PDU)."""
    target = tmp_path / "tiny"
    shutil.copytree(FIXTURES / "tiny", target)
    return target


def read_raw(folder: Path, name: str) -> pd.DataFrame:
    """A fixture table as text cells, for tests that edit it."""
    return pd.read_csv(folder / name, dtype=str, keep_default_na=False)


def write_raw(frame: pd.DataFrame, folder: Path, name: str) -> None:
    frame.to_csv(folder / name, index=False)
