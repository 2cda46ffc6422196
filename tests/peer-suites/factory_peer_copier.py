"""copier 9.19.1's API as runs of factory.

`Worker.run_copy`, `Worker.run_update` and `Worker.run_recopy` are replaced, so every name
the tests call them by (`copier.run_copy`, `copier._main.run_copy`, `Worker(...).run_copy()`,
`copier.cli.CopierApp` through its subcommands, the `copier` command the prompt tests spawn)
becomes `factory generate` / `factory upgrade` on the same folders. copier's command line
(plumbum) only parses the arguments into the Worker's fields; factory does the rest.

`data` must be YAML/JSON values, with one exception: copier's own builtins `now` and
`make_secret` are data in copier (its `DEFAULT_DATA`), and its tests' `DATA` passes a
`make_secret` lambda. factory gives copier templates both builtins with copier's contract, so
a data function of that name that takes no argument and returns what copier's returns (a
hex string; an aware datetime) is left out of the answers and factory's builtin stands. Any
other callable is refused (AdapterError). factory's `warning: `now()` is deprecated` line
becomes copier's FutureWarning.
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

import factory_peer_core as core
from factory_peer_core import AdapterError

INTERACTIVE = {"on": False}


def _environment() -> dict[str, str]:
    """os.environ with copier's conftest's git settings, which it puts in plumbum's
    `local.env` (a snapshot of the environment that copier's own git calls use)."""
    env = dict(os.environ)
    try:
        from plumbum import local
    except ImportError:
        return env
    theirs = local.env.getdict()
    for key in [k for k in env if k.startswith("GIT_") and k not in theirs]:
        del env[key]
    for key, value in theirs.items():
        if key.startswith("GIT_"):
            env[key] = value
    # copier imports `_jinja_extensions` in the test's own process, from its sys.path (the
    # suite's root, where `tests.test_unsafe.JinjaExtension` lives); factory's Python helper
    # is given the same folders (not the interpreter's own library folders).
    import sys

    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix}
    own = [
        p for p in sys.path
        if p and os.path.isdir(p) and not any(p.startswith(x) for x in prefixes)
    ]
    if own:
        env["PYTHONPATH"] = os.pathsep.join(own + [env["PYTHONPATH"]] if env.get("PYTHONPATH") else own)
    return env


def _error_class(stderr: str):
    """The copier exception a test expects for factory's error, told by its message."""
    from jinja2.exceptions import TemplateSyntaxError, UndefinedError

    from copier import errors

    rules = [
        (r"Jinja extensions \(.*\) did not load", errors.ExtensionNotFoundError),
        (r"Unsupported envops", errors.InvalidConfigFileError),
        (r"Unsupported type \"[^\"]*\" in question", errors.InvalidTypeError),
        (r"only one yield tag is allowed", errors.MultipleYieldTagsError),
        (r"unknown statement yield", errors.YieldTagInFileError),
        (r"\(template path\):", errors.UserMessageError),
        (r"\" is forbidden", errors.ForbiddenPathError),
        (r"wants to run code|--trust", errors.UnsafeTemplateError),
        (r"outside|escapes?|leads? out|above the output|forbidden", errors.ForbiddenPathError),
        (r"undefined variable|is undefined|undefined value", UndefinedError),
        (r"syntax error", TemplateSyntaxError),
        (r"task .*(failed|exited)|tasks? failed", errors.TaskError),
        (r"Property '\w+' is required", KeyError),
        (r"copier\.ya?ml", errors.InvalidConfigFileError),
        (r"Invalid answer type|Invalid answer \"None\" of type", errors.InvalidTypeError),
        (r"validator|not a valid|invalid (value|answer)|not usable|failed validation", ValueError),
        (r"not a git|dirty|uncommitted|no answers file|downgrad", errors.UserMessageError),
    ]
    for pattern, cls in rules:
        if re.search(pattern, stderr, re.IGNORECASE):
            return cls
    return errors.UserMessageError


def _raise(result: core.Result, cls=None) -> None:
    cls = cls or _error_class(result.stderr)
    message = result.describe()
    # One answer refused: copier's exception is that refusal alone (factory's whole
    # stderr went to the test's captured stderr already).
    refused = re.findall(r"^  parameter `[^`]*`: (.*)$", result.stderr, re.MULTILINE)
    if "the answers are not usable:" in result.stderr and len(refused) == 1:
        message = refused[0]
    # Built without the class's own constructor (it wants copier's objects, a path or a
    # task): the message is factory's stderr.
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    if cls.__name__ == "TemplateSyntaxError":  # jinja's: its str() reads these
        error.message, error.lineno, error.name, error.filename = message, 1, None, None
        error.source, error.translated = None, True
    from copier.errors import TaskError, UserMessageError

    if isinstance(error, UserMessageError):
        error.message = message  # the field copier's CLI prints
    if isinstance(error, TaskError):  # subprocess's str() reads the command and its status
        failed = re.search(r"task `(.*?)` failed \(exit (?:status|code): (-?\d+)\)", result.stderr)
        error.cmd = failed.group(1) if failed else message
        error.returncode = int(failed.group(2)) if failed else 1
        error.output, error.stderr = result.stdout, result.stderr
    raise error


