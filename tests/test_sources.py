"""Every source the project cites ships with it: docs/sources.md, cited as ``docs/sources.md#<entry>``.

The research notes the model grew from are not part of the project, so nothing may point to them; every
parameter says where its number comes from; and every entry of docs/sources.md says what the source is
(title, publisher, date, link) and what the model takes from it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO

SOURCES = REPO / "docs" / "sources.md"
PARAMS = REPO / "workload" / "params"

TEXT_SUFFIXES = {
    ".py",
    ".md",
    ".yaml",
    ".yml",
    ".toml",
    ".txt",
    ".html",
    ".j2",
    ".cfg",
    ".ini",
    ".json",
}
"""Files read for citations (data tables such as the scenarios' CSVs are skipped)."""

CHECKED = ("workload", "docs", "benchmarks", "scenarios", "tests", "README.md", "pyproject.toml")
"""What ships with the project and is searched for citations."""

CITATION = re.compile(r"sources\.md#([A-Za-z0-9_-]+)")
"""A citation of an entry: ``docs/sources.md#hmpps-tier`` (or ``sources.md#hmpps-tier`` in a link in docs/)."""

OUTSIDE = re.compile(
    r"reference/[\w.-]+\.(?:md|txt)"  # the research notes by path
    r"|(?<![\w/.-])(?:tier|domain|wmt)\.md\b"  # ... or by bare name ("tier.md section 6")
    r"|\b\d{3}_[0-9a-f]{16}\.txt\b"  # the research texts
    r"|\bDESIGN\.md\b|\bSTYLE\.md\b"  # the design notes
    r"|\.\./shared|shared/reference",  # the folder holding them
)
"""A citation of a file that does not ship with the project."""

ENTRY = re.compile(r'^### <a id="([a-z0-9][a-z0-9-]*)"></a>(\S+): \S.*$')
"""An entry heading of docs/sources.md: ``### <a id="x"></a>x: short title``."""

FIELDS = ("Title", "Publisher", "Date", "Link", "Used for")
"""The lines every entry has, each ``- **Field:** text``."""

LINK = re.compile(r"https?://[^\s)>]+|^no (?:direct )?public link")


def _shipped_files() -> Iterator[Path]:
    for name in CHECKED:
        path = REPO / name
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in files:
            parts = set(file.relative_to(REPO).parts)
            if file.suffix in TEXT_SUFFIXES and not parts & {"__pycache__", ".pytest_cache"}:
                yield file


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


def _slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"<[^>]+>", "", heading).strip().lower()
    return re.sub(r"\s", "-", re.sub(r"[^\w\s-]", "", text))


def _entries() -> dict[str, list[str]]:
    """Each entry's anchor and the lines under its heading, in the order of the page."""
    entries: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in _text(SOURCES).splitlines():
        if line.startswith("#"):
            match = ENTRY.match(line)
            if match:
                assert match.group(1) == match.group(2), f"entry heading names another anchor: {line}"
                assert match.group(1) not in entries, f"anchor {match.group(1)} is used twice"
                current = entries[match.group(1)] = []
            else:
                assert not line.startswith("### "), f"a ### heading that is not an entry: {line}"
                current = None
        elif current is not None:
            current.append(line)
    return entries


def _anchors() -> set[str]:
    """Every anchor docs/sources.md defines: the entries' ids and the headings' own anchors."""
    headings = [line.lstrip("#").strip() for line in _text(SOURCES).splitlines() if line.startswith("#")]
    return set(_entries()) | {_slug(h) for h in headings}


