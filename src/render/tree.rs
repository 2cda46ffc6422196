//! Renders a template's content folder: which files are kept (`files.when`, `files.exclude`),
//! where each goes (names are templates; a part that renders empty drops it; nothing may leave
//! the target), and what each holds (rendered, or copied byte for byte).
//!
//! Work is split so `generate` can stream: [`Renderer::plan`] decides every output path up
//! front (so path problems stop the run before anything is written), then
//! [`Renderer::render_file`] produces one file's bytes at a time, reading its source only then.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use globset::{Glob, GlobSet, GlobSetBuilder};
use minijinja::Environment;

use super::{TemplateError, describe_error, paths};
use crate::domain::events::LibraryUse;
use crate::template::manifest::{Flavour, MANIFEST_FILE, Manifest};
use crate::template::snapshot::TemplateFiles;

/// One output file held in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFile {
    /// Relative output path, `/`-separated.
    pub path: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Whether it is executable.
    pub executable: bool,
}

/// Why a render failed, one entry per problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenderProblem {
    /// A template (content or name) failed.
    Template(TemplateError),
    /// A rendered path would escape the target or is otherwise not allowed.
    Path {
        /// The source file whose name rendered badly.
        source: String,
        /// What is wrong.
        message: String,
    },
    /// A condition could not be evaluated.
    Condition {
        /// Which condition.
        location: String,
        /// What is wrong.
        message: String,
    },
    /// A source file could not be read.
    Read(String),
}

impl std::fmt::Display for RenderProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RenderProblem::Template(e) => e.fmt(f),
            RenderProblem::Path { source, message } => write!(f, "{source}: {message}"),
            RenderProblem::Condition { location, message } => write!(f, "{location}: {message}"),
            RenderProblem::Read(message) => f.write_str(message),
        }
    }
}

/// Whether bytes are copied verbatim rather than rendered: a NUL byte early on, or not UTF-8.
pub fn is_binary(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(8000)].contains(&0) || std::str::from_utf8(bytes).is_err()
}

/// A source file of the content folder.
#[derive(Debug, Clone)]
pub struct ContentFile {
    /// Path relative to the content folder (the template's name for `include`).
    pub path: String,
    /// Index into the template's files.
    pub index: usize,
    /// Whether `files.copy_only` (or a missing templates suffix) says to copy it untouched.
    pub copy_only: bool,
    /// The templates suffix to drop from its output name, if any.
    pub strip_suffix: Option<String>,
    /// A link kept as a link (copier's `_preserve_symlinks`): its target as written, rendered
    /// when its name has the templates suffix. `index` means nothing then.
    pub link: Option<String>,
}

/// A link kept as a link: where it goes and what it points at (rendered).
pub type PlannedLink = (String, String);

/// One output path a content path renders to: the path, the context with the values of the
/// `yield` tags on it, and whether copier's answers-file rule put it there from below the
/// template's root ([`PlannedFile::answers_below_root`]).
type PathBranch = (String, Option<minijinja::Value>, bool);

/// A content file and where it goes.
#[derive(Debug, Clone)]
pub struct PlannedFile {
    /// Index into [`Renderer::content`].
    pub content: usize,
    /// The rendered relative output path.
    pub path: String,
    /// The context with the values of copier's `yield` tags on its path (`None` when its
    /// path has none): what the file renders with.
    pub yielded: Option<minijinja::Value>,
    /// copier's answers-file template found below the template's root (a part of its path
    /// below the first rendered to the answers file's path), written at the answers file's
    /// own path as copier writes it; copier deprecates the form.
    pub answers_below_root: bool,
}

impl PlannedFile {
    /// The context this file renders with: the run's, or with its path's yielded values.
    pub fn context<'a>(&'a self, ctx: &'a minijinja::Value) -> &'a minijinja::Value {
        self.yielded.as_ref().unwrap_or(ctx)
    }
}

/// copier's `{% yield NAME from ITERABLE %}BODY{% endyield %}` in one part of a path.
#[derive(Debug, Clone, PartialEq)]
struct YieldTag {
    /// The name each value is bound to.
    name: String,
    /// The expression looped over.
    iterable: String,
    /// The part with the tag replaced by its body, rendered once per value.
    part: String,
}

/// The yield tag of a path part written with these block delimiters, if it has one; more
/// than one (side by side or nested) is refused as copier refuses it.
fn yield_tag(part: &str, start: &str, end: &str) -> Result<Option<YieldTag>, String> {
    // `{%` [-+] spaces WORD … [-+] `%}`: where each tag named `word` opens and closes.
    let tags = |word: &str| -> Vec<(usize, usize, String)> {
        let mut found = Vec::new();
        let mut from = 0;
        while let Some(i) = part[from..].find(start) {
            let open = from + i;
            let inner_start = open + start.len();
            let Some(j) = part[inner_start..].find(end) else {
                break;
            };
            let inner = part[inner_start..inner_start + j]
                .trim_start_matches(['-', '+'])
                .trim_end_matches(['-', '+'])
                .trim();
            let close = inner_start + j + end.len();
            let mut words = inner.splitn(2, char::is_whitespace);
            if words.next() == Some(word) {
                found.push((open, close, words.next().unwrap_or("").trim().to_string()));
            }
            from = close;
        }
        found
    };
    let opens = tags("yield");
    let Some((open, open_end, head)) = opens.first().cloned() else {
        return Ok(None);
    };
    if opens.len() > 1 {
        let names: Vec<String> = opens
            .iter()
            .map(|(_, _, h)| format!("\"{}\"", h.split_whitespace().next().unwrap_or("")))
            .collect();
        return Err(format!(
            "only one yield tag is allowed per path name; this one has {}: {}",
            opens.len(),
            names.join(", ")
        ));
    }
    let Some((name, iterable)) = head.split_once(" from ") else {
        return Err(format!(
            "`{head}` is not `NAME from ITERABLE` in a yield tag"
        ));
    };
    let Some((close, close_end, _)) = tags("endyield").into_iter().find(|t| t.0 >= open_end) else {
        return Err("a yield tag without its endyield".to_string());
    };
    Ok(Some(YieldTag {
        name: name.trim().to_string(),
        iterable: iterable.trim().to_string(),
        part: format!(
            "{}{}{}",
            &part[..open],
            &part[open_end..close],
            &part[close_end..]
        ),
    }))
}

