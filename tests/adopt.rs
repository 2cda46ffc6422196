//! `factory upgrade` on projects copier and cruft made, as they are: the same edited project
//! is updated by the tool itself (`copier update`, `cruft update`) and by
//! `factory upgrade --trust --apply`, and the results are compared file by file; afterwards
//! the tool still works on factory's result. The tools are installed from PyPI into virtual
//! environments under target/ (said loudly and skipped without python3 or PyPI; CI fails).

mod common;

use std::path::{Path, PathBuf};

use common::Env;
use common::python::{copier, reference_command, tree};

fn cruft() -> Option<PathBuf> {
    static TOOL: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    TOOL.get_or_init(|| {
        common::python::tool_with(
            "cruft-2.16.0",
            &["cruft==2.16.0", "cookiecutter==2.7.1"],
            "cruft",
        )
    })
    .clone()
}

/// Runs a reference tool in `dir`, which must succeed; returns what it said.
#[track_caller]
fn reference(env: &Env, tool: &Path, dir: &Path, args: &[&str]) -> String {
    let out = reference_command(env, tool)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{tool:?} {args:?}: {said}");
    said
}

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (rel, text) in files {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

fn read(dir: &Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The project's files (its `.git/` left out).
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    tree(dir)
        .into_iter()
        .filter(|(path, _)| !path.starts_with(".git/"))
        .collect()
}

/// Files with conflict markers or `.rej` files beside them.
fn conflicts(dir: &Path) -> Vec<String> {
    files(dir)
        .into_iter()
        .filter(|(path, bytes)| {
            path.ends_with(".rej") || String::from_utf8_lossy(bytes).contains("<<<<<<<")
        })
        .map(|(path, _)| path)
        .collect()
}

/// Copies a project with its `.git/`.
fn copy(env: &Env, from: &Path, to: &Path) {
    let out = env
        .program("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .output()
        .unwrap();
    assert!(out.status.success());
}

const COPIER_V1: &str = "_subdirectory: template
project_name:
  type: str
  default: demo
python:
  type: str
  default: \"3.11\"
";

/// The template at v1.1.0: a new question, a file kept once it exists, a task that deletes
/// a file, and a migration that reports the versions copier passes it.
const COPIER_V2_EXTRA: &str = "license:
  type: str
  default: MIT
_skip_if_exists:
  - local.env
_tasks:
  - rm -f obsolete.txt
_migrations:
  - version: v1.1.0
    command: 'echo \"$STAGE $VERSION_FROM -> $VERSION_TO ({{ _version_pep440_to }})\" >> migrations.log'
";

const ANSWERS_TEMPLATE: &str = "# Changes here will be overwritten by Copier; NEVER EDIT MANUALLY\n{{ _copier_answers|to_nice_yaml -}}\n";

fn pyproject(extra: &str, width: u32) -> String {
    format!(
        "[project]\nname = \"{{{{ project_name }}}}\"\nversion = \"0.1.0\"\n{extra}dependencies = [\n    \"requests\",\n]\n\n[tool.ruff]\nline-length = {width}\n"
    )
}

/// A copier template in a git repository named `tpl.git` (a working repository, so copier
/// and factory both take `file://…/tpl.git`), tagged v1.0.0; `move_on` makes v1.1.0.
fn copier_template(env: &Env) -> PathBuf {
    let repo = env.path("tpl.git");
    write(
        &repo,
        &[
            ("copier.yml", COPIER_V1),
            (
                "template/{{_copier_conf.answers_file}}.jinja",
                ANSWERS_TEMPLATE,
            ),
            ("template/pyproject.toml.jinja", &pyproject("", 88)),
            (
                "template/README.md.jinja",
                "# {{ project_name }}\n\nA project.\n\n## Usage\n\nRun it.\n",
            ),
            (
                "template/obsolete.txt",
                "the new version's task deletes this\n",
            ),
            ("template/notes.txt", "the project deletes this\n"),
            ("template/local.env.jinja", "PYTHON={{ python }}\n"),
        ],
    );
    env.git(&repo, &["init", "-q", "-b", "main"]);
    env.git(&repo, &["add", "-A"]);
    env.git(&repo, &["commit", "-qm", "v1"]);
    env.git(&repo, &["tag", "v1.0.0"]);
    repo
}

fn move_copier_template_on(env: &Env, repo: &Path) {
    write(
        repo,
        &[
            ("copier.yml", &format!("{COPIER_V1}{COPIER_V2_EXTRA}")),
            (
                "template/pyproject.toml.jinja",
                &pyproject("requires-python = \">={{ python }}\"\n", 100),
            ),
            (
                "template/README.md.jinja",
                "# {{ project_name }}\n\nA project made from the template.\n\n## Usage\n\nRun it.\n",
            ),
            ("template/local.env.jinja", "PYTHON={{ python }}\nDEBUG=0\n"),
            ("template/LICENSE.jinja", "{{ license }}\n"),
        ],
    );
    env.git(repo, &["add", "-A"]);
    env.git(repo, &["commit", "-qm", "v1.1"]);
    env.git(repo, &["tag", "v1.1.0"]);
}

/// What maintainers do to a generated project: a dependency, a README paragraph, a file
/// deleted, a local value in a file the template keeps once it exists; committed.
fn edit_as_maintainers_do(env: &Env, project: &Path) {
    let pyproject = read(project, "pyproject.toml")
        .replace("    \"requests\",\n", "    \"requests\",\n    \"httpx\",\n");
    std::fs::write(project.join("pyproject.toml"), pyproject).unwrap();
    let readme = read(project, "README.md") + "\n## Local notes\n\nOur own paragraph.\n";
    std::fs::write(project.join("README.md"), readme).unwrap();
    std::fs::remove_file(project.join("notes.txt")).unwrap();
    std::fs::write(project.join("local.env"), "PYTHON=3.12\n").unwrap();
    env.git(project, &["add", "-A"]);
    env.git(project, &["commit", "-qm", "our edits"]);
}

#[test]
fn a_copier_project_upgrades_as_copier_update_does_and_copier_still_works_on_it() {
    let Some(copier) = copier() else { return };
    let env = Env::with_git_author();
    let repo = copier_template(&env);
    let url = format!("file://{}", repo.display());

    // factory's own generation from the repository is what `copier copy` writes, answers
    // file included (`_commit` as `git describe`, `_src_path` as given).
    let made = env.path("made");
    reference(
        &env,
        &copier,
        env.dir.path(),
        &[
            "copy",
            "--trust",
            "--defaults",
            "--quiet",
            &url,
            made.to_str().unwrap(),
        ],
    );
    let answers = read(&made, ".copier-answers.yml");
    assert_eq!(
        answers,
        format!(
            "# Changes here will be overwritten by Copier; NEVER EDIT MANUALLY\n_commit: v1.0.0\n_src_path: {url}\nproject_name: demo\npython: '3.11'\n"
        )
    );
    env.run(&["generate", &url, "-o", "ours-v1", "--defaults"])
        .ok();
    common::python::assert_same(&files(&env.path("ours-v1")), &files(&made), "generate");
    // --compat-answers leaves a template's own answers file as the template renders it.
    env.run(&[
        "generate",
        &url,
        "-o",
        "compat",
        "--defaults",
        "--compat-answers",
    ])
    .ok();
    assert_eq!(read(&env.path("compat"), ".copier-answers.yml"), answers);
    // factory's own answers file (the template renders none) says the same: a commit past
    // the tag in copier's `git describe` form, the template as given.
    let plain = env.path("plain.git");
    write(
        &plain,
        &[("copier.yml", "name: x\n"), ("a.txt.jinja", "{{ name }}\n")],
    );
    env.git(&plain, &["init", "-q", "-b", "main"]);
    env.git(&plain, &["add", "-A"]);
    env.git(&plain, &["commit", "-qm", "one"]);
    env.git(&plain, &["tag", "v0.1.0"]);
    std::fs::write(plain.join("a.txt.jinja"), "{{ name }}!\n").unwrap();
    env.git(&plain, &["commit", "-qam", "two"]);
    let described = env.git(&plain, &["describe", "--tags", "--always", "HEAD"]);
    let plain_url = format!("file://{}", plain.display());
    env.run(&[
        "generate",
        &format!("{plain_url}#main"),
        "-o",
        "plain-out",
        "--defaults",
        "--compat-answers",
    ])
    .ok();
    assert_eq!(
        read(&env.path("plain-out"), ".copier-answers.yml"),
        format!(
            "# Changes here will be overwritten by Copier; NEVER EDIT MANUALLY\n_commit: {}\n_src_path: {plain_url}\nname: x\n",
            described.trim()
        )
    );
    assert!(described.starts_with("v0.1.0-1-g"), "{described}");

    env.git(&made, &["init", "-q", "-b", "main"]);
    env.git(&made, &["add", "-A"]);
    env.git(&made, &["commit", "-qm", "generated"]);
    edit_as_maintainers_do(&env, &made);
    move_copier_template_on(&env, &repo);
    let (theirs, ours) = (env.path("by-copier"), env.path("by-factory"));
    copy(&env, &made, &theirs);
    copy(&env, &made, &ours);

    // Without --trust the template's task and migration are refused by name, and nothing
    // changes: the project, the store.
    let before = files(&ours);
    let store = env.store_snapshot();
    let out = env.run(&[
        "upgrade",
        "by-factory",
        "--apply",
        "--set",
        "project_name=renamed",
    ]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("wants to run code: task `rm -f obsolete.txt`")
            && out.stderr.contains("--trust"),
        "{}",
        out.stderr
    );
    assert_eq!(files(&ours), before);
    assert_eq!(env.store_snapshot(), store);

    reference(
        &env,
        &copier,
        &theirs,
        &[
            "update",
            "--trust",
            "--defaults",
            "--quiet",
            "--data",
            "project_name=renamed",
        ],
    );
    let out = env.run(&[
        "upgrade",
        "by-factory",
        "--trust",
        "--apply",
        "--set",
        "project_name=renamed",
    ]);
    out.ok();
    assert!(out.stdout.contains("@v1.0.0 to v1.1.0"), "{}", out.stdout);

    // No more conflicts than copier's, and the same files byte for byte: the template's
    // changes beside the edits (requires-python, line-length, the README line, the new
    // LICENSE), the edits kept (httpx, the paragraph, notes.txt stays deleted, local.env is
    // the project's, as `_skip_if_exists` says), the task's deletion, the migration's line,
    // the changed answer, and the answers file copier writes.
    assert!(conflicts(&ours).len() <= conflicts(&theirs).len());
    assert_eq!(conflicts(&ours), Vec::<String>::new());
    common::python::assert_same(&files(&ours), &files(&theirs), "copier update");
    let pyproject = read(&ours, "pyproject.toml");
    assert!(
        pyproject.contains("name = \"renamed\"")
            && pyproject.contains("requires-python = \">=3.11\"")
            && pyproject.contains("\"httpx\"")
            && pyproject.contains("line-length = 100"),
        "{pyproject}"
    );
    assert_eq!(read(&ours, "local.env"), "PYTHON=3.12\n");
    assert!(!ours.join("obsolete.txt").exists() && !ours.join("notes.txt").exists());
    assert_eq!(
        read(&ours, "migrations.log"),
        "after v1.0.0 -> v1.1.0 (1.1.0)\n"
    );
    assert_eq!(
        read(&ours, ".copier-answers.yml"),
        format!(
            "# Changes here will be overwritten by Copier; NEVER EDIT MANUALLY\n_commit: v1.1.0\n_src_path: {url}\nlicense: MIT\nproject_name: renamed\npython: '3.11'\n"
        )
    );
    // Nothing of factory's in the project; the upgrade is in the store.
    assert!(!ours.join(".factory").exists());
    let events: Vec<String> = env
        .events()
        .iter()
        .map(|e| e["eventType"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(
        events.ends_with(&[
            "TemplateExecutionRequested".to_string(),
            "ScaffoldGenerated".to_string(),
            "TemplateExecuted".to_string()
        ]),
        "{events:?}"
    );

    // copier itself takes factory's result as up to date: its update changes nothing.
    env.git(&ours, &["add", "-A"]);
    env.git(&ours, &["commit", "-qm", "upgraded by factory"]);
    reference(
        &env,
        &copier,
        &ours,
        &["update", "--trust", "--defaults", "--quiet"],
    );
    assert_eq!(env.git(&ours, &["status", "--porcelain"]), "");
    // And factory agrees: upgrading again changes nothing.
    let out = env.run(&["upgrade", "by-factory", "--trust", "--apply"]);
    out.ok();
    assert_eq!(env.git(&ours, &["status", "--porcelain"]), "");
}

#[test]
fn records_that_name_no_template_or_are_ambiguous_are_refused() {
    let env = Env::with_git_author();
    let project = env.path("p");
    write(
        &project,
        &[
            (".copier-answers.yml", "project_name: demo\n"),
            ("a.txt", "a\n"),
        ],
    );
    let before = files(&project);
    let out = env.run(&["upgrade", "p", "--apply"]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains(".copier-answers.yml names no template: it has no `_src_path`"),
        "{}",
        out.stderr
    );
    // An answers file the project does not have: the ones it has are listed.
    let out = env.run(&["upgrade", "p", "--answers-file", ".copier-answers.ci.yml"]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("has no answers file `.copier-answers.ci.yml`")
            && out
                .stderr
                .contains("answers files there: .copier-answers.yml"),
        "{}",
        out.stderr
    );
    // Two answers files and none named.
    write(
        &project,
        &[(".copier-answers.ci.yml", "_src_path: gh:o/r\n_commit: v1\n")],
    );
    let out = env.run(&["upgrade", "p"]);
    out.expect_code(2);
    assert!(
        out.stderr
            .contains("several template records: .copier-answers.ci.yml, .copier-answers.yml")
            && out.stderr.contains("--answers-file"),
        "{}",
        out.stderr
    );
    // A folder with no record at all.
    std::fs::create_dir_all(env.path("bare")).unwrap();
    let out = env.run(&["upgrade", "bare"]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("no .factory/scaffold.yaml, no copier answers file"),
        "{}",
        out.stderr
    );
    let mut after = files(&project);
    after.retain(|(p, _)| p != ".copier-answers.ci.yml");
    assert_eq!(after, before);
    assert!(env.events().is_empty());
}

const CC_V1: &str = r#"{"project_name": "demo", "project_slug": "{{ cookiecutter.project_name.lower() }}", "python": "3.11"}"#;
const CC_V2: &str = r#"{"project_name": "demo", "project_slug": "{{ cookiecutter.project_name.lower() }}", "python": "3.11", "license": "MIT", "_copy_without_render": ["*.raw"]}"#;

#[test]
fn a_cruft_project_upgrades_as_cruft_update_does_and_cruft_still_works_on_it() {
    let Some(cruft) = cruft() else { return };
    let env = Env::with_git_author();
    let repo = env.path("cc.git");
    let slug = "{{cookiecutter.project_slug}}";
    write(
        &repo,
        &[
            ("cookiecutter.json", CC_V1),
            (
                &format!("{slug}/pyproject.toml"),
                &pyproject("", 88).replace("project_name", "cookiecutter.project_name"),
            ),
            (
                &format!("{slug}/README.md"),
                "# {{ cookiecutter.project_name }}\n\nA project.\n\n## Usage\n\nRun it.\n",
            ),
            (
                &format!("{slug}/obsolete.txt"),
                "the new version's hook deletes this\n",
            ),
            (&format!("{slug}/notes.txt"), "the project deletes this\n"),
        ],
    );
    env.git(&repo, &["init", "-q", "-b", "main"]);
    env.git(&repo, &["add", "-A"]);
    env.git(&repo, &["commit", "-qm", "v1"]);
    let out_dir = env.path("made");
    std::fs::create_dir_all(&out_dir).unwrap();
    reference(
        &env,
        &cruft,
        env.dir.path(),
        &[
            "create",
            repo.to_str().unwrap(),
            "--no-input",
            "--output-dir",
            out_dir.to_str().unwrap(),
        ],
    );
    let made = out_dir.join("demo");
    env.git(&made, &["init", "-q", "-b", "main"]);
    env.git(&made, &["add", "-A"]);
    env.git(&made, &["commit", "-qm", "generated"]);
    edit_as_maintainers_do_without_env(&env, &made);

    // The template moves on: a new variable, a hook that deletes a file, changes beside the
    // project's edits, a new file.
    write(
        &repo,
        &[
            ("cookiecutter.json", CC_V2),
            (
                &format!("{slug}/pyproject.toml"),
                &pyproject("requires-python = \">={{ cookiecutter.python }}\"\n", 100)
                    .replace("{{ project_name }}", "{{ cookiecutter.project_name }}"),
            ),
            (
                &format!("{slug}/README.md"),
                "# {{ cookiecutter.project_name }}\n\nA project made from the template.\n\n## Usage\n\nRun it.\n",
            ),
            (&format!("{slug}/LICENSE"), "{{ cookiecutter.license }}\n"),
            (
                "hooks/post_gen_project.py",
                "import os\nos.remove('obsolete.txt')\n",
            ),
        ],
    );
    env.git(&repo, &["add", "-A"]);
    env.git(&repo, &["commit", "-qm", "v2"]);
    let head = env.git(&repo, &["rev-parse", "HEAD"]).trim().to_string();

    let (theirs, ours) = (env.path("by-cruft"), env.path("by-factory"));
    copy(&env, &made, &theirs);
    copy(&env, &made, &ours);
    // The hook runs only with --trust.
    let before = files(&ours);
    let out = env.run(&["upgrade", "by-factory", "--apply"]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("wants to run code: hooks/post_gen_project.py"),
        "{}",
        out.stderr
    );
    assert_eq!(files(&ours), before);

    reference(&env, &cruft, &theirs, &["update", "-y"]);
    env.run(&["upgrade", "by-factory", "--trust", "--apply"])
        .ok();

    // The same files byte for byte, `.cruft.json` included (the new commit, `checkout`
    // null as cruft writes it without --checkout, the new variable in the context).
    assert!(conflicts(&ours).len() <= conflicts(&theirs).len());
    assert_eq!(conflicts(&ours), Vec::<String>::new());
    common::python::assert_same(&files(&ours), &files(&theirs), "cruft update");
    let record: serde_json::Value = serde_json::from_str(&read(&ours, ".cruft.json")).unwrap();
    assert_eq!(record["commit"], head.as_str());
    assert_eq!(record["context"]["cookiecutter"]["license"], "MIT");
    assert!(!ours.join("obsolete.txt").exists() && !ours.join(".factory").exists());

    // cruft itself finds factory's result up to date.
    env.git(&ours, &["add", "-A"]);
    env.git(&ours, &["commit", "-qm", "upgraded by factory"]);
    let said = reference(&env, &cruft, &ours, &["update", "-y"]);
    assert!(said.contains("already up to date"), "{said}");
    reference(&env, &cruft, &ours, &["check"]);
    assert_eq!(env.git(&ours, &["status", "--porcelain"]), "");
}

/// [`edit_as_maintainers_do`] for a template without `local.env`.
fn edit_as_maintainers_do_without_env(env: &Env, project: &Path) {
    std::fs::write(project.join("local.env"), "PYTHON=3.12\n").unwrap();
    edit_as_maintainers_do(env, project);
}
