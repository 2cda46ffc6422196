//! copier templates as they are: `copier.yml` mapped to a manifest. Questions become
//! parameters in file order (short form `name: default` too); `type` str/int/float/bool,
//! `choices` (a list, or labels to values), `multiselect`, `default` (templates over earlier
//! answers), `when` (asked only when it holds, defined either way), `validator`, `secret`,
//! `help`. Settings: `_subdirectory`, `_templates_suffix` (default `.jinja`: only those files are
//! rendered, the suffix dropped), `_exclude` (replacing copier's defaults, as copier does).

use serde_json::{Map, Value};

use super::manifest::{
    Category, CopierType, FilesSpec, Manifest, ParamType, Parameter, Task, TaskCommand,
};
use super::yaml::YamlError;

/// The files that mark a copier template.
pub const CONFIG_FILES: [&str; 2] = ["copier.yml", "copier.yaml"];

/// What copier leaves out unless told otherwise.
const DEFAULT_EXCLUDE: [&str; 8] = [
    "copier.yaml",
    "copier.yml",
    "~*",
    "*.py[co]",
    "__pycache__",
    ".git",
    ".DS_Store",
    ".svn",
];

fn error(origin: &str, message: String) -> YamlError {
    YamlError {
        origin: origin.to_string(),
        line: None,
        column: None,
        message,
    }
}

