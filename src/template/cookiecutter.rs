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

/// The folder that cookiecutter renders: the first top-level folder of `paths` (the
/// template's files) whose name holds `cookiecutter`, `{{` and `}}`.
fn project_folder<'p>(paths: &[&'p str]) -> Option<&'p str> {
    paths
        .iter()
        .filter_map(|path| path.split_once('/').map(|(top, _)| top))
        .find(|top| top.contains("cookiecutter") && top.contains("{{") && top.contains("}}"))
}

/// A JSON error as Python's `json` module words it (`Expecting ':' delimiter: line 1
/// column 20 (char 19)`): cookiecutter shows that text, and scripts read it.
fn python_json_error(e: &serde_json::Error, text: &str) -> String {
    let said = e.to_string();
    let what = said.split(" at line ").next().unwrap_or(&said);
    let python = match what {
        "expected `:`" => "Expecting ':' delimiter",
        "expected `,` or `}`" | "expected `,` or `]`" => "Expecting ',' delimiter",
        "key must be a string" | "trailing comma" => {
            "Expecting property name enclosed in double quotes"
        }
        "trailing characters" => "Extra data",
        "invalid escape" => "Invalid \\escape",
        w if w.starts_with("control character") => "Invalid control character at",
        w if w.starts_with("EOF while parsing a string") => "Unterminated string starting at",
        _ => "Expecting value",
    };
    // Python counts characters from the start of the text, 0-based, and columns from 1.
    let chars: Vec<char> = text.chars().collect();
    let before: usize = text
        .split_inclusive('\n')
        .take(e.line().saturating_sub(1))
        .map(|l| l.chars().count())
        .sum();
    let mut char = (before + e.column().saturating_sub(1)).min(chars.len());
    if python.starts_with("Unterminated") {
        // Python points at the quote that opened the string.
        char = chars[..char]
            .iter()
            .rposition(|c| *c == '"')
            .unwrap_or(char);
    }
    let line = 1 + chars[..char].iter().filter(|c| **c == '\n').count();
    let column = char
        - chars[..char]
            .iter()
            .rposition(|c| *c == '\n')
            .map_or(0, |i| i + 1)
        + 1;
    format!("{python}: line {line} column {column} (char {char})")
}

