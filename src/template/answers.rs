//! Answers: the values of a template's parameters, from what the user gave and from
//! defaults (which may be expressions over earlier answers), each checked the same way.

use std::borrow::Cow;

use minijinja::Environment;
use serde_json::{Map, Value};

use super::manifest::{Manifest, ParamType, Parameter};
use super::params;

/// Resolved answers in parameter order. Parameters whose `when` did not hold are absent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Answers {
    /// Every defined answer, secrets included (for rendering only).
    pub values: Map<String, Value>,
    /// Names of the secret parameters.
    pub secrets: Vec<String>,
    /// When set, the answers appear to templates under this one name.
    pub namespace: Option<String>,
    /// Parameters that were given an answer but whose `when` is false: not used.
    pub dropped: Vec<String>,
    /// Parameters not asked because their `ask_when` (copier's `when`) is false: they take
    /// their default, and copier does not record them.
    pub unasked: Vec<String>,
    /// What the template's tool adds to the context besides the answers
    /// (`super::context`); never recorded as answers.
    pub tool: Map<String, Value>,
    /// What a context hook of the template's Python extensions set (over answers too, as
    /// copier-templates-extensions' ContextHook does); never recorded as answers.
    pub hooked: Map<String, Value>,
}

impl Answers {
    /// The answers without secrets: what events and answers files may hold.
    pub fn public(&self) -> Map<String, Value> {
        self.values
            .iter()
            .filter(|(k, _)| !self.secrets.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// The answers and what the tool adds, as JSON (what a context hook is shown).
    pub fn plain_context(&self) -> Map<String, Value> {
        let mut values = self.values.clone();
        for (key, value) in &self.tool {
            values.entry(key.clone()).or_insert_with(|| value.clone());
        }
        values
    }

    /// What copier records in its answers file: the public answers of the questions asked.
    pub fn recorded(&self) -> Map<String, Value> {
        let mut recorded = self.public();
        recorded.retain(|name, _| !self.unasked.contains(name));
        recorded
    }

    /// The render context.
    pub fn context(&self) -> minijinja::Value {
        let mut values = self.plain_context();
        for (key, value) in &self.hooked {
            values.insert(key.clone(), value.clone());
        }
        // The dictionary templates see is mutable (`cookiecutter.update({...})`).
        let dictionary = super::context_map::MutableMap::value(
            values
                .into_iter()
                .map(|(k, v)| (k, minijinja::Value::from(minijinja::value::Serde(v)))),
        );
        match &self.namespace {
            Some(name) => minijinja::Value::from(std::collections::BTreeMap::from([(
                name.clone(),
                dictionary,
            )])),
            None => dictionary,
        }
    }
}

/// Asks a person for an answer (a prompt on a terminal).
pub trait Asker {
    /// Asks for `param`, offering `default`; returns a value already checked with
    /// [`params::parse_text`] or [`params::coerce`] and with `check` (the template's
    /// validators: asking again with its message until it passes), `None` when no answer
    /// can be read any more (the input ended: the question then takes its default, or is
    /// missing), or why asking failed.
    fn ask(
        &mut self,
        param: &Parameter,
        default: Option<&Value>,
        check: &dyn Fn(&Value) -> Result<(), String>,
    ) -> Result<Option<Value>, String>;

    /// Whether to ask for `param` at all (its `default`, when it has a usable one, is taken
    /// otherwise); every question by default.
    fn asks_for(&self, _param: &Parameter, _default: Option<&Value>) -> bool {
        true
    }

    /// The answer given last time (an upgrade's recorded answers): offered instead of the
    /// default when asking, and taken when not asking (as copier's update does). None by
    /// default.
    fn previous(&self, _name: &str) -> Option<Value> {
        None
    }

    /// Whether `name` is asked whatever would leave it unasked (an answer given, `ask:
    /// false`, `--skip-answered`), with the answer given offered (copier's `--ask`); only
    /// a `when` that is false keeps it unasked.
    fn forced(&self, _name: &str) -> bool {
        false
    }
}

/// The answers recorded by an earlier generation (an upgrade's project, copier's recopy),
/// as copier's "last answers": offered instead of the default when a question is asked,
/// taken when it is not (no asker, `--skip-answered`), and left for the default when the
/// question's `when` does not hold.
pub struct Recorded<'a, 'b> {
    /// Who asks; `None` when nothing is asked (`--defaults`, no input).
    pub asker: Option<&'a mut dyn Asker>,
    /// The answers recorded last time.
    pub recorded: &'b Map<String, Value>,
    /// Ask only the questions `recorded` has no answer for (copier's `--skip-answered`).
    pub skip_answered: bool,
}

impl Asker for Recorded<'_, '_> {
    fn ask(
        &mut self,
        param: &Parameter,
        default: Option<&Value>,
        check: &dyn Fn(&Value) -> Result<(), String>,
    ) -> Result<Option<Value>, String> {
        match self.asker.as_deref_mut() {
            Some(asker) => asker.ask(param, default, check),
            None => Ok(None),
        }
    }

    fn asks_for(&self, param: &Parameter, default: Option<&Value>) -> bool {
        !(self.skip_answered && self.recorded.contains_key(&param.name))
            && self
                .asker
                .as_deref()
                .is_some_and(|a| a.asks_for(param, default))
    }

    fn previous(&self, name: &str) -> Option<Value> {
        self.recorded.get(name).cloned()
    }

    fn forced(&self, name: &str) -> bool {
        self.asker.as_deref().is_some_and(|a| a.forced(name))
    }
}

/// Resolves answers for `manifest` from `given`, then (for parameters without an answer) by
/// asking, when an `asker` is given, or from defaults. Without an asker a parameter without
/// an answer takes its default; with `use_defaults` false, a required one does not. Returns
/// every problem at once, one line each.
pub fn resolve(
    manifest: &Manifest,
    env: &Environment<'static>,
    given: &Map<String, Value>,
    use_defaults: bool,
) -> Result<Answers, Vec<String>> {
    let run = super::context::Run::preview(&manifest.name, given);
    resolve_with(manifest, env, given, use_defaults, None, &run)
}

/// [`resolve`], asking for what is missing when `asker` is given, with what the template's
/// tool adds to the context for this run (`super::context`).
pub fn resolve_with(
    manifest: &Manifest,
    env: &Environment<'static>,
    given: &Map<String, Value>,
    use_defaults: bool,
    mut asker: Option<&mut dyn Asker>,
    run: &super::context::Run,
) -> Result<Answers, Vec<String>> {
    let mut answers = Answers {
        namespace: manifest.namespace.clone(),
        tool: super::context::tool_values(manifest, run),
        ..Answers::default()
    };
    let mut problems = Vec::new();
    let mut missing = Vec::new();
    let copier = manifest.flavour() == super::manifest::Flavour::Copier;
    for (name, value) in given {
        if copier && manifest.parameter(name).is_none() {
            // copier passes data for a name that is no question to the templates as it is,
            // without recording it.
            answers.tool.insert(name.clone(), value.clone());
            continue;
        }
        if manifest.parameter(name).is_none() {
            let names = manifest.parameters.iter().map(|p| p.name.as_str());
            problems.push(format!(
                "`{name}` is not a parameter of {}{}",
                manifest.name,
                crate::suggest::did_you_mean(name, names)
            ));
        }
    }
    for param in &manifest.parameters {
        // A value derived from a secret (a default over it) is secret too.
        let derived = param
            .default
            .as_ref()
            .and_then(Value::as_str)
            .is_some_and(|text| {
                manifest.is_template_text(text)
                    && env.template_from_str(text).is_ok_and(|template| {
                        template
                            .undeclared_variables(false)
                            .iter()
                            .any(|name| answers.secrets.contains(name))
                    })
            });
        if param.secret || derived {
            answers.secrets.push(param.name.clone());
        }
        if !manifest.external_data.is_empty() {
            external_data(manifest, env, run, &mut answers).map_err(|message| vec![message])?;
        }
        let ctx = answers.context();
        if let Some(when) = &param.when {
            match env.compile_expression(when).and_then(|e| e.eval(&ctx)) {
                Ok(v) if v.is_true() => {}
                Ok(_) => {
                    if given.contains_key(&param.name) {
                        answers.dropped.push(param.name.clone());
                    }
                    continue;
                }
                Err(e) => {
                    // After an earlier bad or missing answer this is only an echo of it.
                    if problems.is_empty() && missing.is_empty() {
                        problems.push(format!("parameter `{}`: when `{when}`: {e}", param.name));
                    }
                    continue;
                }
            }
        }
        let asked_now = match question_now(manifest, env, &ctx, param) {
            Ok(question) => question,
            Err(message) => {
                problems.push(format!("parameter `{}`: {message}", param.name));
                continue;
            }
        };
        let param = &*asked_now;
        let default = param.default.as_ref().map(|default| {
            if default
                .as_str()
                .is_some_and(|s| manifest.is_template_text(s))
            {
                let text = default.as_str().unwrap_or_default();
                match crate::bounded::render_str_bounded(env, text, &ctx) {
                    Ok(rendered) => params::parse_text(param, &rendered),
                    Err(e) => Err(format!("default `{text}` failed: {e}")),
                }
            } else if holds_expression(manifest, default) {
                render_deep(manifest, env, default, &ctx).and_then(|v| params::coerce(param, &v))
            } else {
                params::coerce(param, default)
            }
        });
        let secret = answers.secrets.contains(&param.name);
        if param.ask_when.is_some() && !asks(param, env, &ctx) {
            answers.unasked.push(param.name.clone());
        }
        let previous = asker.as_deref().and_then(|a| a.previous(&param.name));
        let forced = asker.as_deref().is_some_and(|a| a.forced(&param.name));
        let given_offered = given
            .get(&param.name)
            .filter(|_| forced)
            .and_then(|v| params::coerce(param, v).ok());
        let offered = given_offered
            .as_ref()
            .or(previous.as_ref())
            .or(default.as_ref().and_then(|d| d.as_ref().ok()));
        // The validators run at the prompt too, so a bad answer is asked again.
        let check = |value: &Value| {
            if secret {
                register_secret(value);
            }
            validated(param, env, &answers, value.clone(), Wording::AtThePrompt)
                .map(|_| ())
                .map_err(|m| crate::secrets::redact(&m).into_owned())
        };
        let asked = match asker.as_deref_mut() {
            Some(asker)
                if asks(param, env, &ctx)
                    && (forced
                        || (!given.contains_key(&param.name)
                            && !param.hidden
                            && asker.asks_for(param, offered))) =>
            {
                // A picked choice is the choice as written: read as an answer, by its type
                // (a `json` question's choice `[1]` is the list [1], as copier casts it).
                let picked = matches!(param.kind, ParamType::Choice | ParamType::Multichoice);
                let asked = asker.ask(param, offered, &check).transpose();
                asked.map(|asked| {
                    asked.and_then(|value| {
                        if picked {
                            params::coerce(param, &value)
                        } else {
                            Ok(value)
                        }
                    })
                })
            }
            _ => None,
        };
        let value = if let Some(asked) = asked {
            asked
        } else if let Some(value) = given.get(&param.name) {
            if secret {
                register_secret(value);
            }
            params::coerce(param, value).map_err(|m| crate::secrets::redact(&m).into_owned())
        } else if let Some(previous) = previous.filter(|_| asks(param, env, &ctx)) {
            // A question copier does not ask (its `when` false) takes its default instead.
            params::coerce(param, &previous)
        } else if let Some(default) = default.filter(|_| use_defaults || !param.required) {
            default
        } else if param.copier_type.is_some() && !asks(param, env, &ctx) {
            // copier skips a question it does not ask and that has no default: undefined.
            continue;
        } else if param.required {
            missing.push(param.name.clone());
            continue;
        } else {
            Ok(empty_value(param.kind))
        };
        // Known before the validator runs: its message may quote the answer.
        if secret && let Ok(value) = &value {
            register_secret(value);
        }
        // copier validates what is given and what is asked, not a default it takes for a
        // question it does not ask (`when` false) nor a secret's default.
        let checked = given.contains_key(&param.name)
            || (asks(param, env, &ctx) && !(secret && param.copier_type.is_some()));
        let value = value.and_then(|v| {
            if !checked {
                return Ok(v);
            }
            validated(param, env, &answers, v, Wording::InTheError)
                .map_err(|m| crate::secrets::redact(&m).into_owned())
        });
        match value {
            Ok(value) => {
                answers.values.insert(param.name.clone(), value);
            }
            // A default over an earlier bad or missing answer fails only as an echo of it.
            Err(_)
                if !given.contains_key(&param.name)
                    && (!problems.is_empty() || !missing.is_empty()) => {}
            Err(message) => problems.push(format!("parameter `{}`: {message}", param.name)),
        }
    }
    if !missing.is_empty() && copier {
        // copier's words, which scripts driving copier read.
        problems.extend(
            missing
                .iter()
                .map(|name| format!("Question \"{name}\" is required")),
        );
    } else if !missing.is_empty() {
        problems.push(format!("missing answers for: {}", missing.join(", ")));
    }
    if problems.is_empty() {
        if !manifest.external_data.is_empty() {
            external_data(manifest, env, run, &mut answers).map_err(|message| vec![message])?;
        }
        let recorded = answers.recorded();
        super::context::after_answers(&mut answers.tool, run, &recorded);
        answers_file_rendered(manifest, env, &mut answers).map_err(|message| vec![message])?;
        Ok(answers)
    } else {
        Err(problems)
    }
}

/// The question's help, `multiline` and `placeholder` rendered over the answers so far where
/// they are templates (copier renders them; one that does not render is shown as written).
fn render_shown(
    manifest: &Manifest,
    env: &Environment<'static>,
    ctx: &minijinja::Value,
    question: &mut Cow<'_, Parameter>,
) {
    let render = |text: &Option<String>| match text {
        Some(t) if manifest.is_template_text(t) => Some(
            crate::bounded::render_str_bounded(env, t, ctx.clone()).unwrap_or_else(|_| t.clone()),
        ),
        _ => None,
    };
    let (help, multiline, placeholder) = (
        render(&question.help),
        render(&question.asking.multiline),
        render(&question.asking.placeholder),
    );
    if help.is_none() && multiline.is_none() && placeholder.is_none() {
        return;
    }
    let question = question.to_mut();
    question.help = help.or(question.help.take());
    question.asking.multiline = multiline.or(question.asking.multiline.take());
    question.asking.placeholder = placeholder.or(question.asking.placeholder.take());
}

/// copier's choices whose validator renders a message, kept as disabled: not valid answers,
/// and choosing one is refused with that message.
fn disable_choices(
    env: &Environment<'static>,
    ctx: &minijinja::Value,
    question: &mut Cow<'_, Parameter>,
) -> Result<(), String> {
    if question.copier_type.is_none() || question.choice_validators.is_empty() {
        return Ok(());
    }
    let mut disabled = Vec::new();
    for (choice, validator) in &question.choice_validators {
        let message = crate::bounded::render_str_bounded(env, validator, ctx)
            .map_err(|e| format!("validator failed: {e}"))?;
        let message = message.trim();
        if !message.is_empty() {
            disabled.push((choice.clone(), message.to_string()));
        }
    }
    question.to_mut().disabled_choices = disabled;
    Ok(())
}

/// Whether a value has a template string anywhere inside it (keys of mappings included).
fn holds_expression(manifest: &Manifest, value: &Value) -> bool {
    match value {
        Value::String(s) => manifest.is_template_text(s),
        Value::Array(items) => items.iter().any(|v| holds_expression(manifest, v)),
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| manifest.is_template_text(k) || holds_expression(manifest, v)),
        _ => false,
    }
}

/// The question as it is put now, rendered over the answers so far where it is written as
/// templates: copier's `type`, the choices and their labels (cookiecutter's and copier's),
/// copier's choices written as one template (read as YAML once rendered), the choices its
/// validators disable, and what it shows (help, `multiline`, `placeholder`).
fn question_now<'p>(
    manifest: &Manifest,
    env: &Environment<'static>,
    ctx: &minijinja::Value,
    param: &'p Parameter,
) -> Result<Cow<'p, Parameter>, String> {
    let mut question = Cow::Borrowed(param);
    if let Some(text) = &param.type_template {
        let name = crate::bounded::render_str_bounded(env, text, ctx)
            .map_err(|e| format!("type `{text}` failed: {e}"))?;
        question = Cow::Owned(super::copier::typed_as(&question, &name)?);
    }
    let labels = &param.asking.labels;
    if let Some(choices) = &param.choices
        && (choices.iter().any(|c| holds_expression(manifest, c))
            || labels.iter().any(|l| manifest.is_template_text(l)))
    {
        let (choices, labels) = render_choices(manifest, env, ctx, choices, labels)?;
        let question = question.to_mut();
        question.choices = Some(choices);
        question.asking.labels = labels;
    }
    if let Some(text) = &param.choices_template {
        let rendered = crate::bounded::render_str_bounded(env, text, ctx)
            .map_err(|e| format!("choices `{text}` failed: {e}"))?;
        let value = super::yaml::parse::<Value>(&rendered, &param.name)
            .map_err(|e| format!("choices `{rendered}` are not YAML: {}", e.message))?;
        let (choices, validators) = super::copier::choices_of(&value)?;
        let question = question.to_mut();
        question.choices = Some(choices).filter(|c| !c.is_empty());
        question.choice_validators = validators;
        question.asking.labels = super::copier::labels_of(&value);
    }
    disable_choices(env, ctx, &mut question)?;
    render_shown(manifest, env, ctx, &mut question);
    Ok(question)
}

