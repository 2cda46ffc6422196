//! `factory validate`: every check a template must pass, each with a stable id (like a
//! linter's rule id), a status (`pass`, `fail`, `warn`) and a location.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::domain::events::{CheckOutcome, CheckStatus};
use crate::render::paths::{self, MAX_PATH_LEN};
use crate::render::tree::{RenderProblem, RenderedFile, Renderer};
use crate::template::answers;
use crate::template::manifest::{Flavour, MANIFEST_FILE, Manifest, ParamType, line_of};
use crate::template::params::{self, is_expression};
use crate::template::ranges;
use crate::template::snapshot::TemplateFiles;

/// The checks, in the order reports list them.
pub const CHECKS: [(&str, &str); 17] = [
    (
        "manifest/parse",
        "template.yaml parses and has only known keys of the right types",
    ),
    (
        "manifest/fields",
        "name, content folder and file globs are usable",
    ),
    (
        "parameter/definition",
        "parameter names, types and constraints make sense",
    ),
    (
        "parameter/default",
        "defaults are valid answers; default expressions compile",
    ),
    (
        "parameter/order",
        "defaults, choices and conditions refer only to parameters declared before them",
    ),
    ("template/syntax", "every template file compiles"),
    ("condition/syntax", "when/if expressions compile"),
    (
        "path/escape",
        "no path or symlink can leave the output folder",
    ),
    (
        "path/portable",
        "file names are legal on Windows, macOS and Linux",
    ),
    ("path/case-collision", "no two paths differ only in case"),
    ("path/length", "paths stay under 250 characters"),
    (
        "template/undeclared",
        "templates use only declared parameters",
    ),
    ("parameter/unused", "every parameter is used somewhere"),
    (
        "library/reference",
        "library references have a package and a valid range",
    ),
    (
        "defaults/render",
        "the defaults render strictly (placeholders for required answers), as generate --defaults does",
    ),
    ("tests/render", "the manifest's test cases render strictly"),
    (
        "matrix/render",
        "pairwise combinations of bool and choice parameters render",
    ),
];

/// Validation options.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Also render the pairwise combinations of every bool and choice parameter.
    pub matrix: bool,
    /// The clock and uuid seed the test cases render with.
    pub render: crate::render::Settings,
}

/// Collects findings and turns them into outcomes, one `pass` per check without findings.
#[derive(Default)]
struct Recorder {
    findings: Vec<CheckOutcome>,
    seen: HashSet<(String, String)>,
    /// Checks not run, with the reason.
    skipped: BTreeMap<&'static str, &'static str>,
}

impl Recorder {
    fn add(
        &mut self,
        check: &'static str,
        status: CheckStatus,
        message: String,
        location: Option<String>,
    ) {
        if self.seen.insert((check.to_string(), message.clone())) {
            self.findings.push(CheckOutcome {
                check: check.to_string(),
                status,
                message,
                location,
            });
        }
    }

    fn fail(&mut self, check: &'static str, message: String, location: Option<String>) {
        self.add(check, CheckStatus::Fail, message, location);
    }

    fn warn(&mut self, check: &'static str, message: String, location: Option<String>) {
        self.add(check, CheckStatus::Warn, message, location);
    }

    fn finish(self, options: &Options) -> Vec<CheckOutcome> {
        let mut out = Vec::new();
        for (id, description) in CHECKS {
            if id == "matrix/render" && !options.matrix {
                continue;
            }
            let mut found: Vec<CheckOutcome> = self
                .findings
                .iter()
                .filter(|f| f.check == id)
                .cloned()
                .collect();
            if found.is_empty() {
                let status = if self.skipped.contains_key(id) {
                    CheckStatus::Skip
                } else {
                    CheckStatus::Pass
                };
                out.push(CheckOutcome {
                    check: id.to_string(),
                    status,
                    message: if let Some(reason) = self.skipped.get(id) {
                        format!("{description} (not checked: {reason})")
                    } else {
                        description.to_string()
                    },
                    location: None,
                });
            } else {
                out.append(&mut found);
            }
        }
        out
    }
}

/// Whether every check passed (warnings and skips do not fail).
pub fn passed(checks: &[CheckOutcome]) -> bool {
    !checks.iter().any(|c| c.status == CheckStatus::Fail)
}