fn glob_set(patterns: &[String]) -> Result<GlobSet, String> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        let glob = Glob::new(pattern).map_err(|e| format!("glob `{pattern}`: {e}"))?;
        builder.add(glob);
    }
    builder.build().map_err(|e| e.to_string())
}

/// Whether `text` opens a block (`start`, then `-` or `+` and spaces) with one of `tags`.
fn uses_tag(text: &str, start: &str, tags: &[String]) -> bool {
    text.match_indices(start).any(|(at, _)| {
        let rest = text[at + start.len()..]
            .trim_start_matches(['-', '+'])
            .trim_start();
        let word: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        tags.contains(&word)
    })
}

/// Whether `path` or any folder above it matches.
fn matches_path_or_parent(set: &GlobSet, path: &str) -> bool {
    if set.is_match(path) {
        return true;
    }
    let mut end = path.len();
    while let Some(i) = path[..end].rfind('/') {
        if set.is_match(&path[..i]) {
            return true;
        }
        end = i;
    }
    false
}

/// Whether the template holds `path` with the templates suffix added (a file, or a folder
/// with files in it) below `prefix`: copier renders that one and leaves `path` out, so a
/// template may hold both `X` and `X.jinja`.
fn has_templated_sibling(
    files: &TemplateFiles,
    prefix: &str,
    path: &str,
    suffix: Option<&str>,
) -> bool {
    let Some(suffix) = suffix else {
        return false;
    };
    let sibling = format!("{prefix}{path}{suffix}");
    exists_in(files, &sibling)
}

/// Whether `path` is a file, a link or a folder with files of the template.
fn exists_in(files: &TemplateFiles, path: &str) -> bool {
    if files.get(path).is_some() || files.links.iter().any(|l| l.path == path) {
        return true;
    }
    // Files are sorted by path bytes: the first at or after `path/` tells.
    let folder = format!("{path}/");
    let at = files
        .files
        .partition_point(|f| f.path.as_bytes() < folder.as_bytes());
    files
        .files
        .get(at)
        .is_some_and(|f| f.path.starts_with(&folder))
}

/// Template files larger than this are refused rather than rendered: rendering holds a file's
/// text and its output in memory, so the same bound holds for both.
const MAX_RENDER_BYTES: u64 = super::MAX_RENDERED_BYTES as u64;

/// A template ready to render: one environment (whose loader serves the content files by
/// path, so `include`, `extends` and `import` work across them) and the manifest's rules.
pub struct Renderer<'a> {
    env: Environment<'static>,
    manifest: std::borrow::Cow<'a, Manifest>,
    files: Arc<TemplateFiles>,
    /// The content files in path order.
    pub content: Vec<ContentFile>,
    conditions: Vec<(GlobSet, String)>,
    keep_compiled: bool,
    settings: super::Settings,
    /// How the template's own tool reads it (copier's rules for names and exclusions).
    flavour: Flavour,
    /// What starts a template in a file or folder name: the delimiters in effect (copier's
    /// `_envops` may change them).
    name_markers: Vec<String>,
    /// Whether a text holding none of [`Renderer::text_markers`] renders to itself: the
    /// trailing newline is kept and no line statements or comments are configured.
    verbatim: bool,
    /// What may start a template in a file's text: the delimiters in effect and the default
    /// ones (`{% now %}` is rewritten before the delimiters apply).
    text_markers: aho_corasick::AhoCorasick,
    /// The block delimiters in effect (`{%`, `%}` unless `_envops` names others).
    block_delimiters: (String, String),
}

