//! `template.yaml` (DESIGN.md section 5): what a template is, asks, renders and requires.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::yaml::{self, YamlError};

/// The manifest's file name.
pub const MANIFEST_FILE: &str = "template.yaml";

/// What kind of thing a template makes; `service` when the manifest does not say.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// A deployable service (the default).
    #[default]
    Service,
    /// A reusable library.
    Library,
    /// An API client.
    Client,
    /// A micro front end.
    Mfe,
    /// A SaaS solution.
    Saas,
    /// Documentation.
    Documentation,
    /// Platform infrastructure.
    Platform,
}

impl Category {
    /// Every category, in the order DESIGN.md lists them.
    pub const ALL: [&'static str; 7] = [
        "service",
        "library",
        "client",
        "mfe",
        "saas",
        "documentation",
        "platform",
    ];

    /// The category's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Service => "service",
            Category::Library => "library",
            Category::Client => "client",
            Category::Mfe => "mfe",
            Category::Saas => "saas",
            Category::Documentation => "documentation",
            Category::Platform => "platform",
        }
    }
}

/// A parameter's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ParamType {
    /// Text.
    #[default]
    String,
    /// true or false.
    Bool,
    /// A whole number.
    Int,
    /// A number.
    Float,
    /// One of `choices`.
    Choice,
    /// Any number of `choices`.
    Multichoice,
    /// A list of strings.
    List,
    /// Any YAML or JSON value: a mapping, a list, a scalar (copier's `yaml`/`json`,
    /// cookiecutter's dict variables).
    Yaml,
}

impl ParamType {
    /// The type's name as written in manifests.
    pub fn as_str(self) -> &'static str {
        match self {
            ParamType::String => "string",
            ParamType::Bool => "bool",
            ParamType::Int => "int",
            ParamType::Float => "float",
            ParamType::Choice => "choice",
            ParamType::Multichoice => "multichoice",
            ParamType::List => "list",
            ParamType::Yaml => "yaml",
        }
    }
}

/// One question a template asks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Parameter {
    /// Identifier used in templates.
    pub name: String,
    /// The answer's type.
    #[serde(rename = "type", default)]
    pub kind: ParamType,
    /// Whether an answer must be given (or defaulted).
    #[serde(default)]
    pub required: bool,
    /// A literal default, or a template expression over earlier answers.
    #[serde(default)]
    pub default: Option<Value>,
    /// The allowed values of `choice` and `multichoice`.
    #[serde(default)]
    pub choices: Option<Vec<Value>>,
    /// A regular expression string answers must match.
    #[serde(default)]
    pub pattern: Option<String>,
    /// Smallest allowed number.
    #[serde(default)]
    pub min: Option<f64>,
    /// Largest allowed number.
    #[serde(default)]
    pub max: Option<f64>,
    /// One line shown when asking.
    #[serde(default)]
    pub help: Option<String>,
    /// The question, when it differs from the name.
    #[serde(default)]
    pub prompt: Option<String>,
    /// Asked (and defined) only when this expression holds.
    #[serde(default)]
    pub when: Option<String>,
    /// Never written to events, answers files or stdout.
    #[serde(default)]
    pub secret: bool,
    /// Never asked: a cookiecutter private variable (`_x`, `__x`) that only takes its default.
    #[serde(skip)]
    #[schemars(skip)]
    pub hidden: bool,
    /// Asked only when this expression holds, but defined either way (copier's `when`).
    #[serde(skip)]
    #[schemars(skip)]
    pub ask_when: Option<String>,
    /// A template that renders to an error message for a bad answer, or to nothing (copier's
    /// `validator`).
    #[serde(skip)]
    #[schemars(skip)]
    pub validator: Option<String>,
    /// copier's per-choice validators (`label: {value: …, validator: …}`): choosing that
    /// value is refused with the message it renders to.
    #[serde(skip)]
    #[schemars(skip)]
    pub choice_validators: Vec<(Value, String)>,
    /// copier's type of the question (`str`, `int`, `yaml`, …): its answers are cast as
    /// copier casts them (`--set q=1` to a `yaml` question is the number 1).
    #[serde(skip)]
    #[schemars(skip)]
    pub copier_type: Option<CopierType>,
    /// copier's choices disabled for this run (their validator rendered a message), with the
    /// message: set while answers are resolved.
    #[serde(skip)]
    #[schemars(skip)]
    pub disabled_choices: Vec<(Value, String)>,
    /// copier's `choices` written as one template: rendered over earlier answers and read as
    /// YAML (a list, pairs, or labels to values) when the question comes.
    #[serde(skip)]
    #[schemars(skip)]
    pub choices_template: Option<String>,
    /// copier's `type` written as a template over earlier answers: rendered when the
    /// question comes, and the question takes the type it names.
    #[serde(skip)]
    #[schemars(skip)]
    pub type_template: Option<String>,
    /// How the question is put to a person, as its template's tool puts it.
    #[serde(skip)]
    #[schemars(skip)]
    pub asking: Asking,
}

