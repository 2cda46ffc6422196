"""Runs of the factory binary for the peer-suite adapters (copier's and cookiecutter's).

The adapters turn a call of copier's or cookiecutter's API into factory's command line and
run it on the same folders. They translate parameters and map factory's failure to the
exception class the calling test expects; they never touch what factory wrote.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent


def factory_bin() -> str:
    return os.environ.get("FACTORY_BIN") or str(REPO / "target" / "debug" / "factory")


class AdapterError(Exception):
    """A parameter of copier's or cookiecutter's API that factory's command line cannot
    express. Never a subclass of the tools' own errors: a test that expects one fails."""

    def __init__(self, api: str, parameter: str, value: object, why: str = "") -> None:
        self.parameter = parameter
        message = (
            f"factory adapter: {api}({parameter}={value!r}) has no factory equivalent"
            + (f": {why}" if why else "")
        )
        super().__init__(message)


_STORE: list[str] = []


def _store() -> str:
    """One store per process, so the runs record somewhere that is not the user's."""
    if not _STORE:
        base = REPO / "target" / "peer-suites" / "stores"
        base.mkdir(parents=True, exist_ok=True)
        path = tempfile.mkdtemp(prefix=f"store-{os.getpid()}-", dir=base)
        atexit.register(shutil.rmtree, path, True)
        _STORE.append(path)
    return _STORE[0]


def _pump(source, sink) -> list[bytes]:
    """Copies a child's pipe to `sink` as it arrives, keeping a copy for the error."""
    kept: list[bytes] = []

    def run() -> None:
        while True:
            chunk = os.read(source.fileno(), 65536)
            if not chunk:
                break
            kept.append(chunk)
            sink(chunk)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    kept_thread = getattr(_pump, "threads", [])
    kept_thread.append(thread)
    _pump.threads = kept_thread  # type: ignore[attr-defined]
    return kept


def _python_sink(stream):
    def write(chunk: bytes) -> None:
        try:
            stream.write(chunk.decode("utf-8", "replace"))
            stream.flush()
        except ValueError:
            pass  # the test closed its capture already

    return write


class _HoldError:
    """A stderr sink that passes lines on as they come until factory's `error:` line, and
    holds that line and the rest: the caller raises the error as the tool's exception
    (which the tool's command line prints itself), so it is dropped unless the run
    succeeded after all."""

    def __init__(self, sink) -> None:
        self.sink = sink
        self.partial = b""
        self.held: list[bytes] = []

    def __call__(self, chunk: bytes) -> None:
        lines = (self.partial + chunk).split(b"\n")
        self.partial = lines.pop()
        for line in lines:
            if self.held or line.startswith(b"error: "):
                self.held.append(line + b"\n")
            else:
                self.sink(line + b"\n")

    def finish(self, code: int) -> None:
        rest = self.held + ([self.partial] if self.partial else [])
        if code == 0 and rest:
            self.sink(b"".join(rest))


def _fd_sink(fd: int):
    def write(chunk: bytes) -> None:
        try:
            os.write(fd, chunk)
        except OSError:
            pass

    return write


class Result:
    def __init__(self, argv: list[str], code: int, stdout: str, stderr: str) -> None:
        self.argv = argv
        self.code = code
        self.stdout = stdout
        self.stderr = stderr

    def describe(self) -> str:
        shown = " ".join(self.argv)
        return f"factory exited {self.code} ({shown}):\n{self.stderr.strip()}"


