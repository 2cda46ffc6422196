"""factory's helper for Jinja extensions written in Python (a template's own, or a
package's): started once per generate, only with --trust. It loads the extensions into a
Jinja2 environment as copier or cookiecutter would (the template folder on sys.path and as
the loader's root), says which filters, tests and globals they add, and then answers calls
on stdin/stdout, one JSON object per line."""

import json
import os
import sys


def main():
    args = sys.argv[1:]
    # `--fork LOG IN OUT`: once loaded, a copy of this helper is made for another template
    # (an upgrade's old version), talking over the inherited descriptors IN and OUT.
    fork = args[1:4] if args[:1] == ["--fork"] else None
    args = args[4:] if fork else args
    # `--early PACKAGE…`: started before the template is known, so Jinja2 and the packages
    # its extensions import load while factory fetches it.
    early = args[1:] if args[:1] == ["--early"] else None
    if early is not None:
        missing = load_jinja2()
        preloaded = [name for name in early if not missing and preload(name)]
    if fork:
        fork_copy(*fork)
    setup = json.loads(sys.stdin.readline())
    root = setup["root"]
    os.chdir(root)
    if early is None:
        sys.path.insert(0, root)
        missing = load_jinja2()
    else:
        # A package loaded early that the template has a module of its own for (or copier,
        # deferred) would hide the template's: a fresh helper loads it in order.
        shadowed = [name for name in preloaded + ["copier"] if own_module(root, name)]
        if shadowed:
            print(json.dumps({"shadowed": shadowed}), flush=True)
            return
        sys.path.insert(0, root)
    if missing:
        print(json.dumps({"error": f"{missing} (this python3 has no Jinja2)"}), flush=True)
        return
    import jinja2
    import jinja2.ext

    def environment(extensions):
        return jinja2.Environment(
            loader=jinja2.FileSystemLoader(root),
            extensions=extensions,
            keep_trailing_newline=True,
        )

    try:
        env = environment(setup["extensions"])
    except Exception as e:  # an extension that does not load is the answer
        print(json.dumps({"error": f"{type(e).__name__}: {e}"}), flush=True)
        return
    base = environment([])
    names = {"filters": [], "tests": [], "functions": [], "values": {}, "tags": []}
    for extension in env.extensions.values():
        names["tags"].extend(sorted(getattr(extension, "tags", None) or ()))
    renderer = []
    for kind in ("filters", "tests"):
        for name, value in getattr(env, kind).items():
            if getattr(base, kind).get(name) is not value:
                names[kind].append(name)
    for name, value in env.globals.items():
        if base.globals.get(name) is value:
            continue
        if callable(value):
            names["functions"].append(name)
        else:
            try:
                json.dumps(value)
                names["values"][name] = value
            except TypeError:
                pass
    print(json.dumps(names), flush=True)
    from jinja2.utils import _PassArg

    def invoke(func, args, kwargs):
        # Filters and functions that take the environment or a context get one.
        passed = _PassArg.from_obj(func)
        if passed is _PassArg.environment:
            return func(env, *args, **kwargs)
        if passed is _PassArg.eval_context:
            return func(jinja2.nodes.EvalContext(env), *args, **kwargs)
        if passed is _PassArg.context:
            return func(env.context_class(env, {}, None, {}), *args, **kwargs)
        return func(*args, **kwargs)

    for line in sys.stdin:
        request = json.loads(line)
        try:
            if request["op"] == "render":
                # A file using an extension's own tag, rendered whole by Jinja2 as the
                # template's tool would: its options, its extensions and the ones the tool
                # loads itself (when this python3 has them).
                if not renderer:
                    renderer.append(render_environment(setup, jinja2))
                # Its code runs where the tool's would: the folder factory was started in.
                here = os.getcwd()
                os.chdir(setup.get("cwd") or here)
                try:
                    result = renderer[0].from_string(request["source"]).render(request["context"])
                finally:
                    os.chdir(here)
            elif request["op"] == "context":
                # A context hook (copier-templates-extensions' ContextHook) runs when a
                # render context is made from the answers.
                parent = dict(request["context"])
                context = env.context_class(env, parent, None, {})
                merged = dict(context.parent)
                merged.update(context.vars)
                changed = {k: v for k, v in merged.items() if k not in request["context"] or request["context"][k] != v}
                result = {k: v for k, v in changed.items() if _plain(v)}
            else:
                table = {"filter": env.filters, "test": env.tests, "function": env.globals}[request["op"]]
                result = invoke(table[request["name"]], request["args"], request["kwargs"])
                if isinstance(result, jinja2.runtime.Undefined):
                    result = None
                if not _plain(result):
                    result = str(result)
            print(json.dumps({"ok": result}), flush=True)
        except Exception as e:
            print(json.dumps({"error": f"{type(e).__name__}: {e}"}), flush=True)


