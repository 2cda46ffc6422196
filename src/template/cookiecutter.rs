//! cookiecutter templates as they are: `cookiecutter.json` mapped to a manifest, so every
//! capability (versions, validation, events, hashes, upgrade) applies to them.
//!
//! The mapping: each variable becomes a parameter in file order (strings and numbers as
//! strings with their default, lists as choices defaulting to the first, booleans as bools);
//! private variables (`_x` raw, `__x` rendered) become hidden parameters that only take their
//! default; templates see everything under `cookiecutter.`; `cookiecutter.json` and `hooks/`
//! are not rendered; `_copy_without_render` globs are copied byte for byte.

use serde_json::{Map, Value};

use super::manifest::{Category, FilesSpec, Manifest, ParamType, Parameter};
use super::yaml::YamlError;

/// The file that marks a cookiecutter template.
pub const CONTEXT_FILE: &str = "cookiecutter.json";

/// The extensions whose filters and globals factory provides.
const BUILT_IN_EXTENSIONS: [&str; 5] = [
    "cookiecutter.extensions.JsonifyExtension",
    "cookiecutter.extensions.RandomStringExtension",
    "cookiecutter.extensions.SlugifyExtension",
    "cookiecutter.extensions.UUIDExtension",
    "cookiecutter.extensions.TimeExtension",
];

fn error(message: String) -> YamlError {
    YamlError {
        origin: CONTEXT_FILE.to_string(),
        line: None,
        column: None,
        message,
    }
}

/// Maps `cookiecutter.json` to a manifest named `name`.
pub fn manifest(text: &str, name: &str) -> Result<Manifest, YamlError> {
    let context: Map<String, Value> = serde_json::from_str(text).map_err(|e| YamlError {
        origin: CONTEXT_FILE.to_string(),
        line: Some(e.line() as u64),
        column: Some(e.column() as u64),
        message: format!("not valid JSON: {e}"),
    })?;
    let mut parameters = Vec::new();
    let mut copy_only = Vec::new();
    for (key, value) in &context {
        let hidden = key.starts_with('_');
        if key == "_copy_without_render" {
            for pattern in value
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                // Patterns are relative to the project folder, which is one level down here.
                copy_only.push(pattern.to_string());
                copy_only.push(format!("*/{pattern}"));
            }
        }
        if key == "_extensions" {
            for extension in value
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if !BUILT_IN_EXTENSIONS.contains(&extension)
                    && extension != "jinja2_time.TimeExtension"
                {
                    return Err(error(format!(
                        "extension `{extension}` is not supported; factory provides cookiecutter's built-in ones ({})",
                        BUILT_IN_EXTENSIONS.join(", ")
                    )));
                }
            }
        }
        let (kind, default, choices) = match value {
            Value::String(s) => (ParamType::String, Value::String(s.clone()), None),
            Value::Number(n) => (ParamType::String, Value::String(n.to_string()), None),
            Value::Bool(b) => (ParamType::Bool, Value::Bool(*b), None),
            Value::Array(items) if hidden => (ParamType::List, Value::Array(items.clone()), None),
            Value::Array(items) if !items.is_empty() => {
                (ParamType::Choice, items[0].clone(), Some(items.clone()))
            }
            Value::Array(_) => {
                return Err(error(format!(
                    "`{key}` is an empty list; a choice needs options"
                )));
            }
            Value::Null => (ParamType::String, Value::String(String::new()), None),
            Value::Object(_) => (ParamType::Yaml, value.clone(), None),
        };
        // `_x` values are taken raw; a raw string that looks like a template stays as it is.
        let default = match (&default, key.starts_with("__")) {
            (Value::String(s), false) if hidden && (s.contains("{{") || s.contains("{%")) => {
                Value::String(s.replace("{{", "{{ '{{' }}").replace("{%", "{{ '{%' }}"))
            }
            _ => default,
        };
        parameters.push(Parameter {
            name: key.clone(),
            kind,
            required: false,
            default: Some(default),
            choices,
            pattern: None,
            min: None,
            max: None,
            help: None,
            prompt: None,
            when: None,
            secret: false,
            hidden,
            ask_when: None,
            validator: None,
        });
    }
    Ok(Manifest {
        name: name.to_string(),
        title: None,
        category: Category::Service,
        description: Some("a cookiecutter template".to_string()),
        owner: None,
        tags: vec!["cookiecutter".to_string()],
        content: None,
        parameters,
        files: FilesSpec {
            exclude: vec![CONTEXT_FILE.to_string(), "hooks".to_string()],
            copy_only,
            when: Vec::new(),
        },
        libraries: Vec::new(),
        tests: Vec::new(),
        compatibility: Vec::new(),
        namespace: Some("cookiecutter".to_string()),
        templates_suffix: None,
        tasks: Vec::new(),
        skip_if_exists: Vec::new(),
        envops: Map::new(),
        answers_file: None,
    })
}