/// Runs every check on a template's files.
pub fn validate(
    files: Arc<TemplateFiles>,
    name_hint: &str,
    options: &Options,
) -> Vec<CheckOutcome> {
    let mut r = Recorder::default();
    let loaded = crate::template::load::manifest_and_text(&files, name_hint);
    let parsed = loaded
        .as_ref()
        .map(|(m, text)| (m.clone(), text.as_str()))
        .map_err(|e| (e.message.clone(), Some(e.location())));
    let (manifest, text) = match parsed {
        Ok(parsed) => parsed,
        Err((message, location)) => {
            r.fail(
                "manifest/parse",
                message,
                location.or(Some(MANIFEST_FILE.into())),
            );
            for (id, _) in CHECKS.iter().skip(1) {
                r.skipped.insert(id, "the manifest did not parse");
            }
            return r.finish(options);
        }
    };
    let at = |needle: &str| line_of(text, needle).map(|l| format!("{MANIFEST_FILE}:{l}"));

    check_fields(&manifest, &files, &mut r, &at);
    check_parameters(&manifest, &options.render, &mut r, &at);
    check_order(&manifest, &options.render, &mut r, &at);
    check_source_paths(&manifest, &files, &mut r);
    check_libraries(&manifest, &mut r, &at);

    let renderer = match Renderer::new(&manifest, Arc::clone(&files), &options.render)
        .map(Renderer::keep_compiled)
    {
        Ok(renderer) => renderer,
        Err(message) => {
            r.fail("manifest/fields", message, at("files:"));
            return r.finish(options);
        }
    };
    for error in renderer.compile_all() {
        r.fail(
            "template/syntax",
            error.message,
            Some(renderer.rooted(&error.location)),
        );
    }
    check_conditions(&renderer, &mut r, &at);
    check_variables(&renderer, &mut r, &at);
    // Rendering needs the template's Python extensions, which validate never runs.
    if !renderer.manifest().python_extensions.is_empty() {
        let reason = "it renders with the template's Python Jinja extensions, which only `generate --trust` runs";
        for check in ["defaults/render", "tests/render", "matrix/render"] {
            r.skipped.insert(check, reason);
        }
        return r.finish(options);
    }
    check_defaults(&renderer, &mut r);
    check_tests(&renderer, &files, &mut r);
    if options.matrix {
        check_matrix(&renderer, &mut r);
    }
    r.finish(options)
}

fn check_fields(
    manifest: &Manifest,
    files: &TemplateFiles,
    r: &mut Recorder,
    at: &dyn Fn(&str) -> Option<String>,
) {
    if manifest.name.trim().is_empty() || manifest.name.contains(char::is_whitespace) {
        r.fail(
            "manifest/fields",
            format!(
                "name `{}` must be non-empty and without spaces",
                manifest.name
            ),
            at("name:"),
        );
    }
    if manifest.name.contains('@') {
        r.fail(
            "manifest/fields",
            format!(
                "name `{}` must not contain `@` (it separates name and version)",
                manifest.name
            ),
            at("name:"),
        );
    }
    let content = manifest.content_dir();
    // A templated content folder is checked per answer set, when the cases render.
    if !content.is_empty() && !manifest.content_is_templated() {
        if let Err(message) = paths::check_inside(content) {
            r.fail(
                "path/escape",
                format!("content folder: {message}"),
                at("content:"),
            );
        } else if !files
            .files
            .iter()
            .any(|f| f.path.starts_with(&format!("{content}/")))
        {
            r.fail(
                "manifest/fields",
                format!("content folder `{content}` has no files"),
                at("content:"),
            );
        }
    }
}

const RESERVED_NAMES: [&str; 9] = [
    "loop", "self", "super", "true", "false", "none", "True", "False", "None",
];