def run(
    args: list[str],
    *,
    interactive: bool = False,
    show_stdout: bool = True,
    env: dict[str, str] | None = None,
    hold_error: bool = False,
) -> Result:
    """Runs `factory ARGS…`: stdin is the caller's own when `interactive` (the copier
    shim under pexpect), else empty; stdout and stderr are passed on as they come (to the
    process's file descriptors when interactive, else to `sys.stdout`/`sys.stderr`, which
    pytest captures) and kept for the error message."""
    argv = [factory_bin(), *args]
    environment = dict(env if env is not None else os.environ)
    environment.setdefault("FACTORY_STORE", _store())
    if os.environ.get("FACTORY_PEER_TRACE"):
        print(f"[factory-peer] {' '.join(argv)}", file=sys.__stderr__)
    # Interactive, factory's stdout is the process's own (under pexpect, one pipe with its
    # stderr): what factory prints there stays in order with the stderr lines relayed after
    # it (copier's `_message_after_copy` after the summary), which two relays would race.
    direct = interactive and show_stdout
    child = subprocess.Popen(
        argv,
        stdin=None if interactive else subprocess.DEVNULL,
        stdout=None if direct else subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment,
    )
    if interactive:
        out_sink, err_sink = _fd_sink(1), _fd_sink(2)
    else:
        out_sink, err_sink = _python_sink(sys.stdout), _python_sink(sys.stderr)
    if not show_stdout:
        out_sink = lambda chunk: None  # noqa: E731
    held = _HoldError(err_sink) if hold_error else None
    out = [] if direct else _pump(child.stdout, out_sink)
    err = _pump(child.stderr, held or err_sink)
    # The test's own process interrupted (a task's SIGINT to it, once per render), factory
    # not: it ends and removes its temporary folders before the interrupt goes on, as
    # copier's cleanup runs before its KeyboardInterrupt does.
    interrupted = False
    while True:
        try:
            code = child.wait()
            break
        except KeyboardInterrupt:
            interrupted = True
    for thread in getattr(_pump, "threads", []):
        thread.join()
    _pump.threads = []  # type: ignore[attr-defined]
    if held is not None:
        held.finish(code)
    if child.stdout is not None:
        child.stdout.close()
    child.stderr.close()
    if interrupted:
        raise KeyboardInterrupt
    return Result(
        argv,
        code,
        b"".join(out).decode("utf-8", "replace"),
        b"".join(err).decode("utf-8", "replace"),
    )


def plain(value: object) -> object:
    """A Python value that YAML/JSON writes otherwise, as the value it stands for: a
    Decimal as the number it is (when a float holds it exactly), bytes as their UTF-8 text.
    Anything else is returned as it is (and refused by `_check_expressible` if need be)."""
    import decimal

    if isinstance(value, decimal.Decimal) and value.is_finite():
        as_float = float(value)
        if decimal.Decimal(repr(as_float)) == value:
            return as_float
    if isinstance(value, (bytes, bytearray)):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return value
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value


def answers_file(data: dict, api: str) -> str:
    """`data` as a JSON answers file outside every folder a test looks at."""
    data = {key: plain(value) for key, value in data.items()}
    for key, value in data.items():
        _check_expressible(api, f"data[{key!r}]", value)
    handle, path = tempfile.mkstemp(prefix="answers-", suffix=".json")
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        json.dump(data, file)
    atexit.register(_unlink, path)
    return path


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _check_expressible(api: str, name: str, value: object) -> None:
    if value is None or isinstance(value, (str, int, float, bool)):
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_expressible(api, f"{name}[{i}]", item)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise AdapterError(api, name, value, "a mapping key that is not a string")
            _check_expressible(api, f"{name}[{key!r}]", item)
        return
    raise AdapterError(
        api, name, value, f"a Python {type(value).__name__} is not a YAML/JSON value"
    )


def set_value(value: object) -> str:
    """A value for `--set NAME=VALUE`: strings as they are, the rest as JSON (YAML reads it)."""
    if isinstance(value, str):
        return value
    return json.dumps(value)


def drop_provenance(folder: Path) -> None:
    """Diagnostic only (FACTORY_PEER_DROP_PROVENANCE=1, never in CI): removes factory's
    `.factory/` folder after a run, to count the tests that fail only because of it."""
    if os.environ.get("FACTORY_PEER_DROP_PROVENANCE") == "1":
        shutil.rmtree(folder / ".factory", ignore_errors=True)