def _defaults() -> dict[str, object]:
    from copier._main import Worker

    out = {}
    for field in dataclasses.fields(Worker):
        if field.default is not dataclasses.MISSING:
            out[field.name] = field.default
    return out


# Fields whose non-default value factory cannot express, with why.
UNSUPPORTED = {
    "cleanup_on_error": "factory never leaves a partial output",
    "skip_tasks": "factory has no way to skip tasks while trusting the template",
    "ask": "factory has no way to ask an answered question again",
    "context_lines": "factory's merge context is fixed",
}


def _check_unsupported(
    worker, api: str, also: tuple[str, ...] = (), mapped: tuple[str, ...] = ()
) -> None:
    defaults = _defaults()
    for name, why in {**UNSUPPORTED, **{a: "" for a in also}}.items():
        if name in mapped:
            continue
        value = getattr(worker, name)
        default = defaults.get(name, ())
        if value != default and not (value in ((), [], {}, None) and default in ((), [], {}, None)):
            raise AdapterError(api, name, value, why)
    if api != "run_copy":
        for name in ("exclude", "skip_if_exists", "use_prereleases"):
            if name in mapped:
                continue
            if getattr(worker, name):
                raise AdapterError(api, name, getattr(worker, name), "factory upgrade takes the template's own")


def _user_defaults(worker, env: dict[str, str], api: str) -> dict[str, str]:
    """copier's user defaults (its settings file's `defaults`, then `user_defaults`, which
    win) as factory reads them: a copier settings file named by COPIER_SETTINGS_PATH."""
    defaults = {**dict(worker.settings.defaults or {}), **dict(worker.user_defaults or {})}
    if defaults:
        env["COPIER_SETTINGS_PATH"] = core.answers_file({"defaults": defaults}, api)
    return env


def _trusted(worker, src: str | None) -> bool:
    if worker.unsafe:
        return True
    try:
        return bool(src) and worker.settings.is_trusted(src)
    except Exception:  # noqa: BLE001 - copier's check, on a source it may not parse
        return False


def _common(worker, args: list[str], src: str | None) -> None:
    if worker.quiet:
        args.append("--quiet")
    if _trusted(worker, src):
        args.append("--trust")


def _vcs_ref(worker) -> str | None:
    ref = worker.vcs_ref
    if ref is None:
        return None
    return getattr(ref, "value", ref)


def _warn_dirty(result: core.Result) -> None:
    """factory's note on a local template read with changes not committed, as copier's
    DirtyLocalWarning."""
    if re.search(r"dirty template changes included automatically", result.stderr, re.I):
        import warnings

        from copier.errors import DirtyLocalWarning

        warnings.warn("Dirty template changes included automatically.", DirtyLocalWarning)


def _warn_deprecated(result: core.Result) -> None:
    """factory's note on copier's legacy migration form, as copier's DeprecationWarning."""
    if re.search(r"copier's legacy form .* which copier deprecates", result.stderr):
        import warnings

        warnings.warn(
            "This migration configuration is deprecated. Please switch to the new format.",
            DeprecationWarning,
        )
    if re.search(r"^warning: .* answers file template below the template's root, which copier deprecates", result.stderr, re.M):
        import warnings

        warnings.warn(
            "Answers file template locations other than the template root directory are "
            "deprecated. Specify a non-default answers file name/location via the "
            "`_answers_file` setting in the `copier.yaml` file instead.",
            DeprecationWarning,
        )


# copier's FutureWarning for each of its deprecated builtins (`DEFAULT_DATA`).
BUILTIN_WARNINGS = {
    "now": (
        "'now' will be removed in a future release of Copier.\n"
        "Please use this instead: {{ '%Y-%m-%d %H:%M:%S' | strftime }}\n"
        "strftime format reference https://strftime.org/"
    ),
    "make_secret": (
        "'make_secret' will be removed in a future release of Copier.\n"
        "Please use this instead: {{ 999999999999999999999999999999999|ans_random|hash('sha512') }}\n"
        "random and hash filters documentation: https://docs.ansible.com/ansible/2.3/playbooks_filters.html"
    ),
}


def _warn_builtins(result: core.Result) -> None:
    """factory's warning that a template called copier's deprecated `now()` or
    `make_secret()`, as copier's FutureWarning (factory says it once per builtin)."""
    import warnings

    for name in re.findall(r"^warning: `(\w+)\(\)` is deprecated", result.stderr, re.MULTILINE):
        if name in BUILTIN_WARNINGS:
            warnings.warn(BUILTIN_WARNINGS[name], FutureWarning)