/// Maps `cookiecutter.json` to a manifest named `name`, for a template with the files at
/// `paths` (sorted): only its project folder is rendered, as cookiecutter does.
pub fn manifest(text: &str, name: &str, paths: &[&str]) -> Result<Manifest, YamlError> {
    let context: Map<String, Value> = serde_json::from_str(text).map_err(|e| YamlError {
        origin: CONTEXT_FILE.to_string(),
        line: Some(e.line() as u64),
        column: Some(e.column() as u64),
        message: format!("not valid JSON: {}", python_json_error(&e, text)),
    })?;
    let mut parameters = Vec::new();
    let mut dictionaries = Vec::new();
    let mut copy_only = Vec::new();
    let mut python_extensions = Vec::new();
    // cookiecutter passes `_jinja2_env_vars` to its Jinja2 environment as keyword arguments.
    let mut envops = Map::new();
    for (key, value) in &context {
        if key == "_jinja2_env_vars" {
            envops = value.as_object().cloned().ok_or_else(|| {
                error(format!(
                    "`_jinja2_env_vars` is {value}: cookiecutter expects a mapping of Jinja2 environment options"
                ))
            })?;
        }
        let hidden = key.starts_with('_');
        if key == "_copy_without_render" {
            for pattern in value
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                // Patterns are relative to the project folder, the content folder.
                copy_only.push(pattern.to_string());
            }
        }
        if key == "_extensions" {
            // Built-in ones are factory's own; the rest (a template's `local_extensions`
            // module, a package's) are Python, run only with --trust.
            python_extensions.extend(
                value
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .filter(|e| {
                        !BUILT_IN_EXTENSIONS.contains(e) && *e != "jinja2_time.TimeExtension"
                    })
                    .map(str::to_string),
            );
        }
        let raw = hidden && !key.starts_with("__");
        // cookiecutter renders every value but `_x` ones, and what it renders inside lists and
        // dictionaries it first turns into a string (numbers included).
        let value = if raw {
            escape_templates(value)
        } else {
            stringify_numbers(value)
        };
        let (kind, default, choices) = match value {
            Value::String(s) => (ParamType::String, Value::String(s), None),
            Value::Number(n) => (ParamType::String, Value::String(n.to_string()), None),
            Value::Bool(b) => (ParamType::Bool, Value::Bool(b), None),
            Value::Array(items) if hidden => (ParamType::List, Value::Array(items), None),
            Value::Array(items) if !items.is_empty() => {
                (ParamType::Choice, items[0].clone(), Some(items))
            }
            Value::Array(_) => {
                return Err(error(format!(
                    "`{key}` is an empty list; a choice needs options"
                )));
            }
            Value::Null => (ParamType::String, Value::String(String::new()), None),
            Value::Object(map) => (ParamType::Yaml, Value::Object(map), None),
        };
        // Dictionaries are asked after every other variable, so they may use any of them.
        let target = if kind == ParamType::Yaml && !hidden {
            &mut dictionaries
        } else {
            &mut parameters
        };
        target.push(Parameter {
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
            choice_validators: Vec::new(),
            copier_type: None,
            disabled_choices: Vec::new(),
            choices_template: None,
            type_template: None,
            asking: crate::template::manifest::Asking {
                style: crate::template::manifest::AskStyle::Cookiecutter,
                ..Default::default()
            },
        });
    }
    parameters.append(&mut dictionaries);
    let Some(project) = project_folder(paths) else {
        return Err(error(
            "no project folder: cookiecutter renders a folder beside cookiecutter.json named \
             like `{{cookiecutter.project_slug}}`; add one with the files to generate"
                .to_string(),
        ));
    };
    // The project folder is the content folder (a template over the answers, rendered once
    // they are known): what is beside it (cookiecutter.json, hooks/, templates/ for
    // includes, the repository's README) stays out of the output, and `-o` is the folder the
    // project folder is made in, as in cookiecutter.
    let exclude: Vec<String> = Vec::new();
    Ok(Manifest {
        name: name.to_string(),
        title: None,
        category: Category::Service,
        description: Some("a cookiecutter template".to_string()),
        owner: None,
        tags: vec!["cookiecutter".to_string()],
        content: Some(project.to_string()),
        parameters,
        files: FilesSpec {
            exclude,
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
        envops,
        answers_file: None,
        python_extensions,
        preserve_symlinks: false,
        // Names are looked up in the project folder (the content), then in `templates/`.
        search_path: vec!["templates".to_string()],
        external_data: Vec::new(),
    })
}

/// A raw (`_x`) value with every template in its strings escaped, so it reaches templates as
/// written.
fn escape_templates(value: &Value) -> Value {
    match value {
        Value::String(s) if super::params::is_template_text(s) => {
            Value::String(s.replace("{{", "{{ '{{' }}").replace("{%", "{{ '{%' }}"))
        }
        Value::Array(items) => Value::Array(items.iter().map(escape_templates).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), escape_templates(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A value with the numbers inside its lists and dictionaries turned into strings, as
/// cookiecutter's `render_variable` does before rendering them, and `{% now %}` tags made
/// calls.
fn stringify_numbers(value: &Value) -> Value {
    let inner = |v: &Value| match v {
        Value::Number(n) => Value::String(n.to_string()),
        other => stringify_numbers(other),
    };
    match value {
        // jinja2-time's `{% now %}` works in values too.
        Value::String(s) => Value::String(crate::template::syntax::preprocess(s).into_owned()),
        Value::Array(items) => Value::Array(items.iter().map(inner).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), inner(v))).collect())
        }
        other => other.clone(),
    }
}
