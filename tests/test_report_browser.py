"""The HTML report in a real browser: every section and chart renders, no console errors, a screenshot kept.

CI installs Debian's chromium (.ci/run). The screenshots are kept in tests/.output/ for a person to look at.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO
from workload.cli import main
from workload.synth import synth_scenario, write_scenario

SECTIONS = ("headline", "cells", "groups", "equity", "costs", "sensitivity", "workload", "pdus", "method")
OUTPUT = REPO / "tests" / ".output"


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("no chromium on PATH: install Debian's chromium (apt-get install chromium), as .ci/run does")


def browse(url: str, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
    ]
    return subprocess.run([chromium(), *flags, *extra, url], capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("browser")
    scenario = write_scenario(
        root / "scenario", synth_scenario(n_cases=400, n_practitioners=16, n_pdus=2, seed=3), name="browser test"
    )
    out = root / "run"
    assert main(["run", str(scenario), "--out", str(out), "--workers", "1"]) == 0
    return out / "report.html"


def test_report_renders_every_section_and_chart_without_console_errors(report: Path, tmp_path: Path) -> None:
    dom = browse(report.as_uri(), tmp_path / "profile-dom", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    for section in SECTIONS:
        assert f'<section id="{section}"' in html, section
    assert html.count("<svg") >= 7, "charts inline as SVG"
    errors = [
        line
        for line in dom.stderr.splitlines()
        if "CONSOLE" in line and ("Uncaught" in line or "ERROR" in line or "error" in line)
    ]
    assert not errors, errors
    assert not re.search(r"(src|href)=\"https?://", html), "the report must not load anything from the network"


def test_report_screenshots_wide_and_narrow(report: Path, tmp_path: Path) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for name, size in (("report-wide.png", "1280,4000"), ("report-narrow.png", "390,4000")):
        target = OUTPUT / name
        target.unlink(missing_ok=True)
        shot = browse(
            report.as_uri(),
            tmp_path / f"profile-{name}",
            f"--screenshot={target}",
            f"--window-size={size}",
            "--hide-scrollbars",
        )
        assert shot.returncode == 0, shot.stderr[-2000:]
        assert target.exists() and target.stat().st_size > 10_000, f"{name} was not written"


def pdf_text(pdf: Path) -> str:
    """A PDF's text, by poppler's pdftotext (or pypdf when only that is installed)."""
    if shutil.which("pdftotext"):
        done = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True)
        return done.stdout
    pypdf = pytest.importorskip("pypdf", reason="neither pdftotext (poppler-utils) nor pypdf to read the PDF")
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(str(pdf)).pages)


def test_report_prints_to_an_a4_landscape_pdf_with_the_headline(report: Path, tmp_path: Path) -> None:
    """A PDU head prints the report: the reform's headline figures, the costs and the settings are in the PDF,
    every page A4 landscape (the print stylesheet), and no table column cut off."""
    import json

    from workload.report.formats import pct
    from workload.report.headline import money_in_words

    OUTPUT.mkdir(parents=True, exist_ok=True)
    pdf = OUTPUT / "report.pdf"
    pdf.unlink(missing_ok=True)
    done = browse(report.as_uri(), tmp_path / "profile-pdf", f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
    assert done.returncode == 0 and pdf.exists(), done.stderr[-2000:]
    text = " ".join(pdf_text(pdf).split())
    summary = json.loads((report.parent / "summary.json").read_text(encoding="utf-8"))
    reform = summary["cells"][summary["reform"]]
    assert pct(reform["coverage"]) in text
    assert f"{round(reform['unmet_hours']):,} h a year" in text
    assert money_in_words(summary["net_whole_life_cost_reform_vs_baseline"], "") in text
    for heading in ("Cases moved to another practitioner", "Practitioners in the red band", "Settings"):
        assert heading in text, heading
    assert "policy.continuity" in text
    assert "Reform (needs, LP)" in text and "wmt_today" not in text
    # the last column of the widest tables is on the page, not cut off
    assert "Whole-life cost" in text and "Net cost, high value" in text and "Share of capacity used" in text
    sizes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf.read_bytes())
    assert sizes, "no page sizes in the PDF"
    for width, height in sizes:
        assert float(width) > float(height), "pages are landscape"
        assert abs(float(width) - 841.9) < 3 and abs(float(height) - 595.3) < 3, "pages are A4"