def _builtin_stand_in(name: str, value: object) -> bool:
    """Whether a data value is a stand-in for one of copier's own builtins that factory
    gives copier templates with the same contract: a function of no arguments named
    `make_secret` that returns a hex secret, or `now` that returns an aware datetime.
    Left out of the answers, factory's builtin stands; any other callable is refused."""
    import datetime
    import inspect

    if name not in BUILTIN_WARNINGS or not callable(value):
        return False
    try:
        inspect.signature(value).bind()
    except (TypeError, ValueError):
        return False
    returned = value()
    if name == "make_secret":
        return isinstance(returned, str) and re.fullmatch(r"[0-9a-f]{32,}", returned) is not None
    return isinstance(returned, datetime.datetime) and returned.tzinfo is not None


def _data(worker) -> dict:
    return {k: v for k, v in dict(worker.data).items() if not _builtin_stand_in(k, v)}


def _finish(result: core.Result, dst: Path, ok_codes=(0,)) -> None:
    _warn_dirty(result)
    _warn_deprecated(result)
    _warn_builtins(result)
    if result.code not in ok_codes:
        _raise(result)
    core.drop_provenance(dst)


def run_copy(self) -> None:
    api = "run_copy"
    _check_unsupported(self, api, mapped=("skip_tasks", "ask", "cleanup_on_error"))
    dst = Path(self.dst_path).absolute()
    if self.src_path is None:
        # copier copies from the template the project's answers file names, with its
        # answers as the defaults (a recopy): factory's generate with --last-answers.
        src = _recorded(self).get("_src_path")
        if not src:
            raise TypeError("Template not found")
        args = ["generate", str(src), "-o", str(dst), "--last-answers", str(_answers_path(self))]
    else:
        src = str(self.src_path)
        args = ["generate", src, "-o", str(dst)]
    ref = _vcs_ref(self)
    if ref == ":current:":
        raise AdapterError(api, "vcs_ref", ref, "a copy has no current reference")
    if ref is not None:
        args += ["--ref", ref]
    data = _data(self)
    if data and self.src_path is None:  # --answers and --last-answers exclude each other
        for key, value in data.items():
            core._check_expressible(api, f"data[{key!r}]", value)
            args += ["--set", f"{key}={core.set_value(value)}"]
    elif data:
        args += ["--answers", core.answers_file(data, api)]
    if self.answers_file is not None:
        args += ["--answers-file", str(self.answers_file)]
    args += [f"--exclude={pattern}" for pattern in self.exclude]
    args += [f"--skip={pattern}" for pattern in self.skip_if_exists]
    if self.use_prereleases:
        args.append("--prereleases")
    if self.defaults:
        args.append("--defaults")
    if self.overwrite:
        args.append("--force")
    if self.pretend:
        args.append("--dry-run")
    if self.skip_tasks:
        args.append("--skip-tasks")
    if not self.cleanup_on_error:
        args.append("--no-cleanup")
    for pattern in self.ask:
        args += ["--ask", str(pattern)]
    _common(self, args, src)
    result = core.run(args, interactive=INTERACTIVE["on"], env=_user_defaults(self, _environment(), api))
    _raise_git_refusal(result)
    # A source that is no template (copier's ValueError for a missing local template).
    if result.code != 0 and re.search(r"no template named `[^`]*` in the store|^error: .* is not a folder$", result.stderr, re.MULTILINE):
        _raise(result, ValueError)
    _finish(result, dst)


def _raise_git_refusal(result: core.Result) -> None:
    """A repository URL git would read as an option (`git+--upload-pack=…`): factory refuses
    it before running git; copier hands it to git (after `--`), whose failure is plumbum's
    ProcessExecutionError, which is what its callers catch."""
    if result.code != 0 and "git would read it as an option" in result.stderr:
        from plumbum import ProcessExecutionError

        raise ProcessExecutionError(result.argv, result.code, result.stdout, result.stderr)


def _answers_path(worker) -> Path:
    dst = Path(worker.dst_path).absolute()
    return dst / str(worker.answers_file or ".copier-answers.yml")


