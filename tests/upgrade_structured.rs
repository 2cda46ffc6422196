//! `factory upgrade` merging TOML, YAML and JSON by structure: a project generated at 1.0.0,
//! edited the way maintainers edit (a dependency, a job, a script), then 2.0.0 adds keys
//! beside those edits and changes one value the project changed too.

mod common;

use common::Env;

const TEMPLATE: &str =
    "name: up\ncategory: service\nparameters:\n  - name: name\n    default: demo\n";

const PYPROJECT_V1: &str = r#"# Project metadata
[project]
name = "{{ name }}"
version = "0.1.0"
dependencies = [
    "requests>=2",
]

[tool.ruff]
line-length = 88
"#;

const PYPROJECT_V2: &str = r#"# Project metadata
[project]
name = "{{ name }}"
version = "0.1.0"
requires-python = ">=3.9"
dependencies = [
    "requests>=2",
    "rich>=13",
]

[tool.ruff]
line-length = 100

[tool.mypy]
strict = true
"#;

const CI_V1: &str = "name: CI
on:
  push:
    branches: [main]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: make test
";

const CI_V2: &str = "name: CI
on:
  push:
    branches: [main, 'release/*']
env:
  FORCE_COLOR: \"1\"
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - run: make test
";

const PACKAGE_V1: &str = r#"{
  "name": "{{ name }}",
  "version": "1.0.0",
  "scripts": {
    "test": "jest"
  },
  "devDependencies": {
    "jest": "^29.0.0"
  }
}
"#;

const PACKAGE_V2: &str = r#"{
  "name": "{{ name }}",
  "version": "1.0.0",
  "scripts": {
    "test": "jest",
    "build": "tsc"
  },
  "devDependencies": {
    "jest": "^30.0.0"
  },
  "engines": {
    "node": ">=20"
  }
}
"#;

fn publish(env: &Env, dir: &str, version: &str) {
    let from = env.path(dir);
    env.run(&[
        "version",
        "up",
        "--from",
        from.to_str().unwrap(),
        "--version",
        version,
    ])
    .ok();
    env.run(&["validate", &format!("up@{version}")]).ok();
    env.run(&["publish", &format!("up@{version}")]).ok();
}

/// `proj` generated at 1.0.0 and edited; 2.0.0 published.
fn edited_project() -> Env {
    let env = Env::new();
    let v1 = env.template(
        "v1",
        &[
            ("template.yaml", TEMPLATE),
            ("pyproject.toml", PYPROJECT_V1),
            (".github/workflows/ci.yml", CI_V1),
            ("package.json", PACKAGE_V1),
        ],
    );
    env.run(&["register", v1.to_str().unwrap()]).ok();
    publish(&env, "v1", "1.0.0");
    env.run(&["generate", "up", "-o", "proj"]).ok();
    env.template(
        "v2",
        &[
            ("template.yaml", TEMPLATE),
            ("pyproject.toml", PYPROJECT_V2),
            (".github/workflows/ci.yml", CI_V2),
            ("package.json", PACKAGE_V2),
        ],
    );
    publish(&env, "v2", "2.0.0");
    let p = env.path("proj");
    // A dependency and keywords added, the line length raised (the template raises it too).
    std::fs::write(
        p.join("pyproject.toml"),
        r#"# Project metadata
[project]
name = "demo"
version = "0.1.0"
keywords = ["cli"]  # ours
dependencies = [
    "requests>=2",
    "click>=8",
]

[tool.ruff]
line-length = 120
"#,
    )
    .unwrap();
    // A job and a branch added.
    std::fs::write(
        p.join(".github/workflows/ci.yml"),
        "name: CI
on:
  push:
    branches: [main, dev]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: make test
  # built on every push
  docs:
    runs-on: ubuntu-latest
    steps:
      - run: make docs
",
    )
    .unwrap();
    // A script and a dev dependency added, next to the lines the template changes.
    std::fs::write(
        p.join("package.json"),
        r#"{
  "name": "demo",
  "version": "1.0.0",
  "scripts": {
    "test": "jest",
    "lint": "eslint ."
  },
  "devDependencies": {
    "jest": "^29.0.0",
    "eslint": "^9.0.0"
  }
}
"#,
    )
    .unwrap();
    env
}

fn read(env: &Env, path: &str) -> String {
    std::fs::read_to_string(env.path("proj").join(path)).unwrap()
}

const CI_MERGED: &str = "name: CI
on:
  push:
    branches: [main, dev, 'release/*']
env:
  FORCE_COLOR: \"1\"
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - run: make test
  # built on every push
  docs:
    runs-on: ubuntu-latest
    steps:
      - run: make docs
";

const PACKAGE_MERGED: &str = r#"{
  "name": "demo",
  "version": "1.0.0",
  "scripts": {
    "test": "jest",
    "lint": "eslint .",
    "build": "tsc"
  },
  "devDependencies": {
    "jest": "^30.0.0",
    "eslint": "^9.0.0"
  },
  "engines": {
    "node": ">=20"
  }
}
"#;

