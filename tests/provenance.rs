//! The provenance of a generation describes the tree that is finally placed: after trusted
//! hooks and tasks, after `--compat-answers`, after anything else that writes into the
//! output. Right after any successful `generate`, `sha256sum -c .factory/manifest.sha256`
//! passes and `factory verify` exits 0.

mod common;

use std::path::Path;
use std::process::Command;

use common::Env;

/// `sha256sum -c` in the project, as the output of `generate` tells the user to run it.
#[track_caller]
fn sha256sum_checks(project: &Path) {
    let out = Command::new("sha256sum")
        .args(["-c", "--quiet", ".factory/manifest.sha256"])
        .current_dir(project)
        .output()
        .expect("sha256sum runs");
    assert!(
        out.status.success(),
        "sha256sum -c failed in {}:\n{}{}",
        project.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[track_caller]
fn verified(env: &Env, project: &str) {
    env.run(&["verify", project]).ok();
    sha256sum_checks(&env.path(project));
}

fn manifest_lists(env: &Env, project: &str, path: &str) -> bool {
    let text = std::fs::read_to_string(env.path(project).join(".factory/manifest.sha256")).unwrap();
    text.lines().any(|l| l.ends_with(&format!("  {path}")))
}

#[test]
fn copier_answers_written_with_compat_answers_are_part_of_the_provenance() {
    let env = Env::new();
    let template = env.template(
        "cp-answers",
        &[
            ("copier.yml", "name: demo\n"),
            ("README.md.jinja", "{{ name }}\n"),
        ],
    );
    env.run(&[
        "generate",
        template.to_str().unwrap(),
        "-o",
        "out",
        "--defaults",
        "--compat-answers",
    ])
    .ok();
    assert!(env.path("out/.copier-answers.yml").is_file());
    assert!(manifest_lists(&env, "out", ".copier-answers.yml"));
    verified(&env, "out");
}

#[test]
fn a_trusted_hook_that_adds_edits_and_deletes_files_leaves_a_true_manifest() {
    let env = Env::new();
    let hook = "import os\n\
                open('added.txt', 'w').write('added by the hook\\n')\n\
                open('README.md', 'a').write('edited by the hook\\n')\n\
                os.remove('DELETE_ME.txt')\n";
    let template = env.template(
        "cc-hooked",
        &[
            ("cookiecutter.json", "{\"name\": \"demo\"}\n"),
            (
                "{{cookiecutter.name}}/README.md",
                "{{ cookiecutter.name }}\n",
            ),
            ("{{cookiecutter.name}}/DELETE_ME.txt", "gone soon\n"),
            ("hooks/post_gen_project.py", hook),
        ],
    );
    env.run(&[
        "generate",
        template.to_str().unwrap(),
        "-o",
        "out",
        "--defaults",
        "--trust",
    ])
    .ok();
    // `-o out` is the folder cookiecutter's project folder is made in: the provenance is in
    // the project folder.
    assert!(manifest_lists(&env, "out/demo", "added.txt"));
    assert!(!manifest_lists(&env, "out/demo", "DELETE_ME.txt"));
    assert_eq!(
        std::fs::read_to_string(env.path("out/demo/README.md")).unwrap(),
        "demo\nedited by the hook\n"
    );
    verified(&env, "out/demo");
    // The event's content hash is the one `factory hash` gives for the placed tree.
    let hash = env.run(&["hash", "out/demo"]);
    let generated = env
        .events()
        .into_iter()
        .find(|e| e["eventType"] == "ScaffoldGenerated")
        .expect("a ScaffoldGenerated event");
    assert!(
        hash.stdout
            .contains(generated["payload"]["contentHash"].as_str().unwrap()),
        "{} vs {generated}",
        hash.stdout
    );
}

#[test]
fn a_trusted_copier_task_that_writes_files_leaves_a_true_manifest() {
    let env = Env::new();
    let template = env.template(
        "cp-task-writes",
        &[
            (
                "copier.yml",
                "name: demo\n_tasks:\n  - \"echo {{ name }} > from-task.txt\"\n  - \"rm obsolete.txt\"\n",
            ),
            ("README.md.jinja", "{{ name }}\n"),
            ("obsolete.txt", "removed by a task\n"),
        ],
    );
    env.run(&[
        "generate",
        template.to_str().unwrap(),
        "-o",
        "out",
        "--defaults",
        "--trust",
        "--compat-answers",
    ])
    .ok();
    assert!(manifest_lists(&env, "out", "from-task.txt"));
    assert!(!manifest_lists(&env, "out", "obsolete.txt"));
    verified(&env, "out");
}
