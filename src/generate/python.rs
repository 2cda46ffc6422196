//! The python3 helper that runs a template's Jinja extensions written in Python (copier's
//! `_jinja_extensions`, cookiecutter's `_extensions` beyond factory's own), started once per
//! generate and only with `--trust`. The template's files are laid out in a scratch folder
//! (the extensions import from it and copier-templates-extensions loads files relative to
//! it), or a checkout of factory's own that holds exactly them is used as it is; the helper loads the extensions into a Jinja2 environment, says which filters,
//! tests and globals they add, and answers each call over a pipe, one JSON line each way.
//! The interpreter is the settings' (`FACTORY_PYTHON`, else `python3`): one with Jinja2 and
//! the extensions' packages installed.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Mutex;

use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::render::{Foreign, ForeignNames};
use crate::template::manifest::Manifest;
use crate::template::snapshot::TemplateFiles;

const HELPER: &str = include_str!("jinja_helper.py");

/// A running helper.
pub struct PythonExtensions {
    pipe: Mutex<(ChildStdin, BufReader<ChildStdout>)>,
    child: Mutex<Child>,
    names: ForeignNames,
    scratch: tempfile::TempDir,
}

impl std::fmt::Debug for PythonExtensions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PythonExtensions({:?})", self.names)
    }
}

