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


def test_readme_rfm_example_prints_what_the_readme_shows(cli, tmp_path, monkeypatch):
    block = re.search(
        r"```console\n\$ (segwise rfm tests/data/retail_uk.csv.*?)\n(.*?)```", README, re.S
    )
    assert block, "the worked example is missing from README.md"
    command, shown = block.group(1), block.group(2)
    args = command.split()[1:]
    args[1] = str(ROOT / args[1])
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "100")
    result = cli(*args)
    assert result.exit_code == 0, result.stderr
    assert [line.rstrip() for line in result.stdout.splitlines()] == [
        line.rstrip() for line in shown.strip("\n").splitlines()
    ]
    head = (tmp_path / "rfm.csv").read_text().splitlines()[:4]
    assert "\n".join(head) in README


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


def test_readme_segment_example_prints_what_the_readme_shows(cli, tmp_path, monkeypatch):
    block = re.search(
        r"```console\n\$ (segwise segment sample/shop_log.csv.*?)\n(.*?)```", README, re.S
    )
    assert block, "the segmentation example is missing from README.md"
    command, shown = block.group(1), block.group(2)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "100")
    assert cli("demo", "--folder", "sample").exit_code == 0
    result = cli(*command.split()[1:])
    assert result.exit_code == 0, result.stderr
    assert [line.rstrip() for line in result.stdout.splitlines()] == [
        line.rstrip() for line in shown.strip("\n").splitlines()
    ]
    for name in ("segments.csv", "report.html", "model.skops"):
        assert (tmp_path / name).exists()


def test_readme_runs_over_time_commands_work(cli, tmp_path, monkeypatch):
    from segwise import service
    from segwise.demo import generate_log, write_log

    block = re.search(r"## Runs over time.*?```console\n(.*?)```", README, re.S)
    assert block, "the runs-over-time example is missing from README.md"
    monkeypatch.chdir(tmp_path)
    assert cli("demo", "--folder", "sample", "--customers", "300").exit_code == 0
    write_log(generate_log(320, seed=21).lines, tmp_path / "december.csv", style="uk")
    ids: dict[str, str] = {}
    for line in block.group(1).splitlines():
        command = line.removeprefix("$ ").split("#")[0]
        args = [ids.get(a, a) for a in shlex.split(command)[1:]]
        result = cli(*args, *(["--json"] if args[0] in ("ingest", "segment") else []))
        assert result.exit_code == 0, f"{command}: {result.stderr}"
        if args[0] == "ingest":
            ids["d1f0c2..."] = json.loads(result.stdout)["id"]
        elif args[0] == "segment":
            run = json.loads(result.stdout)["run"]
            ids["r9c3..." if "r5a1..." in ids else "r5a1..."] = run
            ids["12583"] = str(service.read_assignments(run).customer_id[0])
        elif args[0] == "customer":
            assert "segment" in result.stdout and "percentile" in result.stdout
