"""The run directory refuses unsafe resumes and foreign files, and writes atomically."""

import json
import sqlite3

import pytest

from pipeline.backends.cache import RequestCache
from pipeline.errors import ConfigError
from pipeline.methods import make_config
from pipeline.store import RunDir, atomic_write
from pipeline.types import Choice, Completion, Request, Usage


def _open(path, **kw):
    cfg = make_config(out=str(path), **kw)
    rd = RunDir(path)
    rd.open(cfg, cfg.fingerprint())
    return rd


def test_resume_with_other_config_is_refused_naming_the_change(tmp_path):
    _open(tmp_path / "r").close()
    with pytest.raises(ConfigError) as err:
        _open(tmp_path / "r", temperature=0.3)
    msg = str(err.value)
    assert "temperature: 1.0 -> 0.3" in msg and "new --out" in msg


def test_resume_with_runtime_changes_is_allowed(tmp_path):
    _open(tmp_path / "r").close()
    rd = RunDir(tmp_path / "r")
    cfg = make_config(out=str(tmp_path / "r"), target=10_000, concurrency=64)
    assert rd.open(cfg, cfg.fingerprint()) is True


def test_second_process_is_locked_out(tmp_path):
    first = _open(tmp_path / "r")
    with pytest.raises(ConfigError, match="another instructgen process"):
        _open(tmp_path / "r")
    first.close()
    _open(tmp_path / "r").close()


@pytest.mark.parametrize(
    "setup, message",
    [
        (lambda p: (p / "notes.txt").write_text("mine"), "not an instructgen run directory"),
        (lambda p: (p / "run.json").write_text("{broken"), "unreadable run file"),
    ],
)
def test_foreign_or_broken_directories_are_refused(tmp_path, setup, message):
    d = tmp_path / "r"
    d.mkdir()
    setup(d)
    with pytest.raises(ConfigError, match=message):
        _open(d)


def test_out_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(ConfigError, match="is a file"):
        _open(tmp_path / "f")


def test_base_url_credentials_never_reach_disk(tmp_path):
    _open(tmp_path / "r", base_url="http://user:s3cret@localhost:8000/v1").close()
    text = (tmp_path / "r" / "run.json").read_text()
    assert "s3cret" not in text and "localhost:8000" in text


@pytest.mark.parametrize(
    "content, message",
    [
        (b"this is not sqlite at all" * 100, "unreadable request cache"),
        (None, "not an instructgen"),
    ],
)
def test_foreign_cache_is_refused(tmp_path, content, message):
    path = tmp_path / "cache.sqlite"
    if content is None:
        db = sqlite3.connect(path)
        db.execute("CREATE TABLE other (x)")
        db.commit()
        db.close()
    else:
        path.write_bytes(content)
    with pytest.raises(ConfigError, match=message):
        RequestCache(path)


def test_cache_round_trip_and_first_answer_wins(tmp_path):
    cache = RequestCache(tmp_path / "c.sqlite")
    req = Request(model="m", prompts=("p",), slot="s:1")
    first = Completion((Choice("a", "stop", 0),), Usage(3, 4), "m")
    cache.put(req, first)
    cache.put(req, Completion((Choice("b", "stop", 0),), Usage(1, 1), "m"))
    cache.close()
    again = RequestCache(tmp_path / "c.sqlite")
    got = again.get(req.key())
    assert got.cached and got.choices[0].text == "a" and got.usage == Usage(3, 4)
    assert again.get(Request(model="m", prompts=("p",), slot="s:2").key()) is None
    assert len(again) == 1


def test_atomic_write_leaves_old_file_on_failure(tmp_path):
    target = tmp_path / "kept.jsonl"
    target.write_text("old\n")

    def chunks():
        yield "new\n"
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(target, chunks())
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["kept.jsonl"]


def test_run_file_has_config_and_fingerprint(tmp_path):
    _open(tmp_path / "r", seed=5).close()
    doc = json.loads((tmp_path / "r" / "run.json").read_text())
    assert doc["config"]["seed"] == 5 and len(doc["fingerprint"]) == 16
