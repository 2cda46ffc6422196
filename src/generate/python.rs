//! The python3 helper that runs a template's Jinja extensions written in Python (copier's
//! `_jinja_extensions`, cookiecutter's `_extensions` beyond factory's own), started once per
//! generate and only with `--trust`. The template's files are laid out in a scratch folder
//! (the extensions import from it and copier-templates-extensions loads files relative to
//! it), or a checkout of factory's own that holds exactly them is used as it is; the helper loads the extensions into a Jinja2 environment, says which filters,
//! tests and globals they add, and answers each call over a pipe, one JSON line each way.
//! The interpreter is the settings' (`FACTORY_PYTHON`, else `python3`): one with Jinja2 and
//! the extensions' packages installed.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Mutex;

use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::render::{Foreign, ForeignNames};
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
        laid_out: Option<&std::path::Path>,
        manifest: &crate::template::manifest::Manifest,
        label: &str,
    ) -> Result<PythonExtensions> {
        let extensions = &manifest.python_extensions;
        let scratch = tempfile::Builder::new()
            .prefix("factory-jinja-")
            .tempdir()
            .map_err(|e| Error::new(format!("cannot make a scratch folder: {e}")))?;
        let root = match laid_out {
            Some(dir) => dir.to_path_buf(),
            None => {
                let root = scratch.path().join("template");
                crate::source::lay_out(files, &root)?;
                root
            }
        };
        let log = scratch.path().join("stderr.log");
        let stderr = std::fs::File::create(&log).map_err(|e| Error::io("create", &log, e))?;
        let mut child = Command::new(python)
            .arg("-c")
            .arg(HELPER)
            .current_dir(&root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .map_err(|e| {
                Error::new(format!("{label}: cannot start {python} for its Jinja extensions: {e}"))
                    .hint("install python3 with Jinja2 and the extensions' packages, or point FACTORY_PYTHON at one")
            })?;
        let stdin = child.stdin.take().expect("piped");
        let stdout = BufReader::new(child.stdout.take().expect("piped"));
        let mut helper = PythonExtensions {
            pipe: Mutex::new((stdin, stdout)),
            child: Mutex::new(child),
            names: ForeignNames::default(),
            scratch,
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
        let answer = helper.exchange(&setup).map_err(|m| {
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
        helper.names = serde_json::from_value(answer).map_err(|e| {
            Error::new(format!(
                "{label}: the Jinja extension helper answered oddly: {e}"
            ))
        })?;
        Ok(helper)
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
