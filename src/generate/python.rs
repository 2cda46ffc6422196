//! The python3 helper that runs a template's Jinja extensions written in Python (copier's
//! `_jinja_extensions`, cookiecutter's `_extensions` beyond factory's own), started once per
//! generate and only with `--trust`. The template's files are laid out in a scratch folder
//! (the extensions import from it and copier-templates-extensions loads files relative to
//! it), or a checkout of factory's own that holds exactly them is used as it is; the helper loads the extensions into a Jinja2 environment, says which filters,
//! tests and globals they add, and answers each call over a pipe, one JSON line each way.
//! The interpreter is the settings' (`FACTORY_PYTHON`, else `python3`): one with Jinja2 and
//! the extensions' packages installed.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;

use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::render::{Foreign, ForeignNames};
use crate::template::manifest::Manifest;
use crate::template::snapshot::TemplateFiles;

const HELPER: &str = include_str!("jinja_helper.py");

/// Where a helper's requests go and its answers come from.
type Pipe = (Box<dyn Write + Send>, BufReader<Box<dyn Read + Send>>);

/// A running helper.
pub struct PythonExtensions {
    pipe: Mutex<Pipe>,
    process: Mutex<Process>,
    names: ForeignNames,
    scratch: tempfile::TempDir,
}

/// A helper's process: factory's child, or a copy another helper forked (its id, once it
/// said it).
enum Process {
    Child(Child),
    Forked(Option<u32>),
}

impl std::fmt::Debug for PythonExtensions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PythonExtensions({:?})", self.names)
    }
}

