"""Writes classification.tsv: every collected test of copier's and cookiecutter's suites,
applicable (it renders, updates, prompts or fails through the tool's API or command line,
which the adapter turns into factory runs) or not-applicable (it tests a Python function or
class of theirs), with a category and the reason. Rules read the test's source (with the
module's helpers, fixtures and the suite's helpers it names), never its outcome against
factory. Run through `scripts/peer-suites --classify`."""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent

RULES = {
    "copier": {
        "api": re.compile(
            r"(?<![\w.])(run_copy|run_update|run_recopy)\s*\(|\.run_(copy|update|recopy)\s*\("
            r"|(?<![\w.])render\s*\(|CopierApp\.run\s*\(|COPIER_CMD|COPIER_PATH"
        ),
        "prompt": re.compile(r"COPIER_PATH|(?<![\w.])spawn\s*\(|expect_prompt\s*\("),
        "update": re.compile(r"run_update|run_recopy|[\"'](update|recopy)[\"']"),
        "cli": re.compile(r"CopierApp\.run|COPIER_CMD"),
        "own_code": re.compile(
            r"(patch|setattr)\(\s*[\"'](copier[.\w]*)[\"']|patch\.object\(\s*(Worker|copier\w*|_main)\b"
        ),
        "own_text": re.compile(r"[\"']--help(-all)?[\"']"),
        "own_text_why": "checks copier's own --help text (plumbum's), not a run",
        "helpers": ["tests/helpers.py", "tests/conftest.py"],
    },
    "cookiecutter": {
        "api": re.compile(
            r"(?<![\w])cookiecutter\s*\(|main\.cookiecutter\s*\(|cli_runner\s*\(|\.invoke\s*\("
            r"|[\"']cookiecutter\.cli[\"']|[\"']cookiecutter\.__main__[\"']"
        ),
        "prompt": re.compile(r"(?<![\w])input\s*=|no_input\s*=\s*False"),
        "update": re.compile(r"$^"),
        "cli": re.compile(r"cli_runner\s*\(|\.invoke\s*\(|[\"']cookiecutter\.cli[\"']"),
        "own_code": re.compile(
            r"(patch|setattr)\(\s*[\"'](cookiecutter[.\w]*)[\"']|patch\.object\(\s*(main|cli|cookiecutter\w*)\b"
        ),
        "own_text": re.compile(r"[\"'](--help|-h|-V|--version|-l|--list-installed)[\"']"),
        "own_text_why": "checks cookiecutter's own --help/--version/--list-installed output, not a run",
        "helpers": ["tests/conftest.py"],
    },
}

ERROR = re.compile(r"pytest\.raises\(|exit_code\s*(!=\s*0|==\s*[1-9])|\.wait\(\)\s*!=\s*0|returncode\s*!=")


def collect(python: Path, tree: Path, env: dict[str, str]) -> list[str]:
    out = subprocess.run(
        [str(python), "-m", "pytest", "--collect-only", "-q", "-o", "addopts=",
         "-p", "no:cacheprovider", "-p", "factory_peer_plugin", "tests"],
        cwd=tree, env=env, capture_output=True, text=True, timeout=900,
    )
    ids = [l.strip() for l in out.stdout.splitlines() if l.startswith("tests/") and "::" in l]
    if not ids:
        raise SystemExit(f"collection found nothing:\n{out.stdout}\n{out.stderr}")
    return ids


class Module:
    """A test module's functions (module level and in classes) with their sources."""

    def __init__(self, path: Path) -> None:
        self.text = path.read_text(encoding="utf-8")
        self.tree = ast.parse(self.text)
        self.functions: dict[str, ast.AST] = {}
        self.methods: dict[tuple[str, str], ast.AST] = {}
        for node in self.tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.functions[node.name] = node
            elif isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        self.methods[(node.name, item.name)] = item
        self.imported = set()
        for node in ast.walk(self.tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in (
                "copier", "cookiecutter"
            ):
                self.imported.update(a.asname or a.name for a in node.names)

    def source(self, node: ast.AST) -> str:
        """The node's source with its decorators (fixture params, @patch)."""
        first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        lines = self.text.splitlines()[first - 1 : node.end_lineno]
        return "\n".join(lines)


def names_in(node: ast.AST) -> set[str]:
    found = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            found.add(sub.id)
        elif isinstance(sub, ast.arg):
            found.add(sub.arg)
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            found.update(re.findall(r"\w+", sub.value))  # usefixtures("name")
    return found


def closure(node, module: Module, shared: list[Module]) -> str:
    """The test's source and that of every helper or fixture it names, transitively."""
    seen, parts, todo = set(), [module.source(node)], [node]
    while todo:
        for name in names_in(todo.pop()):
            if name in seen:
                continue
            seen.add(name)
            for mod in [module, *shared]:
                helper = mod.functions.get(name)
                if helper is not None:
                    parts.append(mod.source(helper))
                    todo.append(helper)
                    break
    return "\n".join(parts)


def classify(suite: str, tid: str, module: Module, shared: list[Module]) -> tuple[str, str, str]:
    rules = RULES[suite]
    path, *rest = tid.split("::")
    name = re.sub(r"\[.*$", "", rest[-1])
    node = module.methods.get((rest[0], name)) if len(rest) == 2 else module.functions.get(name)
    if node is None:
        return "not-applicable", "-", "test source not found by the classifier"
    own = module.source(node)
    # Class-based tests: setup_method and fixtures of the class count too.
    if len(rest) == 2:
        own += "\n" + "\n".join(module.source(m) for (c, _), m in module.methods.items() if c == rest[0] and _ in ("setup_method", "setup_class"))
    text = closure(node, module, shared)
    mock = rules["own_code"].search(own)
    if mock:
        target = next(g for g in mock.groups()[1:] if g)
        return "not-applicable", "-", f"patches {suite}'s own code ({target}), which a factory run never reaches"
    if not rules["api"].search(text):
        used = sorted(n for n in module.imported if re.search(rf"\b{re.escape(n)}\b", own))
        what = ", ".join(used[:3]) or "its Python code"
        return "not-applicable", "-", f"calls no {suite} run (API or CLI); tests {what}"
    if rules["own_text"].search(text):
        return "not-applicable", "-", rules["own_text_why"]
    if rules["prompt"].search(text):
        category = "prompt"
    elif ERROR.search(own):
        category = "error"
    elif rules["update"].search(text):
        category = "update"
    elif rules["cli"].search(text):
        category = "cli"
    else:
        category = "render"
    how = rules["api"].search(text).group(0).strip(" (")
    return "applicable", category, f"runs {how}"


def write(suite: str, python: Path, tree: Path, env: dict[str, str]) -> None:
    ids = collect(python, tree, env)
    shared = [Module(tree / p) for p in RULES[suite]["helpers"] if (tree / p).is_file()]
    modules: dict[str, Module] = {}
    rows = []
    for tid in ids:
        path = tid.split("::")[0]
        module = modules.get(path) or modules.setdefault(path, Module(tree / path))
        rows.append((suite, tid, *classify(suite, tid, module, shared)))
    out = HERE / "classification.tsv"
    header = "suite\ttest\tapplicability\tcategory\treason"
    kept = []
    if out.is_file():
        kept = [l for l in out.read_text().splitlines()[1:] if l and not l.startswith(suite + "\t")]
    lines = sorted(kept + ["\t".join(r) for r in rows])
    out.write_text(header + "\n" + "\n".join(lines) + "\n")
    applicable = sum(1 for r in rows if r[2] == "applicable")
    print(f"{suite}: {len(rows)} tests, {applicable} applicable -> {out}")
