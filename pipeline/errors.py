"""User-facing errors. The CLI catches InstructgenError only; anything else is a bug."""

from __future__ import annotations


class InstructgenError(Exception):
    """Base of every error a user can fix. The message is one line that names the fix."""

    exit_code = 2


class InputError(InstructgenError):
    """A bad input file: the message names the file, the line and the fix."""

    def __init__(self, path: object, line: int | None, problem: str, fix: str):
        where = f"{path}:{line}" if line is not None else f"{path}"
        super().__init__(f"{where}: {problem}; {fix}")
        self.path, self.line = path, line


class ConfigError(InstructgenError):
    """A bad flag or config value, or a resume that does not match the run directory."""


class ServerError(InstructgenError):
    """A Prefect server that a command runs or reports to did not start or does not answer."""


class BackendError(InstructgenError):
    """The model endpoint refused in a way retrying cannot fix (bad key, unknown model)."""


class TransientBackendError(Exception):
    """A failure worth retrying: rate limit, timeout, connection error, 5xx.

    Not an InstructgenError: the retry policy handles it; it reaches users only wrapped in
    RetriesExhausted."""

    def __init__(self, message: str, retry_after: float | None = None, status: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status


class RetriesExhausted(InstructgenError):
    """The endpoint kept failing transiently; the message says how many attempts were made."""

    exit_code = 3

    def __init__(self, attempts: int, last: BaseException):
        super().__init__(
            f"gave up after {attempts} attempts: {last}; the run directory keeps every answer "
            "so far, re-run the same command to resume (or lower --concurrency)"
        )
        self.attempts, self.last = attempts, last


class Stalled(InstructgenError):
    """A stage kept nothing over its last --patience answers and stopped (engine/stall.py)."""

    exit_code = 5

    def __init__(self, stage: str, message: str):
        where = f"{stage}: " if stage and stage != "generate" else ""
        super().__init__(
            f"stalled: {where}{message}; the outputs so far are written, re-run the same "
            "command to try again (--patience 0 turns this guard off)"
        )
