"""cookiecutter 2.7.1's API as runs of factory.

`cookiecutter.main.cookiecutter` (and the name `cookiecutter.cli` calls it by, so the click
command line goes through it too) becomes `factory generate TEMPLATE -o OUTPUT_DIR …`.
The click command still parses the arguments and prints the errors, as cookiecutter's does.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import sys
from pathlib import Path

import factory_peer_core as core
from factory_peer_core import AdapterError

INTERACTIVE = {"on": False}
# sys.path as the adapter found it: what a test adds later (monkeypatch.syspath_prepend) is
# where its Jinja extensions are, and reaches factory's Python helper as PYTHONPATH.
BASE_SYS_PATH = list(sys.path)
# cookiecutter's internals a test may replace with a mock; factory does not run them.
INTERNALS = ("generate_files", "generate_context", "prompt_for_config", "dump", "load")


def _error_class(stderr: str):
    from jinja2.exceptions import TemplateSyntaxError

    from cookiecutter import exceptions as e

    rules = [
        # factory's --replay-file with --defaults or answers, which cookiecutter refuses too
        (r"'--replay-file[^']*' cannot be used with", e.InvalidModeException),
        (r"undefined variable|is undefined", e.UndefinedVariableInTemplate),
        (r"hook", e.FailedHookException),
        (r"syntax error", TemplateSyntaxError),
        (r"(did not load|unknown) .*extension|extensions? .*did not load|Unable to load extension",
         e.UnknownExtension),
        (r"cookiecutter\.json", e.ContextDecodingException),
        (r"not empty|already exists|exists", e.OutputDirExistsException),
        (r"holds no template|no project folder|project folder", e.NonTemplatedInputDirException),
        (r"zip", e.InvalidZipRepository),
        (r"clone|git .*failed", e.RepositoryCloneFailed),
        (r"not found|does not exist|no such|not a template|no template named", e.RepositoryNotFound),
    ]
    for pattern, cls in rules:
        if re.search(pattern, stderr, re.IGNORECASE):
            return cls
    return e.CookiecutterException


class _Message:
    def __init__(self, message: str) -> None:
        self.message = message


def _json_error(result: core.Result) -> str | None:
    """factory's error message alone (`--json` prints it on stdout), without hint or argv."""
    try:
        return json.loads(result.stdout)["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return None


def _raise(result: core.Result) -> None:
    cls = _error_class(result.stderr)
    message = result.describe()
    from cookiecutter.exceptions import OutputDirExistsException

    said = _json_error(result)
    if issubclass(cls, OutputDirExistsException) and said:
        # cookiecutter's CLI prints this one's message whole ('Error: "x" directory already
        # exists'): factory's message, with the prefix cookiecutter's class carries.
        message = f"Error: {said}"
    # Built without the class's own constructor (some want cookiecutter's objects): the
    # message is factory's stderr.
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    from cookiecutter.exceptions import UndefinedVariableInTemplate

    if isinstance(error, UndefinedVariableInTemplate):
        # the fields cookiecutter's CLI prints
        error.message = message
        error.error = _Message(result.stderr.strip())
        error.context = {}
    raise error


def _mocked_internals(api: str) -> None:
    """A test that mocks cookiecutter's own functions tests cookiecutter, not a run: factory
    cannot honour the mock, and running it anyway would write what the test never expects."""
    from unittest import mock

    from cookiecutter import main

    for name in INTERNALS:
        if isinstance(getattr(main, name, None), mock.NonCallableMock):
            raise AdapterError(api, f"cookiecutter.main.{name}", "a mock",
                               "the test replaces cookiecutter's internals")


def _environment() -> dict[str, str]:
    """The test's Python path additions and frozen clock, as factory's environment."""
    env = dict(os.environ)
    added = [os.path.abspath(p) for p in sys.path if p and p not in BASE_SYS_PATH]
    if added:
        env["PYTHONPATH"] = os.pathsep.join(added + [env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    if datetime.datetime.__module__.startswith("freezegun"):
        # freezegun's clock (the test froze time) is FACTORY_NOW's pinned instant.
        now = datetime.datetime.now(datetime.timezone.utc)
        env["FACTORY_NOW"] = now.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return env


def _logging_args() -> list[str]:
    """cookiecutter's CLI turns --debug-file and -v into its logger's handlers before it
    calls cookiecutter(): factory's --debug-file and --verbose."""
    import logging

    args = []
    for handler in logging.getLogger("cookiecutter").handlers:
        if isinstance(handler, logging.FileHandler):
            args += ["--debug-file", handler.baseFilename]
        elif isinstance(handler, logging.StreamHandler) and handler.level <= logging.DEBUG:
            args.append("--verbose")
    return args


def cookiecutter(
    template: str,
    checkout: str | None = None,
    no_input: bool = False,
    extra_context: dict | None = None,
    replay: bool | str | None = None,
    overwrite_if_exists: bool = False,
    output_dir: str = ".",
    config_file: str | None = None,
    default_config: bool = False,
    password: str | None = None,
    directory: str | None = None,
    skip_if_file_exists: bool = False,
    accept_hooks: bool = True,
    keep_project_on_failure: bool = False,
) -> str:
    api = "cookiecutter"
    _mocked_internals(api)
    replay_file = None
    if replay:
        # cookiecutter's replay file (what --compat-answers writes): factory's --replay-file.
        replay_file = replay if isinstance(replay, str) else str(
            Path.home() / ".cookiecutter_replay" / f"{Path(str(template).rstrip('/')).name}.json"
        )
    if config_file is not None:
        raise AdapterError(api, "config_file", config_file, "factory reads no cookiecutter user config")
    if password is not None:
        raise AdapterError(api, "password", "…", "factory takes no zip password")
    if skip_if_file_exists:
        raise AdapterError(api, "skip_if_file_exists", True)
    if keep_project_on_failure:
        raise AdapterError(api, "keep_project_on_failure", True, "factory never leaves a partial output")
    # default_config only keeps cookiecutter from reading ~/.cookiecutterrc; factory never does.
    # --compat-answers: cookiecutter writes its replay file on every run.
    args = ["generate", str(template), "-o", str(output_dir), "--json", "--compat-answers"]
    if Path(template).is_dir():
        # A folder holding copier.yml too is still cookiecutter's to cookiecutter.
        args += ["--flavor", "cookiecutter"]
    if checkout:
        args += ["--ref", str(checkout)]
    if directory:
        args += ["--directory", str(directory)]
    if replay_file:
        args += ["--replay-file", replay_file]
    if extra_context is not None:
        args += ["--answers", core.answers_file(dict(extra_context), api)]
    if no_input:
        args.append("--defaults")
    if overwrite_if_exists:
        args.append("--force")
    args += _logging_args()
    if accept_hooks:
        # cookiecutter runs a template's hooks unless told not to: factory's --trust.
        args.append("--trust")
    result = core.run(args, interactive=INTERACTIVE["on"], show_stdout=False, env=_environment(),
                      hold_error=True)
    if result.code != 0:
        _raise(result)
    target = Path(json.loads(result.stdout)["target"])
    core.drop_provenance(target)
    return str(target)


def install(interactive: bool = False) -> None:
    from cookiecutter import cli, main

    INTERACTIVE["on"] = interactive
    main.cookiecutter = cookiecutter
    cli.cookiecutter = cookiecutter