/// copier's `when`: a template whose rendering copier reads as a truth value (its
/// `cast_to_bool`, applied when asking); `None` for always.
fn when_text(value: &Value) -> Option<String> {
    match value {
        Value::Bool(true) => None,
        Value::Bool(false) | Value::Null => Some("false".to_string()),
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// One `_tasks` entry in any of copier's forms: a command line, an argument list, or a mapping
/// with `command` (either), `working_directory` and `when`.
fn task_of(value: &Value) -> Option<Task> {
    let command_of = |value: &Value| match value {
        Value::String(line) => Some(TaskCommand::Shell(line.clone())),
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()
            .filter(|argv| !argv.is_empty())
            .map(TaskCommand::Argv),
        _ => None,
    };
    match value {
        Value::Object(spec) => Some(Task {
            command: command_of(spec.get("command")?)?,
            working_directory: spec
                .get("working_directory")
                .and_then(Value::as_str)
                .map(str::to_string),
            when: match spec.get("when") {
                None => None,
                Some(Value::Bool(b)) => Some(b.to_string()),
                Some(Value::String(s)) => Some(s.clone()),
                Some(other) => Some(other.to_string()),
            },
        }),
        other => Some(Task {
            command: command_of(other)?,
            working_directory: None,
            when: None,
        }),
    }
}

/// One of copier's `_migrations` as it applies to an update: the task, and the values copier
/// gives it (`_stage`, `_version_from`, … in its context; `STAGE`, `VERSION_FROM`, … in its
/// environment).
#[derive(Debug, Clone)]
pub struct Migration {
    /// What runs (its `when` defaults to `_stage == "after"`, as copier's does).
    pub task: Task,
    /// `version_current` and `version_pep440_current` when the migration names a version.
    pub current: Option<(String, String)>,
}

/// A version of the template in an update: `git describe` of its commit (copier's
/// `_commit`) and that read as PEP 440 (`v1.2.0-3-gabc1234` is `1.2.0.post3+gabc1234`).
pub fn pep440_of_commit(commit: &str) -> Option<pep440_rs::Version> {
    let parse = |text: &str| text.trim().parse::<pep440_rs::Version>().ok();
    // `<tag>-<count>-g<hash>`, as copier reads a described commit.
    let described = regex::Regex::new(r"^(.+)-(\d+)-(g\w+)$").expect("the pattern is valid");
    match described.captures(commit) {
        Some(c) => parse(&format!("{}.post{}+{}", &c[1], &c[2], &c[3])),
        None => parse(commit),
    }
}

/// Whether `copier.yml` (its text) has a migration in copier's older form (`{version,
/// before, after}`), which copier still runs but warns about (a DeprecationWarning).
pub fn has_legacy_migrations(text: &str, origin: &str) -> bool {
    let refuse = |_: &str| -> Result<Vec<(String, String)>, String> { Ok(Vec::new()) };
    let Ok(config) = super::copier_config::load(text, origin, &refuse) else {
        return false;
    };
    config
        .get("_migrations")
        .and_then(Value::as_array)
        .is_some_and(|items| {
            items.iter().any(|item| {
                item.as_object()
                    .is_some_and(|m| m.contains_key("before") || m.contains_key("after"))
            })
        })
}

/// The `_migrations` of `copier.yml` (its text, read from `origin`) that apply to an update
/// from `from` to `to` (copier's `_commit` of each) at `stage` (`before` or `after`),
/// in order. A migration naming a `version` applies when `from < version <= to` (PEP 440);
/// one without applies to every update. None apply when either side is not a version.
pub fn migrations(
    text: &str,
    origin: &str,
    stage: &str,
    from: &str,
    to: &str,
) -> Result<Vec<Migration>, YamlError> {
    let refuse = |pattern: &str| -> Result<Vec<(String, String)>, String> {
        Err(format!(
            "`{pattern}`: the template's other files are not at hand here"
        ))
    };
    let config = super::copier_config::load(text, origin, &refuse)?;
    let (Some(from_version), Some(to_version)) = (pep440_of_commit(from), pep440_of_commit(to))
    else {
        return Ok(Vec::new());
    };
    let bad = |item: &Value| YamlError {
        origin: origin.to_string(),
        line: None,
        column: None,
        message: format!(
            "_migrations: `{item}` is not a migration: use a command, or {{command, version, when, working_directory}}"
        ),
    };
    let delimiter = |key: &str, default: &'static str| {
        config
            .get("_envops")
            .and_then(|e| e.get(key))
            .and_then(Value::as_str)
            .unwrap_or(default)
            .to_string()
    };
    let after_only = format!(
        "{} _stage == \"after\" {}",
        delimiter("variable_start_string", "{{"),
        delimiter("variable_end_string", "}}")
    );
    let applies = |version: &Value| -> Result<Option<(String, String)>, YamlError> {
        let text = match version {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            other => return Err(bad(other)),
        };
        let current = pep440_of_commit(&text).ok_or_else(|| bad(version))?;
        Ok((current > from_version && current <= to_version)
            .then(|| (text.clone(), current.to_string())))
    };
    let mut found = Vec::new();
    for item in config
        .get("_migrations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let legacy = item
            .as_object()
            .filter(|m| m.contains_key("before") || m.contains_key("after"));
        if let Some(legacy) = legacy {
            // The older form: {version, before: [...], after: [...]}, always by version.
            let Some(current) = applies(legacy.get("version").ok_or_else(|| bad(item))?)? else {
                continue;
            };
            for command in legacy
                .get(stage)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let task = task_of(command).ok_or_else(|| bad(command))?;
                found.push(Migration {
                    task,
                    current: Some(current.clone()),
                });
            }
            continue;
        }
        let current = match item.get("version") {
            Some(version) => match applies(version)? {
                Some(current) => Some(current),
                None => continue,
            },
            None => None,
        };
        let mut task = task_of(item).ok_or_else(|| bad(item))?;
        task.when.get_or_insert_with(|| after_only.clone());
        found.push(Migration { task, current });
    }
    Ok(found)
}

/// copier's `_message_before_copy`, `_message_after_copy`, `_message_before_update` and
/// `_message_after_update` of `copier.yml` (its text, read from `origin`), unrendered, by
/// the part of the name after `_message_`; a message that is not text is refused.
pub fn messages(
    text: &str,
    origin: &str,
    include: super::copier_config::Includer<'_>,
) -> Result<Map<String, Value>, YamlError> {
    let config = super::copier_config::load(text, origin, include)?;
    let mut found = Map::new();
    for moment in ["before_copy", "after_copy", "before_update", "after_update"] {
        match config.get(&format!("_message_{moment}")) {
            None | Some(Value::Null) => {}
            Some(Value::String(message)) => {
                found.insert(moment.to_string(), Value::String(message.clone()));
            }
            Some(other) => {
                return Err(error(
                    origin,
                    format!("_message_{moment}: `{other}` is not text"),
                ));
            }
        }
    }
    Ok(found)
}

