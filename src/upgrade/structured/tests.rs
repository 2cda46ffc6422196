//! The structured merge on a table of cases: each gives the three sides and the exact text
//! (or the conflicting keys) the merge must produce.

use super::{Format, Outcome, merge};

/// What a case must give.
enum Want {
    /// Merged to exactly this text.
    Clean(&'static str),
    /// Conflicts on these keys; yours resolved as you have them reads exactly so.
    Conflict(&'static [&'static str], &'static str),
    /// Left to the line merge.
    Lines,
}

struct Case {
    name: &'static str,
    format: Format,
    base: &'static str,
    ours: &'static str,
    theirs: &'static str,
    want: Want,
}

const PYPROJECT: &str = r#"# Project metadata
[project]
name = "demo"  # the distribution name
version = "0.1.0"
dependencies = [
    "requests>=2",
]

[tool.ruff]
line-length = 88
"#;

const WORKFLOW: &str = "name: CI
on:
  push:
    branches: [main]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      # the tests
      - name: Test
        run: |
          make test
";

const PACKAGE: &str = r#"{
  "name": "demo",
  "version": "1.0.0",
  "scripts": {
    "test": "jest"
  },
  "devDependencies": {
    "jest": "^29.0.0"
  }
}
"#;

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "toml: keys and list entries added on both sides, comments kept",
            format: Format::Toml,
            base: PYPROJECT,
            ours: r#"# Project metadata
[project]
name = "demo"  # the distribution name
version = "0.1.0"
keywords = ["cli"]
dependencies = [
    "requests>=2",
    "click>=8",
]

[tool.ruff]
line-length = 88
"#,
            theirs: r#"# Project metadata
[project]
name = "demo"  # the distribution name
version = "0.1.0"
# Supported interpreters
requires-python = ">=3.9"
dependencies = [
    "requests>=2",
    "rich",
]

[tool.ruff]
line-length = 100

