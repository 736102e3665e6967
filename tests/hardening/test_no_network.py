"""The tool opens no network connection: case data never leaves the machine.

Sockets are blocked (creating an internet socket, connecting, resolving a name all raise and are recorded),
then the planner's commands run in-process. A test passes only if nothing even tried.
"""

from __future__ import annotations

import shutil
import socket
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES
from workload.cli import main
from workload.load import load_scenario

INTERNET = (socket.AF_INET, socket.AF_INET6)


class NetworkBlocked(OSError):
    """Raised by the guard instead of opening a connection (an OSError, as a real network failure is)."""


@pytest.fixture
def attempts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Block the network for the test; the list records every attempt (it must stay empty)."""
    tried: list[str] = []
    real_socket = socket.socket

    def refuse(what: str) -> Callable[..., Any]:
        def _refuse(*args: Any, **kwargs: Any) -> Any:
            tried.append(f"{what}{args[:2]}")
            raise NetworkBlocked(f"network access attempted: {what}")

        return _refuse

    class GuardedSocket(real_socket):  # type: ignore[misc, valid-type]
        def __init__(self, family: int = -1, type: int = -1, proto: int = -1, fileno: int | None = None) -> None:
            if fileno is None and (family == -1 or family in INTERNET):
                tried.append(f"socket(family={family})")
                raise NetworkBlocked("network access attempted: socket")
            super().__init__(family, type, proto, fileno)

    real_connect, real_connect_ex = real_socket.connect, real_socket.connect_ex

    def guarded(real: Callable[..., Any], what: str) -> Callable[..., Any]:
        def _connect(self: socket.socket, address: Any) -> Any:
            if self.family in INTERNET:
                return refuse(what)(address)
            return real(self, address)  # local (AF_UNIX) sockets, e.g. between worker processes

        return _connect

    monkeypatch.setattr(real_socket, "connect", guarded(real_connect, "connect"))
    monkeypatch.setattr(real_socket, "connect_ex", guarded(real_connect_ex, "connect_ex"))
    monkeypatch.setattr(socket, "socket", GuardedSocket)
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    monkeypatch.setattr(socket, "gethostbyname", refuse("gethostbyname"))
    return tried


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    target = tmp_path / "scenario"
    shutil.copytree(FIXTURES / "tiny", target)
    return target


def test_the_guard_blocks_and_records(attempts: list[str]) -> None:
    with pytest.raises(NetworkBlocked):
        socket.create_connection(("127.0.0.1", 9))
    with pytest.raises(NetworkBlocked):
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    with pytest.raises(NetworkBlocked):
        socket.getaddrinfo("example.org", 80)
    with pytest.raises((NetworkBlocked, urllib.error.URLError)):
        urllib.request.urlopen("http://127.0.0.1:9/", timeout=1)
    assert len(attempts) == 4
    left, right = socket.socketpair(socket.AF_UNIX)  # local sockets still work
    left.close()
    right.close()


def test_load_validate_and_schema_open_no_connection(
    attempts: list[str], scenario: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert len(load_scenario(scenario).cases) == 3
    assert main(["validate", str(scenario)]) == 0
    assert main(["schema"]) == 0
    assert '"title": "workload scenario"' in capsys.readouterr().out
    (scenario / "cases.csv").write_bytes((scenario / "cases.csv").read_bytes().replace(b",D1,", b",E9,"))
    assert main(["validate", str(scenario)]) == 2
    assert "is not a valid tier" in capsys.readouterr().err
    assert attempts == []


def test_xlsx_tables_open_no_connection(attempts: list[str], scenario: Path) -> None:
    import pandas as pd

    pd.read_csv(scenario / "practitioners.csv", dtype=str, keep_default_na=False).to_excel(
        scenario / "practitioners.xlsx", index=False
    )
    text = (scenario / "scenario.toml").read_text().replace('"practitioners.csv"', '"practitioners.xlsx"')
    (scenario / "scenario.toml").write_text(text)
    assert main(["validate", str(scenario)]) == 0
    assert attempts == []


def test_a_url_as_a_table_path_is_never_fetched(
    attempts: list[str], scenario: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        (scenario / "scenario.toml")
        .read_text()
        .replace('cases = "cases.csv"', 'cases = "https://example.org/cases.csv"')
    )
    (scenario / "scenario.toml").write_text(text)
    assert main(["validate", str(scenario)]) == 2
    err = capsys.readouterr().err
    assert "  - cases.csv: file not found (looked for " in err
    assert attempts == []


def test_synth_then_validate_open_no_connection(
    attempts: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "synthetic"
    assert (
        main(["synth", "--cases", "300", "--practitioners", "12", "--pdus", "2", "--seed", "3", "--out", str(out)]) == 0
    )
    assert main(["validate", str(out)]) == 0
    assert "valid. 300 cases, 12 practitioners" in capsys.readouterr().out
    assert attempts == []


def test_run_opens_no_connection(
    attempts: list[str], scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The whole pipeline, LP allocator and report included, with the network blocked."""
    out = tmp_path / "run"
    code = main(["run", str(scenario), "--out", str(out), "--workers", "1"])
    err = capsys.readouterr().err
    assert attempts == []
    assert "NetworkBlocked" not in err and "network access attempted" not in err
    assert code == 0, err
    assert (out / "summary.json").exists() and (out / "report.html").exists()


def test_parallel_run_of_a_synthetic_region_opens_no_connection(
    attempts: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two PDUs solved by two worker processes (forked workers inherit the guard)."""
    source = tmp_path / "synthetic"
    assert (
        main(["synth", "--cases", "300", "--practitioners", "12", "--pdus", "2", "--seed", "3", "--out", str(source)])
        == 0
    )
    code = main(["run", str(source), "--out", str(tmp_path / "run"), "--workers", "2"])
    err = capsys.readouterr().err
    assert attempts == []
    assert code == 0, err