/// The Jinja extensions copier templates name that factory has built in.
const PROVIDED_EXTENSIONS: [&str; 6] = [
    "jinja2_time.TimeExtension",
    "jinja2_ansible_filters.AnsibleCoreFiltersExtension",
    "cookiecutter.extensions.JsonifyExtension",
    "cookiecutter.extensions.SlugifyExtension",
    "cookiecutter.extensions.UUIDExtension",
    "cookiecutter.extensions.TimeExtension",
];

/// Maps `copier.yml` (text read from `origin`, `!include`s read through `include`) to a
/// manifest named `name`.
pub fn manifest(
    text: &str,
    origin: &str,
    name: &str,
    include: super::copier_config::Includer<'_>,
) -> Result<Manifest, YamlError> {
    let config = super::copier_config::load(text, origin, include)?;
    manifest_of_config(&config, origin, name)
}

/// What copier makes of a folder without `copier.yml`: a template without questions.
pub fn bare_manifest(name: &str) -> Manifest {
    manifest_of_config(&Map::new(), CONFIG_FILES[0], name)
        .expect("an empty configuration is a valid one")
}

fn manifest_of_config(
    config: &Map<String, Value>,
    origin: &str,
    name: &str,
) -> Result<Manifest, YamlError> {
    let mut parameters = Vec::new();
    // copier's rule: the template's `_exclude` replaces the defaults, which apply only to a
    // template rendered from its root (no `_subdirectory`).
    let mut exclude: Option<Vec<String>> = None;
    let mut content = None;
    let mut suffix = Some(".jinja".to_string());
    let mut tasks = Vec::new();
    let mut skip_if_exists = Vec::new();
    // copier renders with Jinja2's default (lenient) Undefined unless `_envops.undefined`
    // names StrictUndefined.
    let mut envops = Map::new();
    envops.insert("undefined".into(), Value::String("jinja2.Undefined".into()));
    let mut answers_file = None;
    let mut python_extensions = Vec::new();
    let mut preserve_symlinks = false;
    let mut external_data = Vec::new();
    let secret_names: Vec<String> = config
        .get("_secret_questions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    for (key, value) in config {
        match key.as_str() {
            "_subdirectory" => content = value.as_str().map(str::to_string),
            "_templates_suffix" => suffix = value.as_str().map(str::to_string),
            "_tasks" => {
                for task in value.as_array().into_iter().flatten() {
                    tasks.push(task_of(task).ok_or_else(|| YamlError {
                        origin: origin.to_string(),
                        line: None,
                        column: None,
                        message: format!(
                            "_tasks: `{task}` is not a command: use a string, a list of arguments, or {{command, working_directory, when}}"
                        ),
                    })?);
                }
            }
            "_envops" => envops.extend(value.as_object().cloned().unwrap_or_default()),
            "_answers_file" => answers_file = value.as_str().map(str::to_string),
            "_preserve_symlinks" => preserve_symlinks = value.as_bool().unwrap_or(false),
            "_skip_if_exists" => skip_if_exists.extend(
                value
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_string),
            ),
            "_exclude" => {
                exclude = Some(
                    value
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect(),
                );
            }
            "_jinja_extensions" => {
                // What factory provides itself is built in; anything else is the template's
                // own Python (or a package's), which only runs with --trust.
                python_extensions = value
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .filter(|e| !PROVIDED_EXTENSIONS.contains(e))
                    .map(str::to_string)
                    .collect();
            }
            "_external_data" => {
                for (name, path) in value.as_object().into_iter().flatten() {
                    let path = path.as_str().ok_or_else(|| {
                        error(
                            origin,
                            format!(
                                "_external_data: `{name}` names no file (a path, templated or not)"
                            ),
                        )
                    })?;
                    external_data.push((name.clone(), path.to_string()));
                }
            }
            k if k.starts_with('_') => {}
            _ => parameters.push(question(key, value, origin, &secret_names)?),
        }
    }
    let at_root = content
        .as_deref()
        .is_none_or(|c| c.trim_matches('/').is_empty() || c == ".");
    let exclude = exclude.unwrap_or_else(|| {
        if at_root {
            DEFAULT_EXCLUDE.iter().map(|s| s.to_string()).collect()
        } else {
            Vec::new()
        }
    });
    let manifest = Manifest {
        name: name.to_string(),
        title: None,
        category: Category::Service,
        description: Some("a copier template".to_string()),
        owner: None,
        tags: vec!["copier".to_string()],
        content,
        parameters,
        files: FilesSpec {
            exclude,
            copy_only: Vec::new(),
            when: Vec::new(),
        },
        libraries: Vec::new(),
        tests: Vec::new(),
        compatibility: Vec::new(),
        namespace: None,
        // copier's loader looks names up from the template's root, whatever `_subdirectory`.
        search_path: vec![String::new()],
        templates_suffix: suffix,
        tasks,
        skip_if_exists,
        envops,
        answers_file,
        python_extensions,
        preserve_symlinks,
        external_data,
    };
    for param in &manifest.parameters {
        if let Some(text) = param.type_template.as_deref()
            && !manifest.is_template_text(text)
        {
            let message = unsupported_type(text, &param.name);
            return Err(error(
                origin,
                format!("question `{}`: {message}", param.name),
            ));
        }
    }
    Ok(manifest)
}

