//! copier templates as they are: `copier.yml` mapped to a manifest. Questions become
//! parameters in file order (short form `name: default` too); `type` str/int/float/bool,
//! `choices` (a list, or labels to values), `multiselect`, `default` (templates over earlier
//! answers), `when` (asked only when it holds, defined either way), `validator`, `secret`,
//! `help`. Settings: `_subdirectory`, `_templates_suffix` (default `.jinja`: only those files are
//! rendered, the suffix dropped), `_exclude` (replacing copier's defaults, as copier does).

use serde_json::{Map, Value};

use super::manifest::{Category, FilesSpec, Manifest, ParamType, Parameter, Task, TaskCommand};
use super::yaml::{self, YamlError};

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
    let config: Map<String, Value> = yaml::parse(text, origin)?;
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

/// The Jinja extensions copier templates name that factory has built in.
const PROVIDED_EXTENSIONS: [&str; 6] = [
    "jinja2_time.TimeExtension",
    "jinja2_ansible_filters.AnsibleCoreFiltersExtension",
    "cookiecutter.extensions.JsonifyExtension",
    "cookiecutter.extensions.SlugifyExtension",
    "cookiecutter.extensions.UUIDExtension",
    "cookiecutter.extensions.TimeExtension",
];

/// Maps `copier.yml` (text read from `origin`) to a manifest named `name`.
pub fn manifest(text: &str, origin: &str, name: &str) -> Result<Manifest, YamlError> {
    let config: Map<String, Value> = yaml::parse(text, origin)?;
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
    for (key, value) in &config {
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
            k if k.starts_with('_') => {}
            _ => parameters.push(question(key, value, origin)?),
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
    Ok(Manifest {
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
    })
}

fn question(key: &str, value: &Value, origin: &str) -> Result<Parameter, YamlError> {
    let spec = match value {
        Value::Object(map)
            if [
                "type",
                "default",
                "help",
                "choices",
                "when",
                "validator",
                "secret",
                "multiselect",
                "ask",
            ]
            .iter()
            .any(|k| map.contains_key(*k)) =>
        {
            map.clone()
        }
        short => {
            let mut map = Map::new();
            map.insert("default".into(), short.clone());
            map
        }
    };
    let default = spec.get("default").cloned();
    let declared = spec.get("type").and_then(Value::as_str);
    // `label: value`, or `label: {value: …, validator: …}` (a choice that may be refused).
    let mut choice_validators = Vec::new();
    let choices = match spec.get("choices") {
        // `[label, value]` pairs give their value.
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .map(|item| match item {
                    Value::Array(pair) if pair.len() == 2 => pair[1].clone(),
                    other => other.clone(),
                })
                .collect(),
        ),
        Some(Value::Object(labels)) => Some(
            labels
                .values()
                .map(|choice| match choice {
                    Value::Object(form) if form.contains_key("value") => {
                        let value = form["value"].clone();
                        if let Some(validator) = form.get("validator").and_then(Value::as_str) {
                            choice_validators.push((value.clone(), validator.to_string()));
                        }
                        value
                    }
                    other => other.clone(),
                })
                .collect(),
        ),
        _ => None,
    };
    let multiselect = spec
        .get("multiselect")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let kind = match (declared, &default, &choices) {
        (_, _, Some(_)) if multiselect => ParamType::Multichoice,
        (_, _, Some(_)) => ParamType::Choice,
        (Some("str"), ..) => ParamType::String,
        (Some("int"), ..) => ParamType::Int,
        (Some("float"), ..) => ParamType::Float,
        (Some("bool"), ..) => ParamType::Bool,
        (Some("yaml" | "json"), ..) => ParamType::Yaml,
        (Some(other), ..) => {
            return Err(error(
                origin,
                format!("question `{key}` has an unknown type `{other}`"),
            ));
        }
        (None, Some(Value::Bool(_)), _) => ParamType::Bool,
        (None, Some(Value::Number(n)), _) if n.is_i64() || n.is_u64() => ParamType::Int,
        (None, Some(Value::Number(_)), _) => ParamType::Float,
        (None, Some(Value::Array(_) | Value::Object(_)), _) => ParamType::Yaml,
        (None, ..) => ParamType::String,
    };
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
        // copier reads YAML 1.1, where `yes` and `on` are true.
        secret: spec.get("secret").is_some_and(|v| {
            v.as_bool().unwrap_or_else(|| {
                v.as_str().is_some_and(|s| {
                    matches!(s.to_ascii_lowercase().as_str(), "yes" | "y" | "on" | "true")
                })
            })
        }),
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
        validator: spec
            .get("validator")
            .and_then(Value::as_str)
            .map(str::to_string),
        choice_validators,
        asking: asking_of(&spec, declared, kind),
    })
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
    let label = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let labels = match spec.get("choices") {
        Some(Value::Object(labels)) => labels.keys().cloned().collect(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::Array(pair) if pair.len() == 2 => label(&pair[0]),
                other => label(other),
            })
            .collect(),
        _ => Vec::new(),
    };
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
