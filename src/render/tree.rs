//! Renders a template's content folder into a list of output files, in memory: conditions,
//! excludes and copy-only rules applied, names rendered, paths kept inside the target.

use globset::{Glob, GlobSet, GlobSetBuilder};
use minijinja::Environment;

use super::{TemplateError, describe_error, environment, paths};
use crate::template::manifest::{MANIFEST_FILE, Manifest};
use crate::template::snapshot::TemplateFiles;

/// One output file.
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
}

impl std::fmt::Display for RenderProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RenderProblem::Template(e) => e.fmt(f),
            RenderProblem::Path { source, message } => write!(f, "{source}: {message}"),
            RenderProblem::Condition { location, message } => write!(f, "{location}: {message}"),
        }
    }
}

/// Whether bytes are copied verbatim rather than rendered: a NUL byte early on, or not UTF-8.
pub fn is_binary(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(8000)].contains(&0) || std::str::from_utf8(bytes).is_err()
}

/// How one source file is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// Rendered as a template.
    Template,
    /// Copied byte for byte (binary or `copy_only`).
    Copy,
}

/// A source file of the content folder.
#[derive(Debug, Clone)]
pub struct ContentFile {
    /// Path relative to the content folder.
    pub path: String,
    /// Index into the template's files.
    pub index: usize,
    /// Rendered or copied.
    pub kind: FileKind,
}

/// A compiled template: the environment with every text file added by its content path
/// (so `include`, `extends` and `import` work across files), and the rules of the manifest.
pub struct Renderer<'a> {
    env: Environment<'static>,
    manifest: &'a Manifest,
    files: &'a TemplateFiles,
    /// The content files in path order.
    pub content: Vec<ContentFile>,
    conditions: Vec<(GlobSet, String)>,
}

fn glob_set(patterns: &[String]) -> Result<GlobSet, String> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        let glob = Glob::new(pattern).map_err(|e| format!("glob `{pattern}`: {e}"))?;
        builder.add(glob);
    }
    builder.build().map_err(|e| e.to_string())
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

impl<'a> Renderer<'a> {
    /// Compiles every text file of the content folder. Returns the renderer and the
    /// templates that did not compile (which are then left out of the environment).
    pub fn new(
        manifest: &'a Manifest,
        files: &'a TemplateFiles,
    ) -> Result<(Renderer<'a>, Vec<TemplateError>), String> {
        let exclude = glob_set(&manifest.files.exclude)?;
        let copy_only = glob_set(&manifest.files.copy_only)?;
        let mut conditions = Vec::new();
        for rule in &manifest.files.when {
            conditions.push((
                glob_set(std::slice::from_ref(&rule.path))?,
                rule.condition.clone(),
            ));
        }
        let content_dir = manifest.content_dir();
        let prefix = if content_dir.is_empty() {
            String::new()
        } else {
            format!("{content_dir}/")
        };
        let mut env = environment();
        let mut errors = Vec::new();
        let mut content = Vec::new();
        for (index, file) in files.files.iter().enumerate() {
            let Some(path) = file.path.strip_prefix(&prefix) else {
                continue;
            };
            if content_dir.is_empty() && path == MANIFEST_FILE {
                continue;
            }
            if matches_path_or_parent(&exclude, path) {
                continue;
            }
            let kind = if matches_path_or_parent(&copy_only, path) || is_binary(&file.bytes) {
                FileKind::Copy
            } else {
                FileKind::Template
            };
            if kind == FileKind::Template {
                let text = String::from_utf8(file.bytes.clone()).expect("checked by is_binary");
                if let Err(err) = env.add_template_owned(path.to_string(), text) {
                    errors.push(describe_error(&err, path, |_| {
                        std::str::from_utf8(&file.bytes).ok().map(str::to_string)
                    }));
                    continue;
                }
            }
            content.push(ContentFile {
                path: path.to_string(),
                index,
                kind,
            });
        }
        let renderer = Renderer {
            env,
            manifest,
            files,
            content,
            conditions,
        };
        Ok((renderer, errors))
    }