impl<'a> Renderer<'a> {
    /// Prepares a renderer; fails only on a bad glob in the manifest.
    pub fn new(
        manifest: &'a Manifest,
        files: Arc<TemplateFiles>,
        settings: &super::Settings,
    ) -> Result<Renderer<'a>, String> {
        Self::build(std::borrow::Cow::Borrowed(manifest), files, settings)
    }

    fn build(
        owned: std::borrow::Cow<'a, Manifest>,
        files: Arc<TemplateFiles>,
        settings: &super::Settings,
    ) -> Result<Renderer<'a>, String> {
        let manifest: &Manifest = &owned;
        let flavour = manifest.flavour();
        // copier's `_exclude` is gitignore patterns over the rendered output paths, judged in
        // `plan`; factory's own are globs over the template's paths.
        let exclude = if flavour == Flavour::Copier {
            glob_set(&[])?
        } else {
            glob_set(&manifest.files.exclude)?
        };
        let copy_only = glob_set(&manifest.files.copy_only)?;
        let mut conditions = Vec::new();
        for rule in &manifest.files.when {
            conditions.push((
                glob_set(std::slice::from_ref(&rule.path))?,
                rule.condition.clone(),
            ));
        }
        // A templated content folder is chosen by the answers: until they are known (the
        // questions), this renderer has no files, and `plan` refuses to run.
        let content_dir = if manifest.content_is_templated() {
            "\u{0}unrendered"
        } else {
            manifest.content_dir()
        };
        let prefix = if content_dir.is_empty() {
            String::new()
        } else {
            format!("{content_dir}/")
        };
        let mut content = Vec::new();
        let kept_links: HashSet<&str> = if manifest.preserve_symlinks {
            files.links.iter().map(|l| l.path.as_str()).collect()
        } else {
            HashSet::new()
        };
        let suffix = manifest
            .templates_suffix
            .as_deref()
            .filter(|s| !s.is_empty());
        // A link to a folder is read through into the files below it (copier's default);
        // kept as a link, what is below it is not the template's to write.
        let below_kept = |path: &str| {
            path.match_indices('/')
                .any(|(at, _)| kept_links.contains(&path[..at]))
        };
        for link in files
            .links
            .iter()
            .filter(|l| kept_links.contains(l.path.as_str()) && !below_kept(&l.path))
        {
            let Some(path) = link.path.strip_prefix(&prefix) else {
                continue;
            };
            if (content_dir.is_empty() && path == MANIFEST_FILE)
                || matches_path_or_parent(&exclude, path)
                || has_templated_sibling(&files, &prefix, path, suffix)
            {
                continue;
            }
            content.push(ContentFile {
                path: path.to_string(),
                index: usize::MAX,
                copy_only: true,
                strip_suffix: suffix.filter(|s| path.ends_with(s)).map(str::to_string),
                link: Some(link.target.clone()),
            });
        }
        // A test case's expected tree is the template's record of its output, not content.
        let expected = manifest.expected_trees();
        let in_expected = |path: &str| {
            expected.iter().any(|d| {
                path.strip_prefix(d)
                    .is_some_and(|rest| rest.starts_with('/'))
            })
        };
        for (index, file) in files.files.iter().enumerate() {
            if kept_links.contains(file.path.as_str())
                || below_kept(&file.path)
                || in_expected(&file.path)
            {
                continue;
            }
            let Some(path) = file.path.strip_prefix(&prefix) else {
                continue;
            };
            if (content_dir.is_empty() && path == MANIFEST_FILE)
                || matches_path_or_parent(&exclude, path)
                || has_templated_sibling(&files, &prefix, path, suffix)
            {
                continue;
            }
            let is_template = suffix.is_none_or(|s| path.ends_with(s));
            content.push(ContentFile {
                path: path.to_string(),
                index,
                copy_only: !is_template || matches_path_or_parent(&copy_only, path),
                strip_suffix: suffix.filter(|_| is_template).map(str::to_string),
                link: None,
            });
        }
        content.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
        if !manifest.content_is_templated()
            && !prefix.is_empty()
            && !files.files.iter().any(|f| f.path.starts_with(&prefix))
        {
            return Err(format!(
                "the content folder `{content_dir}` (content: / copier's _subdirectory) is not in the template"
            ));
        }
        let mut env = super::environment_for(settings, manifest)?;
        let delimiter = |key: &str, default: &str| {
            manifest
                .envops
                .get(key)
                .and_then(|v| v.as_str())
                .unwrap_or(default)
                .to_string()
        };
        let block_delimiters = (
            delimiter("block_start_string", "{%"),
            delimiter("block_end_string", "%}"),
        );
        let name_markers: Vec<String> = [
            "variable_start_string",
            "block_start_string",
            "comment_start_string",
        ]
        .iter()
        .zip(["{{", "{%", "{#"])
        .map(|(key, default)| {
            manifest
                .envops
                .get(*key)
                .and_then(|v| v.as_str())
                .unwrap_or(default)
                .to_string()
        })
        .collect();
        let envops = &manifest.envops;
        let verbatim = envops
            .get("keep_trailing_newline")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(true)
            && !envops.contains_key("line_statement_prefix")
            && !envops.contains_key("line_comment_prefix");
        let text_markers = aho_corasick::AhoCorasick::new(
            name_markers
                .iter()
                .map(String::as_str)
                .chain(["{{", "{%", "{#"]),
        )
        .map_err(|e| format!("_envops delimiters: {e}"))?;
        let loader_files = Arc::clone(&files);
        let loadable: HashMap<String, usize> = content
            .iter()
            .filter(|c| !c.copy_only)
            .map(|c| (c.path.clone(), c.index))
            .collect();
        let search_path = manifest.search_path.clone();
        let jinja2_newlines = flavour != Flavour::Factory;
        env.set_loader(move |name| {
            // A content file by its own path first (how each file is compiled), then the
            // manifest's search folders, which may lie outside the content.
            let found = loadable.get(name).copied().or_else(|| {
                search_path.iter().find_map(|dir| {
                    let path = if dir.is_empty() {
                        name.to_string()
                    } else {
                        format!("{dir}/{name}")
                    };
                    loader_files
                        .files
                        .binary_search_by(|f| f.path.as_str().cmp(&path))
                        .ok()
                })
            });
            let Some(index) = found else {
                return Ok(None);
            };
            if loader_files.files[index].size > MAX_RENDER_BYTES {
                return Err(minijinja::Error::new(
                    minijinja::ErrorKind::InvalidOperation,
                    format!(
                        "file too large to render (over {} MB); copy it with `copy_only`",
                        MAX_RENDER_BYTES / (1024 * 1024)
                    ),
                ));
            }
            let bytes = loader_files.files[index].read().map_err(|e| {
                minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.message)
            })?;
            if is_binary(&bytes) {
                return Ok(None);
            }
            let text = String::from_utf8(bytes.into_owned()).expect("checked by is_binary");
            let text = if jinja2_newlines {
                match super::jinja2_newlines(&text) {
                    Cow::Owned(normalised) => normalised,
                    Cow::Borrowed(_) => text,
                }
            } else {
                text
            };
            Ok(Some(
                crate::template::syntax::preprocess(&text).into_owned(),
            ))
        });
        Ok(Renderer {
            env,
            manifest: owned,
            files,
            content,
            conditions,
            keep_compiled: false,
            settings: settings.clone(),
            flavour,
            name_markers,
            verbatim,
            text_markers,
            block_delimiters,
        })
    }

    /// The libraries whose `if` holds for the answers, judged in this template's environment.
    pub fn libraries(&self, ctx: &minijinja::Value) -> crate::Result<Vec<LibraryUse>> {
        let mut out = Vec::new();
        for library in &self.manifest.libraries {
            let keep = match &library.condition {
                None => true,
                Some(condition) => self
                    .env
                    .compile_expression(condition)
                    .and_then(|e| e.eval(ctx))
                    .map(|v| v.is_true())
                    .map_err(|e| {
                        crate::Error::new(format!(
                            "library `{}`: if `{condition}`: {e}",
                            library.package
                        ))
                    })?,
            };
            if keep {
                out.push(LibraryUse {
                    package_name: library.package.clone(),
                    version: library.version.clone(),
                });
            }
        }
        Ok(out)
    }

    /// Keeps every template compiled once through the loader and renders from that, for
    /// callers that render the same files many times (validation's test cases and matrix)
    /// rather than reading and compiling each file on every render.
    pub fn keep_compiled(mut self) -> Self {
        self.keep_compiled = true;
        self
    }

    /// The environment, for checks that inspect templates.
    pub fn env(&self) -> &Environment<'static> {
        &self.env
    }

    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The name of cookiecutter's project folder for these answers (its content folder's
    /// name, rendered): the folder `-o` makes the project in.
    pub fn project_folder(&self, ctx: &minijinja::Value) -> Result<String, String> {
        let raw = self.manifest.content_dir();
        let name = self
            .render_name_part(raw, raw, ctx)
            .map_err(|p| p.to_string())?
            .unwrap_or_default();
        paths::check_inside(&name).map_err(|m| format!("the project folder `{raw}`: {m}"))?;
        Ok(name)
    }

    /// When the content folder is a template over the answers (copier's
    /// `_subdirectory: "{{ flavor }}"`), a renderer over the folder these answers name;
    /// `None` when this one serves every answer.
    pub fn for_answers(&self, ctx: &minijinja::Value) -> Result<Option<Renderer<'static>>, String> {
        let Some(chosen) = self.manifest.with_content_for(&self.env, ctx)? else {
            return Ok(None);
        };
        let dir = chosen.content_dir();
        paths::check_inside(dir).map_err(|m| format!("the content folder `{dir}`: {m}"))?;
        Renderer::build(
            std::borrow::Cow::Owned(chosen),
            Arc::clone(&self.files),
            &self.settings,
        )
        .map(Some)
    }

    /// The template's files.
    pub fn files(&self) -> &TemplateFiles {
        &self.files
    }

    /// Compiles every text file of the content folder (through the loader, so each is
    /// compiled once and kept for later renders); returns those that do not compile.
    pub fn compile_all(&self) -> Vec<TemplateError> {
        let mut errors = Vec::new();
        for file in self.content.iter().filter(|c| !c.copy_only) {
            if let Err(err) = self.env.get_template(&file.path)
                && err.kind() != minijinja::ErrorKind::TemplateNotFound
            {
                let source = self.files.files[file.index]
                    .read()
                    .ok()
                    .map(|b| String::from_utf8_lossy(&b).into_owned());
                errors.push(describe_error(&err, &file.path, |_| source.clone()));
            }
        }
        errors
    }

    /// A location (`path[:line[:col]]`) in a content file, as a path from the template's
    /// root (`content/README.md:2:7` for a template whose content folder is `content/`);
    /// other locations are returned as they are.
    pub fn rooted(&self, location: &str) -> String {
        let file = location.split(':').next().unwrap_or(location);
        match self
            .content
            .iter()
            .find(|c| c.path == file && c.link.is_none())
            .map(|c| &self.files.files[c.index].path)
        {
            Some(source) if source != file => format!("{source}{}", &location[file.len()..]),
            _ => location.to_string(),
        }
    }

    /// A template error as a problem: an undefined name gains the closest parameter.
    fn problem(&self, mut error: TemplateError) -> RenderProblem {
        if let Some(rest) = error.message.strip_prefix("undefined variable in `") {
            let expression = rest.trim_end_matches('`');
            let name: String = match &self.manifest.namespace {
                Some(ns) => expression
                    .strip_prefix(ns.as_str())
                    .and_then(|r| r.strip_prefix('.'))
                    .unwrap_or(expression),
                None => expression,
            }
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
            let names = self.manifest.parameters.iter().map(|p| p.name.as_str());
            // Jinja2's own words, which copier's and cookiecutter's users (and scripts) read:
            // for a bare name after the expression, for an attribute of an unknown name
            // after a colon; a factory template keeps factory's message alone.
            let bare = name == expression;
            if self.flavour != Flavour::Factory && !name.is_empty() && bare {
                error.message.push_str(&format!(" ('{name}' is undefined)"));
            }
            if self.manifest.parameter(&name).is_none() {
                if self.flavour == Flavour::Copier
                    && !bare
                    && !name.is_empty()
                    && !name.starts_with('_')
                {
                    error.message.push_str(&format!(": '{name}' is undefined"));
                }
                error
                    .message
                    .push_str(&crate::suggest::did_you_mean(&name, names));
            }
        }
        RenderProblem::Template(error)
    }

    /// Evaluates an expression to a truth value.
    pub fn condition(
        &self,
        expression: &str,
        ctx: &minijinja::Value,
        location: &str,
    ) -> Result<bool, RenderProblem> {
        self.env
            .compile_expression(expression)
            .and_then(|e| e.eval(ctx))
            .map(|v| v.is_true())
            .map_err(|e| RenderProblem::Condition {
                location: location.to_string(),
                message: format!(
                    "`{expression}`: {}",
                    describe_error(&e, location, |_| None).message
                ),
            })
    }

    /// Decides every output path: conditions applied, names rendered (each distinct name
    /// part once), every path checked to stay inside the target, no two files on one path,
    /// and the links kept as links checked with them ([`Renderer::plan_links`]), so a link
    /// that would lead out stops the run, a dry run and validation before anything is
    /// written.
    pub fn plan(&self, ctx: &minijinja::Value) -> Result<Vec<PlannedFile>, Vec<RenderProblem>> {
        self.plan_with_links(ctx).map(|(files, _)| files)
    }

    /// The links kept as links (copier's `_preserve_symlinks`) and where they go: the path
    /// rendered as a file's would be, the target rendered when the link's name has the
    /// templates suffix, and refused when, resolved through every other link of the output
    /// ([`paths::check_links`]), it would lead out of the output folder.
    pub fn plan_links(
        &self,
        ctx: &minijinja::Value,
    ) -> Result<Vec<PlannedLink>, Vec<RenderProblem>> {
        self.plan_with_links(ctx).map(|(_, links)| links)
    }

    /// The files and the links of the output, every path and link checked, in one pass
    /// ([`Renderer::plan`] and [`Renderer::plan_links`] together).
    pub fn plan_with_links(
        &self,
        ctx: &minijinja::Value,
    ) -> Result<(Vec<PlannedFile>, Vec<PlannedLink>), Vec<RenderProblem>> {
        let planned = self.plan_all(ctx)?;
        let mut files = Vec::with_capacity(planned.len());
        let mut links = Vec::new();
        let mut sources = Vec::new();
        let mut problems = Vec::new();
        for planned in planned {
            let file = &self.content[planned.content];
            let Some(target) = &file.link else {
                files.push(planned);
                continue;
            };
            let target = if file.strip_suffix.is_some() {
                match super::render_str_bounded(&self.env, target, ctx) {
                    Ok(rendered) => rendered,
                    Err(e) => {
                        let mut err = describe_error(&e, &file.path, |_| Some(target.clone()));
                        err.location = format!("{} (link target)", file.path);
                        problems.push(RenderProblem::Template(err));
                        continue;
                    }
                }
            } else {
                target.clone()
            };
            links.push((planned.path, target));
            sources.push(file.path.clone());
        }
        let folders = paths::folders_of(files.iter().map(|f| f.path.as_str()));
        for (i, message) in paths::check_links(&links, folders) {
            problems.push(RenderProblem::Path {
                source: sources[i].clone(),
                message,
            });
        }
        if problems.is_empty() {
            Ok((files, links))
        } else {
            Err(problems)
        }
    }

    /// copier's folders: every folder of the content whose rendered path is neither empty
    /// nor excluded, made even when no file ends up in it (copier makes each folder it walks,
    /// `five/` when its one file's name renders empty). None for other flavours, which make
    /// a folder only for the files in it.
    pub fn plan_folders(&self, ctx: &minijinja::Value) -> Result<Vec<String>, RenderProblem> {
        if self.flavour != Flavour::Copier || self.manifest.content_is_templated() {
            return Ok(Vec::new());
        }
        let excluded = self.copier_exclusions(ctx)?;
        let mut folders: Vec<&str> = paths::folders_of(
            self.content
                .iter()
                .filter(|c| c.link.is_none())
                .map(|c| c.path.as_str()),
        )
        .into_iter()
        .collect();
        folders.sort_unstable();
        let mut parts = HashMap::new();
        let mut out = std::collections::BTreeSet::new();
        for folder in folders {
            for (path, _, _) in self.render_path(folder, ctx, &mut parts, None)? {
                // A folder that would leave the project is its files' error, said by `plan`.
                if paths::check_inside_foreign(&path).is_ok() && !excluded.is_excluded(&path) {
                    out.insert(path);
                }
            }
        }
        Ok(out.into_iter().collect())
    }

    /// Every content entry (files and kept links) and where it goes.
    fn plan_all(&self, ctx: &minijinja::Value) -> Result<Vec<PlannedFile>, Vec<RenderProblem>> {
        if self.manifest.content_is_templated() {
            // A caller that skipped `Manifest::with_content_for`: say so rather than render
            // an empty project.
            return Err(vec![RenderProblem::Template(TemplateError {
                location: self.manifest.content.clone().unwrap_or_default(),
                message: "the content folder is a template that was not rendered".into(),
            })]);
        }
        let mut problems = Vec::new();
        // The answers are fixed for the run, so each rule's verdict is too.
        let mut verdicts = Vec::with_capacity(self.conditions.len());
        for (i, (_, condition)) in self.conditions.iter().enumerate() {
            match self.condition(condition, ctx, &format!("files.when[{i}]")) {
                Ok(keep) => verdicts.push(keep),
                Err(problem) => {
                    problems.push(problem);
                    verdicts.push(true);
                }
            }
        }
        let excluded = match self.copier_exclusions(ctx) {
            Ok(spec) => spec,
            Err(problem) => {
                problems.push(problem);
                super::gitignore::Spec::default()
            }
        };
        let suffix = self
            .manifest
            .templates_suffix
            .as_deref()
            .filter(|s| !s.is_empty());
        // copier's answers file path, which a rendered part of a name may equal (copier's
        // `_render_parts`: the file is then written there).
        let answers_file = (self.flavour == Flavour::Copier)
            .then(|| {
                ctx.get_attr("_copier_conf")
                    .and_then(|conf| conf.get_attr("answers_file"))
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
            })
            .flatten()
            .filter(|a| !a.is_empty());
        let mut parts: HashMap<&str, Option<String>> = HashMap::new();
        let mut planned = Vec::with_capacity(self.content.len());
        let mut seen: HashSet<String> = HashSet::with_capacity(self.content.len());
        'files: for (index, file) in self.content.iter().enumerate() {
            for ((set, _), keep) in self.conditions.iter().zip(&verdicts) {
                if !keep && matches_path_or_parent(set, &file.path) {
                    continue 'files;
                }
            }
            let answers = answers_file
                .as_deref()
                .map(|a| (a, file.strip_suffix.as_deref()));
            let branches = match self.render_path(&file.path, ctx, &mut parts, answers) {
                Ok(branches) => branches,
                Err(problem) => {
                    problems.push(problem);
                    continue 'files;
                }
            };
            // One output path per value a `yield` tag loops over (one when there is none).
            for (mut out, yielded, answers_below_root) in branches {
                if let Some(suffix) = &file.strip_suffix
                    && let Some(stripped) = out.strip_suffix(suffix.as_str())
                {
                    out.truncate(stripped.len());
                    // A name that was only the suffix rendered empty: the file is dropped.
                    if out.is_empty() || out.ends_with('/') {
                        continue;
                    }
                }
                let checked = if self.flavour == Flavour::Factory {
                    paths::check_inside(&out)
                } else {
                    paths::check_inside_foreign(&out)
                };
                // copier's words for a path that would leave the project.
                let checked = match checked {
                    Err(message) if self.flavour == Flavour::Copier => Err(format!(
                        "\"{}\" is forbidden: {message}",
                        paths::shown(&out)
                    )),
                    other => other,
                };
                if let Err(message) = checked {
                    problems.push(RenderProblem::Path {
                        source: file.path.clone(),
                        message,
                    });
                    continue;
                }
                if self.flavour == Flavour::Copier {
                    if excluded.is_excluded(&out) {
                        continue;
                    }
                    // copier also leaves out a plain file whose rendered path, with the suffix,
                    // names a file at the template's root (its `_render_parts`).
                    if file.strip_suffix.is_none()
                        && let Some(suffix) = suffix
                        && exists_in(&self.files, &format!("{out}{suffix}"))
                    {
                        continue;
                    }
                }
                if !seen.insert(out.clone()) {
                    problems.push(RenderProblem::Path {
                        source: file.path.clone(),
                        message: format!("two template files render to the same path `{out}`"),
                    });
                    continue;
                }
                planned.push(PlannedFile {
                    content: index,
                    path: out,
                    yielded,
                    answers_below_root,
                });
            }
        }
        if problems.is_empty() {
            Ok(planned)
        } else {
            Err(problems)
        }
    }

    /// copier's exclusions for these answers: each `_exclude` entry rendered (one entry may
    /// render to several lines, one pattern each), compiled as pathspec's gitignore patterns.
    fn copier_exclusions(
        &self,
        ctx: &minijinja::Value,
    ) -> Result<super::gitignore::Spec, RenderProblem> {
        if self.flavour != Flavour::Copier {
            return Ok(super::gitignore::Spec::default());
        }
        let mut lines: Vec<String> = Vec::new();
        for pattern in &self.manifest.files.exclude {
            let rendered = if self.is_name_template(pattern) {
                super::render_str_bounded(&self.env, pattern, ctx).map_err(|e| {
                    let mut err = describe_error(&e, "_exclude", |_| Some(pattern.clone()));
                    err.location = format!("_exclude `{pattern}`");
                    RenderProblem::Template(err)
                })?
            } else {
                pattern.clone()
            };
            lines.extend(
                rendered
                    .split("\r\n")
                    .flat_map(|l| l.split(['\r', '\n']))
                    .map(str::to_string),
            );
        }
        super::gitignore::Spec::new(lines.iter().map(String::as_str)).map_err(|message| {
            RenderProblem::Condition {
                location: "_exclude".to_string(),
                message,
            }
        })
    }

    /// A content path rendered part by part: one output path, or one per value a part's
    /// `yield` tag loops over (with that value bound for the parts after it and the file);
    /// none when a part renders empty. Parts outside any yield are rendered once per run.
    /// With `answers` (copier's answers file path, and the suffix the file's name drops), a
    /// part that renders to that path ends the path there, as copier's `_render_parts`
    /// does; the branch says whether that part was below the root.
    fn render_path<'s>(
        &self,
        path: &'s str,
        ctx: &minijinja::Value,
        cache: &mut HashMap<&'s str, Option<String>>,
        answers: Option<(&str, Option<&str>)>,
    ) -> Result<Vec<PathBranch>, RenderProblem> {
        let mut branches: Vec<PathBranch> = vec![(String::new(), None, false)];
        let mut done: Vec<PathBranch> = Vec::new();
        let mut at = 0;
        let count = path.split('/').count();
        for (depth, part) in path.split('/').enumerate() {
            // The template path up to this part, named when it does not render.
            at += part.len() + 1;
            let upto = &path[..(at - 1).min(path.len())];
            let tag = match self.flavour == Flavour::Copier && self.is_name_template(part) {
                true => yield_tag(part, &self.block_delimiters.0, &self.block_delimiters.1)
                    .map_err(|message| {
                        RenderProblem::Template(TemplateError {
                            location: format!("{upto} (template path)"),
                            message,
                        })
                    })?,
                false => None,
            };
            let mut next = Vec::with_capacity(branches.len());
            for (out, yielded, _) in branches {
                let here = yielded.as_ref().unwrap_or(ctx);
                let rendered: Vec<(Option<String>, Option<minijinja::Value>)> = match &tag {
                    Some(tag) => {
                        let values = self
                            .env
                            .compile_expression(&tag.iterable)
                            .and_then(|e| e.eval(here))
                            .and_then(|v| v.try_iter().map(|i| i.collect::<Vec<_>>()))
                            .map_err(|e| {
                                let mut err = describe_error(&e, upto, |_| Some(part.to_string()));
                                err.location = format!("{upto} (template path)");
                                RenderProblem::Template(err)
                            })?;
                        let mut each = Vec::with_capacity(values.len());
                        for value in values {
                            // The yielded name over the context (the first map wins).
                            let bound = minijinja::value::merge_maps([
                                minijinja::Value::from(std::collections::BTreeMap::from([(
                                    tag.name.clone(),
                                    value,
                                )])),
                                here.clone(),
                            ]);
                            each.push((
                                self.render_name_part(&tag.part, upto, &bound)?,
                                Some(bound),
                            ));
                        }
                        each
                    }
                    None if yielded.is_none() => {
                        let rendered = match cache.get(part) {
                            Some(rendered) => rendered.clone(),
                            None => {
                                let rendered = self.render_name_part(part, upto, ctx)?;
                                cache.insert(part, rendered.clone());
                                rendered
                            }
                        };
                        vec![(rendered, None)]
                    }
                    None => vec![(self.render_name_part(part, upto, here)?, yielded.clone())],
                };
                for (name, yielded) in rendered {
                    let Some(name) = name else { continue };
                    if let Some((answers, strip)) = answers {
                        let last = depth + 1 == count;
                        let bare = match strip {
                            Some(suffix) if last => name.strip_suffix(suffix),
                            _ => Some(name.as_str()),
                        };
                        if bare == Some(answers) {
                            // The file goes where the answers file goes, whatever parts
                            // were before or after; the suffix is dropped by the caller.
                            let end = if last { &name[answers.len()..] } else { "" };
                            done.push((format!("{answers}{end}"), yielded, depth > 0));
                            continue;
                        }
                    }
                    let mut out = out.clone();
                    if !out.is_empty() {
                        out.push('/');
                    }
                    out.push_str(&name);
                    next.push((out, yielded, false));
                }
            }
            branches = next;
        }
        done.extend(branches);
        Ok(done)
    }

    /// Whether a name (or a pattern) holds template syntax with the delimiters in effect.
    fn is_name_template(&self, text: &str) -> bool {
        self.name_markers.iter().any(|m| text.contains(m.as_str()))
    }

    /// Renders one part of a name; `None` when it renders empty (dropping the file).
    fn render_name_part(
        &self,
        part: &str,
        path: &str,
        ctx: &minijinja::Value,
    ) -> Result<Option<String>, RenderProblem> {
        if !self.is_name_template(part) {
            return Ok(Some(part.to_string()));
        }
        let rendered = super::render_str_bounded(&self.env, part, ctx).map_err(|e| {
            let mut err = describe_error(&e, path, |_| Some(part.to_string()));
            // `path` ends with this part: a file's or a folder's name.
            err.location = format!("{path} (template path)");
            RenderProblem::Template(err)
        })?;
        // copier keeps what a name renders to as it is (a name may start or end with a
        // space); factory's own and cookiecutter's are trimmed.
        if self.flavour == Flavour::Copier {
            return Ok((!rendered.is_empty()).then_some(rendered));
        }
        let rendered = rendered.trim();
        Ok((!rendered.is_empty()).then(|| rendered.to_string()))
    }

    /// The bytes of one content file: its source copied, or rendered.
    pub fn render_file(
        &self,
        file: &ContentFile,
        ctx: &minijinja::Value,
    ) -> Result<Cow<'_, [u8]>, RenderProblem> {
        let size = self.files.files[file.index].size;
        if !file.copy_only && size > MAX_RENDER_BYTES {
            return Err(RenderProblem::Template(TemplateError {
                location: self.rooted(&file.path),
                message: format!(
                    "file too large to render ({} MB, the limit is {} MB); copy it with `copy_only`",
                    size / (1024 * 1024),
                    MAX_RENDER_BYTES / (1024 * 1024)
                ),
            }));
        }
        if !file.copy_only
            && let Some(rendered) = self.render_foreign(file, ctx)?
        {
            return Ok(Cow::Owned(rendered));
        }
        let from_cache = |name: &str| {
            self.env
                .get_template(name)
                .ok()
                .map(|t| t.source().to_string())
        };
        if self.keep_compiled && !file.copy_only {
            match self.env.get_template(&file.path) {
                Ok(template) => {
                    let rendered = super::render_bounded(&template, ctx)
                        .map_err(|e| self.problem(describe_error(&e, &file.path, from_cache)))?;
                    return self.written_newlines(file, ctx, rendered, None);
                }
                // Binary files are not templates: copied below.
                Err(e) if e.kind() == minijinja::ErrorKind::TemplateNotFound => {}
                Err(e) => {
                    return Err(self.problem(describe_error(&e, &file.path, from_cache)));
                }
            }
        }
        let source = &self.files.files[file.index];
        let bytes = source
            .read()
            .map_err(|e| RenderProblem::Read(e.to_string()))?;
        if file.copy_only || is_binary(&bytes) {
            return Ok(bytes);
        }
        let source = std::str::from_utf8(&bytes).expect("checked by is_binary");
        let source = if self.flavour == Flavour::Factory {
            Cow::Borrowed(source)
        } else {
            super::jinja2_newlines(source)
        };
        if self.verbatim && !self.text_markers.is_match(source.as_ref()) {
            // A text without template syntax renders to itself: written as read, in the
            // one pass that reads, writes and hashes it, with nothing compiled.
            return match source {
                Cow::Borrowed(_) if self.flavour != Flavour::Cookiecutter => Ok(bytes),
                source => {
                    let text = source.into_owned();
                    self.written_newlines(file, ctx, text, Some(&bytes))
                }
            };
        }
        let text = crate::template::syntax::preprocess(&source);
        let text: &str = &text;
        let describe = |e: minijinja::Error| {
            self.problem(describe_error(&e, &file.path, |name| {
                if name == file.path {
                    Some(text.to_string())
                } else {
                    from_cache(name)
                }
            }))
        };
        // Compiled here rather than through the loader so a run over many files does not
        // keep every compiled template alive; included files are cached by the loader.
        let template = self
            .env
            .template_from_named_str(&file.path, text)
            .map_err(describe)?;
        let rendered = super::render_bounded(&template, ctx).map_err(describe)?;
        self.written_newlines(file, ctx, rendered, Some(&bytes))
    }

    /// A rendered file's text as its tool writes it: cookiecutter writes every newline as
    /// `_new_lines` says, or as the source's first newlines are (Python's universal
    /// newlines over the first 8 KiB read); copier and factory write what Jinja made.
    fn written_newlines(
        &self,
        file: &ContentFile,
        ctx: &minijinja::Value,
        rendered: String,
        source: Option<&[u8]>,
    ) -> Result<Cow<'_, [u8]>, RenderProblem> {
        if self.flavour != Flavour::Cookiecutter || !rendered.contains('\n') {
            return Ok(Cow::Owned(rendered.into_bytes()));
        }
        let configured = ctx
            .get_attr("cookiecutter")
            .and_then(|c| c.get_attr("_new_lines"))
            .ok()
            .filter(|v| v.is_true())
            .and_then(|v| v.as_str().map(str::to_string));
        let newline = match configured {
            Some(newline) => newline,
            None => {
                let read;
                let source = match source {
                    Some(source) => source,
                    None => {
                        read = self.files.files[file.index]
                            .read()
                            .map_err(|e| RenderProblem::Read(e.to_string()))?;
                        &read
                    }
                };
                super::first_newline(source).to_string()
            }
        };
        if newline == "\n" {
            return Ok(Cow::Owned(rendered.into_bytes()));
        }
        Ok(Cow::Owned(rendered.replace('\n', &newline).into_bytes()))
    }

    /// A file that uses a tag a Python extension adds (`{% gitcommit %}`) is rendered whole
    /// by the real Jinja2 in the extensions' helper (started with `--trust`): minijinja
    /// cannot parse a tag it does not know. `None` for every other file.
    fn render_foreign(
        &self,
        file: &ContentFile,
        ctx: &minijinja::Value,
    ) -> Result<Option<Vec<u8>>, RenderProblem> {
        if self.settings.foreign.is_none() || file.link.is_some() {
            return Ok(None);
        }
        let bytes = self.files.files[file.index]
            .read()
            .map_err(|e| RenderProblem::Read(e.to_string()))?;
        if is_binary(&bytes) {
            return Ok(None);
        }
        let text = std::str::from_utf8(&bytes).expect("checked by is_binary");
        let Some(rendered) = self.render_foreign_text(&file.path, text, ctx) else {
            return Ok(None);
        };
        rendered
            .map(|text| Some(text.into_bytes()))
            .map_err(|message| {
                self.problem(TemplateError {
                    location: self.rooted(&file.path),
                    message: format!("{message} (rendered by Jinja2 for its extension's tag)"),
                })
            })
    }

    /// A text that uses a tag a Python extension adds, rendered by Jinja2 in the helper (a
    /// file, or a cookiecutter hook, which cookiecutter renders with the same environment);
    /// `None` when there is no helper or the text uses none of its tags.
    pub fn render_foreign_text(
        &self,
        name: &str,
        text: &str,
        ctx: &minijinja::Value,
    ) -> Option<Result<String, String>> {
        let foreign = self.settings.foreign.as_ref()?;
        let tags = &foreign.names().tags;
        let start = self
            .manifest
            .envops
            .get("block_start_string")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("{%");
        if tags.is_empty() || !uses_tag(text, start, tags) {
            return None;
        }
        let context = serde_json::to_value(ctx).unwrap_or_default();
        Some(foreign.render(name, text, context))
    }

    /// Renders everything into memory, collecting every problem (for validation).
    pub fn render_all(
        &self,
        ctx: &minijinja::Value,
    ) -> Result<Vec<RenderedFile>, Vec<RenderProblem>> {
        let plan = self.plan(ctx)?;
        let mut out = Vec::with_capacity(plan.len());
        let mut problems = Vec::new();
        for planned in plan {
            let file = &self.content[planned.content];
            match self.render_file(file, planned.context(ctx)) {
                Ok(bytes) => out.push(RenderedFile {
                    path: planned.path,
                    bytes: bytes.into_owned(),
                    executable: self.files.files[file.index].executable,
                }),
                Err(problem) => problems.push(problem),
            }
        }
        if problems.is_empty() {
            Ok(out)
        } else {
            Err(problems)
        }
    }
}

