"""The command as a user meets it: one-line errors with exit 2, and a real run."""

import json

import pytest

from pipeline.cli import main


def run_cli(out, *args: str) -> int:
    """`instructgen run self-instruct` in-process, without Prefect or a progress bar."""
    return main(["run", "self-instruct", "--out", str(out), "--no-prefect", "--quiet", *args])


SEED_LINE = (
    '{"id": "t1", "name": "n", "instruction": "Name a fruit that is red.", '
    '"instances": [{"input": "", "output": "Apple"}], "is_classification": false}\n'
)


def _bad_seeds(tmp_path):
    path = tmp_path / "seeds.jsonl"
    path.write_text(SEED_LINE + "{not json\n")
    return ["--seeds", str(path)], "seeds.jsonl:2"


def _missing_seeds(tmp_path):
    return ["--seeds", str(tmp_path / "nope.jsonl")], "nope.jsonl"


CASES = [
    ("unknown backend", lambda p: (["--backend", "gpt"], "unknown backend 'gpt'")),
    ("not a number", lambda p: (["--target", "many"], "Invalid value for '--target'")),
    ("unknown option", lambda p: (["--colour", "red"], "No such option")),
    ("openai without model", lambda p: (["--backend", "openai"], "needs --model")),
    ("zero target", lambda p: (["--target", "0"], "--target must be at least 1")),
    ("bad logit bias", lambda p: (["--logit-bias", "x"], "TOKEN_ID:BIAS")),
    ("malformed seed file", _bad_seeds),
    ("missing seed file", _missing_seeds),
]