/// Choices and their labels rendered over the answers so far, as copier renders both.
fn render_choices(
    manifest: &Manifest,
    env: &Environment<'static>,
    ctx: &minijinja::Value,
    choices: &[Value],
    labels: &[String],
) -> Result<(Vec<Value>, Vec<String>), String> {
    let render = |value: &Value| render_deep(manifest, env, value, ctx);
    let choices = choices.iter().map(render).collect::<Result<_, _>>()?;
    let labels = labels
        .iter()
        .map(|label| render(&Value::String(label.clone())).map(|l| params::display_value(&l)))
        .collect::<Result<_, _>>()?;
    Ok((choices, labels))
}

/// Renders every template string inside a value, keys of mappings included, as cookiecutter
/// renders a dictionary variable; other values stay as they are.
fn render_deep(
    manifest: &Manifest,
    env: &Environment<'static>,
    value: &Value,
    ctx: &minijinja::Value,
) -> Result<Value, String> {
    let render = |text: &str| {
        if manifest.is_template_text(text) {
            crate::bounded::render_str_bounded(env, text, ctx)
                .map_err(|e| format!("`{text}` failed: {e}"))
        } else {
            Ok(text.to_string())
        }
    };
    Ok(match value {
        Value::String(text) => Value::String(render(text)?),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| render_deep(manifest, env, item, ctx))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((render(k)?, render_deep(manifest, env, v, ctx)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

/// Whether a question is asked (copier's `when`: a template, asked only when what it renders
/// reads as true; defined anyway).
fn asks(param: &Parameter, env: &Environment<'static>, ctx: &minijinja::Value) -> bool {
    match &param.ask_when {
        None => true,
        Some(text) => crate::bounded::render_str_bounded(env, text, ctx.clone())
            .is_ok_and(|rendered| copier_truth(&rendered)),
    }
}

/// copier's `cast_to_bool` of a rendered text: a number is true unless 0; YAML's words for
/// true, false and null; any other text is true unless empty.
fn copier_truth(text: &str) -> bool {
    let text = text.trim();
    if let Ok(number) = text.replace('_', "").parse::<f64>() {
        return number != 0.0;
    }
    !matches!(
        text.to_ascii_lowercase().as_str(),
        "" | "n" | "no" | "f" | "false" | "off" | "~" | "null" | "none"
    )
}

/// Where a validator's message is shown: under the question being asked (the message alone,
/// as copier's prompt shows it), or in the error of answers given otherwise (with the
/// question named, in copier's words for a copier template).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Wording {
    AtThePrompt,
    InTheError,
}

/// Runs a copier-style validator: a template that renders to an error message, or to nothing.
fn validated(
    param: &Parameter,
    env: &Environment<'static>,
    answers: &Answers,
    value: Value,
    wording: Wording,
) -> Result<Value, String> {
    let mut trial = answers.clone();
    trial.values.insert(param.name.clone(), value.clone());
    // Only the validator of the choice actually made runs (copier's per-choice validators).
    // copier's choice validators were rendered before the answer was read (see
    // `disabled_choices`).
    let chosen = param
        .choice_validators
        .iter()
        .filter(|_| param.copier_type.is_none())
        .filter(|(choice, _)| params::same_choice(choice, &value))
        .map(|(_, validator)| (validator, "invalid choice: "));
    // copier's own wording, which scripts driving copier read.
    let (plain, choice) = if wording == Wording::AtThePrompt {
        (String::new(), String::new())
    } else if param.copier_type.is_some() {
        (
            format!("Validation error for question '{}': ", param.name),
            format!("Invalid choice for '{}': ", param.name),
        )
    } else {
        (String::new(), "invalid choice: ".to_string())
    };
    let chosen = chosen.map(|(validator, _)| (validator, choice.as_str()));
    for (validator, prefix) in param
        .validator
        .iter()
        .map(|v| (v, plain.as_str()))
        .chain(chosen)
    {
        match crate::bounded::render_str_bounded(env, validator, trial.context()) {
            Ok(message) if message.trim().is_empty() => {}
            Ok(message) => return Err(format!("{prefix}{}", message.trim())),
            Err(e) => return Err(format!("validator failed: {e}")),
        }
    }
    Ok(value)
}

/// copier's `_external_data`: each file, its path rendered over the answers so far, read
/// as YAML from the project folder (nothing when it is not there, as copier warns and reads
/// nothing). A path leaving the project is refused without `--trust`, as copier refuses it.
fn external_data(
    manifest: &Manifest,
    env: &Environment<'static>,
    run: &super::context::Run,
    answers: &mut Answers,
) -> Result<(), String> {
    let mut context = answers.plain_context();
    // copier renders these paths in its "undefined" phase.
    context.insert("_copier_phase".into(), Value::String("undefined".into()));
    let ctx = minijinja::Value::from(minijinja::value::Serde(Value::Object(context)));
    let mut loaded = Map::new();
    for (name, template) in &manifest.external_data {
        let path = crate::bounded::render_str_bounded(env, template, &ctx)
            .map_err(|e| format!("_external_data `{name}`: `{template}` failed: {e}"))?;
        loaded.insert(name.clone(), super::context::read_external(run, &path)?);
    }
    answers
        .tool
        .insert("_external_data".into(), Value::Object(loaded));
    Ok(())
}

/// A templated `_answers_file` rendered over the answers: where copier writes its answers
/// and what `_copier_conf.answers_file` says.
fn answers_file_rendered(
    manifest: &Manifest,
    env: &Environment<'static>,
    answers: &mut Answers,
) -> Result<(), String> {
    let Some(template) = manifest
        .answers_file
        .as_deref()
        .filter(|f| manifest.is_template_text(f))
    else {
        return Ok(());
    };
    let rendered = crate::bounded::render_str_bounded(env, template, answers.context())
        .map_err(|e| format!("_answers_file `{template}` failed: {e}"))?;
    if let Some(Value::Object(conf)) = answers.tool.get_mut("_copier_conf") {
        conf.insert("answers_file".into(), Value::String(rendered));
    }
    Ok(())
}

/// Registers every scalar inside a secret answer with the one redaction step.
fn register_secret(value: &Value) {
    match value {
        Value::String(text) => crate::secrets::register(text),
        Value::Number(n) => crate::secrets::register(&n.to_string()),
        Value::Array(items) => items.iter().for_each(register_secret),
        Value::Object(map) => map.values().for_each(register_secret),
        Value::Bool(_) | Value::Null => {}
    }
}

/// The value an optional parameter without a default takes.
fn empty_value(kind: ParamType) -> Value {
    match kind {
        ParamType::String => Value::String(String::new()),
        ParamType::Bool => Value::Bool(false),
        ParamType::Multichoice | ParamType::List => Value::Array(Vec::new()),
        ParamType::Int | ParamType::Float | ParamType::Choice | ParamType::Yaml => Value::Null,
    }
}

/// The error for answers that cannot be used: every problem, one per line.
pub fn not_usable(origin: &str, problems: &[String]) -> crate::Error {
    crate::Error::usage(format!(
        "{origin}: the answers are not usable:\n  {}",
        problems.join("\n  ")
    ))
}