#[cfg(test)]
mod tag_tests {
    use super::uses_tag;

    #[test]
    fn a_block_opening_with_an_extension_tag_is_found_with_any_whitespace_control() {
        let tags = vec!["gitcommit".to_string()];
        for text in [
            "{% gitcommit %}",
            "a {%- gitcommit short=true %}",
            "{%+gitcommit%}",
        ] {
            assert!(uses_tag(text, "{%", &tags), "{text}");
        }
        for text in [
            "{% if gitcommit %}",
            "{{ gitcommit }}",
            "{% gitcommits %}",
            "gitcommit",
        ] {
            assert!(!uses_tag(text, "{%", &tags), "{text}");
        }
        assert!(uses_tag("[% gitcommit %]", "[%", &tags));
    }
}

#[cfg(test)]
mod verbatim_tests {
    use std::sync::Arc;

    use super::Renderer;
    use crate::template::manifest::Manifest;
    use crate::template::snapshot::{SourceFile, TemplateFiles};

    /// What a file renders to read and rendered one at a time (a text without template
    /// syntax written as read), and through compiled templates (every text compiled).
    fn both_ways(manifest: &Manifest, text: &str) -> (String, String) {
        let files = Arc::new(TemplateFiles {
            files: vec![SourceFile::in_memory(
                "f.txt",
                text.as_bytes().to_vec(),
                false,
            )],
            ..TemplateFiles::default()
        });
        let settings = crate::render::Settings::default();
        let ctx = minijinja::context! { name => "x" };
        let render = |renderer: Renderer| {
            let file = &renderer.content[0];
            let bytes = renderer.render_file(file, &ctx).expect("renders");
            String::from_utf8(bytes.into_owned()).expect("text")
        };
        let one = Renderer::new(manifest, Arc::clone(&files), &settings).expect("renderer");
        let compiled = Renderer::new(manifest, files, &settings)
            .expect("renderer")
            .keep_compiled();
        (render(one), render(compiled))
    }