/// copier's per-choice validators: the value and the template that may disable it.
pub type ChoiceValidators = Vec<(Value, String)>;

/// copier's choices: a list of values or of `[label, value]` pairs, or labels to values; each
/// value plain or `{value, validator}` (a choice the validator's message disables). The
/// values, and the validators by value.
pub fn choices_of(spec: &Value) -> Result<(Vec<Value>, ChoiceValidators), String> {
    let mut validators = Vec::new();
    // A `{value: null}` form is its label, as a null value is (questionary's Choice).
    let mut value_of = |label: &Value, choice: &Value| -> Result<Value, String> {
        match choice {
            Value::Object(form) => {
                let value = match form.get("value") {
                    Some(Value::Null) => label.clone(),
                    Some(value) => value.clone(),
                    None => return Err("Property 'value' is required".into()),
                };
                match form.get("validator") {
                    None => {}
                    Some(Value::String(validator)) => {
                        validators.push((value.clone(), validator.clone()));
                    }
                    Some(_) => return Err("Property 'validator' must be a string".into()),
                }
                Ok(value)
            }
            other => Ok(other.clone()),
        }
    };
    let values = match spec {
        // A choice without a value (`label: null`) is its label, as questionary makes it.
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::Array(pair) if pair.len() == 2 && pair[1].is_null() => Ok(pair[0].clone()),
                Value::Array(pair) if pair.len() == 2 => value_of(&pair[0], &pair[1]),
                other => Ok(other.clone()),
            })
            .collect::<Result<Vec<_>, _>>()?,
        Value::Object(labels) => labels
            .iter()
            .map(|(label, value)| match value {
                Value::Null => Ok(Value::String(label.clone())),
                value => value_of(&Value::String(label.clone()), value),
            })
            .collect::<Result<Vec<_>, _>>()?,
        Value::Null => Vec::new(),
        other => {
            return Err(format!(
                "choices `{other}` are not a list or a mapping of labels to values"
            ));
        }
    };
    Ok((values, validators))
}

