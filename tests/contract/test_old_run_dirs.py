"""Run directories written by instructgen 0.1 (tests/fixtures/v0.1: a small run of each method,
made by the code before the per-method layout) still resume: the same command sends nothing
and writes byte-identical outputs; and the run.json of a table of configs keeps its fingerprint."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from pipeline import methods
from pipeline.cli.main import main

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "v0.1"
ROOT = FIXTURES.parents[2]
RUNS = sorted(p.name for p in (FIXTURES / "runs").iterdir())
FINGERPRINTS = sorted(p.stem for p in (FIXTURES / "fingerprints").iterdir())
# The command each fixture run was made with (beside --out, --no-prefect, --quiet).
COMMANDS = {
    "self-instruct": ["run", "self-instruct", "--target", "30"],
    "unnatural": ["run", "unnatural", "--target", "8", "--paraphrases", "1"],
    "evol-instruct": ["run", "evol-instruct", "--limit", "8", "--rounds", "1"],
}
OUTPUTS = ("kept.jsonl", "removed.jsonl", "alpaca.json", "core.jsonl", "full.jsonl")


def test_every_method_has_an_old_run_directory():
    assert set(RUNS) == set(COMMANDS) and set(COMMANDS) <= set(methods.names())


@pytest.mark.parametrize("method", RUNS)
def test_an_old_run_directory_resumes_sending_nothing(tmp_path, method):
    out = tmp_path / method
    shutil.copytree(FIXTURES / "runs" / method, out)
    before = {n: (out / n).read_bytes() for n in OUTPUTS if (out / n).exists()}
    code = main([*COMMANDS[method], "--out", str(out), "--no-prefect", "--quiet"])
    stats = json.loads((out / "stats.json").read_text())
    assert code == 0 and stats["session"]["requests_sent"] == 0
    assert {n: (out / n).read_bytes() for n in before} == before


@pytest.mark.parametrize("method", RUNS)
def test_a_fresh_run_writes_what_0_1_wrote(tmp_path, method):
    """The same command from nothing: the same requests, the stub's same answers, the same
    decisions, so byte for byte the files 0.1 wrote."""
    out = tmp_path / method
    assert main([*COMMANDS[method], "--out", str(out), "--no-prefect", "--quiet"]) == 0
    for name in OUTPUTS:
        old = FIXTURES / "runs" / method / name
        if old.exists():
            assert (out / name).read_bytes() == old.read_bytes(), name


@pytest.mark.parametrize("command", sorted(json.loads((FIXTURES / "flags.json").read_text())))
def test_every_command_keeps_the_flags_it_had(command, capsys):
    """flags.json: every flag of every --help in 0.1 (help texts may have improved)."""
    old = json.loads((FIXTURES / "flags.json").read_text())[command]
    assert main([*command.split(), "--help"]) == 0
    text = capsys.readouterr().out
    now = set(re.findall(r"^\s+(--[a-z0-9-]+(?: / --[a-z0-9-]+)?)", text, re.M))
    now |= {flag for pair in now for flag in pair.split(" / ")}  # --no-prefect became a pair
    assert set(old) <= now, sorted(set(old) - now)


@pytest.mark.parametrize("case", FINGERPRINTS)
def test_old_run_files_keep_their_fingerprints(case, monkeypatch):
    """Each run.json was written by 0.1; its config, read back and fingerprinted with what its
    files hold, gives the fingerprint 0.1 recorded (paths in them are relative to the repo)."""
    monkeypatch.chdir(ROOT)
    saved = json.loads((FIXTURES / "fingerprints" / f"{case}.json").read_text())
    config = methods.load_config(saved["config"])
    recipe = methods.get(config.method).recipe(config)
    assert config.fingerprint(**recipe.fingerprint_parts()) == saved["fingerprint"]


def test_a_field_added_with_a_default_leaves_fingerprints_alone():
    """What the layout promises the next developer: a new option, at its default, is not in the
    fingerprint, so every existing run directory still resumes; set, it is."""
    import dataclasses

    from pipeline.options import option

    for spec in methods.specs():
        grown = dataclasses.make_dataclass(
            "Grown", [("added", int, option(7, "A setting added later."))], bases=(spec.options,),
            frozen=True,
        )  # fmt: skip
        config = methods.make_config(spec.name, out="x")
        same = dataclasses.replace(config, options=grown(**config.options.to_dict()))
        changed = dataclasses.replace(config, options=grown(**config.options.to_dict(), added=8))
        assert same.fingerprint() == config.fingerprint()
        assert changed.fingerprint() != config.fingerprint()


def test_fixture_paths_are_relative_to_the_repository():
    assert (ROOT / "pyproject.toml").exists() and os.path.isdir(ROOT / "tests")