impl Drop for PythonExtensions {
    fn drop(&mut self) {
        match &mut *self.process.lock().unwrap_or_else(|e| e.into_inner()) {
            Process::Child(child) => {
                let _ = child.kill();
                let _ = child.wait();
            }
            // Not factory's to wait for: the helper it was forked from is its parent.
            #[cfg(unix)]
            Process::Forked(Some(pid)) => {
                if let Ok(pid) = libc::pid_t::try_from(*pid) {
                    // SAFETY: kill(2) on the id the copy said was its own.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
            }
            Process::Forked(_) => {}
        }
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
        let (helper, _) =
            Self::launch(python, &[], false).map_err(|e| cannot_start(python, label, &e))?;
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
    fn early(python: &str, preload: Vec<String>) -> Early {
        Early {
            python: python.to_string(),
            launched: Self::launch(python, &preload, false)
                .map(|(helper, _)| helper)
                .map_err(|e| e.to_string()),
        }
    }

    /// [`PythonExtensions::early`], and a copy of it for another template (an upgrade's
    /// old version): one interpreter loads Jinja2 and the packages, then forks; where it
    /// cannot (not Unix), two start.
    pub fn early_pair(python: &str, preload: Vec<String>) -> (Early, Early) {
        let early = |launched| Early {
            python: python.to_string(),
            launched,
        };
        match Self::launch(python, &preload, cfg!(unix)) {
            Ok((helper, Some(copy))) => (early(Ok(helper)), early(Ok(copy))),
            Ok((helper, None)) => (early(Ok(helper)), Self::early(python, preload)),
            Err(e) => (early(Err(e.to_string())), early(Err(e.to_string()))),
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
    /// its template. With `fork` (Unix), it then forks a copy for another template, which
    /// talks over two more pipes: the second helper returned.
    fn launch(
        python: &str,
        preload: &[String],
        fork: bool,
    ) -> std::io::Result<(PythonExtensions, Option<PythonExtensions>)> {
        let scratch = tempfile::Builder::new()
            .prefix("factory-jinja-")
            .tempdir()?;
        let stderr = std::fs::File::create(scratch.path().join("stderr.log"))?;
        let mut command = Command::new(python);
        // Its folder until it is given the template's: nothing there to import by mistake.
        command.current_dir(scratch.path()).arg("-c").arg(HELPER);
        #[cfg(unix)]
        let copy = fork.then(|| copy_pipes(&mut command)).transpose()?;
        #[cfg(not(unix))]
        let copy: Option<(tempfile::TempDir, Pipe)> = None.filter(|_| fork);
        if !preload.is_empty() {
            command.arg("--early").args(preload);
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()?;
        // The copy's ends of its pipes are the helper's now (the command holds them).
        drop(command);
        let stdin: Box<dyn Write + Send> = Box::new(child.stdin.take().expect("piped"));
        let stdout: Box<dyn Read + Send> = Box::new(child.stdout.take().expect("piped"));
        let helper = PythonExtensions {
            pipe: Mutex::new((stdin, BufReader::new(stdout))),
            process: Mutex::new(Process::Child(child)),
            names: ForeignNames::default(),
            scratch,
        };
        let copy = copy.map(|(scratch, pipe)| PythonExtensions {
            pipe: Mutex::new(pipe),
            process: Mutex::new(Process::Forked(None)),
            names: ForeignNames::default(),
            scratch,
        });
        Ok((helper, copy))
    }

    /// A forked copy's first line: its process id. `None` when it is not there (the fork
    /// failed: the copy's pipes closed).
    fn forked_id(&self) -> Option<u32> {
        let mut pipe = self.pipe.lock().unwrap_or_else(|e| e.into_inner());
        let mut line = String::new();
        pipe.1.read_line(&mut line).ok().filter(|n| *n > 0)?;
        let said: Value = serde_json::from_str(&line).ok()?;
        let pid = u32::try_from(said.get("pid")?.as_u64()?).ok()?;
        *self.process.lock().unwrap_or_else(|e| e.into_inner()) = Process::Forked(Some(pid));
        Some(pid)
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
    /// not start, a forked copy was not made, or it loaded a package the template has a
    /// module of its own for.
    pub fn start(
        self,
        files: &TemplateFiles,
        laid_out: Option<&Path>,
        manifest: &Manifest,
        label: &str,
    ) -> Result<PythonExtensions> {
        if let Ok(helper) = self.launched
            && helper.is_ready()
            && let Some(ready) = helper.set_up(files, laid_out, manifest, label)?
        {
            return Ok(ready);
        }
        PythonExtensions::start(&self.python, files, laid_out, manifest, label)
    }
}

impl PythonExtensions {
    /// Whether it can be given a template: a forked copy once it said its process id.
    fn is_ready(&self) -> bool {
        let forked = matches!(
            *self.process.lock().unwrap_or_else(|e| e.into_inner()),
            Process::Forked(None)
        );
        !forked || self.forked_id().is_some()
    }
}

/// Two pipes a forked copy of the helper talks over: their helper's ends are left open
/// across `exec` (only in the helper started), and named on its command line with the
/// copy's stderr log. The copy's scratch folder and factory's ends are returned.
#[cfg(unix)]
fn copy_pipes(command: &mut Command) -> std::io::Result<(tempfile::TempDir, Pipe)> {
    use std::os::fd::{AsRawFd, OwnedFd};
    use std::os::unix::process::CommandExt;
    let scratch = tempfile::Builder::new()
        .prefix("factory-jinja-")
        .tempdir()?;
    let log = scratch.path().join("stderr.log");
    std::fs::File::create(&log)?;
    let (requests_read, requests_write) = std::io::pipe()?;
    let (answers_read, answers_write) = std::io::pipe()?;
    let theirs: [OwnedFd; 2] = [requests_read.into(), answers_write.into()];
    let fds = [theirs[0].as_raw_fd(), theirs[1].as_raw_fd()];
    command
        .arg("--fork")
        .arg(&log)
        .arg(fds[0].to_string())
        .arg(fds[1].to_string());
    // SAFETY: between fork and exec only fcntl(2) runs, on descriptors this process owns
    // (kept open by the closure until the command is dropped).
    unsafe {
        command.pre_exec(move || {
            let _held = &theirs;
            for fd in fds {
                if libc::fcntl(fd, libc::F_SETFD, 0) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    let requests: Box<dyn Write + Send> = Box::new(requests_write);
    let answers: Box<dyn Read + Send> = Box::new(answers_read);
    Ok((scratch, (requests, BufReader::new(answers))))
}

fn cannot_start(python: &str, label: &str, e: &std::io::Error) -> Error {
    Error::new(format!(
        "{label}: cannot start {python} for its Jinja extensions: {e}"
    ))
    .hint(
        "install python3 with Jinja2 and the extensions' packages, or point FACTORY_PYTHON at one",
    )
}
