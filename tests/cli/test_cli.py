"""The command as a user meets it: one-line errors with exit 2, and a real run."""

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.cli.main import main


def run_cli(out, *args: str) -> int:
    """`instructgen run self-instruct` in-process, without Prefect or a progress bar."""
    return main(["run", "self-instruct", "--out", str(out), "--no-prefect", "--quiet", *args])


SEED_LINE = (
    '{"id": "t1", "name": "n", "instruction": "Name a fruit that is red.", '
    '"instances": [{"input": "", "output": "Apple"}], "is_classification": false}\n'
)


def _seeds(tmp_path, content: bytes | str):
    """--seeds pointing at a file with this content."""
    path = tmp_path / "seeds.jsonl"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return ["--seeds", str(path)]


def _bad_seeds(tmp_path):
    return _seeds(tmp_path, SEED_LINE + "{not json\n"), "seeds.jsonl:2"


def _missing_seeds(tmp_path):
    return ["--seeds", str(tmp_path / "nope.jsonl")], "nope.jsonl"


def _previous_run(tmp_path, *args: str) -> Path:
    """A finished small run in tmp_path/run, for the cases about an existing run directory."""
    out = tmp_path / "run"
    assert run_cli(out, "--target", "5", "--judge", "inline", *args) == 0
    return out


def _replace_cache(tmp_path, content: bytes | None):
    out = _previous_run(tmp_path)
    cache = out / "cache.sqlite"
    cache.unlink()
    if content is None:  # another program's SQLite database
        db = sqlite3.connect(cache)
        db.execute("CREATE TABLE notes (text)")
        db.commit()
        db.close()
    else:
        cache.write_bytes(content)


_HOLDERS: list[subprocess.Popen] = []
HOLD_LOCK = (
    "import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR); "
    "fcntl.flock(fd, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(60)"
)


def _in_use(tmp_path):
    """Another live process holds the run directory's lock."""
    out = _previous_run(tmp_path)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(out / ".lock")], stdout=subprocess.PIPE
    )
    _HOLDERS.append(holder)
    assert holder.stdout.readline() == b"locked\n"


@pytest.fixture(autouse=True)
def _stop_lock_holders():
    yield
    while _HOLDERS:
        holder = _HOLDERS.pop()
        holder.kill()
        holder.wait()


HUGE = SEED_LINE + '{"instruction": "' + "x" * (1 << 20) + '"}\n'
# name, setup(tmp_path) -> extra arguments, and what the one line must name (file:line or
# flag, problem). Every case exits 2 and leaves --out exactly as it was (or absent).
CASES = [
    ("unknown backend", lambda p: ["--backend", "gpt"], ["unknown backend 'gpt'"]),
    ("not a number", lambda p: ["--target", "many"], ["Invalid value for '--target'"]),
    ("unknown option", lambda p: ["--colour", "red"], ["No such option"]),
    ("openai without model", lambda p: ["--backend", "openai"], ["needs --model"]),
    ("zero target", lambda p: ["--target", "0"], ["--target must be at least 1"]),
    ("bad logit bias", lambda p: ["--logit-bias", "x"], ["TOKEN_ID:BIAS"]),
    ("zero concurrency", lambda p: ["--concurrency", "0"], ["--concurrency must be 1 to"]),
    ("zero timeout", lambda p: ["--timeout", "0"], ["--timeout must be positive"]),
    ("temperature too high", lambda p: ["--temperature", "3"], ["--temperature must be"]),
    ("malformed seed file", lambda p: _bad_seeds(p)[0], ["seeds.jsonl:2", "JSON"]),
    ("missing seed file", lambda p: _missing_seeds(p)[0], ["nope.jsonl", "no such file"]),
    ("empty seed file", lambda p: _seeds(p, ""), ["seeds.jsonl", "empty"]),
    ("non-UTF-8 seed file", lambda p: _seeds(p, SEED_LINE.encode() + b'{"i": "\xff"}\n'),
     ["seeds.jsonl:2", "UTF-8"]),
    ("wrong schema", lambda p: _seeds(p, '{"instruction": 5, "instances": []}\n'),
     ["seeds.jsonl:1"]),
    ("duplicate ids", lambda p: _seeds(p, SEED_LINE * 2), ["seeds.jsonl:2", "duplicate"]),
    ("huge line", lambda p: _seeds(p, HUGE), ["seeds.jsonl:2", "1 MB"]),
    ("resume with another config",
     lambda p: [_previous_run(p)] and ["--temperature", "0.5"],
     ["different config", "temperature: 1.0 -> 0.5", "new --out"]),
    ("corrupt cache", lambda p: _replace_cache(p, b"garbage" * 999) or [],
     ["cache.sqlite", "unreadable request cache"]),
    ("corrupt cache, resumed with a new target",
     lambda p: _replace_cache(p, b"garbage" * 999) or ["--target", "9"],
     ["cache.sqlite", "unreadable request cache"]),
    ("foreign cache", lambda p: _replace_cache(p, None) or [],
     ["cache.sqlite", "not an instructgen request cache"]),
    ("run directory in use", lambda p: _in_use(p) or [], ["another instructgen process"]),
    ("unreadable run file",
     lambda p: (_previous_run(p) / "run.json").write_text("{oops") and [],
     ["run.json", "unreadable run file"]),
    ("--out is a file", lambda p: (p / "run").write_text("x") and [], ["is a file"]),
    ("--out is someone's folder",
     lambda p: (p / "run").mkdir() or ((p / "run" / "notes.txt").write_text("x") and []),
     ["not an instructgen run directory"]),
]  # fmt: skip


def snapshot(out: Path) -> dict[str, bytes] | None:
    """Every file under `out` with its bytes; None when there is no such directory."""
    if not out.is_dir():
        return {"": out.read_bytes()} if out.exists() else None
    return {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    "setup, expected",
    [pytest.param(c[1], c[2], id=c[0]) for c in CASES],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch, setup, expected):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    args = setup(tmp_path)
    out = tmp_path / "run"
    before = snapshot(out)
    capsys.readouterr()
    code = run_cli(out, *args)
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert all(e in err for e in expected) and err.startswith("instructgen: error:"), err
    assert len(err.splitlines()) == 1
    assert snapshot(out) == before, "the run directory is left as it was"


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
    from pipeline.cli import display

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(display, "run_with_display", interrupted)
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
    from pipeline.stub.server import StubServer

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