/// copier's question types, each with its own cast of an answer (`_user_data.py`'s
/// `CAST_STR_TO_NATIVE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopierType {
    /// `str`: text; numbers become their text.
    Str,
    /// `int`: Python's `int()`.
    Int,
    /// `float`: Python's `float()`.
    Float,
    /// `bool`: copier's `cast_to_bool` (`"false"`, `"no"`, `"0"`, `""` are false).
    Bool,
    /// `yaml`: text is read as YAML; other values stay as they are.
    Yaml,
    /// `json`: text is read as JSON; other values stay as they are.
    Json,
    /// `path`: text.
    Path,
}

/// Which tool's prompts a question follows (what is shown, and how answers are read over a
/// pipe).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AskStyle {
    /// factory's own: one answer a line.
    #[default]
    Factory,
    /// copier's questionary prompts: keystrokes (arrow keys, space, y/n, Alt+Enter).
    Copier,
    /// cookiecutter's rich prompts: one answer a line, choices by number.
    Cookiecutter,
}

/// What a tool shows when asking that the parameter's type does not say.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Asking {
    /// Whose prompts.
    pub style: AskStyle,
    /// The type name the tool shows (copier's `str`, `int`, `float`, `bool`, `json`, `yaml`,
    /// `path`).
    pub type_name: Option<String>,
    /// The label shown for each choice, when it differs from the value.
    pub labels: Vec<String>,
    /// Whether the answer spans lines (a copier template expression, or `true`).
    pub multiline: Option<String>,
    /// Text shown in an empty answer (a copier template expression).
    pub placeholder: Option<String>,
    /// The mark before the question (copier's `qmark`).
    pub qmark: Option<String>,
}

/// A conditional file or folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileCondition {
    /// A glob over paths in the content folder.
    pub path: String,
    /// The expression that keeps them.
    #[serde(rename = "if")]
    pub condition: String,
}

/// Which files are rendered, copied or left out.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FilesSpec {
    /// Globs of files never copied.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Globs of files copied byte for byte, never rendered.
    #[serde(default)]
    pub copy_only: Vec<String>,
    /// Conditional files and folders.
    #[serde(default)]
    pub when: Vec<FileCondition>,
}

/// A library the generated project references.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LibraryRef {
    /// The package name.
    pub package: String,
    /// A version range (semver requirement or NuGet interval).
    pub version: String,
    /// Included only when this expression holds.
    #[serde(rename = "if", default)]
    pub condition: Option<String>,
}

/// A named answer set that `validate` renders strictly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestCase {
    /// The case's name.
    pub name: String,
    /// Its answers.
    #[serde(default)]
    pub answers: serde_json::Map<String, Value>,
    /// A folder of the template (relative to the manifest) holding the tree this case must
    /// generate, byte for byte; `validate` reports every difference. Its files are never
    /// part of the output.
    #[serde(default)]
    pub expected: Option<String>,
}

impl Manifest {
    /// The folders test cases name as their expected trees, without a trailing `/`.
    pub fn expected_trees(&self) -> Vec<&str> {
        self.tests
            .iter()
            .filter_map(|t| t.expected.as_deref())
            .map(|d| d.trim_end_matches('/'))
            .filter(|d| !d.is_empty())
            .collect()
    }
}

