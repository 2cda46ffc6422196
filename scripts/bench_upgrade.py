#!/usr/bin/env python3
"""Times `factory upgrade --trust --defaults --apply` beside `copier update --trust --defaults`
on the same copier project (issue 23, issue 28 item 4): a real-sized copier template (about 150
files: a Python package, tests, docs, CI workflows) with `_tasks`, a `_migrations` entry and a
copier-templates-extensions context hook, tagged v1.0.0 and v1.1.0; a project `copier copy`
made at v1.0.0 and edited as maintainers edit it (a dependency, a README paragraph, a file
deleted), committed. Each run updates a fresh copy of that project (the copy is not timed);
the two tools alternate, and the medians of whole-process wall times are printed, with the
machine's load. Both results are compared file by file first and every difference is shown.

Usage: cargo build --release && python3 scripts/bench_upgrade.py [--runs 7] [--files 150]
copier 9.19.1 and copier-templates-extensions 0.3.2 come from PyPI into a virtual environment
under target/test-venvs/ (the one the test suite uses).
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from bench_common import FACTORY, ROOT

# Another build (a debug one, to try the script) through FACTORY_BIN.
FACTORY = os.environ.get("FACTORY_BIN", FACTORY)

VENV = os.path.join(ROOT, "target", "test-venvs", "copier-9.19.1-templates-extensions-0.3.2")
COPIER = os.path.join(VENV, "bin", "copier")


def ensure_copier():
    if os.path.exists(COPIER) and subprocess.run([COPIER, "--version"], capture_output=True).returncode == 0:
        return
    shutil.rmtree(VENV, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    subprocess.run([os.path.join(VENV, "bin", "pip"), "install", "--quiet",
                    "copier==9.19.1", "copier-templates-extensions==0.3.2"], check=True)


def sh(args, cwd, env):
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"{' '.join(map(str, args))} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout


def write(root, files):
    for rel, text in files.items():
        path = os.path.join(root, rel)
        if text is None:
            os.remove(path)
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)


COPIER_YML = """_subdirectory: template
_jinja_extensions:
  - copier_templates_extensions.TemplateExtensionLoader
  - extensions/context.py:ContextUpdater
project_name:
  type: str
  default: Bench Project
package:
  type: str
  default: "{{ project_name | lower | replace(' ', '_') }}"
python:
  type: str
  default: "3.11"
  choices: ["3.10", "3.11", "3.12"]
use_docs:
  type: bool
  default: true
"""

V2_EXTRA = """license:
  type: str
  default: MIT
_tasks:
  - rm -f obsolete.txt
  - "{{ 'touch' }} .tasks-ran"
_migrations:
  - version: v1.1.0
    command: echo "$STAGE $VERSION_FROM -> $VERSION_TO" >> migrations.log
"""

CONTEXT_HOOK = """from copier_templates_extensions import ContextHook


class ContextUpdater(ContextHook):
    def hook(self, context):
        context["shout"] = str(context.get("project_name", "")).upper()
        context["year"] = 2026