fn check_parameters(
    manifest: &Manifest,
    settings: &crate::render::Settings,
    r: &mut Recorder,
    at: &dyn Fn(&str) -> Option<String>,
) {
    let env = crate::render::environment_for(settings, manifest)
        .unwrap_or_else(|_| crate::render::environment(settings));
    let mut seen = HashSet::new();
    for param in &manifest.parameters {
        let loc = at(&format!("name: {}", param.name)).or_else(|| at(&param.name));
        let name_ok = param
            .name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && param
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !name_ok {
            r.fail(
                "parameter/definition",
                format!("`{}` is not a valid parameter name (letters, digits and _, not starting with a digit)", param.name),
                loc.clone(),
            );
        } else if RESERVED_NAMES.contains(&param.name.as_str()) {
            r.fail(
                "parameter/definition",
                format!("`{}` is a reserved word", param.name),
                loc.clone(),
            );
        }
        if !seen.insert(param.name.as_str()) {
            r.fail(
                "parameter/definition",
                format!("parameter `{}` is declared twice", param.name),
                loc.clone(),
            );
        }
        let has_choices = param.choices.as_ref().is_some_and(|c| !c.is_empty());
        match param.kind {
            ParamType::Choice | ParamType::Multichoice if !has_choices => r.fail(
                "parameter/definition",
                format!(
                    "`{}` is a {} but has no choices",
                    param.name,
                    param.kind.as_str()
                ),
                loc.clone(),
            ),
            ParamType::Choice | ParamType::Multichoice => {}
            _ if param.choices.is_some() => r.fail(
                "parameter/definition",
                format!(
                    "`{}` has choices but is a {}; use type: choice",
                    param.name,
                    param.kind.as_str()
                ),
                loc.clone(),
            ),
            _ => {}
        }
        if let Some(pattern) = &param.pattern {
            if param.kind != ParamType::String {
                r.fail(
                    "parameter/definition",
                    format!("`{}`: pattern applies to strings only", param.name),
                    loc.clone(),
                );
            }
            if let Err(e) = regex::Regex::new(pattern) {
                r.fail(
                    "parameter/definition",
                    format!("`{}`: pattern does not compile: {e}", param.name),
                    loc.clone(),
                );
            }
        }
        if (param.min.is_some() || param.max.is_some())
            && !matches!(param.kind, ParamType::Int | ParamType::Float)
        {
            r.fail(
                "parameter/definition",
                format!("`{}`: min and max apply to int and float only", param.name),
                loc.clone(),
            );
        }
        if let (Some(min), Some(max)) = (param.min, param.max)
            && min > max
        {
            r.fail(
                "parameter/definition",
                format!("`{}`: min {min} is above max {max}", param.name),
                loc.clone(),
            );
        }
        if param.secret && param.kind != ParamType::String {
            r.fail(
                "parameter/definition",
                format!("`{}`: only string parameters can be secret", param.name),
                loc.clone(),
            );
        }
        if let Some(default) = &param.default {
            if is_expression(default) {
                if let Err(e) = env.template_from_str(default.as_str().unwrap_or_default()) {
                    r.fail(
                        "parameter/default",
                        format!("`{}`: default expression does not compile: {e}", param.name),
                        loc.clone(),
                    );
                }
            } else if let Err(message) = params::coerce(param, default) {
                r.fail(
                    "parameter/default",
                    format!(
                        "`{}`: default {}: {message}",
                        param.name,
                        params::display_value(default)
                    ),
                    loc.clone(),
                );
            }
        }
    }
}

fn check_source_paths(manifest: &Manifest, files: &TemplateFiles, r: &mut Recorder) {
    for link in &files.refused_links {
        // Links kept as links are checked where they are written.
        if !manifest.preserve_symlinks {
            r.fail("path/escape", link.to_string(), Some(link.path.clone()));
        }
    }
    let mut by_lower: BTreeMap<String, &str> = BTreeMap::new();
    for file in &files.files {
        if file.path.chars().any(char::is_control) {
            // copier and cookiecutter write a tab in a name, as generate does for them.
            let generate_refuses = manifest.flavour()
                == crate::template::manifest::Flavour::Factory
                || file.path.chars().any(|c| c.is_control() && c != '\t');
            r.fail(
                "path/portable",
                format!(
                    "`{}` holds a control character (newline, tab, escape…), which {}",
                    file.path.escape_debug(),
                    if generate_refuses {
                        "generate refuses"
                    } else {
                        "Windows does not allow"
                    }
                ),
                Some(file.path.escape_debug().to_string()),
            );
        }
        for part in literal_parts(&file.path) {
            if let Some(problem) = paths::windows_problem(&part) {
                r.fail("path/portable", problem, Some(file.path.clone()));
            }
        }
        if file.path.len() > MAX_PATH_LEN {
            r.fail(
                "path/length",
                format!(
                    "path is {} characters long (limit {MAX_PATH_LEN})",
                    file.path.len()
                ),
                Some(file.path.clone()),
            );
        }
        check_case(&mut by_lower, &file.path, r);
    }
}