/// The platform's constraint kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum RuleKind {
    /// The runtime must satisfy the expression.
    RuntimeRequires,
    /// A library must be present in the composition.
    LibraryRequires,
    /// A library must not be present.
    LibraryConflictsWith,
    /// A template must not be composed with this one.
    TemplateConflictsWith,
}

/// A compatibility rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompatibilityRule {
    /// Which kind of constraint.
    pub kind: RuleKind,
    /// Its argument.
    pub expression: String,
}

/// `template.yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "factory template manifest (template.yaml)")]
pub struct Manifest {
    /// Unique name, such as `ConnectSoft.Template.ReservationsApi`.
    pub name: String,
    /// Human title.
    #[serde(default)]
    pub title: Option<String>,
    /// What it makes (default `service`).
    #[serde(default)]
    pub category: Category,
    /// What it is for.
    #[serde(default)]
    pub description: Option<String>,
    /// Who looks after it.
    #[serde(default)]
    pub owner: Option<String>,
    /// Free tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The folder rendered into the output, relative to the manifest.
    #[serde(default)]
    pub content: Option<String>,
    /// The questions.
    #[serde(default)]
    pub parameters: Vec<Parameter>,
    /// File rules.
    #[serde(default)]
    pub files: FilesSpec,
    /// Referenced libraries.
    #[serde(default)]
    pub libraries: Vec<LibraryRef>,
    /// Answer sets for `validate`.
    #[serde(default)]
    pub tests: Vec<TestCase>,
    /// Compatibility rules.
    #[serde(default)]
    pub compatibility: Vec<CompatibilityRule>,
    /// When set, templates see the answers under this name (`cookiecutter.project_name`).
    #[serde(skip)]
    #[schemars(skip)]
    pub namespace: Option<String>,
    /// When set, only files ending with it are templates, and it is dropped from their names
    /// (copier's `_templates_suffix`, `.jinja`); other files are copied as they are.
    #[serde(skip)]
    #[schemars(skip)]
    pub templates_suffix: Option<String>,
    /// Commands to run after rendering, only with `--trust` (copier's `_tasks`).
    #[serde(skip)]
    #[schemars(skip)]
    pub tasks: Vec<Task>,
    /// Globs of files never written over in an existing project (copier's `_skip_if_exists`).
    #[serde(skip)]
    #[schemars(skip)]
    pub skip_if_exists: Vec<String>,
    /// Jinja environment options (copier's `_envops`): `keep_trailing_newline`, `trim_blocks`,
    /// `lstrip_blocks` and the `*_start_string`/`*_end_string` delimiters.
    #[serde(skip)]
    #[schemars(skip)]
    pub envops: serde_json::Map<String, Value>,
    /// Folders that `include`, `extends` and `import` look names up in, in order; empty means
    /// names are paths in the content folder (cookiecutter looks in its project folder, then
    /// in `templates/`).
    #[serde(skip)]
    #[schemars(skip)]
    pub search_path: Vec<String>,
    /// Where `--compat-answers` writes copier's answers (copier's `_answers_file`).
    #[serde(skip)]
    #[schemars(skip)]
    pub answers_file: Option<String>,
    /// Jinja extensions that are Python of the template or a package (copier's
    /// `_jinja_extensions`, cookiecutter's `_extensions` beyond what factory provides): run
    /// in a python3 helper, only with `--trust`.
    #[serde(skip)]
    #[schemars(skip)]
    pub python_extensions: Vec<String>,
    /// Symlinks are written as links, their targets rendered when the link's name has the
    /// templates suffix (copier's `_preserve_symlinks`); otherwise what they point at is
    /// copied.
    #[serde(skip)]
    #[schemars(skip)]
    pub preserve_symlinks: bool,
    /// copier's `_external_data`: names and the (templated) paths, relative to the project,
    /// of YAML files templates read as `_external_data.NAME`.
    #[serde(skip)]
    #[schemars(skip)]
    pub external_data: Vec<(String, String)>,
}

