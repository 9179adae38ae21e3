"""The API key never reaches the run directory, Prefect's files or what a run prints: not on
success, not after retries, not in a failure's message, not in a bug's traceback, even when
the provider repeats the key in its error messages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.stub.server import StubServer

CANARY = "sk-proj-instructgenCANARY0123456789abcdefABCDEF"
# A bug inside the request path: the traceback goes through the SDK call and our backend.
BUG = (
    "import pipeline.backends.openai.backend as b; b.chat_completion = lambda data, request: 1 / 0"
)
MAIN = "import sys; {inject}; from pipeline.cli import main; sys.exit(main(sys.argv[1:]))"


def run_cli(tmp_path: Path, url: str, *args: str, inject: str = "pass", prefect: bool = False):
    """`instructgen run self-instruct` in a child process with the canary as the API key."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path / "home"),
        "OPENAI_API_KEY": CANARY,
        "OPENAI_LOG": "debug",  # the SDK's own request logging on, to stderr
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }
    argv = ["run", "self-instruct", "--out", str(tmp_path / "run"), "--backend", "openai"]
    argv += ["--base-url", url, "--model", "stub", "--target", "20", "--quiet", *args]
    argv.append("--prefect" if prefect else "--no-prefect")  # --prefect: a temporary server
    done = subprocess.run(
        [sys.executable, "-c", MAIN.format(inject=inject), *argv],
        capture_output=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    return done.returncode, done.stdout + done.stderr


def files_holding_the_key(*folders: Path) -> list[str]:
    return [
        str(p)
        for folder in folders
        if folder.exists()
        for p in folder.rglob("*")
        if p.is_file() and CANARY.encode() in p.read_bytes()
    ]


# (server options, extra arguments, inject, exit code, what the output must say)
CASES = {
    "success after retries": ({"faults": "500,reset"}, [], "pass", 0, b""),
    "refused key": ({"api_key": "sk-another"}, [], "pass", 2, b"refused the API key"),
    "endpoint keeps failing": ({"faults": "500*9"}, ["--max-attempts", "2"], "pass", 3, b"gave up"),
    "a bug's traceback": ({}, [], BUG, 1, b"ZeroDivisionError"),
}


def _cases():
    """Every case against a provider that repeats the key in its error messages (the harder
    test); the one that fails there also against an ordinary provider."""
    for name, case in CASES.items():
        echoed = name == "endpoint keeps failing"
        yield pytest.param(*case, True, id=f"{name}, key-echoing provider")
        if echoed:
            yield pytest.param(*case, False, id=f"{name}, ordinary provider")


@pytest.mark.parametrize("options, args, inject, code, said, echo", list(_cases()))
def test_the_key_appears_nowhere(tmp_path, options, args, inject, code, said, echo):
    with StubServer(retry_after=0, echo_key=echo, **options) as server:
        got, printed = run_cli(tmp_path, server.base_url, *args, inject=inject)
    assert got == code, printed.decode()[-3000:]
    assert said in printed
    assert CANARY.encode() not in printed, printed.decode()[-3000:]
    assert files_holding_the_key(tmp_path / "run") == []


@pytest.mark.parametrize("reachable", [True, False], ids=["5xx", "unreachable"])
def test_credentials_in_the_base_url_appear_nowhere(tmp_path, reachable):
    with StubServer(faults="500*9") as server:
        port = server.port if reachable else 1
        url = f"http://user:{CANARY}@127.0.0.1:{port}/v1"
        got, printed = run_cli(tmp_path, url, "--max-attempts", "1", "--concurrency", "1")
    assert got == 3
    assert CANARY.encode() not in printed, printed.decode()[-3000:]
    assert files_holding_the_key(tmp_path / "run") == []


def test_the_key_appears_nowhere_in_a_prefect_run(tmp_path):
    with StubServer(faults="503,reset", echo_key=True) as server:
        got, printed = run_cli(tmp_path, server.base_url, prefect=True)
    assert got == 0, printed.decode()[-3000:]
    assert CANARY.encode() not in printed
    assert (tmp_path / "prefect").exists()
    assert files_holding_the_key(tmp_path / "run", tmp_path / "prefect", tmp_path / "home") == []