fn question(
    key: &str,
    value: &Value,
    origin: &str,
    secret_names: &[String],
) -> Result<Parameter, YamlError> {
    // copier's rule: a question is a mapping of its properties; anything else is its default.
    let spec = match value {
        Value::Object(map) => map.clone(),
        short => {
            let mut map = Map::new();
            map.insert("default".into(), short.clone());
            map
        }
    };
    let bad = |message: String| error(origin, format!("question `{key}`: {message}"));
    let default = spec.get("default").cloned();
    let (choices, choice_validators, choices_template) = match spec.get("choices") {
        Some(Value::String(text)) => (Some(Vec::new()), Vec::new(), Some(text.clone())),
        Some(Value::Null) | None => (None, Vec::new(), None),
        Some(other) => {
            let (choices, validators) = choices_of(other).map_err(bad)?;
            (Some(choices), validators, None)
        }
    };
    let choices = choices.filter(|c| !c.is_empty() || choices_template.is_some());
    let multiselect = spec
        .get("multiselect")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let declared = match spec.get("type") {
        Some(Value::String(name)) if !name.is_empty() => Some(name.as_str()),
        Some(Value::String(_)) | None => None,
        Some(other) => return Err(bad(format!("Unsupported type `{other}`"))),
    };
    // A type that names none may be a template over earlier answers, rendered when the
    // question comes (checked to be one once the template's delimiters are known).
    let type_template = declared.filter(|name| named_type(name).is_none());
    // copier's type: the one declared, else the default's (`yaml` for anything else,
    // a question without a default included).
    let copier_type = match declared.and_then(named_type) {
        Some(named) => named,
        None => match &default {
            Some(Value::Bool(_)) => CopierType::Bool,
            Some(Value::Number(n)) if n.is_i64() || n.is_u64() => CopierType::Int,
            Some(Value::Number(_)) => CopierType::Float,
            Some(Value::String(_)) => CopierType::Str,
            _ => CopierType::Yaml,
        },
    };
    let kind = kind_of(copier_type, choices.is_some(), multiselect);
    let validator = match spec.get("validator") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(text.clone()),
        Some(other) => {
            return Err(bad(format!(
                "validator `{other}` is not a string: copier takes a template that renders an error message, or nothing"
            )));
        }
    };
    let secret = spec
        .get("secret")
        .is_some_and(super::copier_values::cast_to_bool)
        || secret_names.iter().any(|n| n == key);
    if secret && default.is_none() {
        return Err(bad("Secret question requires a default value".into()));
    }
    Ok(Parameter {
        name: key.to_string(),
        kind,
        required: default.is_none(),
        default,
        choices,
        pattern: None,
        min: None,
        max: None,
        help: spec.get("help").and_then(Value::as_str).map(str::to_string),
        prompt: None,
        when: None,
        secret,
        // `ask: false`: never asked, the default taken (and recorded), as copier does.
        hidden: spec.get("ask").is_some_and(|ask| {
            ask == &Value::Bool(false)
                || ask.as_str().is_some_and(|s| {
                    matches!(
                        s.trim().to_ascii_lowercase().as_str(),
                        "false" | "no" | "n" | "off" | "0" | ""
                    )
                })
        }),
        ask_when: spec.get("when").and_then(when_text),
        validator,
        choice_validators,
        copier_type: Some(copier_type),
        choices_template,
        disabled_choices: Vec::new(),
        type_template: type_template.map(str::to_string),
        asking: asking_of(&spec, declared.filter(|_| type_template.is_none()), kind),
    })
}

/// copier's type called `name`, if it is one.
fn named_type(name: &str) -> Option<CopierType> {
    Some(match name {
        "str" => CopierType::Str,
        "int" => CopierType::Int,
        "float" => CopierType::Float,
        "bool" => CopierType::Bool,
        "yaml" => CopierType::Yaml,
        "json" => CopierType::Json,
        "path" => CopierType::Path,
        _ => return None,
    })
}

/// The kind of question a copier type makes, with choices or without.
fn kind_of(copier_type: CopierType, choices: bool, multiselect: bool) -> ParamType {
    match (copier_type, choices) {
        (_, true) if multiselect => ParamType::Multichoice,
        (_, true) => ParamType::Choice,
        (CopierType::Str | CopierType::Path, _) => ParamType::String,
        (CopierType::Int, _) => ParamType::Int,
        (CopierType::Float, _) => ParamType::Float,
        (CopierType::Bool, _) => ParamType::Bool,
        (CopierType::Yaml | CopierType::Json, _) => ParamType::Yaml,
    }
}

/// `param` once its templated `type` rendered to `name`: of that type, as copier takes it,
/// or refused in copier's words when `name` is no type's.
pub fn typed_as(param: &Parameter, name: &str) -> Result<Parameter, String> {
    let copier_type = named_type(name).ok_or_else(|| unsupported_type(name, &param.name))?;
    let multiselect = param.kind == ParamType::Multichoice;
    let mut typed = param.clone();
    typed.copier_type = Some(copier_type);
    typed.kind = kind_of(copier_type, param.choices.is_some(), multiselect);
    typed.asking.type_name = Some(name.to_string());
    typed.type_template = None;
    Ok(typed)
}

/// copier's words for a type it does not have, which scripts read.
fn unsupported_type(name: &str, question: &str) -> String {
    format!("Unsupported type \"{name}\" in question \"{question}\"")
}