impl Drop for PythonExtensions {
    fn drop(&mut self) {
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl PythonExtensions {
    /// Lays out `files` (unless `laid_out` already holds exactly them, in a scratch folder
    /// of factory's own), starts the helper in `python` with `extensions` and reads what
    /// they add.
    pub fn start(
        python: &str,
        files: &TemplateFiles,
        laid_out: Option<&Path>,
        manifest: &Manifest,
        label: &str,
    ) -> Result<PythonExtensions> {
        let helper = Self::launch(python, &[]).map_err(|e| cannot_start(python, label, &e))?;
        helper
            .set_up(files, laid_out, manifest, label)?
            .ok_or_else(|| {
                Error::new(format!(
                    "{label}: the Jinja extension helper refused its template"
                ))
            })
    }

    /// A helper started before its template is known (an upgrade's new version, while it
    /// is fetched): the interpreter, Jinja2 and `preload` (the packages, not the
    /// template's own modules, its extensions are expected to import) load meanwhile.
    pub fn early(python: &str, preload: Vec<String>) -> Early {
        Early {
            python: python.to_string(),
            launched: Self::launch(python, &preload).map_err(|e| e.to_string()),
        }
    }

    /// The packages `manifest`'s extensions import that are not the template's own modules
    /// (those load only once the template's folder is on the path).
    pub fn preload_of(manifest: &Manifest, files: &TemplateFiles) -> Vec<String> {
        let own = |top: &str| {
            files.get(&format!("{top}.py")).is_some()
                || files
                    .files
                    .iter()
                    .any(|f| f.path.starts_with(&format!("{top}/")))
        };
        let mut preload: Vec<String> = manifest
            .python_extensions
            .iter()
            .filter(|e| !e.contains(':'))
            .map(|e| e.rsplit_once('.').map_or(e.as_str(), |(module, _)| module))
            .filter(|module| !own(module.split('.').next().unwrap_or(module)))
            .map(str::to_string)
            .collect();
        preload.dedup();
        preload
    }

    /// Starts the helper process; it loads Jinja2 and `preload` (given any) before it reads
    /// its template.
    fn launch(python: &str, preload: &[String]) -> std::io::Result<PythonExtensions> {
        let scratch = tempfile::Builder::new()
            .prefix("factory-jinja-")
            .tempdir()?;
        let stderr = std::fs::File::create(scratch.path().join("stderr.log"))?;
        let mut command = Command::new(python);
        // Its folder until it is given the template's: nothing there to import by mistake.
        command.current_dir(scratch.path()).arg("-c").arg(HELPER);
        if !preload.is_empty() {
            command.arg("--early").args(preload);
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()?;
        let stdin = child.stdin.take().expect("piped");
        let stdout = BufReader::new(child.stdout.take().expect("piped"));
        Ok(PythonExtensions {
            pipe: Mutex::new((stdin, stdout)),
            child: Mutex::new(child),
            names: ForeignNames::default(),
            scratch,
        })
    }

    /// Gives the helper its template (laid out in its scratch folder unless `laid_out`
    /// holds it) and reads what the extensions add; `None` when a package it loaded early
    /// is one of the template's own modules (a fresh helper must load the template's).
    fn set_up(
        mut self,
        files: &TemplateFiles,
        laid_out: Option<&Path>,
        manifest: &Manifest,
        label: &str,
    ) -> Result<Option<PythonExtensions>> {
        let extensions = &manifest.python_extensions;
        let root = match laid_out {
            Some(dir) => dir.to_path_buf(),
            None => {
                let root = self.scratch.path().join("template");
                crate::source::lay_out(files, &root)?;
                root
            }
        };
        // Files that use an extension's tag are rendered by Jinja2 with the template's
        // options; cookiecutter's Undefined is strict.
        let mut envops = manifest.envops.clone();
        if manifest.namespace.as_deref() == Some("cookiecutter") {
            envops
                .entry("undefined")
                .or_insert_with(|| json!("jinja2.StrictUndefined"));
        }
        let cwd = std::env::current_dir().ok();
        let setup = json!({"root": root, "extensions": extensions, "envops": envops, "cwd": cwd});
        let answer = self.exchange(&setup).map_err(|m| {
            let message = match manifest.namespace.as_deref() {
                // cookiecutter's wording (its UnknownExtension), which scripts read.
                Some("cookiecutter") => format!(
                    "{label}: Unable to load extension: {} (its Jinja extensions: {})",
                    m.trim_start_matches("ModuleNotFoundError: ").trim_start_matches("ImportError: "),
                    extensions.join(", ")
                ),
                _ => format!("{label}: its Jinja extensions ({}) did not load: {m}", extensions.join(", ")),
            };
            Error::new(message)
                .hint("install what they import for the python3 factory runs (FACTORY_PYTHON names another), e.g. pip install jinja2 copier-templates-extensions")
        })?;
        if answer.get("shadowed").is_some() {
            return Ok(None);
        }
        self.names = serde_json::from_value(answer).map_err(|e| {
            Error::new(format!(
                "{label}: the Jinja extension helper answered oddly: {e}"
            ))
        })?;
        Ok(Some(self))
    }

    /// Sends one request, reads one answer; an `error` answer, or the helper's death, is
    /// the error (with the tail of what it printed on stderr).
    fn exchange(&self, request: &Value) -> std::result::Result<Value, String> {
        let mut pipe = self.pipe.lock().unwrap_or_else(|e| e.into_inner());
        let (stdin, stdout) = &mut *pipe;
        let mut line = serde_json::to_vec(request).expect("JSON serializes");
        line.push(b'\n');
        let mut answer = String::new();
        let sent = stdin.write_all(&line).and_then(|()| stdin.flush());
        if sent.is_err() || stdout.read_line(&mut answer).map_or(true, |n| n == 0) {
            let said =
                std::fs::read_to_string(self.scratch.path().join("stderr.log")).unwrap_or_default();
            let tail: Vec<&str> = said
                .lines()
                .rev()
                .take(3)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            return Err(format!(
                "the helper stopped ({})",
                crate::secrets::redact(&tail.join(" | "))
            ));
        }
        let answer: Value = serde_json::from_str(&answer)
            .map_err(|e| format!("the helper answered something that is not JSON: {e}"))?;
        match answer.get("error").and_then(Value::as_str) {
            Some(error) => Err(error.to_string()),
            None => Ok(answer.get("ok").cloned().unwrap_or(answer)),
        }
    }

    /// What a context hook (copier-templates-extensions' ContextHook) changes in `context`.
    pub fn context(
        &self,
        context: &Map<String, Value>,
    ) -> std::result::Result<Map<String, Value>, String> {
        match self.exchange(&json!({"op": "context", "context": context}))? {
            Value::Object(changed) => Ok(changed),
            _ => Ok(Map::new()),
        }
    }
}

impl Foreign for PythonExtensions {
    fn names(&self) -> &ForeignNames {
        &self.names
    }

    fn render(
        &self,
        name: &str,
        source: &str,
        context: Value,
    ) -> std::result::Result<String, String> {
        match self.exchange(
            &json!({"op": "render", "name": name, "source": source, "context": context}),
        )? {
            Value::String(text) => Ok(text),
            other => Err(format!("Jinja2 answered {other} for {name}")),
        }
    }

    fn call(
        &self,
        kind: &str,
        name: &str,
        args: Vec<Value>,
        kwargs: Map<String, Value>,
    ) -> std::result::Result<Value, String> {
        self.exchange(&json!({"op": kind, "name": name, "args": args, "kwargs": kwargs}))
    }
}

/// A helper started before its template was known ([`PythonExtensions::early`]).
pub struct Early {
    python: String,
    launched: std::result::Result<PythonExtensions, String>,
}

impl std::fmt::Debug for Early {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Early({})", self.python)
    }
}

impl Early {
    /// [`PythonExtensions::start`] on the helper already running: a fresh one when it could
    /// not start or loaded a package the template has a module of its own for.
    pub fn start(
        self,
        files: &TemplateFiles,
        laid_out: Option<&Path>,
        manifest: &Manifest,
        label: &str,
    ) -> Result<PythonExtensions> {
        if let Ok(helper) = self.launched
            && let Some(ready) = helper.set_up(files, laid_out, manifest, label)?
        {
            return Ok(ready);
        }
        PythonExtensions::start(&self.python, files, laid_out, manifest, label)
    }
}

fn cannot_start(python: &str, label: &str, e: &std::io::Error) -> Error {
    Error::new(format!(
        "{label}: cannot start {python} for its Jinja extensions: {e}"
    ))
    .hint(
        "install python3 with Jinja2 and the extensions' packages, or point FACTORY_PYTHON at one",
    )
}