/// Records a case collision of `path` with a path seen before.
fn check_case<'a>(by_lower: &mut BTreeMap<String, &'a str>, path: &'a str, r: &mut Recorder) {
    if let Some(other) = by_lower.insert(path.to_lowercase(), path)
        && other != path
    {
        r.fail(
            "path/case-collision",
            format!(
                "`{other}` and `{path}` differ only in case; they collide on Windows and macOS"
            ),
            Some(path.to_string()),
        );
    }
}

/// The parts of a path with template tags taken out, so `{{ name | x }}` is not judged as a
/// file name; parts that are entirely templated are skipped.
fn literal_parts(path: &str) -> Vec<String> {
    path.split('/')
        .filter_map(|part| {
            let mut out = String::new();
            let mut rest = part;
            while let Some(start) = rest.find(['{']) {
                let tail = &rest[start..];
                let close = if tail.starts_with("{{") {
                    "}}"
                } else if tail.starts_with("{%") {
                    "%}"
                } else {
                    out.push_str(&rest[..=start]);
                    rest = &rest[start + 1..];
                    continue;
                };
                out.push_str(&rest[..start]);
                out.push('x');
                rest = tail.find(close).map_or("", |end| &tail[end + 2..]);
            }
            out.push_str(rest);
            (out != part || !part.contains('{')).then_some(out)
        })
        .collect()
}

fn check_libraries(manifest: &Manifest, r: &mut Recorder, at: &dyn Fn(&str) -> Option<String>) {
    for library in &manifest.libraries {
        let loc = at(&library.package);
        if library.package.trim().is_empty() || library.package.contains(char::is_whitespace) {
            r.fail(
                "library/reference",
                format!("package name `{}` is not valid", library.package),
                loc.clone(),
            );
        }
        if let Err(message) = ranges::parse_range(&library.version) {
            r.fail(
                "library/reference",
                format!("{}: {message}", library.package),
                loc,
            );
        }
    }
}

fn check_conditions(renderer: &Renderer, r: &mut Recorder, at: &dyn Fn(&str) -> Option<String>) {
    let manifest = renderer.manifest();
    let env = renderer.env();
    let mut expressions: Vec<(String, &str)> = Vec::new();
    for p in &manifest.parameters {
        if let Some(when) = &p.when {
            expressions.push((format!("parameter `{}` when", p.name), when));
        }
    }
    for rule in &manifest.files.when {
        expressions.push((format!("files.when `{}`", rule.path), &rule.condition));
    }
    for library in &manifest.libraries {
        if let Some(condition) = &library.condition {
            expressions.push((format!("library `{}` if", library.package), condition));
        }
    }
    for (what, expression) in expressions {
        if let Err(e) = env.compile_expression(expression) {
            r.fail(
                "condition/syntax",
                format!(
                    "{what}: `{expression}` does not compile: {}",
                    e.detail().unwrap_or(&e.kind().to_string())
                ),
                at(expression),
            );
        }
    }
}