@pytest.mark.parametrize("name, case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch, name, case):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    args, expected = case(tmp_path)
    out = tmp_path / "run"
    code = run_cli(out, *args)
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert expected in err and err.startswith("instructgen: error:")
    assert len(err.splitlines()) == 1
    assert not out.exists(), "nothing is written for bad input"


def test_openai_without_key_names_the_fix(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    code = run_cli(tmp_path / "r", "--backend", "openai", "--model", "gpt-4o-mini")
    err = capsys.readouterr().err
    assert code == 2 and "OPENAI_API_KEY" in err and "--backend stub" in err


def test_stub_run_writes_every_file_and_a_summary(tmp_path, capsys):
    out = tmp_path / "demo"
    code = main(["run", "self-instruct", "--target", "50", "--out", str(out), "--no-prefect"])
    printed = capsys.readouterr().out
    assert code == 0
    assert "kept" in printed and "requests" in printed and str(out) in printed
    stats = json.loads((out / "stats.json").read_text())
    funnel = stats["funnel"]
    assert funnel["kept"] == 50
    assert funnel["generated"] == funnel["kept"] + funnel["dropped_total"]
    alpaca = json.loads((out / "alpaca.json").read_text())
    assert len(alpaca) == 50 and set(alpaca[0]) == {"instruction", "input", "output"}
    removed = [json.loads(line) for line in (out / "removed.jsonl").read_text().splitlines()]
    assert len(removed) == funnel["dropped_total"]
    assert all(r["filter"] and r["reason"] for r in removed)


def test_ctrl_c_exits_130_and_says_how_to_resume(tmp_path, capsys, monkeypatch):
    import pipeline.display

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline.display, "run_with_display", interrupted)
    code = main(["run", "self-instruct", "--out", str(tmp_path / "r"), "--no-prefect"])
    assert code == 130
    assert "re-run the same command to resume" in capsys.readouterr().err


def test_a_pipeline_folder_in_the_working_directory_does_not_shadow_ours(tmp_path):
    """The judge runs in a child interpreter; it must import our package, not the user's."""
    import subprocess
    import sys
    from pathlib import Path

    import pipeline

    (tmp_path / "pipeline").mkdir()
    (tmp_path / "pipeline" / "__init__.py").write_text("raise ImportError('not ours')\n")
    root = str(Path(pipeline.__file__).resolve().parent.parent)
    code = (
        f"import sys; sys.path.insert(0, {root!r}); from pipeline.cli import main; "
        "sys.exit(main(['run', 'self-instruct', '--target', '10', '--out', 'r', "
        "'--no-prefect', '--quiet']))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert (tmp_path / "r" / "kept.jsonl").read_text().count("\n") == 10


def test_endpoint_that_keeps_failing_exits_3_in_one_line(tmp_path, capsys):
    from pipeline.backends.stub_server import StubServer

    with StubServer(error_rate=1.0) as server:
        code = run_cli(
            tmp_path / "r", "--backend", "openai", "--model", "stub", "--base-url",
            server.base_url, "--max-attempts", "1", "--target", "5",
        )  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert code == 3
    assert err.startswith("instructgen: error: gave up after 1 attempts") and "\n" not in err
    assert "re-run the same command to resume" in err


def _bad_demos(tmp_path):
    path = tmp_path / "demos.jsonl"
    path.write_text('{"set": "a", "instruction": "x", "input": "y", "constraints": "z"}\n{oops\n')
    return ["--demos", str(path)], "demos.jsonl:2"


UNNATURAL_CASES = [
    ("malformed demos", _bad_demos),
    ("negative paraphrases", lambda p: (["--paraphrases", "-1"], "--paraphrases must be 0 to 20")),
    ("top_p out of range", lambda p: (["--top-p", "0"], "--top-p must be in (0, 1]")),
]


@pytest.mark.parametrize("name, case", UNNATURAL_CASES, ids=[c[0] for c in UNNATURAL_CASES])
def test_unnatural_bad_input_is_one_line_and_exit_2(tmp_path, capsys, name, case):
    args, expected = case(tmp_path)
    out = tmp_path / "run"
    code = main(["run", "unnatural", "--out", str(out), "--no-prefect", "--quiet", *args])
    err = capsys.readouterr().err.strip()
    assert code == 2 and expected in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_unnatural_stub_run_prints_the_stages(tmp_path, capsys):
    out = tmp_path / "u"
    code = main(["run", "unnatural", "--target", "20", "--out", str(out), "--no-prefect"])
    printed = capsys.readouterr().out
    assert code == 0
    for word in ("core", "outputs", "reformulations"):
        assert word in printed
    stats = json.loads((out / "stats.json").read_text())
    assert stats["stages"]["core"]["funnel"]["kept"] == 20


EVOL_CASES = [
    ("missing pool", lambda p: (["--from", str(p / "nope.json")], "nope.json")),
    ("bad operation", lambda p: (["--operations", "widen=1"], "unknown operation 'widen'")),
    ("sample too big", lambda p: (["--sample", "100000"], "lower --sample")),
    ("zero rounds", lambda p: (["--rounds", "0"], "--rounds must be 1 to 20")),
]


@pytest.mark.parametrize("name, case", EVOL_CASES, ids=[c[0] for c in EVOL_CASES])
def test_evol_bad_input_is_one_line_and_exit_2(tmp_path, capsys, name, case):
    args, expected = case(tmp_path)
    out = tmp_path / "run"
    code = main(["run", "evol-instruct", "--out", str(out), "--no-prefect", "--quiet", *args])
    err = capsys.readouterr().err.strip()
    assert code == 2 and expected in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_self_instruct_then_evol_from_its_run_directory(tmp_path, capsys):
    si, ev = tmp_path / "si", tmp_path / "ev"
    assert main(["run", "self-instruct", "--target", "15", "--out", str(si), "--no-prefect"]) == 0
    args = ["--from", str(si), "--rounds", "2", "--out", str(ev), "--no-prefect"]
    assert main(["run", "evol-instruct", *args]) == 0
    stats = json.loads((ev / "stats.json").read_text())
    assert stats["stopped"] == "done" and list(stats["rounds"]) == ["1", "2"]
    assert stats["rounds"]["1"]["evolved"] == 15
