//! What templates say and run, shown as copier and cookiecutter show it: copier's
//! `_message_*`, the output of hooks and tasks (with `--json` on stderr), cookiecutter's
//! `pre_prompt` hooks, zip templates, and tags from Python Jinja extensions rendered by the
//! real Jinja2 with `--trust`. Each is compared with the real tool, installed from PyPI into
//! a virtual environment under target/ (without python3 or PyPI the comparison says it was
//! skipped; under CI it fails instead).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::Env;
use common::python::{assert_same, copier, reference_command, tree};

fn cookiecutter() -> Option<PathBuf> {
    static TOOL: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    TOOL.get_or_init(|| common::python::tool("cookiecutter", "2.7.1", "cookiecutter"))
        .clone()
}

/// Runs a reference tool and returns what it printed, failing with it when it fails.
#[track_caller]
fn reference(mut command: Command, env: &Env) -> Output {
    let out = command
        .env("HOME", env.dir.path())
        .output()
        .expect("the reference tool starts");
    assert!(
        out.status.success(),
        "{:?}: {}\n{}",
        command.get_program(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The lines of `text` that are among `wanted`, in order.
fn lines_among(text: &str, wanted: &[&str]) -> Vec<String> {
    text.lines()
        .filter(|l| wanted.contains(l))
        .map(str::to_string)
        .collect()
}

const MESSAGES: &str = r#"project_name:
  type: str
  default: demo
_message_before_copy: "Thank you for using our template on {{ _copier_conf.os }}{{ project_name }}"
_message_after_copy: "{% include 'after.md' %}"
_exclude: ["after.md", "copier.yml"]
_tasks:
  - "echo task says {{ project_name }}; echo task warns >&2"
  - ["echo", "it's", "{{ project_name }}"]
  - command: "echo never"
    when: "{{ project_name == 'other' }}"
"#;

/// What copier prints on stderr for this template, line by line, in order.
const SAID: [&str; 6] = [
    "Thank you for using our template on linux",
    " > Running task 1 of 3: echo task says demo; echo task warns >&2",
    "task warns",
    " > Running task 2 of 3: ['echo', \"it's\", 'demo']",
    "Project demo successfully created",
    "  cd into it",
];

#[test]
fn copier_messages_and_task_output_are_shown_where_copier_shows_them() {
    let env = Env::new();
    let template = env.template(
        "cp-messages",
        &[
            ("copier.yml", MESSAGES),
            (
                "after.md",
                "Project {{ project_name }} successfully created\n  cd into it\n",
            ),
            ("README.md.jinja", "# {{ project_name }}\n"),
        ],
    );
    let t = template.to_str().unwrap();
    let ours = env.run(&["generate", t, "-o", "ours", "--defaults", "--trust"]);
    ours.ok();
    // Messages and task lines on stderr, in copier's order; what tasks print on stdout.
    let said = &SAID[..];
    assert_eq!(lines_among(&ours.stderr, said), said, "{}", ours.stderr);
    assert!(
        ours.stdout.starts_with("task says demo\nit's demo\n"),
        "{}",
        ours.stdout
    );
    assert!(
        ours.stderr
            .contains("Project demo successfully created\n  cd into it\n\n")
    );
    assert!(!ours.stderr.contains("never"), "{}", ours.stderr);
    // --json: stdout is one JSON document, and what the tasks printed went to stderr.
    let json = env.run(&[
        "generate",
        t,
        "-o",
        "json",
        "--defaults",
        "--trust",
        "--json",
    ]);
    json.ok();
    assert_eq!(json.json()["fileCount"], 1);
    for line in [
        "task says demo",
        "it's demo",
        "Thank you for using our template on linux",
    ] {
        assert!(
            json.stderr.lines().any(|l| l == line),
            "{line}: {}",
            json.stderr
        );
    }
    // --quiet hides the messages and task lines as copier's quiet does, not the tasks' output.
    let quiet = env.run(&["generate", t, "-o", "quiet", "--defaults", "--trust", "-q"]);
    quiet.ok();
    assert!(!quiet.stderr.contains("Thank you") && !quiet.stderr.contains("Running task"));
    assert!(
        !quiet.stderr.contains("successfully created"),
        "{}",
        quiet.stderr
    );
    assert_eq!(quiet.stdout, "task says demo\nit's demo\n");
    assert_eq!(quiet.stderr, "task warns\n");

    let Some(copier) = copier() else { return };
    let mut command = reference_command(&env, &copier);
    command
        .args(["copy", "--defaults", "--trust"])
        .arg(&template)
        .arg(env.path("ref"));
    let theirs = reference(command, &env);
    assert_eq!(lines_among(&text(&theirs.stderr), said), said);
    assert!(text(&theirs.stdout).contains("task says demo\nit's demo\n"));
    assert!(text(&theirs.stderr).contains("Project demo successfully created\n  cd into it\n\n"));
    assert_same(
        &tree(&env.path("ours")),
        &tree(&env.path("ref")),
        "messages",
    );
    let mut command = reference_command(&env, &copier);
    command
        .args(["copy", "--defaults", "--trust", "--quiet"])
        .arg(&template)
        .arg(env.path("ref-quiet"));
    let theirs = reference(command, &env);
    assert_eq!(text(&theirs.stdout).trim(), quiet.stdout.trim());
    assert_eq!(text(&theirs.stderr), quiet.stderr);
}

#[test]
fn a_message_that_does_not_render_stops_the_run_before_anything_is_written() {
    let env = Env::new();
    let template = env.template(
        "cp-bad-message",
        &[
            (
                "copier.yml",
                "name: demo\n_message_before_copy: \"{{ name | no_such_filter }}\"\n",
            ),
            ("a.txt.jinja", "{{ name }}\n"),
        ],
    );
    let out = env.run(&[
        "generate",
        template.to_str().unwrap(),
        "-o",
        "out",
        "--defaults",
    ]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("_message_before_copy"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("no_such_filter"), "{}", out.stderr);
    assert!(!env.path("out").exists());
    let not_text = env.template(
        "cp-list-message",
        &[
            ("copier.yml", "name: demo\n_message_after_copy: [a, b]\n"),
            ("a.txt.jinja", "x\n"),
        ],
    );
    let out = env.run(&[
        "generate",
        not_text.to_str().unwrap(),
        "-o",
        "out2",
        "--defaults",
    ]);
    assert_ne!(out.code, 0);
    assert!(
        out.stderr
            .contains("_message_after_copy: `[\"a\",\"b\"]` is not text"),
        "{}",
        out.stderr
    );
    assert!(!env.path("out2").exists());
}

#[test]
fn a_failing_task_shows_its_output_as_it_runs_and_nothing_is_written() {
    let env = Env::new();
    let template = env.template(
        "cp-failing",
        &[
            (
                "copier.yml",
                "name: demo\n_tasks:\n  - \"echo checking {{ name }}; echo the check failed >&2; exit 3\"\n",
            ),
            ("a.txt.jinja", "{{ name }}\n"),
        ],
    );
    let out = env.run(&[
        "generate",
        template.to_str().unwrap(),
        "-o",
        "out",
        "--defaults",
        "--trust",
    ]);
    out.expect_code(1);
    assert_eq!(out.stdout, "checking demo\n");
    assert!(
        out.stderr.contains("the check failed\n")
            && out
                .stderr
                .contains("failed (exit status: 3); its output is above: the check failed"),
        "{}",
        out.stderr
    );
    assert!(!env.path("out").exists());
    // The failure is recorded with the reason.
    let failed = env
        .events()
        .into_iter()
        .find(|e| e["eventType"] == "TemplateExecuted" && e["payload"]["status"] == "Failed")
        .expect("a failed execution");
    let error = failed["payload"]["error"].as_str().unwrap();
    assert!(error.contains("the check failed"), "{error}");
}

const HOOKED_CONTEXT: &str = r#"{"name": "Demo", "slug": "{{ cookiecutter.name | lower }}"}
"#;

const PRE_PROMPT: &str = r#"import json
import os

print("pre_prompt in", os.path.basename(os.getcwd()), flush=True)
with open("cookiecutter.json") as f:
    data = json.load(f)
data["name"] = "Changed"
with open("cookiecutter.json", "w") as f:
    json.dump(data, f)
"#;

fn hooked_template(env: &Env, name: &str) -> PathBuf {
    env.template(
        name,
        &[
            ("cookiecutter.json", HOOKED_CONTEXT),
            ("hooks/pre_prompt.py", PRE_PROMPT),
            (
                "hooks/pre_gen_project.py",
                "import sys\nprint('pre_gen for {{ cookiecutter.slug }}')\nprint('pre_gen warns', file=sys.stderr)\n",
            ),
            (
                "hooks/post_gen_project.py",
                "import os\nprint('post_gen made', sorted(os.listdir('.')))\n",
            ),
            ("{{cookiecutter.slug}}/README.md", "{{ cookiecutter.name }}\n"),
        ],
    )
}

#[test]
fn cookiecutter_hooks_and_pre_prompt_print_and_change_what_cookiecutter_would() {
    let env = Env::new();
    let template = hooked_template(&env, "cc-hooked");
    let t = template.to_str().unwrap();
    let refused = env.run(&["generate", t, "-o", "refused", "--defaults"]);
    refused.expect_code(1);
    assert!(
        refused
            .stderr
            .contains("wants to run code: hooks/pre_prompt.py, hooks/pre_gen_project.py"),
        "{}",
        refused.stderr
    );
    assert!(!env.path("refused").exists());
    let ours = env.run(&["generate", t, "-o", "ours", "--defaults", "--trust", "-q"]);
    ours.ok();
    // The pre_prompt hook changed the name in its copy of the template.
    assert_eq!(
        std::fs::read_to_string(env.path("ours/changed/README.md")).unwrap(),
        "Changed\n"
    );
    assert_eq!(
        std::fs::read_to_string(template.join("cookiecutter.json")).unwrap(),
        HOOKED_CONTEXT,
        "the template itself is untouched"
    );
    assert_eq!(
        ours.stdout,
        "pre_prompt in cc-hooked\npre_gen for changed\npost_gen made ['README.md']\n"
    );
    assert_eq!(ours.stderr, "pre_gen warns\n");
    // --json keeps stdout for the report.
    let json = env.run(&[
        "generate",
        t,
        "-o",
        "json",
        "--defaults",
        "--trust",
        "--json",
    ]);
    json.ok();
    assert!(json.json()["target"].as_str().unwrap().ends_with("changed"));
    assert!(
        json.stderr.contains("pre_gen for changed\n"),
        "{}",
        json.stderr
    );

    let Some(cookiecutter) = cookiecutter() else {
        return;
    };
    let mut command = reference_command(&env, &cookiecutter);
    command
        .arg("--no-input")
        .arg("-o")
        .arg(env.path("ref"))
        .arg(&template);
    let theirs = reference(command, &env);
    assert_eq!(text(&theirs.stdout), ours.stdout);
    assert_eq!(text(&theirs.stderr), ours.stderr);
    assert_same(&tree(&env.path("ours")), &tree(&env.path("ref")), "hooks");
}

/// An entry added to a zip archive: its name, its text, its unix mode, its general flags.
type ZipEntry<'a> = (&'a str, &'a str, u32, u16);

/// Writes a zip archive with Python's zipfile (what cookiecutter reads them with): the
/// folder `dir` under `top/`, then `extra` entries (name, text, unix mode, general flags).
fn zip(out: &Path, dir: &Path, top: &str, extra: &[ZipEntry]) {
    let script = r#"
import json, os, sys, zipfile
out, root, top, extra = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
with zipfile.ZipFile(out, "w") as z:
    z.write(root, top + "/")
    for d, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(dirs):
            p = os.path.join(d, name)
            z.write(p, top + "/" + os.path.relpath(p, root) + "/")
        for name in sorted(files):
            p = os.path.join(d, name)
            z.write(p, top + "/" + os.path.relpath(p, root))
    for name, text, mode, flags in extra:
        info = zipfile.ZipInfo(name)
        info.create_system = 3
        info.external_attr = mode << 16
        z.writestr(info, text)
# zipfile clears the flags it writes: the encryption bit is set afterwards, in the entry's
# local header and its central directory record.
data = bytearray(open(out, "rb").read())
with zipfile.ZipFile(out) as z:
    offsets = {i.filename: i.header_offset for i in z.infolist()}
for name, text, mode, flags in extra:
    if not flags:
        continue
    data[offsets[name] + 6] |= flags
    i = data.find(b"PK\x01\x02")
    while i != -1:
        length = int.from_bytes(data[i + 28:i + 30], "little")
        if data[i + 46:i + 46 + length] == name.encode():
            data[i + 8] |= flags
        i = data.find(b"PK\x01\x02", i + 4)
open(out, "wb").write(data)
"#;
    let extra: Vec<serde_json::Value> = extra
        .iter()
        .map(|(n, t, m, f)| serde_json::json!([n, t, m, f]))
        .collect();
    let status = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(out)
        .arg(dir)
        .arg(top)
        .arg(serde_json::Value::Array(extra).to_string())
        .status()
        .expect("python3 runs");
    assert!(status.success());
}

#[test]
fn a_zip_template_renders_as_cookiecutter_renders_it_and_bad_archives_are_refused() {
    let env = Env::new();
    let template = env.template(
        "cc-zip-src",
        &[
            (
                "cookiecutter.json",
                "{\"name\": \"Zipped\", \"slug\": \"{{ cookiecutter.name | lower }}\"}\n",
            ),
            (
                "{{cookiecutter.slug}}/README.md",
                "# {{ cookiecutter.name }}\n",
            ),
            (
                "{{cookiecutter.slug}}/src/{{cookiecutter.slug}}.txt",
                "{{ cookiecutter.slug }}\n",
            ),
        ],
    );
    let archive = env.path("fake-repo.zip");
    zip(&archive, &template, "fake-repo", &[]);
    let ours = env.run(&["generate", "fake-repo.zip", "-o", "ours", "--defaults"]);
    ours.ok();
    assert!(
        ours.stdout
            .contains("Generated ours/zipped from fake-repo.zip"),
        "{}",
        ours.stdout
    );

    // Entries that would leave the folder, links, password-protected entries and archives
    // without a top-level folder: refused, naming the entry; nothing written anywhere.
    let cases: [(&str, ZipEntry, &str); 4] = [
        (
            "dotdot",
            ("fake-repo/../../escaped.txt", "x", 0o100644, 0),
            "`fake-repo/../../escaped.txt` would be written outside the folder it is unpacked into",
        ),
        (
            "absolute",
            ("/tmp/escaped-factory.txt", "x", 0o100644, 0),
            "`/tmp/escaped-factory.txt` would be written outside",
        ),
        (
            "link",
            ("fake-repo/link", "/etc/passwd", 0o120777, 0),
            "`fake-repo/link` is a link",
        ),
        (
            "locked",
            ("fake-repo/secret.txt", "x", 0o100644, 1),
            "`fake-repo/secret.txt` is password-protected",
        ),
    ];
    for (name, entry, says) in cases {
        let bad = env.path(&format!("{name}.zip"));
        zip(&bad, &template, "fake-repo", &[entry]);
        let before = common::snapshot(env.dir.path());
        let out = env.run(&["generate", bad.to_str().unwrap(), "-o", name, "--defaults"]);
        out.expect_code(1);
        assert!(out.stderr.contains(says), "{name}: {}", out.stderr);
        assert!(out.stderr.contains("nothing was written"), "{}", out.stderr);
        assert_eq!(
            common::snapshot(env.dir.path()),
            before,
            "{name}: nothing written"
        );
        assert!(!Path::new("/tmp/escaped-factory.txt").exists());
    }
    let flat = env.path("flat.zip");
    let status = Command::new("python3")
        .args(["-c", "import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], 'w') as z:\n    z.writestr('cookiecutter.json', '{}')\n"])
        .arg(&flat)
        .status()
        .unwrap();
    assert!(status.success());
    let out = env.run(&["generate", "flat.zip", "-o", "flat", "--defaults"]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("does not include a top-level directory"),
        "{}",
        out.stderr
    );
    // An http(s) URL is downloaded (every time); a missing one is named with its status.
    let bytes = std::fs::read(&archive).unwrap();
    let server = common::http::Listener::start_raw(std::sync::Arc::new(move |request, out| {
        let (status, body): (&str, &[u8]) = match request.path.as_str() {
            "/fake-repo.zip" => ("200 OK", &bytes),
            _ => ("404 Not Found", b""),
        };
        let head = format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/zip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let _ = out.write_all(head.as_bytes());
        let _ = out.write_all(body);
    }));
    let url = format!("{}/fake-repo.zip", server.url);
    env.run(&["generate", &url, "-o", "ours-url", "--defaults"])
        .ok();
    assert_same(
        &tree(&env.path("ours-url")),
        &tree(&env.path("ours")),
        "zip URL",
    );
    let gone = format!("{}/gone.zip", server.url);
    let missing = env.run(&["generate", &gone, "-o", "gone", "--defaults"]);
    missing.expect_code(1);
    assert!(
        missing.stderr.contains("/gone.zip: HTTP 404"),
        "{}",
        missing.stderr
    );
    assert!(!env.path("gone").exists());
    let offline = env.run(&["generate", &url, "-o", "offline", "--defaults", "--offline"]);
    offline.expect_code(1);
    assert!(
        offline.stderr.contains("--offline forbids it"),
        "{}",
        offline.stderr
    );

    let Some(cookiecutter) = cookiecutter() else {
        return;
    };
    let mut command = reference_command(&env, &cookiecutter);
    command
        .arg("--no-input")
        .arg("-o")
        .arg(env.path("ref"))
        .arg(&archive);
    reference(command, &env);
    assert_same(&tree(&env.path("ours")), &tree(&env.path("ref")), "zip");
    let mut command = reference_command(&env, &cookiecutter);
    command
        .arg("--no-input")
        .arg("-o")
        .arg(env.path("ref-url"))
        .arg(&url);
    reference(command, &env);
    assert_same(
        &tree(&env.path("ours-url")),
        &tree(&env.path("ref-url")),
        "zip URL",
    );
}

#[test]
fn a_tag_from_a_python_extension_renders_through_jinja2_with_trust_as_copier_renders_it() {
    let mut env = Env::new();
    let git = |args: &[&str]| {
        let ok = env
            .program("git")
            .args(["-c", "user.email=t@example.test", "-c", "user.name=t"])
            .args(args)
            .status()
            .unwrap()
            .success();
        assert!(ok);
    };
    git(&["init", "-q", "."]);
    git(&["commit", "-q", "--allow-empty", "-m", "first"]);
    let template = env.template(
        "cp-git",
        &[
            ("copier.yml", "_jinja_extensions:\n  - jinja2_git.GitExtension\nname:\n  type: str\n  default: demo\n"),
            ("info.txt.jinja", "commit {% gitcommit %}\nshort {%- gitcommit short=true %}\n{{ name | upper }} {{ name | to_json }}\n"),
            ("plain.txt.jinja", "{{ name }}\n"),
        ],
    );
    let t = template.to_str().unwrap();
    // Without --trust: refused naming the extension, nothing written.
    let refused = env.run(&["generate", t, "-o", "refused", "--defaults"]);
    refused.expect_code(1);
    assert!(
        refused
            .stderr
            .contains("its Jinja extensions jinja2_git.GitExtension are Python"),
        "{}",
        refused.stderr
    );
    assert!(!env.path("refused").exists());

    let Some(copier) = common::python::tool_with(
        "copier-9.19.1-jinja2-git-1.4.0",
        &["copier==9.19.1", "jinja2-git==1.4.0"],
        "copier",
    ) else {
        return;
    };
    env.set_env(
        "FACTORY_PYTHON",
        copier.with_file_name("python3").to_str().unwrap(),
    );
    env.run(&["generate", t, "-o", "ours", "--defaults", "--trust"])
        .ok();
    let head = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(env.dir.path())
        .output()
        .unwrap();
    let head = text(&head.stdout).trim().to_string();
    assert_eq!(
        std::fs::read_to_string(env.path("ours/info.txt")).unwrap(),
        format!("commit {head}\nshort{}\nDEMO \"demo\"\n", &head[..7])
    );
    let mut command = reference_command(&env, &copier);
    command
        .args(["copy", "--defaults", "--trust", "--quiet"])
        .arg(&template)
        .arg(env.path("ref"));
    reference(command, &env);
    assert_same(
        &tree(&env.path("ours")),
        &tree(&env.path("ref")),
        "gitcommit",
    );
}

const LOCAL_TAG: &str = r#"from jinja2 import nodes
from jinja2.ext import Extension


class ShoutExtension(Extension):
    tags = {"shout"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        value = parser.parse_expression()
        return nodes.Output([self.call_method("_shout", [value])], lineno=lineno)

    def _shout(self, value):
        return str(value).upper() + "!"
"#;

#[test]
fn a_cookiecutter_templates_own_extension_tag_renders_with_trust_as_cookiecutter_renders_it() {
    let mut env = Env::new();
    let template = env.template(
        "cc-local-tag",
        &[
            (
                "cookiecutter.json",
                "{\"name\": \"Tagged\", \"_extensions\": [\"local_extensions.ShoutExtension\", \"cookiecutter.extensions.JsonifyExtension\"]}\n",
            ),
            ("local_extensions.py", LOCAL_TAG),
            ("{{cookiecutter.name}}/shout.txt", "{% shout cookiecutter.name %} {{ cookiecutter.name | jsonify }}\n"),
            ("{{cookiecutter.name}}/plain.txt", "{{ cookiecutter.name }}\n"),
        ],
    );
    let t = template.to_str().unwrap();
    let refused = env.run(&["generate", t, "-o", "refused", "--defaults"]);
    refused.expect_code(1);
    assert!(
        refused.stderr.contains("local_extensions.ShoutExtension"),
        "{}",
        refused.stderr
    );
    assert!(!env.path("refused").exists());
    let Some(cookiecutter) = cookiecutter() else {
        return;
    };
    env.set_env(
        "FACTORY_PYTHON",
        cookiecutter.with_file_name("python3").to_str().unwrap(),
    );
    env.run(&["generate", t, "-o", "ours", "--defaults", "--trust"])
        .ok();
    assert!(
        std::fs::read_to_string(env.path("ours/Tagged/shout.txt")).unwrap()
            == "TAGGED! \"Tagged\"\n",
    );
    let mut command = reference_command(&env, &cookiecutter);
    command
        .arg("--no-input")
        .arg("-o")
        .arg(env.path("ref"))
        .arg(&template);
    reference(command, &env);
    assert_same(
        &tree(&env.path("ours")),
        &tree(&env.path("ref")),
        "local tag",
    );
}

/// Runs git in `dir` with this test's environment; its stdout.
fn git(env: &Env, dir: &Path, args: &[&str]) -> String {
    let out = env
        .program("git")
        .args(["-c", "user.email=t@example.test", "-c", "user.name=t"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn copier_update_messages_are_said_when_an_upgrade_is_applied() {
    let env = Env::new();
    let src = env.template(
        "cp-update-src.git",
        &[
            (
                "copier.yml",
                "project_name:\n  type: str\n  default: myproj\n_message_before_copy: Copying on {{ _copier_conf.os }}\n_message_after_copy: Project {{ project_name }} successfully created\n_message_before_update: Updating on {{ _copier_conf.os }}\n_message_after_update: Project {{ project_name }} successfully updated\n",
            ),
            (
                "{{ _copier_conf.answers_file }}.jinja",
                "# Changes here will be overwritten by Copier\n{{ _copier_answers|to_nice_yaml }}\n",
            ),
            ("version.txt", "v1"),
        ],
    );
    git(&env, &src, &["init", "-q", "-b", "main"]);
    git(&env, &src, &["add", "-A"]);
    git(&env, &src, &["commit", "-qm", "v1"]);
    git(&env, &src, &["tag", "v1"]);
    std::fs::write(src.join("version.txt"), "v2").unwrap();
    git(&env, &src, &["commit", "-qam", "v2"]);
    git(&env, &src, &["tag", "v2"]);
    let url = format!("file://{}", src.display());
    let made = env.run(&["generate", &format!("{url}#v1"), "-o", "ours", "--defaults"]);
    made.ok();
    let said = ["Copying on linux", "Project myproj successfully created"];
    assert_eq!(lines_among(&made.stderr, &said), said, "{}", made.stderr);
    let ours = env.path("ours");
    git(&env, &ours, &["init", "-q", "-b", "main"]);
    git(&env, &ours, &["add", "-A"]);
    git(&env, &ours, &["commit", "-qm", "generated"]);
    // A plan announces nothing; an applied upgrade says both messages, quiet says none.
    let planned = env.run(&["upgrade", ours.to_str().unwrap()]);
    assert!(
        !planned.stderr.contains("Updating on"),
        "{}",
        planned.stderr
    );
    let updated = env.run(&["upgrade", ours.to_str().unwrap(), "--apply"]);
    updated.ok();
    let said = ["Updating on linux", "Project myproj successfully updated"];
    assert_eq!(
        lines_among(&updated.stderr, &said),
        said,
        "{}",
        updated.stderr
    );
    assert_eq!(
        std::fs::read_to_string(ours.join("version.txt")).unwrap(),
        "v2"
    );

    let Some(copier) = copier() else { return };
    let theirs = env.path("ref");
    let mut command = reference_command(&env, &copier);
    command
        .args(["copy", "--defaults", "-r", "v1"])
        .arg(&url)
        .arg(&theirs);
    let copied = reference(command, &env);
    assert_eq!(
        lines_among(
            &text(&copied.stderr),
            &["Copying on linux", "Project myproj successfully created"]
        )
        .len(),
        2
    );
    git(&env, &theirs, &["init", "-q", "-b", "main"]);
    git(&env, &theirs, &["add", "-A"]);
    git(&env, &theirs, &["commit", "-qm", "generated"]);
    let mut command = reference_command(&env, &copier);
    command.args(["update", "--defaults"]).current_dir(&theirs);
    let update = reference(command, &env);
    assert_eq!(
        lines_among(&text(&update.stderr), &said),
        said,
        "{}",
        text(&update.stderr)
    );
    let worktree = |dir: &Path| -> Vec<(String, Vec<u8>)> {
        tree(dir)
            .into_iter()
            .filter(|(p, _)| !p.starts_with(".git/"))
            .collect()
    };
    assert_same(&worktree(&ours), &worktree(&theirs), "update");
}

#[test]
fn a_secret_answer_never_reaches_the_terminal_through_a_task_or_a_message() {
    let env = Env::new();
    let template = env.template(
        "cp-secret",
        &[
            (
                "copier.yml",
                "token:\n  type: str\n  secret: true\n  default: dev-token-1234\n_message_after_copy: \"token {{ token }}\"\n_tasks:\n  - \"echo out {{ token }}; echo err {{ token }} >&2\"\n",
            ),
            ("a.txt.jinja", "{{ token }}\n"),
        ],
    );
    for flags in [&[][..], &["--json"][..]] {
        let mut args = vec![
            "generate",
            template.to_str().unwrap(),
            "-o",
            if flags.is_empty() { "out" } else { "json" },
            "--defaults",
            "--trust",
        ];
        args.extend(flags);
        let out = env.run(&args);
        out.ok();
        for said in [&out.stdout, &out.stderr] {
            assert!(!said.contains("dev-token-1234"), "{said}");
        }
        assert!(out.stderr.contains("err ***"), "{}", out.stderr);
        assert!(out.stderr.contains("token ***"), "{}", out.stderr);
    }
    // The file itself has it: the template asked for it.
    assert_eq!(
        std::fs::read_to_string(env.path("out/a.txt")).unwrap(),
        "dev-token-1234\n"
    );
}
