//! The bodies of the `fuzz/` targets, here so that they build with the crate on any toolchain
//! and run twice: under libFuzzer (`scripts/fuzz-all`, nightly and cargo-fuzz) and as a
//! deterministic mutation run in `cargo test` (tests/fuzz_targets.rs), which is how CI on a
//! stable-only machine still runs every target against every parser change.
//!
//! Each function takes what libFuzzer hands its target and either returns or panics; a panic is
//! the finding.
#![doc(hidden)]
#![allow(missing_docs)]

use std::sync::OnceLock;

use crate::template::manifest::Manifest;

/// A target taking libFuzzer's raw bytes.
pub type Target = fn(&[u8]);

/// Every target by name, as `cargo fuzz list` names them.
pub const TARGETS: &[(&str, Target)] = &[
    ("answers", |data| with_text(data, answers)),
    ("cookiecutter_json", |data| {
        with_text(data, cookiecutter_json)
    }),
    ("copier_yml", |data| with_text(data, copier_yml)),
    ("envelope", envelope),
    ("manifest", |data| with_text(data, manifest)),
    ("path_rendering", |data| {
        with_text(data, |text| {
            // The split libFuzzer's `(&str, &str)` would make is its own business; any split
            // reaches the same code.
            let (name, value) = text.split_once('\0').unwrap_or((text, ""));
            path_rendering(name, value)
        })
    }),
];

/// The default rendering environment, built once: building it is most of a run's cost.
fn environment() -> &'static minijinja::Environment<'static> {
    static ENVIRONMENT: OnceLock<minijinja::Environment<'static>> = OnceLock::new();
    ENVIRONMENT
        .get_or_init(|| crate::render::environment(&crate::render::Settings::new(None, None)))
}

fn with_text(data: &[u8], target: impl Fn(&str)) {
    if let Ok(text) = std::str::from_utf8(data) {
        target(text);
    }
}

/// `template.yaml`: any text parses to a manifest or a located error, never a panic.
pub fn manifest(text: &str) {
    let _ = Manifest::parse(text, "template.yaml");
}

/// `cookiecutter.json`: any text becomes a manifest or an error.
pub fn cookiecutter_json(text: &str) {
    let paths = [
        "{{cookiecutter.project_slug}}/README.md",
        "hooks/post_gen_project.py",
    ];
    let _ = crate::template::cookiecutter::manifest(text, "fuzzed", &paths);
}

/// `copier.yml`: any text becomes a manifest or an error.
pub fn copier_yml(text: &str) {
    let no_includes = |_: &str| Ok(Vec::new());
    let _ = crate::template::copier::manifest(text, "copier.yml", "fuzzed", &no_includes);
}

/// A line of `events.jsonl`: an envelope with a readable payload, or an error.
pub fn envelope(line: &[u8]) {
    if let Ok(envelope) = crate::events::Envelope::from_line(line) {
        let _ = envelope.event();
        let mut out = Vec::new();
        envelope.write_line(&mut out);
    }
}

const ANSWERS_MANIFEST: &str = r#"name: fuzzed
category: service
parameters:
  - name: name
    default: svc
    pattern: "^[a-z][a-z0-9-]*$"
  - name: port
    type: int
    default: 8080
  - name: ratio
    type: float
    default: 0.5
  - name: tls
    type: bool
    default: true
  - name: tier
    type: choice
    choices: [small, large]
    default: small
  - name: features
    type: multichoice
    choices: [a, b, c]
    default: [a]
  - name: extra
    type: yaml
    default: {}
  - name: slug
    default: "{{ name | slugify }}-{{ port }}"
  - name: token
    secret: true
    default: ""
"#;

/// An `--answers` file against a manifest with every parameter kind: parsed and resolved
/// (defaults rendered, values coerced, validators run) or refused, never a panic.
pub fn answers(text: &str) {
    static PARSED: OnceLock<Manifest> = OnceLock::new();
    let manifest =
        PARSED.get_or_init(|| Manifest::parse(ANSWERS_MANIFEST, "template.yaml").expect("valid"));
    let Ok(serde_json::Value::Object(given)) =
        crate::template::yaml::from_str::<serde_json::Value>(text, "answers.yaml")
    else {
        return;
    };
    let _ = crate::template::answers::resolve(manifest, environment(), &given, true);
}

/// A file name template and a parameter value: rendered (bounded) and checked as a path
/// inside the output. Whatever passes the check must be a relative path with no `..`, no
/// absolute part and no `.git` component.
pub fn path_rendering(name: &str, value: &str) {
    use std::path::{Component, Path};

    let ctx = serde_json::json!({ "dir": value });
    let Ok(rendered) = crate::render::render_str_bounded(
        environment(),
        name,
        minijinja::Value::from(minijinja::value::Serde(&ctx)),
    ) else {
        return;
    };
    if crate::render::paths::check_inside(&rendered).is_ok() {
        let path = Path::new(&rendered);
        assert!(!path.is_absolute(), "{rendered:?}");
        for part in path.components() {
            assert!(matches!(part, Component::Normal(_)), "{rendered:?}");
            let text = part.as_os_str().to_string_lossy();
            assert!(
                !crate::render::paths::is_git_dir_name(&text),
                "{rendered:?}"
            );
            assert_ne!(
                text.to_ascii_lowercase().trim_end_matches([' ', '.']),
                ".git",
                "{rendered:?}"
            );
        }
    }
}