    /// The environment, for checks that inspect templates.
    pub fn env(&self) -> &Environment<'static> {
        &self.env
    }

    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        self.manifest
    }

    fn source_of(&self, name: &str) -> Option<String> {
        self.env
            .get_template(name)
            .ok()
            .map(|t| t.source().to_string())
    }

    /// Renders a file or folder name; `Ok(None)` when a part renders empty (dropping it).
    pub fn render_path(
        &self,
        path: &str,
        ctx: &minijinja::Value,
    ) -> Result<Option<String>, RenderProblem> {
        if !path.contains("{{") && !path.contains("{%") {
            return Ok(Some(path.to_string()));
        }
        let mut out = String::with_capacity(path.len());
        for part in path.split('/') {
            let rendered = if part.contains("{{") || part.contains("{%") {
                self.env.render_str(part, ctx).map_err(|e| {
                    let mut err = describe_error(&e, path, |_| Some(part.to_string()));
                    err.location = format!("{path} (file name)");
                    RenderProblem::Template(err)
                })?
            } else {
                part.to_string()
            };
            let rendered = rendered.trim();
            if rendered.is_empty() {
                return Ok(None);
            }
            if !out.is_empty() {
                out.push('/');
            }
            out.push_str(rendered);
        }
        paths::check_inside(&out).map_err(|message| RenderProblem::Path {
            source: path.to_string(),
            message,
        })?;
        Ok(Some(out))
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

    /// Whether a content file is kept by the `files.when` rules.
    fn kept(&self, path: &str, ctx: &minijinja::Value) -> Result<bool, RenderProblem> {
        for (i, (set, condition)) in self.conditions.iter().enumerate() {
            if matches_path_or_parent(set, path)
                && !self.condition(condition, ctx, &format!("files.when[{i}]"))?
            {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Renders one content file: `Ok(None)` when a condition or an empty name drops it.
    pub fn render_file(
        &self,
        file: &ContentFile,
        ctx: &minijinja::Value,
    ) -> Result<Option<RenderedFile>, RenderProblem> {
        if !self.kept(&file.path, ctx)? {
            return Ok(None);
        }
        let Some(path) = self.render_path(&file.path, ctx)? else {
            return Ok(None);
        };
        let source = &self.files.files[file.index];
        let bytes = match file.kind {
            FileKind::Copy => source.bytes.clone(),
            FileKind::Template => {
                let template = self.env.get_template(&file.path).expect("added in new()");
                template
                    .render(ctx)
                    .map_err(|e| {
                        RenderProblem::Template(describe_error(&e, &file.path, |n| {
                            self.source_of(n)
                        }))
                    })?
                    .into_bytes()
            }
        };
        Ok(Some(RenderedFile {
            path,
            bytes,
            executable: source.executable,
        }))
    }

    /// Renders every content file; collects every problem rather than stopping at the first.
    pub fn render_all(
        &self,
        ctx: &minijinja::Value,
    ) -> Result<Vec<RenderedFile>, Vec<RenderProblem>> {
        let mut out = Vec::with_capacity(self.content.len());
        let mut problems = Vec::new();
        for file in &self.content {
            match self.render_file(file, ctx) {
                Ok(Some(rendered)) => out.push(rendered),
                Ok(None) => {}
                Err(problem) => problems.push(problem),
            }
        }
        let mut seen = std::collections::HashSet::with_capacity(out.len());
        for file in &out {
            if !seen.insert(file.path.as_str()) {
                problems.push(RenderProblem::Path {
                    source: file.path.clone(),
                    message: format!("two template files render to the same path `{}`", file.path),
                });
            }
        }
        if problems.is_empty() {
            Ok(out)
        } else {
            Err(problems)
        }
    }
}