/// Names every template, name, default and condition reads, with where it is read.
fn check_variables(renderer: &Renderer, r: &mut Recorder, at: &dyn Fn(&str) -> Option<String>) {
    let manifest = renderer.manifest();
    let env = renderer.env();
    let known: HashSet<String> = manifest
        .parameters
        .iter()
        .map(|p| p.name.clone())
        .chain(env.globals().map(|(name, _)| name.to_string()))
        .collect();
    let mut used: HashSet<String> = HashSet::new();
    let namespace = manifest.namespace.clone();
    let nested = namespace.is_some();
    let mut report =
        |names: HashSet<String>, location: String, source: Option<&str>, r: &mut Recorder| {
            // Under a namespace (`cookiecutter.x`), the names that matter are the attributes.
            let mut names: Vec<String> = match &namespace {
                None => names.into_iter().collect(),
                Some(ns) => names
                    .into_iter()
                    .filter_map(|n| match n.strip_prefix(ns.as_str()) {
                        Some("") => None,
                        Some(rest) => rest
                            .strip_prefix('.')
                            .map(|a| a.split('.').next().unwrap_or(a).to_string()),
                        None => Some(n),
                    })
                    .collect(),
            };
            names.sort();
            names.dedup();
            for name in names {
                if !known.contains(&name) {
                    let line = source.and_then(|s| line_of(s, &name));
                    let location = match line {
                        Some(l) => format!("{location}:{l}"),
                        None => location.clone(),
                    };
                    let closest =
                        crate::suggest::did_you_mean(&name, known.iter().map(String::as_str));
                    let message = format!("`{name}` is used but is not a parameter{closest}");
                    if renderer.manifest().python_extensions.is_empty() {
                        r.fail("template/undeclared", message, Some(location));
                    } else {
                        // The template's Python extensions may define it (globals, a
                        // context hook); only generate --trust can tell.
                        let message = format!("{message} (its Python extensions may define it)");
                        r.warn("template/undeclared", message, Some(location));
                    }
                }
                used.insert(name);
            }
        };
    for file in &renderer.content {
        if !file.copy_only
            && let Ok(template) = env.get_template(&file.path)
        {
            report(
                template.undeclared_variables(nested),
                renderer.rooted(&file.path),
                Some(template.source()),
                r,
            );
        }
        for part in file.path.split('/').filter(|p| params::is_template_text(p)) {
            if let Ok(template) = env.template_from_str(part) {
                report(
                    template.undeclared_variables(nested),
                    format!("{} (file name)", renderer.rooted(&file.path)),
                    None,
                    r,
                );
            }
        }
    }
    // cookiecutter's project folder name is a template over the answers too.
    let project = manifest.content_dir();
    if manifest.flavour() == Flavour::Cookiecutter
        && params::is_template_text(project)
        && let Ok(template) = env.template_from_str(project)
    {
        report(
            template.undeclared_variables(nested),
            format!("{project} (project folder name)"),
            None,
            r,
        );
    }
    // Files outside the content that includes reach through the search path (cookiecutter's
    // `templates/`), by the names includes use.
    let content: HashSet<&str> = renderer.content.iter().map(|f| f.path.as_str()).collect();
    for dir in manifest.search_path.iter().filter(|d| !d.is_empty()) {
        let prefix = format!("{dir}/");
        for file in &renderer.files().files {
            if let Some(name) = file.path.strip_prefix(&prefix)
                && !content.contains(file.path.as_str())
                && let Ok(template) = env.get_template(name)
            {
                report(
                    template.undeclared_variables(nested),
                    file.path.clone(),
                    Some(template.source()),
                    r,
                );
            }
        }
    }
    let mut expressions: Vec<&str> = Vec::new();
    for p in &manifest.parameters {
        expressions.extend(p.when.as_deref());
    }
    expressions.extend(manifest.files.when.iter().map(|w| w.condition.as_str()));
    expressions.extend(
        manifest
            .libraries
            .iter()
            .filter_map(|l| l.condition.as_deref()),
    );
    for expression in expressions {
        if let Ok(compiled) = env.compile_expression(expression) {
            report(
                compiled.undeclared_variables(nested),
                MANIFEST_FILE.to_string(),
                None,
                r,
            );
        }
    }
    for p in &manifest.parameters {
        if let Some(text) = p
            .default
            .as_ref()
            .filter(|d| is_expression(d))
            .and_then(Value::as_str)
            && let Ok(template) = env.template_from_str(text)
        {
            let location =
                at(&format!("name: {}", p.name)).unwrap_or_else(|| MANIFEST_FILE.to_string());
            report(template.undeclared_variables(nested), location, None, r);
        }
    }
    // Hidden parameters are not questions (cookiecutter's `_extensions`, `_copy_without_render`
    // and private variables): nobody is asked for them in vain.
    for p in manifest.parameters.iter().filter(|p| !p.hidden) {
        if !used.contains(&p.name) {
            r.warn(
                "parameter/unused",
                format!(
                    "parameter `{}` is declared but no template, file name or condition uses it",
                    p.name
                ),
                at(&format!("name: {}", p.name)),
            );
        }
    }
}

/// Renders one answer set strictly and records what fails; `case` names it in locations.
/// Renders one answer set, recording what fails; the files when it rendered.
fn render_case(
    renderer: &Renderer,
    check: &'static str,
    case: &str,
    given: &Map<String, Value>,
    r: &mut Recorder,
) -> Option<Vec<RenderedFile>> {
    let answers = match answers::resolve(renderer.manifest(), renderer.env(), given, true) {
        Ok(answers) => answers,
        Err(problems) => {
            // The message names the case; there is no file to point at.
            for problem in problems {
                r.fail(check, format!("{case}: {problem}"), None);
            }
            return None;
        }
    };
    let ctx = answers.context();
    let chosen = match renderer.for_answers(&ctx) {
        Ok(chosen) => chosen,
        Err(message) => {
            r.fail(check, format!("{case}: {message}"), None);
            return None;
        }
    };
    let renderer = chosen.as_ref().unwrap_or(renderer);
    match renderer.render_all(&ctx) {
        Ok(files) => {
            check_rendered_paths(&files, case, r);
            Some(files)
        }
        Err(problems) => {
            for problem in problems {
                let (id, location, message) = match &problem {
                    RenderProblem::Template(e) => {
                        (check, renderer.rooted(&e.location), e.message.clone())
                    }
                    RenderProblem::Path { source, message } => {
                        ("path/escape", source.clone(), message.clone())
                    }
                    RenderProblem::Condition { location, message } => {
                        (check, location.clone(), message.clone())
                    }
                    RenderProblem::Read(message) => (check, String::new(), message.clone()),
                };
                let location = Some(location).filter(|l| !l.is_empty());
                r.fail(id, format!("{case}: {message}"), location);
            }
            None
        }
    }
}