[tool.mypy]
strict = true
"#,
            want: Want::Clean(
                r#"# Project metadata
[project]
name = "demo"  # the distribution name
version = "0.1.0"
keywords = ["cli"]
# Supported interpreters
requires-python = ">=3.9"
dependencies = [
    "requests>=2",
    "click>=8",
    "rich",
]

[tool.ruff]
line-length = 100

[tool.mypy]
strict = true
"#,
            ),
        },
        Case {
            name: "toml: the same key changed twice is a conflict on that key only",
            format: Format::Toml,
            base: PYPROJECT,
            ours: PYPROJECT.replace("0.1.0", "0.2.0").leak(),
            theirs: PYPROJECT
                .replace("0.1.0", "1.0.0")
                .replace("88", "100")
                .leak(),
            want: Want::Conflict(
                &["project.version"],
                r#"# Project metadata
[project]
name = "demo"  # the distribution name
version = "0.2.0"
dependencies = [
    "requests>=2",
]

[tool.ruff]
line-length = 100
"#,
            ),
        },
        Case {
            name: "toml: removed on one side and changed on the other is a conflict",
            format: Format::Toml,
            base: PYPROJECT,
            ours: PYPROJECT
                .replace("\n[tool.ruff]\nline-length = 88\n", "")
                .leak(),
            theirs: PYPROJECT.replace("88", "100").leak(),
            want: Want::Conflict(
                &["tool"],
                r#"# Project metadata
[project]
name = "demo"  # the distribution name
version = "0.1.0"
dependencies = [
    "requests>=2",
]
"#,
            ),
        },
        Case {
            name: "toml: nested tables and arrays of tables",
            format: Format::Toml,
            base: r#"[tool.ruff.lint]
select = ["E", "F"]

[[tool.mypy.overrides]]
module = "a.*"
ignore_missing_imports = true
"#,
            ours: r#"[tool.ruff.lint]
select = ["E", "F"]
ignore = ["E501"]

[[tool.mypy.overrides]]
module = "a.*"
ignore_missing_imports = true

[[tool.mypy.overrides]]
module = "mine.*"
strict = false
"#,
            theirs: r#"[tool.ruff.lint]
select = ["E", "F", "I"]

[[tool.mypy.overrides]]
module = "a.*"
ignore_missing_imports = false
"#,
            want: Want::Clean(
                r#"[tool.ruff.lint]
select = ["E", "F", "I"]
ignore = ["E501"]

[[tool.mypy.overrides]]
module = "a.*"
ignore_missing_imports = false

[[tool.mypy.overrides]]
module = "mine.*"
strict = false
"#,
            ),
        },
        Case {
            name: "toml: your key order, quoting and comments stay where you put them",
            format: Format::Toml,
            base: "[a]\nx = 1\ny = \"two\"\nz = 3\n",
            ours: "[a]\n# mine first\nz = 3\ny = 'two'   # single quotes\nx = 1\n",
            theirs: "[a]\nx = 10\ny = \"two\"\nz = 3\nw = 4\n",
            // `w` follows `z`, the key before it in the template.
            want: Want::Clean(
                "[a]\n# mine first\nz = 3\nw = 4\ny = 'two'   # single quotes\nx = 10\n",
            ),
        },
        Case {
            name: "toml: the same key added on both sides with different values is a conflict, not a duplicate key",
            format: Format::Toml,
            base: "[a]\nx = 1\ny = 2\nz = 3\n",
            ours: "[a]\nw = 1\nx = 1\ny = 2\nz = 3\n",
            theirs: "[a]\nx = 1\ny = 2\nz = 3\nw = 2\n",
            want: Want::Conflict(&["a.w"], "[a]\nw = 1\nx = 1\ny = 2\nz = 3\n"),
        },
        Case {
            name: "yaml: a job added by you beside the template's step change and new env, block style",
            format: Format::Yaml,
            base: WORKFLOW,
            ours: "name: CI
on:
  push:
    branches: [main]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      # the tests
      - name: Test
        run: |
          make test
  # mine: the docs
  docs:
    runs-on: ubuntu-latest
    steps:
      - run: make docs
",
            theirs: "name: CI
on:
  push:
    branches: [main]
env:
  FORCE_COLOR: \"1\"
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      # the tests
      - name: Test
        run: |
          make test
",
            want: Want::Clean(
                "name: CI
on:
  push:
    branches: [main]
env:
  FORCE_COLOR: \"1\"
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      # the tests
      - name: Test
        run: |
          make test
  # mine: the docs
  docs:
    runs-on: ubuntu-latest
    steps:
      - run: make docs
",
            ),
        },
        Case {
            name: "yaml: list entries appended on both sides, flow and block",
            format: Format::Yaml,
            base: WORKFLOW,
            ours: WORKFLOW
                .replace("[main]", "[main, dev]")
                .replace(
                    "          make test\n",
                    "          make test\n      - run: make lint\n",
                )
                .leak(),
            theirs: WORKFLOW
                .replace("[main]", "[main, \"release/*\"]")
                .replace(
                    "          make test\n",
                    "          make test\n      - run: make coverage\n",
                )
                .leak(),
            want: Want::Clean(
                "name: CI
on:
  push:
    branches: [main, dev, \"release/*\"]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      # the tests
      - name: Test
        run: |
          make test
      - run: make lint
      - run: make coverage
",
            ),
        },
        Case {
            name: "yaml: a key inside a list entry changed on both sides differently",
            format: Format::Yaml,
            base: WORKFLOW,
            ours: WORKFLOW.replace("checkout@v4", "checkout@v4.1").leak(),
            theirs: WORKFLOW
                .replace("checkout@v4", "checkout@v5")
                .replace("ubuntu-latest", "ubuntu-24.04")
                .leak(),
            want: Want::Conflict(
                &["jobs.test.steps[0].uses"],
                WORKFLOW
                    .replace("checkout@v4", "checkout@v4.1")
                    .replace("ubuntu-latest", "ubuntu-24.04")
                    .leak(),
            ),
        },
        Case {
            name: "yaml: a block entry replaced keeps the indentation of your file",
            format: Format::Yaml,
            base: "a:\n    b: 1\n    c: 2\n",
            ours: "a:\n    b: 1\n    c: 2\n    mine: x\n",
            theirs: "a:\n    b: 1\n    c:\n        - one\n        - two\n",
            want: Want::Clean("a:\n    b: 1\n    c:\n        - one\n        - two\n    mine: x\n"),
        },
        Case {
            name: "yaml: anchors are left to the line merge",
            format: Format::Yaml,
            base: "a: &x 1\nb: *x\n",
            ours: "a: &x 1\nb: *x\nc: 2\n",
            theirs: "a: &x 2\nb: *x\n",
            want: Want::Lines,
        },
        Case {
            name: "toml: arrays of tables appended on both sides",
            format: Format::Toml,
            base: "[[bin]]\nname = \"a\"\n",
            ours: "[[bin]]\nname = \"a\"\n\n[[bin]]\nname = \"mine\"\n",
            theirs: "[[bin]]\nname = \"a\"\n\n[[bin]]\nname = \"theirs\"\npath = \"t.rs\"\n",
            want: Want::Clean(
                "[[bin]]\nname = \"a\"\n\n[[bin]]\nname = \"mine\"\n\n[[bin]]\nname = \"theirs\"\npath = \"t.rs\"\n",
            ),
        },
        Case {
            name: "yaml: a key the template removed goes with its comment; yours stays",
            format: Format::Yaml,
            base: "a: 1\n# about b\nb: 2\nc: 3\n",
            ours: "a: 1\n# about b\nb: 2\nc: 3\nmine: 4",
            theirs: "a: 1\nc: 3\nnew: 5\n",
            // `new` follows `c` and the key you added after it; your last line gets its line end.
            want: Want::Clean("a: 1\nc: 3\nmine: 4\nnew: 5\n"),
        },
        Case {
            name: "yaml: removed by you and changed by the template is a conflict",
            format: Format::Yaml,
            base: "a: 1\nb: 2\n",
            ours: "a: 1\n",
            theirs: "a: 1\nb: 3\n",
            want: Want::Conflict(&["b"], "a: 1\n"),
        },
        Case {
            name: "yaml: block entries of a mapping inside a list entry",
            format: Format::Yaml,
            base: "steps:\n  - name: a\n    run: x\n",
            ours: "steps:\n  - name: a\n    run: x\n    env: {A: 1}\n",
            theirs: "steps:\n  - name: a\n    run: y\n    shell: bash\n",
            want: Want::Clean(
                "steps:\n  - name: a\n    run: y\n    env: {A: 1}\n    shell: bash\n",
            ),
        },
        Case {
            name: "json: a compact file stays compact",
            format: Format::Json,
            base: "{\"a\":1,\"b\":[1]}",
            ours: "{\"a\":1,\"b\":[1,2]}",
            theirs: "{\"a\":2,\"b\":[1],\"c\":true}",
            want: Want::Clean("{\"a\":2,\"b\":[1,2],\"c\":true}"),
        },
        Case {
            name: "json: keys added on both sides keep the file's two-space indentation",
            format: Format::Json,
            base: PACKAGE,
            ours: r#"{
  "name": "demo",
  "version": "1.0.0",
  "scripts": {
    "test": "jest"
  },
  "devDependencies": {
    "jest": "^29.0.0",
    "eslint": "^9.0.0"
  }
}
"#,
            theirs: r#"{
  "name": "demo",
  "version": "1.0.0",
  "scripts": {
    "test": "jest",
    "lint": "eslint ."
  },
  "devDependencies": {
    "jest": "^30.0.0"
  },
  "engines": {
    "node": ">=20"
  }
}
"#,
            want: Want::Clean(
                r#"{
  "name": "demo",
  "version": "1.0.0",
  "scripts": {
    "test": "jest",
    "lint": "eslint ."
  },
  "devDependencies": {
    "jest": "^30.0.0",
    "eslint": "^9.0.0"
  },
  "engines": {
    "node": ">=20"
  }
}
"#,
            ),
        },
        Case {
            name: "json: a file you reindented to four spaces keeps it",
            format: Format::Json,
            base: "{\n  \"a\": [1, 2],\n  \"b\": {\n    \"c\": true\n  }\n}\n",
            ours: "{\n    \"a\": [1, 2, 3],\n    \"b\": {\n        \"c\": true\n    }\n}\n",
            theirs: "{\n  \"a\": [1, 2],\n  \"b\": {\n    \"c\": true,\n    \"d\": {\n      \"e\": null\n    }\n  }\n}\n",
            want: Want::Clean(
                "{\n    \"a\": [1, 2, 3],\n    \"b\": {\n        \"c\": true,\n        \"d\": {\n            \"e\": null\n        }\n    }\n}\n",
            ),
        },
        Case {
            name: "json: a key removed by the template and unchanged by you goes",
            format: Format::Json,
            base: "{\"a\": 1, \"b\": 2, \"c\": 3}",
            ours: "{\"a\": 1, \"b\": 2, \"c\": 3, \"d\": 4}",
            theirs: "{\"a\": 1, \"c\": 3}",
            want: Want::Clean("{\"a\": 1, \"c\": 3, \"d\": 4}"),
        },
        Case {
            name: "json: the same key changed twice",
            format: Format::Json,
            base: PACKAGE,
            ours: PACKAGE.replace("1.0.0", "1.1.0").leak(),
            theirs: PACKAGE.replace("1.0.0", "2.0.0").leak(),
            want: Want::Conflict(&["version"], PACKAGE.replace("1.0.0", "1.1.0").leak()),
        },
        Case {
            name: "json: a side that does not parse is left to the line merge",
            format: Format::Json,
            base: "{\"a\": 1}",
            ours: "{\"a\": 1,}",
            theirs: "{\"a\": 2}",
            want: Want::Lines,
        },
    ]
}

