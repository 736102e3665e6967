"""CI runs exactly the README's two commands, so a newcomer's first steps are what CI proves."""

from __future__ import annotations

from tests.conftest import REPO


def readme_commands() -> list[str]:
    lines = (REPO / "README.md").read_text().splitlines()
    start = lines.index("```bash")
    end = lines.index("```", start + 1)
    return [line for line in lines[start + 1 : end] if line.strip()]


def test_readme_opens_with_two_commands() -> None:
    commands = readme_commands()
    assert len(commands) == 2
    assert "workload run scenarios/" in commands[0]
    assert commands[1].endswith("pytest")
    head = (REPO / "README.md").read_text().splitlines()[:5]
    assert "```bash" in head


def test_ci_runs_exactly_the_readme_commands() -> None:
    script = (REPO / ".ci" / "run").read_text().splitlines()
    for command in readme_commands():
        assert command in script, command
    assert "pytest collected no tests" in (REPO / ".ci" / "run").read_text()


def test_readme_example_scenario_exists() -> None:
    first = readme_commands()[0]
    scenario = first.split("workload run ")[1].split()[0]
    assert (REPO / scenario).is_file()