fn check_rendered_paths(files: &[RenderedFile], case: &str, r: &mut Recorder) {
    let mut by_lower = BTreeMap::new();
    for file in files {
        for part in file.path.split('/') {
            if let Some(problem) = paths::windows_problem(part) {
                r.fail(
                    "path/portable",
                    format!("{case}: {problem}"),
                    Some(file.path.clone()),
                );
            }
        }
        if file.path.len() > MAX_PATH_LEN {
            r.fail(
                "path/length",
                format!(
                    "{case}: rendered path is {} characters long (limit {MAX_PATH_LEN})",
                    file.path.len()
                ),
                Some(file.path.clone()),
            );
        }
        check_case(&mut by_lower, &file.path, r);
    }
}

/// A parameter's default, choices or `when` naming a parameter declared after it: generate
/// resolves answers in order, so the later one is not there yet.
fn check_order(
    manifest: &Manifest,
    settings: &crate::render::Settings,
    r: &mut Recorder,
    at: &dyn Fn(&str) -> Option<String>,
) {
    let Ok(env) = crate::render::environment_for(settings, manifest) else {
        return;
    };
    let nested = manifest.namespace.is_some();
    let position: BTreeMap<&str, usize> = manifest
        .parameters
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name.as_str(), i))
        .collect();
    let name_of = |variable: &str| -> String {
        let variable = match &manifest.namespace {
            Some(ns) => variable
                .strip_prefix(ns.as_str())
                .and_then(|rest| rest.strip_prefix('.'))
                .unwrap_or(variable),
            None => variable,
        };
        variable.split('.').next().unwrap_or(variable).to_string()
    };
    let location = |name: &str| {
        at(&format!("name: {name}"))
            .or_else(|| at(name))
            .unwrap_or_else(|| MANIFEST_FILE.to_string())
    };
    for (i, param) in manifest.parameters.iter().enumerate() {
        let mut referenced: BTreeSet<String> = BTreeSet::new();
        if let Some(when) = &param.when
            && let Ok(expression) = env.compile_expression(when)
        {
            referenced.extend(
                expression
                    .undeclared_variables(nested)
                    .iter()
                    .map(|v| name_of(v)),
            );
        }
        let texts = param
            .default
            .iter()
            .chain(param.choices.iter().flatten())
            .filter_map(Value::as_str)
            .filter(|s| manifest.is_template_text(s));
        for text in texts {
            if let Ok(template) = env.template_from_str(text) {
                referenced.extend(
                    template
                        .undeclared_variables(nested)
                        .iter()
                        .map(|v| name_of(v)),
                );
            }
        }
        for name in referenced {
            if let Some(&j) = position.get(name.as_str())
                && j > i
            {
                r.fail(
                    "parameter/order",
                    format!(
                        "`{}` refers to `{name}`, which is declared after it ({}); declare `{name}` first",
                        param.name,
                        location(&name)
                    ),
                    Some(location(&param.name)),
                );
            }
        }
    }
}

/// What `generate --defaults` renders: every default, a placeholder for each required
/// parameter without one.
fn check_defaults(renderer: &Renderer, r: &mut Recorder) {
    // What the static checks found would fail here again: one report is enough.
    if r.findings.iter().any(|f| f.status == CheckStatus::Fail) {
        r.skipped
            .insert("defaults/render", "an earlier check failed; fix that first");
        return;
    }
    let mut given = Map::new();
    for param in &renderer.manifest().parameters {
        if param.required && param.default.is_none() && param.when.is_none() {
            given.insert(param.name.clone(), placeholder(param));
        }
    }
    render_case(renderer, "defaults/render", "the defaults", &given, r);
}

