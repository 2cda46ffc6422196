//! The answers a command line gives in files: `--answers FILE` (with `--set`), and the
//! answers an earlier run recorded (`--last-answers`, `--replay-file`).

use std::path::PathBuf;

use serde_json::{Map, Value};

use crate::app::parse_assignments;
use crate::error::{Error, Result};
use crate::template::yaml;

/// The answers of `--answers FILE` and `--set`, the latter winning.
pub(crate) fn given_answers(file: Option<&PathBuf>, set: &[String]) -> Result<Map<String, Value>> {
    let mut given = match file {
        Some(file) => answers_in(file, yaml::from_str)?,
        None => Map::new(),
    };
    parse_assignments(set, &mut given)?;
    Ok(given)
}

/// The answers a file holds, read by `parse`.
fn answers_in(
    file: &PathBuf,
    parse: fn(&str, &str) -> Result<Value>,
) -> Result<Map<String, Value>> {
    let text = std::fs::read_to_string(file).map_err(|e| Error::io("read", file, e))?;
    match parse(&text, &file.display().to_string())? {
        // A generated project's record: its answers (secrets were never in it).
        Value::Object(mut map)
            if map.contains_key("formatVersion")
                && map.get("answers").is_some_and(Value::is_object) =>
        {
            match map.remove("answers") {
                Some(Value::Object(answers)) => Ok(answers),
                _ => Ok(Map::new()),
            }
        }
        Value::Object(map) => Ok(map),
        Value::Null => Ok(Map::new()),
        _ => Err(
            Error::usage(format!("{} must hold a mapping of answers", file.display()))
                .hint("write one `name: value` line per parameter"),
        ),
    }
}

/// Answers an earlier run recorded (`--last-answers`, `--replay-file`): a copier answers
/// file, cookiecutter's replay file (`{"cookiecutter": {…}}`), a project's record, or a
/// mapping. Names starting with `_` are the tool's facts of that run (`_template`,
/// `_output_dir`, `_commit`, …) or the template's private values, not answers.
pub(crate) fn recorded_answers(file: &PathBuf) -> Result<Map<String, Value>> {
    // copier and cookiecutter wrote these with PyYAML or json: `_commit: 75e7086` is text.
    let mut answers = answers_in(file, yaml::from_pyyaml_str)?;
    if let Some(Value::Object(recorded)) = answers.get("cookiecutter")
        && answers
            .keys()
            .all(|k| k == "cookiecutter" || k == "_cookiecutter")
    {
        answers = recorded.clone();
    }
    answers.retain(|name, _| !name.starts_with('_'));
    Ok(answers)
}
