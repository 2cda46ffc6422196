//! What cookiecutter and copier put in a template's context besides the answers, with the
//! values those tools give, so templates that read them render the same.
//!
//! cookiecutter adds `_template`, `_output_dir`, `_repo_dir` and `_checkout` to its
//! `cookiecutter` dict; copier adds `_copier_conf` (where the template and the project are,
//! the ref, the answers file, the platform), `_copier_answers` (what its answers file holds),
//! `_folder_name`, `_copier_python` and `_copier_phase`.

use serde_json::{Map, Value, json};

use super::manifest::{Flavour, Manifest};

/// The facts of one run that the tools expose.
#[derive(Debug, Clone, Default)]
pub struct Run {
    /// The template as the user named it (`gh:org/repo`, `./tpl`, `name@1.0.0`).
    pub template: String,
    /// Where it comes from as it is recorded (copier's `_src_path`): a folder or a URL.
    pub url: String,
    /// Where the template's files are (a folder, a checkout, the stored source).
    pub src_path: String,
    /// The output folder, absolute (copier's project folder; the folder cookiecutter makes
    /// its project folder in).
    pub dst_path: String,
    /// The ref the user asked for, if any.
    pub vcs_ref: Option<String>,
    /// The commit the template came from, for git sources.
    pub commit: Option<String>,
    /// `git describe --tags --always` of that commit (`v1.2.0-3-gabc1234`), what copier
    /// records as `_commit`; the commit itself when there is none.
    pub commit_description: Option<String>,
    /// copier's operation: `copy` (a generation) or `update` (both sides of an upgrade),
    /// `_copier_operation` to tasks and `_exclude` patterns. `copy` when `None`.
    pub operation: Option<&'static str>,
    /// The answers given on the command line.
    pub given: Map<String, Value>,
    /// Whether `--trust` was passed.
    pub trusted: bool,
    /// Whether `--defaults` was passed.
    pub defaults: bool,
    /// Whether an existing project may be written over.
    pub overwrite: bool,
    /// The Python the template's code should run with (copier's `_copier_python`, its own
    /// interpreter): the one factory runs Python extensions with; `python3` when `None`.
    pub python: Option<String>,
}

impl Run {
    /// A run with no real destination (validation, the two sides of an upgrade): the tool
    /// values are there, with the template's name for its source.
    pub fn preview(origin: &str, given: &Map<String, Value>) -> Run {
        Run {
            template: origin.to_string(),
            url: origin.to_string(),
            src_path: origin.to_string(),
            given: given.clone(),
            defaults: true,
            ..Run::default()
        }
    }
}

/// The values the template's tool adds while answers are asked for (copier's prompt phase).
pub fn tool_values(manifest: &Manifest, run: &Run) -> Map<String, Value> {
    let mut values = Map::new();
    match manifest.flavour() {
        Flavour::Factory => {}
        Flavour::Cookiecutter => {
            // factory's -o is cookiecutter's: the folder the project folder is made in.
            values.insert("_template".into(), json!(run.template));
            values.insert("_output_dir".into(), json!(run.dst_path));
            values.insert("_repo_dir".into(), json!(run.src_path));
            values.insert("_checkout".into(), json!(run.vcs_ref));
        }
        Flavour::Copier => {
            let folder = std::path::Path::new(&run.dst_path)
                .file_name()
                .map_or(String::new(), |n| n.to_string_lossy().into_owned());
            let conf = json!({
                "src_path": run.src_path,
                "dst_path": run.dst_path,
                "answers_file": answers_file(manifest),
                "vcs_ref": run.vcs_ref,
                "vcs_ref_hash": run.commit,
                "data": run.given,
                "defaults": run.defaults,
                "overwrite": run.overwrite,
                "pretend": false,
                "quiet": false,
                "unsafe": run.trusted,
                "skip_tasks": false,
                "skip_answered": false,
                "skip_if_exists": manifest.skip_if_exists,
                "use_prereleases": false,
                "cleanup_on_error": true,
                "sep": std::path::MAIN_SEPARATOR.to_string(),
                "os": platform(),
            });
            values.insert("_copier_conf".into(), conf);
            values.insert("_folder_name".into(), json!(folder));
            values.insert(
                "_copier_python".into(),
                json!(run.python.as_deref().unwrap_or("python3")),
            );
            values.insert("_copier_phase".into(), json!("prompt"));
            values.insert(
                "_copier_operation".into(),
                json!(run.operation.unwrap_or("copy")),
            );
        }
    }
    values
}