#[test]
fn structured_merge_cases() {
    let mut failures = Vec::new();
    for case in cases() {
        let got = merge(case.format, Some(case.base), case.ours, case.theirs);
        let ok = match (&case.want, &got) {
            (Want::Clean(want), Some(Outcome::Clean(text))) => want == text,
            (Want::Conflict(keys, ours), Some(Outcome::Conflict { at, ours: text, .. })) => {
                at == keys && ours == text
            }
            (Want::Lines, None) => true,
            _ => false,
        };
        if !ok {
            failures.push(format!("{}:\n{got:#?}", case.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn a_conflict_resolves_three_ways_that_differ_only_at_the_key() {
    let Some(Outcome::Conflict {
        base, ours, theirs, ..
    }) = merge(
        Format::Toml,
        Some(PYPROJECT),
        &PYPROJECT.replace("0.1.0", "0.2.0").replace("88", "100"),
        &PYPROJECT
            .replace("0.1.0", "1.0.0")
            .replace("\"requests>=2\",", "\"requests>=2.3\","),
    )
    else {
        panic!("a conflict")
    };
    let merged = |v: &str| {
        PYPROJECT
            .replace("0.1.0", v)
            .replace("88", "100")
            .replace("\"requests>=2\",", "\"requests>=2.3\",")
    };
    assert_eq!(base, merged("0.1.0"));
    assert_eq!(ours, merged("0.2.0"));
    assert_eq!(theirs, merged("1.0.0"));
}

#[test]
fn both_sides_adding_the_file_merge_from_an_empty_base() {
    let got = merge(
        Format::Yaml,
        None,
        "a: 1\nlist:\n  - x\n",
        "list:\n  - y\nb: 2\n",
    );
    assert_eq!(
        got,
        Some(Outcome::Clean(
            "a: 1\nlist:\n  - x\n  - y\nb: 2\n".to_string()
        ))
    );
}

#[test]
fn deep_nesting_is_left_to_the_line_merge_without_exhausting_the_stack() {
    let deep_json = format!("{}{}", "[".repeat(50_000), "]".repeat(50_000));
    assert_eq!(
        merge(Format::Json, Some(&deep_json), &deep_json, "[]"),
        None
    );
    let deep_yaml = format!("{}1", "- ".repeat(5_000));
    assert_eq!(
        merge(Format::Yaml, Some(&deep_yaml), &deep_yaml, "a: 1\n"),
        None
    );
    let header = vec!["a"; 20_000].join(".");
    let deep_toml = format!("[{header}]\nx = 1\n");
    assert_eq!(
        merge(Format::Toml, Some(&deep_toml), &deep_toml, "x = 2\n"),
        None
    );
}