/// pyproject.toml with every change merged and the line length as `length` says.
fn pyproject_merged(length: &str) -> String {
    format!(
        r#"# Project metadata
[project]
name = "demo"
version = "0.1.0"
keywords = ["cli"]  # ours
requires-python = ">=3.9"
dependencies = [
    "requests>=2",
    "click>=8",
    "rich>=13",
]

[tool.ruff]
{length}

[tool.mypy]
strict = true
"#
    )
}

#[test]
fn toml_yaml_and_json_merge_key_by_key_and_a_real_conflict_is_reported_on_its_key() {
    let env = edited_project();
    let project = env.path("proj");
    let out = env.run(&[
        "upgrade",
        project.to_str().unwrap(),
        "--to",
        "2.0.0",
        "--json",
    ]);
    out.expect_code(3);
    let plan = out.json();
    let steps: Vec<(String, String, String)> = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let field = |k: &str| s[k].as_str().unwrap().to_string();
            (field("path"), field("action"), field("reason"))
        })
        .collect();
    assert_eq!(
        steps,
        [
            (
                ".github/workflows/ci.yml".to_string(),
                "merge".to_string(),
                "changed by both; merged key by key".to_string()
            ),
            (
                "package.json".to_string(),
                "merge".to_string(),
                "changed by both; merged key by key".to_string()
            ),
            (
                "pyproject.toml".to_string(),
                "conflict".to_string(),
                "changed by both: `tool.ruff.line-length` is in conflict; conflict markers written"
                    .to_string()
            ),
        ]
    );

    // copier's spelling of the default.
    let out = env.run(&[
        "upgrade",
        project.to_str().unwrap(),
        "--to",
        "2.0.0",
        "--apply",
        "--conflict",
        "inline",
    ]);
    out.expect_code(3);
    assert!(
        out.stderr
            .contains("1 conflict(s) need you: pyproject.toml"),
        "{}",
        out.stderr
    );
    // Every byte you wrote stays; the template's keys land beside your edits.
    assert_eq!(read(&env, ".github/workflows/ci.yml"), CI_MERGED);
    assert_eq!(read(&env, "package.json"), PACKAGE_MERGED);
    // The conflict is on the one key; everything else in the file is merged.
    assert_eq!(
        read(&env, "pyproject.toml"),
        pyproject_merged(
            "<<<<<<< before updating\nline-length = 120\n=======\nline-length = 100\n>>>>>>> after updating"
        )
    );
}

#[test]
fn diff3_shows_the_base_of_the_key_and_rej_keeps_yours_with_the_template_side_beside_it() {
    let env = edited_project();
    let project = env.path("proj");
    let pristine = env.path("pristine");
    common::copy_dir(&project, &pristine);
    let out = env.run(&[
        "upgrade",
        project.to_str().unwrap(),
        "--to",
        "2.0.0",
        "--apply",
        "--conflict-style",
        "diff3",
    ]);
    out.expect_code(3);
    assert_eq!(
        read(&env, "pyproject.toml"),
        pyproject_merged(
            "<<<<<<< before updating\nline-length = 120\n||||||| last update\nline-length = 88\n=======\nline-length = 100\n>>>>>>> after updating"
        )
    );

    // The same upgrade with copier's `--conflict rej`, on the project as it was.
    std::fs::remove_dir_all(&project).unwrap();
    common::copy_dir(&pristine, &project);
    let out = env.run(&[
        "upgrade",
        project.to_str().unwrap(),
        "--to",
        "2.0.0",
        "--apply",
        "--conflict",
        "rej",
    ]);
    out.expect_code(3);
    assert!(out.stdout.contains("pyproject.toml.rej"), "{}", out.stdout);
    assert_eq!(
        read(&env, "pyproject.toml"),
        pyproject_merged("line-length = 120")
    );
    assert_eq!(
        read(&env, "pyproject.toml.rej"),
        "diff a/pyproject.toml b/pyproject.toml\t(rejected hunks)
@@ -11,7 +11,7 @@
 ]
 
 [tool.ruff]
-line-length = 120
+line-length = 100
 
 [tool.mypy]
 strict = true
"
    );
    assert_eq!(read(&env, "package.json"), PACKAGE_MERGED);
    assert_eq!(read(&env, ".github/workflows/ci.yml"), CI_MERGED);
}

#[cfg(unix)]
#[test]
fn a_rej_file_is_never_written_through_a_link() {
    let env = edited_project();
    let project = env.path("proj");
    let outside = env.path("outside.txt");
    std::fs::write(&outside, "not yours to write\n").unwrap();
    std::os::unix::fs::symlink(&outside, project.join("pyproject.toml.rej")).unwrap();
    let before = common::snapshot(&project);
    let out = env.run(&[
        "upgrade",
        project.to_str().unwrap(),
        "--to",
        "2.0.0",
        "--apply",
        "--conflict",
        "rej",
    ]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("pyproject.toml.rej is a symlink"),
        "{}",
        out.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&outside).unwrap(),
        "not yours to write\n"
    );
    assert_eq!(common::snapshot(&project), before, "nothing changed");
}