def fork_copy(log, stdin, stdout):
    """The copy for the other template: IN and OUT become its stdin and stdout, LOG its
    stderr, and its first line says its process id. Nothing was read or written on this
    helper's own stdin and stdout yet, so neither has buffered anything."""
    stdin, stdout = int(stdin), int(stdout)
    try:
        pid = os.fork()
    except OSError:
        pid = -1  # no copy: factory sees OUT close and starts a helper of its own
    if pid == 0:
        os.dup2(stdin, 0)
        os.dup2(stdout, 1)
        err = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(err, 2)
        os.close(err)
        print(json.dumps({"pid": os.getpid()}), flush=True)
    os.close(stdin)
    os.close(stdout)


def load_jinja2():
    """Jinja2, copier's package registered (see defer_copier_package); what is missing."""
    defer_copier_package()
    try:
        import jinja2  # noqa: F401
        import jinja2.ext  # noqa: F401
    except ImportError as e:
        return e
    return None


def preload(name):
    import importlib

    try:
        importlib.import_module(name)
    except Exception:  # it fails again, with its message, when the extensions load
        return False
    return True


def own_module(root, name):
    top = name.split(".")[0]
    return os.path.exists(os.path.join(root, top + ".py")) or os.path.isdir(os.path.join(root, top))


def defer_copier_package():
    """copier-templates-extensions imports `copier.errors`, and Python runs copier's
    `__init__` first, which imports all of copier (its prompts, settings, VCS code): half a
    second, most of this helper's start. The package is registered as it is, without
    running its `__init__` until something reads a name from it, so a submodule imports
    alone; `import copier` and `from copier import X` still get the whole package.
    `copier.errors` itself imports `printf_exception` from `copier._tools`, which loads
    pydantic, pathspec and packaging (a third of what is left), to call it only when a
    config error is made: that module waits too, until a call or another name is read."""
    if "copier" in sys.modules or not defer("copier"):
        return
    defer("copier._tools", callables=["printf_exception"])


def defer(name, callables=()):
    """Registers the module NAME without running it: its code runs, in that module object,
    the first time a name it defines is read or one of CALLABLES is called. False when it
    cannot be found."""
    import importlib.util
    import types

    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return False
    if spec is None or spec.loader is None:
        return False

    def load(module):
        module.__class__ = types.ModuleType
        spec.loader.exec_module(module)

    class Deferred(types.ModuleType):
        def __getattr__(self, attr):
            # The import system asks a module for `__path__` (is it a package?): a module's
            # code never defines it. Other dunder lookups (`__all__`) load the module.
            if attr == "__path__":
                raise AttributeError(attr)
            load(self)
            return getattr(self, attr)

    module = importlib.util.module_from_spec(spec)
    module.__class__ = Deferred

    def later(attr):
        def call(*args, **kwargs):
            if type(module) is Deferred:
                load(module)
            return getattr(module, attr)(*args, **kwargs)

        return call

    for attr in callables:
        setattr(module, attr, later(attr))
    sys.modules[name] = module
    return True


# The extensions copier and cookiecutter load by themselves, which factory has built in.
TOOL_EXTENSIONS = [
    "jinja2_ansible_filters.AnsibleCoreFiltersExtension",
    "jinja2_time.TimeExtension",
    "cookiecutter.extensions.JsonifyExtension",
    "cookiecutter.extensions.RandomStringExtension",
    "cookiecutter.extensions.SlugifyExtension",
    "cookiecutter.extensions.TimeExtension",
    "cookiecutter.extensions.UUIDExtension",
]


def render_environment(setup, jinja2):
    import importlib

    options = dict(setup.get("envops") or {})
    undefined = options.pop("undefined", None)
    if isinstance(undefined, str) and "." in undefined:
        module, _, name = undefined.rpartition(".")
        options["undefined"] = getattr(importlib.import_module(module), name)
    options.setdefault("keep_trailing_newline", True)
    extensions = list(setup["extensions"])
    for name in TOOL_EXTENSIONS:
        module, _, attr = name.rpartition(".")
        try:
            getattr(importlib.import_module(module), attr)
        except Exception:
            continue
        if name not in extensions:
            extensions.append(name)
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(setup["root"]), extensions=extensions, **options
    )


def _plain(value):
    try:
        json.dumps(value)
        return True
    except TypeError:
        return False


main()