/// The label copier shows for each of `choices` (a list, `[label, value]` pairs, or labels
/// to values).
pub fn labels_of(choices: &Value) -> Vec<String> {
    let label = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match choices {
        Value::Object(labels) => labels.keys().cloned().collect(),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::Array(pair) if pair.len() == 2 => label(&pair[0]),
                other => label(other),
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// How copier puts a question: the type name it shows, choice labels, `multiline`,
/// `placeholder` and `qmark`.
fn asking_of(
    spec: &Map<String, Value>,
    declared: Option<&str>,
    kind: ParamType,
) -> crate::template::manifest::Asking {
    let type_name = match (declared, kind) {
        (Some(declared), _) => declared,
        (None, ParamType::Bool) => "bool",
        (None, ParamType::Int) => "int",
        (None, ParamType::Float) => "float",
        (None, ParamType::Yaml) => "yaml",
        (None, _) => match spec.get("default") {
            None | Some(Value::String(_)) => "str",
            Some(Value::Bool(_)) => "bool",
            Some(Value::Number(n)) if n.is_f64() => "float",
            Some(Value::Number(_)) => "int",
            Some(_) => "yaml",
        },
    };
    let labels = spec.get("choices").map(labels_of).unwrap_or_default();
    let text = |key: &str| {
        spec.get(key).and_then(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(if *b { "true" } else { "false" }.to_string()),
            Value::Null => None,
            other => Some(other.to_string()),
        })
    };
    crate::template::manifest::Asking {
        style: crate::template::manifest::AskStyle::Copier,
        type_name: Some(type_name.to_string()),
        labels,
        multiline: text("multiline"),
        placeholder: text("placeholder"),
        qmark: text("qmark"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_read_as_text_and_anything_else_is_refused() {
        let found = messages(
            "_message_before_copy: Hi {{ x }}\n_message_after_update: |\n  Done\nx: 1\n",
            "copier.yml",
            &|_| Ok(Vec::new()),
        )
        .unwrap();
        assert_eq!(found["before_copy"], "Hi {{ x }}");
        assert_eq!(found["after_update"], "Done\n");
        assert_eq!(found.len(), 2);
        let refused = messages(
            "_message_after_copy: 3\n",
            "copier.yml",
            &|_| Ok(Vec::new()),
        )
        .unwrap_err();
        assert!(
            refused
                .message
                .contains("_message_after_copy: `3` is not text")
        );
    }

    #[test]
    fn a_described_commit_reads_as_copier_reads_it() {
        let version = |c: &str| pep440_of_commit(c).map(|v| v.to_string());
        assert_eq!(version("v1.2.0").as_deref(), Some("1.2.0"));
        assert_eq!(
            version("v1.2.0-3-gabc1234").as_deref(),
            Some("1.2.0.post3+gabc1234")
        );
        assert_eq!(version("abc1234"), None);
    }

    #[test]
    fn migrations_apply_between_the_two_versions_at_their_stage() {
        let config = r#"
_migrations:
  - version: v1.1.0
    command: one
  - version: v1.3.0
    command: too new
  - version: v1.0.0
    command: already done
  - every update
  - command: [echo, before]
    when: "{{ _stage == 'before' }}"
  - version: v1.2.0
    before: [legacy-before]
    after: [legacy-after]
"#;
        let named = |stage: &str| -> Vec<(String, Option<String>)> {
            migrations(config, "copier.yml", stage, "v1.0.0", "v1.2.0-1-gabc1234")
                .unwrap()
                .into_iter()
                .map(|m| (m.task.to_string(), m.current.map(|c| c.0)))
                .collect()
        };
        let after = named("after");
        assert_eq!(
            after,
            [
                ("one".to_string(), Some("v1.1.0".to_string())),
                ("every update".to_string(), None),
                ("echo before".to_string(), None),
                ("legacy-after".to_string(), Some("v1.2.0".to_string())),
            ]
        );
        // The new form is chosen by its `when` as it runs; the old form by its stage here.
        assert_eq!(named("before").last().unwrap().0, "legacy-before");
        let every = migrations(config, "copier.yml", "after", "v1.0.0", "v1.2.0").unwrap();
        assert_eq!(
            every[1].task.when.as_deref(),
            Some("{{ _stage == \"after\" }}")
        );
        // Versions that are not versions: nothing applies, as in copier.
        assert!(
            migrations(config, "copier.yml", "after", "abc1234", "v1.2.0")
                .unwrap()
                .is_empty()
        );
    }
}