/// A value a required parameter accepts, for rendering its template without a real answer.
fn placeholder(param: &crate::template::manifest::Parameter) -> Value {
    match param.kind {
        ParamType::Bool => Value::Bool(false),
        ParamType::Int => Value::from(param.min.map_or(1, |m| m.ceil() as i64)),
        ParamType::Float => serde_json::Number::from_f64(param.min.unwrap_or(1.0))
            .map_or(Value::Null, Value::Number),
        ParamType::Choice => param
            .choices
            .as_ref()
            .and_then(|c| c.first().cloned())
            .unwrap_or(Value::Null),
        ParamType::Multichoice | ParamType::List => Value::Array(Vec::new()),
        ParamType::Yaml => Value::Null,
        ParamType::String => Value::String("example".into()),
    }
}

fn check_tests(renderer: &Renderer, files: &TemplateFiles, r: &mut Recorder) {
    for case in &renderer.manifest().tests {
        let label = format!("test `{}`", case.name);
        let rendered = render_case(renderer, "tests/render", &label, &case.answers, r);
        if let (Some(rendered), Some(expected)) = (rendered, case.expected.as_deref()) {
            compare_expected(&rendered, files, expected, &label, r);
        }
    }
}

/// A test case's output against the tree it names (dotnet's TemplateVerifier, pytest-copier's
/// snapshots): every file missing, extra or different is a failure at the expected file.
fn compare_expected(
    rendered: &[RenderedFile],
    files: &TemplateFiles,
    expected: &str,
    case: &str,
    r: &mut Recorder,
) {
    let dir = expected.trim_end_matches('/');
    if let Err(message) = crate::render::paths::check_inside(dir) {
        r.fail(
            "tests/render",
            format!("{case}: expected `{expected}`: {message}"),
            Some(MANIFEST_FILE.into()),
        );
        return;
    }
    let prefix = format!("{dir}/");
    let wanted: BTreeMap<&str, &crate::template::snapshot::SourceFile> = files
        .files
        .iter()
        .filter_map(|f| f.path.strip_prefix(&prefix).map(|rel| (rel, f)))
        .collect();
    if wanted.is_empty() {
        let message = format!(
            "{case}: the expected tree `{dir}` holds no files; generate the case into it, or fix the path"
        );
        r.fail("tests/render", message, Some(MANIFEST_FILE.into()));
        return;
    }
    let got: BTreeMap<&str, &[u8]> = rendered
        .iter()
        .map(|f| (f.path.as_str(), f.bytes.as_slice()))
        .collect();
    for (path, bytes) in &got {
        let Some(file) = wanted.get(path) else {
            r.fail(
                "tests/render",
                format!("{case}: `{path}` is generated but not in `{dir}`"),
                Some(format!("{dir}/{path}")),
            );
            continue;
        };
        let want = match file.read() {
            Ok(want) => want,
            Err(e) => {
                r.fail(
                    "tests/render",
                    format!("{case}: {}", e.message),
                    Some(file.path.clone()),
                );
                continue;
            }
        };
        if want.as_ref() != *bytes {
            let (line, message) = first_difference(&want, bytes);
            r.fail(
                "tests/render",
                format!("{case}: `{path}` differs from the expected file: {message}"),
                Some(format!("{dir}/{path}:{line}")),
            );
        }
    }
    for path in wanted.keys().filter(|p| !got.contains_key(*p)) {
        r.fail(
            "tests/render",
            format!("{case}: `{path}` is expected but not generated"),
            Some(format!("{dir}/{path}")),
        );
    }
}

/// The first line where two files differ, and what each holds there.
fn first_difference(want: &[u8], got: &[u8]) -> (usize, String) {
    let (want, got) = (String::from_utf8_lossy(want), String::from_utf8_lossy(got));
    let (mut a, mut b) = (want.split_inclusive('\n'), got.split_inclusive('\n'));
    let mut line = 1;
    loop {
        match (a.next(), b.next()) {
            (Some(x), Some(y)) if x == y => line += 1,
            (x, y) => {
                let show = |l: Option<&str>| match l {
                    Some(l) => format!("{:?}", l),
                    None => "the end of the file".to_string(),
                };
                return (
                    line,
                    format!("line {line}: expected {}, generated {}", show(x), show(y)),
                );
            }
        }
    }
}