"""

ANSWERS = "# Changes here will be overwritten by Copier; NEVER EDIT MANUALLY\n{{ _copier_answers|to_nice_yaml -}}\n"


def template_files(count, version):
    """About `count` files of a Python project template; `version` 2 changes a tenth of them."""
    v2 = version == 2
    files = {
        "copier.yml": COPIER_YML + (V2_EXTRA if v2 else ""),
        "extensions/context.py": CONTEXT_HOOK,
        "template/{{_copier_conf.answers_file}}.jinja": ANSWERS,
        "template/pyproject.toml.jinja": (
            '[project]\nname = "{{ package }}"\nversion = "0.1.0"\n'
            + ('requires-python = ">={{ python }}"\n' if v2 else "")
            + 'dependencies = [\n    "requests",\n]\n\n[tool.ruff]\nline-length = ' + ("100" if v2 else "88") + "\n"
        ),
        "template/README.md.jinja": "# {{ project_name }} ({{ shout }})\n\nA project"
        + (" made from the template" if v2 else "") + ".\n\n## Usage\n\nRun it.\n\n© {{ year }}\n",
        "template/obsolete.txt": "the new version's task deletes this\n",
        "template/notes.txt": "the project deletes this\n",
        "template/{% if use_docs %}docs{% endif %}/index.md.jinja": "# {{ project_name }}\n",
    }
    if v2:
        files["template/LICENSE.jinja"] = "{{ license }} License, {{ year }}\n"
    modules = max(1, (count - len(files)) // 4)
    for i in range(modules):
        changed = v2 and i % 10 == 0
        files[f"template/src/{{{{ package }}}}/module_{i:03d}.py.jinja"] = (
            f'"""Module {i} of {{{{ project_name }}}}."""\n\n'
            f"def f_{i}(x):\n    return x + {i}{' + 1' if changed else ''}\n"
        )
        files[f"template/tests/test_module_{i:03d}.py.jinja"] = (
            f"from {{{{ package }}}}.module_{i:03d} import f_{i}\n\n\ndef test_f_{i}():\n"
            f"    assert f_{i}(0) == {i}{' + 1' if changed else ''}\n"
        )
        files[f"template/{{% if use_docs %}}docs{{% endif %}}/module_{i:03d}.md.jinja"] = (
            f"# Module {i}\n\nPart of {{{{ project_name }}}} for Python {{{{ python }}}}.\n"
        )
        files[f"template/.github/workflows/job_{i:03d}.yml.jinja"] = (
            f"name: job {i}\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
            f"    steps:\n      - uses: actions/checkout@v{'5' if changed else '4'}\n"
            f"      - run: python{{{{ python }}}} -m pytest tests/test_module_{i:03d}.py\n"
        )
    return files


def prepare(work, count, env):
    """The template repository (v1.0.0, v1.1.0) and the edited project copier made at v1.0.0."""
    repo = os.path.join(work, "tpl.git")
    os.makedirs(repo)
    write(repo, template_files(count, 1))
    sh(["git", "init", "-q", "-b", "main"], repo, env)
    sh(["git", "add", "-A"], repo, env)
    sh(["git", "commit", "-qm", "v1"], repo, env)
    sh(["git", "tag", "v1.0.0"], repo, env)
    project = os.path.join(work, "project")
    sh([COPIER, "copy", "--trust", "--defaults", "--quiet", f"file://{repo}", project], work, env)
    sh(["git", "init", "-q", "-b", "main"], project, env)
    sh(["git", "add", "-A"], project, env)
    sh(["git", "commit", "-qm", "generated"], project, env)
    with open(os.path.join(project, "pyproject.toml")) as f:
        pyproject = f.read().replace('    "requests",\n', '    "requests",\n    "httpx",\n')
    with open(os.path.join(project, "README.md"), "a") as f:
        f.write("\n## Local notes\n\nOur own paragraph.\n")
    write(project, {"pyproject.toml": pyproject, "notes.txt": None})
    sh(["git", "add", "-A"], project, env)
    sh(["git", "commit", "-qm", "our edits"], project, env)
    # The template moves on.
    stale = set(template_files(count, 1)) - set(template_files(count, 2))
    write(repo, {**template_files(count, 2), **{p: None for p in stale}})
    sh(["git", "add", "-A"], repo, env)
    sh(["git", "commit", "-qm", "v1.1"], repo, env)
    sh(["git", "tag", "v1.1.0"], repo, env)
    return project


def tree(root):
    out = {}
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if not (folder == root and d == ".git")]
        for name in names:
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, root)] = f.read()
    return out


def timed(command, cwd, env):
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    # factory's exit 3 says conflicts remain; copier exits 0 with them.
    if done.returncode not in (0, 3):
        sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--files", type=int, default=150)
    parser.add_argument("--keep", action="store_true",
                        help="keep the work folder (its path is printed) to profile one tool on `project`")
    args = parser.parse_args()
    if not os.path.exists(FACTORY):
        sys.exit("build first: cargo build --release")
    ensure_copier()
    work = tempfile.mkdtemp(prefix="factory-bench-upgrade-")
    env = dict(os.environ, GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@localhost",
               GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@localhost",
               HOME=work, FACTORY_STORE=os.path.join(work, "store"), NO_COLOR="1",
               # factory's Python helper runs the context hook with the same packages.
               FACTORY_PYTHON=os.path.join(VENV, "bin", "python"))
    try:
        project = prepare(work, args.files, env)
        copier = [COPIER, "update", "--trust", "--defaults", "--quiet"]
        factory = [FACTORY, "upgrade", ".", "--trust", "--defaults", "--apply", "--quiet"]
        samples = {"copier": [], "factory": []}
        results = {}
        for i in range(args.runs + 1):
            for name, command in (("copier", copier), ("factory", factory)):
                copy = os.path.join(work, f"{name}-{i}")
                subprocess.run(["cp", "-a", project, copy], check=True)
                elapsed = timed(command, copy, env)
                if i == 0:
                    # The first run warms the clone caches and the page cache; not counted.
                    results[name] = tree(copy)
                else:
                    samples[name].append(elapsed)
        # The copies go at the end: on ext4, files made soon after many were deleted cost
        # several times more to create, and the bench's own deletions must not land on the
        # next tool's run (each tool's own scratch folders still do).
        a, b = results["copier"], results["factory"]
        differences = sorted(p for p in set(a) | set(b) if a.get(p) != b.get(p))
        files = len(b)
        load = os.getloadavg()
        c = statistics.median(samples["copier"])
        f = statistics.median(samples["factory"])
        print(f"{files} files in the project, {args.runs} runs each, load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
        print(f"copier update --trust:          median {c * 1000:7.0f} ms  (min {min(samples['copier']) * 1000:.0f}, max {max(samples['copier']) * 1000:.0f})")
        print(f"factory upgrade --trust --apply: median {f * 1000:7.0f} ms  (min {min(samples['factory']) * 1000:.0f}, max {max(samples['factory']) * 1000:.0f})")
        print(f"factory is {c / f:.1f}x faster")
        if differences:
            print(f"results differ in {len(differences)} file(s): {', '.join(differences)}")
        else:
            print("results identical, file for file")
    finally:
        if args.keep:
            print(f"kept {work} (the edited project is {work}/project)")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
