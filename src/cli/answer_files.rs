//! The answers a command line gives in files: `--answers FILE` (with `--set`), and the
//! answers an earlier run recorded (`--last-answers`, `--replay-file`).

use std::path::PathBuf;

use serde_json::{Map, Value};

use crate::app::parse_assignments;
use crate::error::{Error, Result};
use crate::template::yaml;

/// The answers of `--answers FILE` and `--set`, the latter winning.
pub(crate) fn given_answers(file: Option<&PathBuf>, set: &[String]) -> Result<Map<String, Value>> {
    let mut given = Map::new();
    if let Some(file) = file {
        let text = std::fs::read_to_string(file).map_err(|e| Error::io("read", file, e))?;
        let value: Value = yaml::from_str(&text, &file.display().to_string())?;
        match value {
            // A generated project's record: its answers (secrets were never in it).
            Value::Object(mut map)
                if map.contains_key("formatVersion")
                    && map.get("answers").is_some_and(Value::is_object) =>
            {
                if let Some(Value::Object(answers)) = map.remove("answers") {
                    given.extend(answers);
                }
            }
            Value::Object(map) => given.extend(map),
            Value::Null => {}
            _ => {
                return Err(Error::usage(format!(
                    "{} must hold a mapping of answers",
                    file.display()
                ))
                .hint("write one `name: value` line per parameter"));
            }
        }
    }
    parse_assignments(set, &mut given)?;
    Ok(given)
}

/// Answers an earlier run recorded (`--last-answers`, `--replay-file`): a copier answers
/// file, cookiecutter's replay file (`{"cookiecutter": {…}}`), a project's record, or a
/// mapping. Names starting with `_` are the tool's facts of that run (`_template`,
/// `_output_dir`, `_commit`, …) or the template's private values, not answers.
pub(crate) fn recorded_answers(file: &PathBuf) -> Result<Map<String, Value>> {
    let mut answers = given_answers(Some(file), &[])?;
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