/// A command a template runs after rendering (copier's `_tasks`, in any of its forms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// What to run; each string is a template over the answers.
    pub command: TaskCommand,
    /// Where, relative to the project (a template too); the project folder when `None`.
    pub working_directory: Option<String>,
    /// A template whose rendering decides whether the task runs (copier's truthiness).
    pub when: Option<String>,
}

/// A task's command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskCommand {
    /// A command line for `sh -c`.
    Shell(String),
    /// A program and its arguments, run without a shell.
    Argv(Vec<String>),
}

impl std::fmt::Display for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.command {
            TaskCommand::Shell(line) => f.write_str(line),
            TaskCommand::Argv(argv) => write!(f, "{}", argv.join(" ")),
        }
    }
}

/// Which tool's conventions a template follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Flavour {
    /// factory's own `template.yaml`.
    Factory,
    /// A `cookiecutter.json` template.
    Cookiecutter,
    /// A `copier.yml` template.
    Copier,
}

impl Manifest {
    /// Whether text holds template syntax with this template's delimiters (copier's
    /// `_envops` may change them).
    pub fn is_template_text(&self, text: &str) -> bool {
        let marker = |key: &str, default: &'static str| {
            self.envops
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or(default)
                .to_string()
        };
        text.contains(&marker("variable_start_string", "{{"))
            || text.contains(&marker("block_start_string", "{%"))
    }

    /// Which tool's conventions the template follows.
    pub fn flavour(&self) -> Flavour {
        if self.namespace.as_deref() == Some("cookiecutter") {
            Flavour::Cookiecutter
        } else if self.templates_suffix.is_some() {
            Flavour::Copier
        } else {
            Flavour::Factory
        }
    }

    /// Parses manifest text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Manifest, YamlError> {
        yaml::parse(text, origin)
    }

    /// The title, or the name when there is none.
    pub fn title(&self) -> &str {
        self.title.as_deref().unwrap_or(&self.name)
    }

    /// The content folder relative to the manifest, normalised (`""` for the manifest's own).
    pub fn content_dir(&self) -> &str {
        match self.content.as_deref().map(|c| c.trim_matches('/')) {
            None | Some(".") | Some("") => "",
            Some(dir) => dir.strip_prefix("./").unwrap_or(dir),
        }
    }

    /// Whether the content folder is chosen by the answers (copier's
    /// `_subdirectory: "{{ flavor }}"`): it is known only once the answers are.
    pub fn content_is_templated(&self) -> bool {
        // cookiecutter's project folder is a template too, but it names the output folder,
        // not a choice among the template's folders (`Renderer::project_folder`).
        self.flavour() != Flavour::Cookiecutter
            && self
                .content
                .as_deref()
                .is_some_and(|c| self.is_template_text(c))
    }

    /// This manifest with its templated content folder rendered for `ctx`; `None` when the
    /// folder is not a template.
    pub fn with_content_for(
        &self,
        env: &minijinja::Environment<'_>,
        ctx: &minijinja::Value,
    ) -> Result<Option<Manifest>, String> {
        let Some(content) = self
            .content
            .as_deref()
            .filter(|_| self.content_is_templated())
        else {
            return Ok(None);
        };
        let rendered = crate::bounded::render_str_bounded(env, content, ctx)
            .map_err(|e| format!("the content folder `{content}` did not render: {e}"))?;
        let rendered = rendered.trim();
        if rendered.is_empty() {
            return Err(format!(
                "the content folder `{content}` renders to nothing for these answers"
            ));
        }
        Ok(Some(Manifest {
            content: Some(rendered.to_string()),
            ..self.clone()
        }))
    }

    /// A parameter by name.
    pub fn parameter(&self, name: &str) -> Option<&Parameter> {
        self.parameters.iter().find(|p| p.name == name)
    }
}

/// The 1-based line of the first line of `text` that contains `needle`, for pointing at
/// manifest entries that parsed fine but mean something wrong.
pub fn line_of(text: &str, needle: &str) -> Option<usize> {
    text.lines().position(|l| l.contains(needle)).map(|i| i + 1)
}
