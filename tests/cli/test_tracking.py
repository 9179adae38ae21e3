"""Where a run reports (pipeline/cli/tracking.py), read as Prefect would read it, without
importing Prefect: the sources in their order, our own server's pid file, and what the run
command does with each (a flow, the library and its one line, or a one-line refusal)."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from pipeline.cli import local_server, tracking
from pipeline.cli.main import main
from pipeline.errors import ServerError
from tests.cli.test_cli import snapshot
from tests.helpers import dead_pid, shard_runs

URL = "http://127.0.0.1:4999/api"
CLOUD = "https://api.prefect.cloud/api/accounts/a1/workspaces/w1"


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No Prefect setting of the machine's or of the suite's: an empty folder and home."""
    for name in ("PREFECT_API_URL", "PREFECT_PROFILE", "PREFECT_PROFILES_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    monkeypatch.chdir(tmp_path)


def _profiles(text: str) -> None:
    (Path(os.environ["PREFECT_HOME"]) / "profiles.toml").write_text(text)


LOCAL = (
    f'[profiles.local]\nPREFECT_API_URL = "{URL}"\n[profiles.cloud]\nPREFECT_API_URL = "{CLOUD}"\n'
)
_HOLDERS: list[subprocess.Popen] = []


def _state(pid: int, port: int = 4998) -> None:
    server = local_server.LocalServer(pid, "127.0.0.1", port, "log")
    local_server.state_path().write_text(json.dumps(server.__dict__))


def _looks_like_our_server(port: int) -> int:
    """A live process whose command line is that of `prefect server start --port PORT`."""
    code = "import time; time.sleep(60)"
    args = [sys.executable, "-c", code, "prefect", "server", "start", "--port", str(port)]
    _HOLDERS.append(subprocess.Popen(args))
    return _HOLDERS[-1].pid


@pytest.fixture(autouse=True)
def _stop_holders():
    yield
    while _HOLDERS:
        holder = _HOLDERS.pop()
        holder.kill()
        holder.wait()


# name, setup(monkeypatch), the URL found (None: none) and a word of its source.
DETECT = [
    ("nothing configured", lambda m: None, None, None),
    ("environment", lambda m: m.setenv("PREFECT_API_URL", URL), URL, "PREFECT_API_URL"),
    (".env", lambda m: Path(".env").write_text(f"# x\nexport PREFECT_API_URL='{URL}'\n"),
     URL, ".env"),
    (".env, a comment", lambda m: Path(".env").write_text(f"PREFECT_API_URL={URL} # ours\n"),
     URL, ".env"),
    ("prefect.toml", lambda m: Path("prefect.toml").write_text(f'[api]\nurl = "{URL}"\n'),
     URL, "prefect.toml"),
    ("pyproject.toml",
     lambda m: Path("pyproject.toml").write_text(f'[tool.prefect.api]\nurl = "{URL}"\n'),
     URL, "pyproject.toml"),
    ("active profile", lambda m: _profiles(f'active = "local"\n{LOCAL}'), URL, "profile 'local'"),
    ("no active profile", lambda m: _profiles(LOCAL), None, None),
    ("active profile without a URL", lambda m: _profiles('active = "x"\n[profiles.x]\n'),
     None, None),
    ("Prefect Cloud profile", lambda m: _profiles(f'active = "cloud"\n{LOCAL}'),
     CLOUD, "profile 'cloud'"),
    ("PREFECT_PROFILE picks the profile",
     lambda m: _profiles(f'active = "cloud"\n{LOCAL}') or m.setenv("PREFECT_PROFILE", "local"),
     URL, "profile 'local'"),
    ("PREFECT_PROFILES_PATH",
     lambda m: (Path("p.toml").write_text(f'active = "local"\n{LOCAL}'),
                m.setenv("PREFECT_PROFILES_PATH", "p.toml")),
     URL, "p.toml"),
    ("environment before profile",
     lambda m: _profiles(f'active = "cloud"\n{LOCAL}') or m.setenv("PREFECT_API_URL", URL),
     URL, "PREFECT_API_URL"),
    ("unreadable files", lambda m: (Path("prefect.toml").write_text("[api"), _profiles("==")),
     None, None),
    ("our server, running", lambda m: _state(_looks_like_our_server(4998)),
     "http://127.0.0.1:4998/api", "instructgen server start"),
    ("our server's pid file, stale", lambda m: _state(dead_pid()), None, None),
    ("our pid file, another process", lambda m: _state(os.getpid()), None, None),
    ("our pid file, another port", lambda m: _state(_looks_like_our_server(4997)), None, None),
    ("configured wins over ours",
     lambda m: _state(_looks_like_our_server(4998)) or m.setenv("PREFECT_API_URL", URL),
     URL, "PREFECT_API_URL"),
]  # fmt: skip


@pytest.mark.parametrize("setup, url, source", [pytest.param(*c[1:], id=c[0]) for c in DETECT])
def test_detects_the_server_prefect_would_use(monkeypatch, setup, url, source):
    setup(monkeypatch)
    found = tracking.detect()
    assert (found and found.url) == url
    if source is not None:
        assert source in found.source


class _Health(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self):
        self.send_response(self.status if self.path == "/api/health" else 404)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def health():
    """A server answering GET /api/health with `handler.status`, on 127.0.0.1."""
    handler = type("Handler", (_Health,), {})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    handler.url = f"http://127.0.0.1:{server.server_port}/api"
    yield handler
    server.shutdown()
    server.server_close()


# --prefect / --no-prefect (None: neither), the server (None, or its /api/health status),
# and the plan: a flow, on which server, and whether the not-tracked line ends the command.
PLANS = [
    ("default, no server: the library and the line", None, None, False, False, True),
    ("--prefect, no server: a temporary one", True, None, True, False, False),
    ("--no-prefect: the library, no line", False, 200, False, False, False),
    ("default, a server: a flow on it", None, 200, True, True, False),
    ("--prefect, a server: a flow on it", True, 200, True, True, False),
    ("Prefect Cloud answers 401 without a key", None, 401, True, True, False),
]


@pytest.mark.parametrize(
    "prefect, status, flow, on_server, note", [pytest.param(*p[1:], id=p[0]) for p in PLANS]
)
def test_plan(monkeypatch, health, prefect, status, flow, on_server, note):
    if status is not None:
        health.status = status
        monkeypatch.setenv("PREFECT_API_URL", health.url)
    plan = tracking.plan(prefect)
    assert plan.flow is flow and (plan.server is not None) is on_server
    assert plan.note == (tracking.NOT_TRACKED if note else None)


UNANSWERED = [
    ("nothing listens", lambda h: "http://127.0.0.1:1/api", "does not answer"),
    ("not Prefect's API", lambda h: h.url.removesuffix("/api"), "not a Prefect API URL"),
]


@pytest.mark.parametrize("url, problem", [pytest.param(*u[1:], id=u[0]) for u in UNANSWERED])
def test_a_configured_server_that_does_not_answer_stops_the_run_first(
    tmp_path, capsys, monkeypatch, health, url, problem
):
    """One line naming the URL, its source and the fix; exit 2; nothing written. The user
    asked for tracking: running untracked would hide that their server is down."""
    monkeypatch.setenv("PREFECT_API_URL", url(health))
    out = tmp_path / "run"
    code = main(["run", "self-instruct", "--out", str(out), "--quiet", "--target", "5"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert url(health) in err and "PREFECT_API_URL" in err and problem in err
    assert "--no-prefect" in err and snapshot(out) is None
    with pytest.raises(ServerError):
        tracking.require_server("schedules")
    assert main(["run", "self-instruct", "--out", str(out), "--no-prefect", "--quiet"]) == 0


RUNS = [
    ("default", [], True),
    ("--no-prefect", ["--no-prefect"], False),
]


@pytest.mark.parametrize("args, line", [pytest.param(*r[1:], id=r[0]) for r in RUNS])
def test_an_untracked_run_ends_with_one_line_saying_so(tmp_path, capsys, args, line):
    out = tmp_path / "run"
    assert main(["run", "self-instruct", "--out", str(out), "--target", "5", "--quiet", *args]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert (last == tracking.NOT_TRACKED) is line, last
    if line:
        assert "instructgen server start" in last and "--prefect" in last


# A command without a server to report to, and the arguments after `instructgen`.
LIBRARY = [
    ("run", lambda p: ["run", "self-instruct", "--out", str(p / "r"), "--target", "5"]),
    ("run --no-prefect",
     lambda p: ["run", "self-instruct", "--out", str(p / "r"), "--target", "5", "--no-prefect"]),
    ("estimate --pilot",
     lambda p: ["estimate", "self-instruct", "--out", str(p / "r"), "--pilot", "2"]),
    ("merge", lambda p: ["merge", *shard_runs(p), "--out", str(p / "m")]),
]  # fmt: skip
PROBE = (
    "import sys; from pipeline.cli import main; code = main(sys.argv[1:]); "
    "print('prefect imported' if 'prefect' in sys.modules else 'no prefect'); sys.exit(code)"
)


@pytest.mark.parametrize("args", [pytest.param(c[1], id=c[0]) for c in LIBRARY])
def test_the_library_path_never_imports_prefect(tmp_path, args):
    """Importing Prefect costs ~1 s: a command that reports to no server must not pay it."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args(tmp_path)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "no prefect", done.stdout[-2000:]