/// Once the answers are known: copier's `_copier_answers` (what its answers file records:
/// `_commit`, `_src_path`, then every answer that is not secret, hidden or private) and the
/// render phase.
pub fn after_answers(values: &mut Map<String, Value>, run: &Run, public: &Map<String, Value>) {
    if !values.contains_key("_copier_conf") {
        return;
    }
    values.insert(
        "_copier_answers".into(),
        Value::Object(copier_answers(run, public)),
    );
    values.insert("_copier_phase".into(), json!("render"));
}

/// What copier records about a run in its answers file, in its order.
pub fn copier_answers(run: &Run, public: &Map<String, Value>) -> Map<String, Value> {
    let mut answers = Map::new();
    if let Some(commit) = run.commit_description.as_ref().or(run.commit.as_ref()) {
        answers.insert("_commit".into(), json!(commit));
    }
    answers.insert("_src_path".into(), json!(run.url));
    for (key, value) in public {
        if !key.starts_with('_') {
            answers.insert(key.clone(), value.clone());
        }
    }
    answers
}

/// copier's `_answers_file`, `.copier-answers.yml` unless the template names another (a
/// template over the answers is rendered once they are known: see `answers`).
pub fn answers_file(manifest: &Manifest) -> &str {
    manifest
        .answers_file
        .as_deref()
        .unwrap_or(".copier-answers.yml")
}

/// One of copier's `_external_data` files, `path` relative to the project folder: its YAML,
/// or an empty mapping when it is not there. Read at answer time, as copier reads it; a path
/// leaving the project is refused unless the run is trusted (copier's `ForbiddenPathError`).
pub fn read_external(run: &Run, path: &str) -> Result<Value, String> {
    let project = std::path::Path::new(&run.dst_path);
    // The project folder itself (a path over an answer not given yet): copier reads nothing.
    if path.trim_matches(['/', '.']).is_empty() && !path.starts_with('/') {
        return Ok(json!({}));
    }
    let inside = std::path::Path::new(path).components().all(|c| {
        matches!(
            c,
            std::path::Component::Normal(_) | std::path::Component::CurDir
        )
    });
    if !inside && !run.trusted {
        return Err(format!(
            "\"{path}\" is forbidden: _external_data reads files in the project only; pass --trust if you trust this path"
        ));
    }
    let file = project.join(path);
    match std::fs::read(&file) {
        Ok(bytes) => {
            let text = decode_text(&bytes);
            crate::template::yaml::parse::<Value>(&text, &file.display().to_string())
                .map(|v| if v.is_null() { json!({}) } else { v })
                .map_err(|e| format!("_external_data: {}: {}", e.location(), e.message))
        }
        Err(_) => Ok(json!({})),
    }
}

/// Text in UTF-8 (a byte-order mark dropped) or UTF-16 with its mark, as PyYAML reads it.
fn decode_text(bytes: &[u8]) -> String {
    let utf16 = |le: bool| {
        let units: Vec<u16> = bytes[2..]
            .chunks_exact(2)
            .map(|c| {
                if le {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            })
            .collect();
        String::from_utf16_lossy(&units)
    };
    match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => String::from_utf8_lossy(rest).into_owned(),
        [0xFF, 0xFE, ..] => utf16(true),
        [0xFE, 0xFF, ..] => utf16(false),
        _ => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// copier's names for the platform.
fn platform() -> &'static str {
    match std::env::consts::OS {
        "macos" => "macos",
        "windows" => "windows",
        _ => "linux",
    }
}