    fn manifest(flavour: &str, envops: serde_json::Value) -> Manifest {
        let mut manifest = Manifest::parse("name: t\n", "template.yaml").expect("manifest");
        match flavour {
            "copier" => manifest.templates_suffix = Some(String::new()),
            "cookiecutter" => manifest.namespace = Some("cookiecutter".into()),
            _ => {}
        }
        manifest.envops = envops.as_object().cloned().unwrap_or_default();
        manifest
    }

    #[test]
    fn a_text_without_syntax_is_written_as_a_full_render_writes_it() {
        let none = serde_json::json!({});
        let custom = serde_json::json!({
            "variable_start_string": "[[", "variable_end_string": "]]",
            "block_start_string": "[%", "block_end_string": "%]",
        });
        let cases = [
            ("factory", none.clone(), "plain\n", "plain\n"),
            ("factory", none.clone(), "a\r\nb\r\n", "a\r\nb\r\n"),
            (
                "factory",
                serde_json::json!({"keep_trailing_newline": false}),
                "plain\n",
                "plain",
            ),
            ("copier", none.clone(), "a\r\nb\rc\n", "a\nb\nc\n"),
            ("copier", none.clone(), "plain\n", "plain\n"),
            ("cookiecutter", none.clone(), "a\r\nb\r\n", "a\r\nb\r\n"),
            ("cookiecutter", none.clone(), "a\nb\n", "a\nb\n"),
            (
                "copier",
                custom.clone(),
                "x {{ y }} [[ name ]]\n",
                "x {{ y }} x\n",
            ),
            ("copier", custom, "x {{ y }}\n", "x {{ y }}\n"),
        ];
        for (flavour, envops, text, expected) in cases {
            let (one, compiled) = both_ways(&manifest(flavour, envops.clone()), text);
            assert_eq!(one, expected, "{flavour} {envops} {text:?}");
            assert_eq!(compiled, expected, "{flavour} {envops} {text:?} compiled");
        }
        // Line statements make a text without delimiters a template: rendered, not copied.
        let statements = manifest(
            "factory",
            serde_json::json!({"line_statement_prefix": "%%"}),
        );
        let text = "%% if false\ndropped\n%% endif\nkept\n";
        let (one, compiled) = both_ways(&statements, text);
        assert_eq!(one, compiled);
        assert!(!one.contains("dropped"), "{one:?}");
    }
}