def _leaves(node: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """The parameters of a parameter file: every mapping with a ``value``."""
    if isinstance(node, dict):
        if "value" in node:
            yield path, node
            return
        for key, child in node.items():
            yield from _leaves(child, f"{path}.{key}")


def _parameters() -> list[tuple[str, dict[str, Any]]]:
    leaves = []
    for file in sorted(PARAMS.glob("*.yaml")):
        leaves += list(_leaves(yaml.safe_load(_text(file)), file.stem))
    return leaves


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def test_every_cited_entry_exists() -> None:
    anchors = _anchors()
    missing = [
        f"{file.relative_to(REPO)}: sources.md#{anchor}"
        for file in _shipped_files()
        for anchor in CITATION.findall(_text(file))
        if anchor not in anchors
    ]
    assert not missing, "cited entries not in docs/sources.md:\n" + "\n".join(missing)


def test_links_within_the_sources_page_resolve() -> None:
    anchors = _anchors()
    missing = [a for a in re.findall(r"\]\(#([^)]+)\)", _text(SOURCES)) if a not in anchors]
    assert not missing


def test_nothing_cites_a_file_outside_the_project() -> None:
    found = []
    for file in _shipped_files():
        if file == Path(__file__).resolve():
            continue
        for number, line in enumerate(_text(file).splitlines(), 1):
            found += [f"{file.relative_to(REPO)}:{number}: {m.group(0)}" for m in OUTSIDE.finditer(line)]
    assert not found, "citations of files that do not ship with the project:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "text",
    [
        "reference/tier.md section 6",
        "tier.md section 7",
        "(domain.md 1.6)",
        "wmt.md",
        "see DESIGN.md",
        "../shared/reference",
        "STYLE.md",
        "reference 000_4c798a866210da39.txt",
    ],
)
def test_the_outside_pattern_catches_each_way_of_citing_the_notes(text: str) -> None:
    assert OUTSIDE.search(text)


@pytest.mark.parametrize("text", ["docs/sources.md#hmpps-tier", "docs/model.md", "docs/wmt.md", "reference points"])
def test_the_outside_pattern_leaves_project_files_alone(text: str) -> None:
    assert not OUTSIDE.search(text)


def test_every_parameter_has_a_source_or_an_assumption() -> None:
    leaves = _parameters()
    numeric = [
        path
        for path, leaf in leaves
        if _is_number(leaf["value"])
        or (isinstance(leaf["value"], dict) and any(_is_number(v) for v in leaf["value"].values()))
    ]
    assert len(numeric) > 100  # the walk found the parameter files' numbers
    bare = [path for path, leaf in leaves if not (leaf.get("source") or leaf.get("assumption"))]
    assert not bare, f"parameters with neither a source nor an assumption: {bare}"


def test_every_source_field_cites_an_entry_or_a_public_address() -> None:
    uncited = [
        path
        for path, leaf in _parameters()
        if leaf.get("source") and not (CITATION.search(leaf["source"]) or re.search(r"https?://", leaf["source"]))
    ]
    assert not uncited, f"source fields citing neither docs/sources.md#<entry> nor a URL: {uncited}"


def test_every_entry_has_title_publisher_date_and_link() -> None:
    entries = _entries()
    assert len(entries) >= 20
    for anchor, lines in entries.items():
        fields: dict[str, str] = {}
        field = None
        for line in lines:
            match = re.match(r"^- \*\*([A-Za-z ]+):\*\*(.*)$", line)
            if match:
                field = match.group(1)
                fields[field] = match.group(2).strip()
            elif field and line.startswith("  "):  # the field goes on, or lists its parts
                fields[field] = f"{fields[field]} {line.strip()}".strip()
            else:
                field = None
        absent = [name for name in FIELDS if not fields.get(name)]
        assert not absent, f"entry {anchor} lacks {absent}"
        assert LINK.search(fields["Link"]), f"entry {anchor}: the link line gives no address: {fields['Link']}"


def test_every_entry_is_cited() -> None:
    cited = {anchor for file in _shipped_files() if file != SOURCES for anchor in CITATION.findall(_text(file))}
    unused = sorted(set(_entries()) - cited)
    assert not unused, f"entries of docs/sources.md nothing cites: {unused}"