def run_update(self) -> None:
    api = "run_update"
    _check_unsupported(self, api, mapped=("ask", "context_lines", "skip_tasks", "use_prereleases"))
    dst = Path(self.dst_path).absolute()
    args = ["upgrade", str(dst)]
    # copier's API refuses an update it may not overwrite with (its command line always
    # may), once the update is found possible: factory's plan without --apply, which
    # checks as much and writes nothing, then copier's refusal.
    if not self.pretend and self.overwrite:
        args.append("--apply")
    if self.answers_file is not None:
        args += ["--answers-file", str(self.answers_file)]
    ref = _vcs_ref(self)
    if ref == ":current:":
        ref = _recorded(self).get("_commit")
        if not ref:
            raise AdapterError(api, "vcs_ref", ":current:", "the answers file records no _commit")
    if ref is not None:
        args += ["--to", str(ref)]
    conflict = {"inline": "merge", "rej": "rej"}.get(self.conflict)
    if conflict is None:
        raise AdapterError(api, "conflict", self.conflict)
    args += ["--conflict-style", conflict]
    # copier's update merges every file by lines and deletes what the new version removed,
    # changed or not: factory's options for doing as copier does.
    args += ["--line-merge", "--delete-removed"]
    for key, value in _data(self).items():
        core._check_expressible(api, f"data[{key!r}]", value)
        args += ["--set", f"{key}={core.set_value(value)}"]
    if self.defaults:
        args.append("--defaults")
    if self.skip_answered:
        args.append("--skip-answered")
    if self.skip_tasks:
        args.append("--skip-tasks")
    if self.use_prereleases:
        args.append("--prereleases")
    for pattern in self.ask:
        args += ["--ask", str(pattern)]
    if self.context_lines != _defaults()["context_lines"]:
        args += ["--context-lines", str(self.context_lines)]
    _common(self, args, _recorded(self).get("_src_path"))
    result = core.run(args, interactive=INTERACTIVE["on"], env=_user_defaults(self, _environment(), api))
    if not self.overwrite and result.code in (0, 3):
        from copier.errors import UserMessageError

        raise UserMessageError("Enable overwrite to update a subproject.")
    # 3: the upgrade was applied with conflicts left in the files, as copier leaves them.
    _finish(result, dst, ok_codes=(0, 3) if not self.pretend else (0, 3))


def _recorded(worker) -> dict:
    import yaml

    try:
        loaded = yaml.safe_load(_answers_path(worker).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def run_recopy(self) -> None:
    """copier's recopy: a copy from the recorded source with the recorded answers, over
    the project (`generate --answers ANSWERS_FILE --force`)."""
    api = "run_recopy"
    _check_unsupported(self, api, mapped=("ask",))
    recorded = _recorded(self)
    src = recorded.get("_src_path")
    if not src:
        from copier import errors

        raise errors.UserMessageError(
            f"factory adapter: no _src_path in {_answers_path(self)} to recopy from"
        )
    dst = Path(self.dst_path).absolute()
    args = ["generate", str(src), "-o", str(dst), "--force", "--last-answers", str(_answers_path(self))]
    ref = _vcs_ref(self)
    if ref == ":current:" or ref is None:
        ref = recorded.get("_commit") if ref == ":current:" else None
    if ref:
        args += ["--ref", str(ref)]
    for key, value in _data(self).items():
        core._check_expressible(api, f"data[{key!r}]", value)
        args += ["--set", f"{key}={core.set_value(value)}"]
    if self.defaults:
        args.append("--defaults")
    if self.pretend:
        args.append("--dry-run")
    if self.skip_answered:
        args.append("--skip-answered")
    for pattern in self.ask:
        args += ["--ask", str(pattern)]
    _common(self, args, str(src))
    result = core.run(args, interactive=INTERACTIVE["on"], env=_user_defaults(self, _environment(), api))
    _finish(result, dst)


def _check_update(self, destination_path: str = ".") -> int:
    """copier check-update as `factory upgrade DIR --check`: factory exits 3 when a newer
    version exists, which copier says with exit 2 under --quiet and 0 otherwise; its JSON
    document's camelCase fields are printed under copier's names."""
    import json

    args = ["upgrade", str(Path(destination_path).absolute()), "--check"]
    if self.answers_file:
        args += ["--answers-file", str(self.answers_file)]
    if self.prereleases:
        args.append("--prereleases")
    if self.quiet:
        args.append("--quiet")
    as_json = self.output_format == "json"
    if as_json:
        args.append("--json")
    result = core.run(args, show_stdout=not as_json, env=_environment())
    if result.code not in (0, 3):
        from copier._cli import _handle_exceptions

        return _handle_exceptions(lambda: _raise(result))
    if as_json and not self.quiet:
        found = json.loads(result.stdout)
        print(json.dumps({
            "update_available": found["updateAvailable"],
            "current_version": found["currentVersion"],
            "latest_version": found["latestVersion"],
        }))
    return 2 if result.code == 3 and self.quiet else 0


def install(interactive: bool = False) -> None:
    from copier import _cli, _main

    _cli.CopierCheckUpdateSubApp.main = _check_update

    INTERACTIVE["on"] = interactive
    _main.Worker.run_copy = run_copy
    _main.Worker.run_update = run_update
    _main.Worker.run_recopy = run_recopy
