"""The docs stay true: the README example runs as shown; commands and settings are documented."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer

from segwise.cli import app
from segwise.config import Settings

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()
CLI_DOC = (ROOT / "docs" / "cli.md").read_text()


def test_readme_shows_the_two_commands():
    assert "make demo" in README and "make test" in README


def commands() -> dict[str, Any]:
    return dict(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", sorted(commands()))
def test_every_command_and_flag_is_documented(name):
    assert f"## `segwise {name}`" in CLI_DOC
    for param in commands()[name].params:
        for opt in getattr(param, "opts", []):
            if opt.startswith("--") and opt != "--help":
                assert opt in CLI_DOC, f"{opt} of segwise {name} is not in docs/cli.md"


@pytest.mark.parametrize("field", sorted(Settings.model_fields))
def test_every_setting_is_documented(field):
    assert f"SEGWISE_{field.upper()}" in CLI_DOC


def readme_commands() -> list[tuple[str, list[str]]]:
    """Each ``$ segwise ...`` line of README.md's console blocks, in order, with the output
    shown under it (empty when none is shown); ``# comments`` are not part of the command."""
    found = []
    for block in re.findall(r"```console\n(.*?)```", README, re.S):
        for chunk in re.split(r"^(?=\$ )", block, flags=re.M):
            if chunk.startswith("$ segwise "):
                command, *shown = chunk.rstrip("\n").split("\n")
                found.append((command.removeprefix("$ ").split("  #")[0].strip(), shown))
    return found


def test_readme_commands_run_verbatim_in_order(cli, tmp_path, monkeypatch):
    """A new user's first session: every command, as printed, from the project folder."""
    assert len(readme_commands()) >= 10
    (tmp_path / "tests").symlink_to(ROOT / "tests")  # the project folder's own files
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "100")
    for command, shown in readme_commands():
        result = cli(*shlex.split(command)[1:])
        assert result.exit_code == 0, f"{command}: {result.stderr}"
        if shown:
            assert [line.rstrip() for line in result.stdout.splitlines()] == [
                line.rstrip() for line in shown
            ], command
        if "--json" in command and command.startswith("segwise segment"):
            assert json.loads(result.stdout)["run"].startswith("r")
    head = (tmp_path / "rfm.csv").read_text().splitlines()[:4]
    assert "\n".join(head) in README
    for name in ("segments.csv", "report.html", "model.skops", "placed.csv", "graded.csv"):
        assert (tmp_path / name).exists(), name


def test_help_reads_as_flags_and_names():
    """``--help`` shows no ``<bool>`` after flags and no ``{input}`` in usage lines."""
    from typer.testing import CliRunner

    runner = CliRunner()
    for name in sorted(commands()):
        text = runner.invoke(app, [name, "--help"], env={"COLUMNS": "120"}).stdout
        usage = next(line for line in text.splitlines() if "Usage:" in line)
        assert "<bool>" not in text and "{" not in usage, (name, usage)
        assert "INPUT" in usage or "[OPTIONS]" in usage