/// Answer sets that cover every pair of values of every two bool/choice parameters
/// (greedy all-pairs), on top of the first test case's answers.
pub fn pairwise_cases(manifest: &Manifest) -> Vec<Map<String, Value>> {
    let dims: Vec<(&str, Vec<Value>)> = manifest
        .parameters
        .iter()
        .filter_map(|p| match p.kind {
            ParamType::Bool => Some((p.name.as_str(), vec![Value::Bool(true), Value::Bool(false)])),
            ParamType::Choice => p
                .choices
                .clone()
                .filter(|c| !c.is_empty())
                .map(|c| (p.name.as_str(), c)),
            _ => None,
        })
        .collect();
    let base = manifest
        .tests
        .first()
        .map(|t| t.answers.clone())
        .unwrap_or_default();
    if dims.is_empty() {
        return Vec::new();
    }
    // Every (dimension i, value a, dimension j, value b) with i < j still to cover.
    let mut uncovered: HashSet<(usize, usize, usize, usize)> = HashSet::new();
    for i in 0..dims.len() {
        for j in i + 1..dims.len() {
            for a in 0..dims[i].1.len() {
                for b in 0..dims[j].1.len() {
                    uncovered.insert((i, a, j, b));
                }
            }
        }
    }
    let mut rows: Vec<Vec<usize>> = Vec::new();
    if dims.len() == 1 {
        rows = (0..dims[0].1.len()).map(|a| vec![a]).collect();
    }
    while !uncovered.is_empty() {
        let &(i0, a0, j0, b0) = uncovered.iter().min().expect("non-empty");
        let mut row = vec![usize::MAX; dims.len()];
        row[i0] = a0;
        row[j0] = b0;
        for k in 0..dims.len() {
            if row[k] != usize::MAX {
                continue;
            }
            let gain = |v: usize| {
                (0..dims.len())
                    .filter(|&m| m != k && row[m] != usize::MAX)
                    .filter(|&m| {
                        let key = if m < k {
                            (m, row[m], k, v)
                        } else {
                            (k, v, m, row[m])
                        };
                        uncovered.contains(&key)
                    })
                    .count()
            };
            row[k] = (0..dims[k].1.len())
                .max_by_key(|&v| (gain(v), usize::MAX - v))
                .unwrap_or(0);
        }
        for i in 0..dims.len() {
            for j in i + 1..dims.len() {
                uncovered.remove(&(i, row[i], j, row[j]));
            }
        }
        rows.push(row);
    }
    rows.into_iter()
        .map(|row| {
            let mut answers = base.clone();
            for (k, (name, values)) in dims.iter().enumerate() {
                answers.insert((*name).to_string(), values[row[k]].clone());
            }
            answers
        })
        .collect()
}

fn check_matrix(renderer: &Renderer, r: &mut Recorder) {
    for (i, case) in pairwise_cases(renderer.manifest()).iter().enumerate() {
        let label: Vec<String> = case
            .iter()
            .map(|(k, v)| format!("{k}={}", params::display_value(v)))
            .collect();
        render_case(
            renderer,
            "matrix/render",
            &format!("matrix case {} ({})", i + 1, label.join(", ")),
            case,
            r,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_covers_every_pair() {
        let manifest: Manifest = Manifest::parse(
            "name: t\ncategory: service\nparameters:\n  - {name: a, type: bool}\n  - {name: b, type: bool}\n  - {name: c, type: choice, choices: [x, y, z]}\n",
            "t",
        )
        .unwrap();
        let cases = pairwise_cases(&manifest);
        assert!(cases.len() < 12, "fewer than the full product");
        for (p, q) in [("a", "b"), ("a", "c"), ("b", "c")] {
            let values = |n: &str| {
                manifest
                    .parameter(n)
                    .map(|p| {
                        p.choices
                            .clone()
                            .unwrap_or(vec![Value::Bool(true), Value::Bool(false)])
                    })
                    .unwrap()
            };
            for x in values(p) {
                for y in values(q) {
                    assert!(
                        cases.iter().any(|c| c[p] == x && c[q] == y),
                        "{p}={x} {q}={y}"
                    );
                }
            }
        }
    }

    #[test]
    fn literal_parts_ignore_template_tags() {
        assert_eq!(
            literal_parts("src/{{ name | pascal_case }}.cs"),
            vec!["src", "x.cs"]
        );
        assert_eq!(literal_parts("a:b/c"), vec!["a:b", "c"]);
    }
}
