//! Code a template asks to run: cookiecutter's `hooks/pre_prompt.*`, `hooks/pre_gen_project.*`
//! and `hooks/post_gen_project.*`, copier's `_tasks`. Nothing runs unless the user passed
//! `--trust`; without it the run stops before writing and names what it would have run.
//!
//! What the code prints is shown as it comes, as cookiecutter and copier show it (their
//! children inherit the terminal), with known secrets masked; where nobody watches (a
//! worker) it is kept and shown only when the code fails.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::error::{Error, Result};
use crate::template::manifest::{Manifest, Task, TaskCommand};
use crate::template::snapshot::TemplateFiles;

/// A hook script: its name in the template and its (unrendered) text.
#[derive(Debug, Clone)]
pub struct Hook {
    /// `hooks/post_gen_project.py`.
    pub name: String,
    /// The script, a template itself.
    pub text: String,
}

/// Where the output of a template's code goes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Output {
    /// Kept, and quoted in the error when the code fails (nobody watches: a worker).
    #[default]
    Captured,
    /// Shown as it comes: its stdout on stdout, its stderr on stderr; stdin is the user's.
    Shown,
    /// Shown as it comes, both on stderr: stdout carries one JSON document (`--json`).
    OnStderr,
}

/// What a template would run.
#[derive(Debug, Clone, Default)]
pub struct Hooks {
    /// Before the questions, in a copy of the template (cookiecutter's `pre_prompt`).
    pub pre_prompt: Vec<Hook>,
    /// Before rendering.
    pub pre: Vec<Hook>,
    /// After rendering.
    pub post: Vec<Hook>,
    /// Commands after rendering (copier's `_tasks`).
    pub tasks: Vec<Task>,
}

impl Hooks {
    /// The hooks and tasks of a template.
    pub fn of(files: &TemplateFiles, manifest: &Manifest) -> Result<Hooks> {
        let mut hooks = Hooks {
            tasks: manifest.tasks.clone(),
            ..Hooks::default()
        };
        if manifest.namespace.as_deref() == Some("cookiecutter") {
            for file in files.files.iter().filter(|f| f.path.starts_with("hooks/")) {
                let stem = file.path["hooks/".len()..]
                    .split('.')
                    .next()
                    .unwrap_or_default();
                let text = String::from_utf8(file.read()?.into_owned())
                    .map_err(|_| Error::new(format!("{} is not UTF-8 text", file.path)))?;
                let hook = Hook {
                    name: file.path.clone(),
                    text,
                };
                // cookiecutter leaves out editor backups (`hook.py~`).
                if file.path.ends_with('~') {
                    continue;
                }
                match stem {
                    "pre_prompt" => hooks.pre_prompt.push(hook),
                    "pre_gen_project" => hooks.pre.push(hook),
                    "post_gen_project" => hooks.post.push(hook),
                    _ => {}
                }
            }
        }
        Ok(hooks)
    }

    /// Whether there is nothing to run.
    pub fn is_empty(&self) -> bool {
        self.pre_prompt.is_empty()
            && self.pre.is_empty()
            && self.post.is_empty()
            && self.tasks.is_empty()
    }

    /// What would run, for messages.
    pub fn describe(&self) -> Vec<String> {
        self.pre_prompt
            .iter()
            .chain(&self.pre)
            .chain(&self.post)
            .map(|h| h.name.clone())
            .chain(self.tasks.iter().map(|t| format!("task `{t}`")))
            .collect()
    }
}

fn run(mut command: Command, what: &str, output: Output) -> Result<()> {
    if output == Output::Captured {
        return run_captured(command, what);
    }
    command
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .map_err(|e| Error::new(format!("cannot run {what}: {e}")))?;
    let (out, err) = (
        child.stdout.take().expect("piped"),
        child.stderr.take().expect("piped"),
    );
    let (last_out, last_err) = (
        std::sync::Mutex::new(String::new()),
        std::sync::Mutex::new(String::new()),
    );
    std::thread::scope(|scope| {
        scope.spawn(|| forward(out, output == Output::OnStderr, &last_out));
        forward(err, true, &last_err);
    });
    let status = child
        .wait()
        .map_err(|e| Error::new(format!("cannot run {what}: {e}")))?;
    if status.success() {
        return Ok(());
    }
    // Quoted from stderr when it said something (where failures are told), else stdout.
    let last = [last_err, last_out]
        .into_iter()
        .map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()))
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    let said = match last.is_empty() {
        true => String::new(),
        false => format!(": {last}"),
    };
    Err(Error::new(format!(
        "{what} failed ({status}); its output is above{said}"
    ))
    .hint("the template's own code failed; nothing was written"))
}

/// Copies what a child prints, line by line (so a secret is masked whole), to stderr or
/// stdout, keeping its last non-blank line in `last`; reads to the end whatever
/// happens to the destination, so the child never blocks on a full pipe.
fn forward(from: impl Read, to_stderr: bool, last: &std::sync::Mutex<String>) {
    let mut reader = BufReader::new(from);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let shown = crate::secrets::redact_bytes(&line);
        let _ = if to_stderr {
            std::io::stderr().lock().write_all(&shown)
        } else {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(&shown).and_then(|()| stdout.flush())
        };
        let text = String::from_utf8_lossy(&shown).trim().to_string();
        if !text.is_empty() {
            *last.lock().unwrap_or_else(|e| e.into_inner()) = text;
        }
    }
}

fn run_captured(mut command: Command, what: &str) -> Result<()> {
    let out = command
        .output()
        .map_err(|e| Error::new(format!("cannot run {what}: {e}")))?;
    if out.status.success() {
        Ok(())
    } else {
        // Hooks often say why on stdout (cookiecutter's pre-generation checks): show both.
        let said: Vec<String> = [&out.stdout, &out.stderr]
            .iter()
            .map(|s| String::from_utf8_lossy(s).trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        Err(Error::new(format!(
            "{what} failed ({}): {}",
            out.status,
            said.join("\n")
        ))
        .hint("the template's own code failed; nothing was written"))
    }
}

/// Renders a hook and runs it in `cwd`: `.py` with python3, `.sh` with sh, anything else as
/// an executable.
pub fn run_hook(
    hook: &Hook,
    env: &minijinja::Environment<'static>,
    ctx: &minijinja::Value,
    cwd: &Path,
    output: Output,
) -> Result<()> {
    let script = crate::bounded::render_str_bounded(env, &hook.text, ctx)
        .map_err(|e| Error::new(format!("{}: {e}", hook.name)))?;
    run_script(&hook.name, &script, cwd, output)
}

/// Runs a hook whose text was rendered elsewhere (by Jinja2, for an extension's tag) in `cwd`.
pub fn run_rendered(hook: &Hook, script: &str, cwd: &Path, output: Output) -> Result<()> {
    run_script(&hook.name, script, cwd, output)
}

/// Runs a hook as it is, not rendered (cookiecutter's `pre_prompt`, which runs before there
/// is a context), in `cwd`.
pub fn run_unrendered(hook: &Hook, cwd: &Path, output: Output) -> Result<()> {
    run_script(&hook.name, &hook.text, cwd, output)
}

fn run_script(name: &str, script: &str, cwd: &Path, output: Output) -> Result<()> {
    let extension = name.rsplit('.').next().unwrap_or_default();
    let file = tempfile::Builder::new()
        .prefix("factory-hook-")
        .suffix(&format!(".{extension}"))
        .tempfile()
        .map_err(|e| Error::new(format!("cannot write {name}: {e}")))?;
    std::fs::write(file.path(), script).map_err(|e| Error::io("write", file.path(), e))?;
    let mut command = match extension {
        "py" => Command::new("python3"),
        "sh" => Command::new("sh"),
        _ => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let _ =
                    std::fs::set_permissions(file.path(), std::fs::Permissions::from_mode(0o700));
            }
            Command::new(file.path())
        }
    };
    if matches!(extension, "py" | "sh") {
        command.arg(file.path());
    }
    command.current_dir(cwd);
    run(command, name, output)
}

/// How copier runs a task beside its command: the phase it renders in (`_copier_phase`), the
/// values it adds (`_NAME` in the context, `NAME` in the environment: `_stage`/`STAGE`,
/// `_version_from`/`VERSION_FROM`…), the template's folder (`_copier_conf.src_path`, which
/// a task names to run a script the template ships) and whether its `working_directory` may
/// lead out of the project (a migration's may, as copier's does).
#[derive(Debug, Clone, Default)]
pub struct TaskRun<'a> {
    /// `_copier_phase` while the task renders (`tasks`, `migrate`).
    pub phase: &'a str,
    /// `_NAME` in its context and `NAME` in its environment.
    pub extra: Vec<(String, String)>,
    /// The template's files on disk (copier's clone of it), as `_copier_conf.src_path`.
    pub template_dir: Option<&'a Path>,
    /// Its `working_directory` may be absolute or lead above the project.
    pub anywhere: bool,
}

/// Runs copier's `_tasks` in order in `cwd`, each announced through `say` as copier does
/// (` > Running task 1 of 2: …`) when its `when` holds.
pub fn run_tasks(
    tasks: &[Task],
    (env, ctx): (&minijinja::Environment<'static>, &minijinja::Value),
    cwd: &Path,
    (output, template_dir): (Output, Option<&Path>),
    say: &dyn Fn(&str),
) -> Result<()> {
    // copier renders its tasks in its "tasks" phase, each with `_stage` "task".
    let how = TaskRun {
        phase: "tasks",
        extra: vec![("stage".into(), "task".into())],
        template_dir,
        anywhere: false,
    };
    for (i, task) in tasks.iter().enumerate() {
        let Some((command, shown, announced)) = task_command(task, env, ctx, cwd, &how)? else {
            continue;
        };
        say(&format!(
            " > Running task {} of {}: {announced}",
            i + 1,
            tasks.len()
        ));
        run(command, &format!("task `{shown}`"), output)?;
    }
    Ok(())
}

/// Renders a task and runs it in `cwd` (or its `working_directory` below it): a command line
/// with `sh -c`, an argument list directly; skipped when its `when` renders false.
pub fn run_task(
    task: &Task,
    env: &minijinja::Environment<'static>,
    ctx: &minijinja::Value,
    cwd: &Path,
) -> Result<()> {
    run_task_with(task, (env, ctx), cwd, &TaskRun::default())
}

/// [`run_task`] as `how` says (copier's migrations: the `migrate` phase, `_stage`/`STAGE`,
/// `_version_from`/`VERSION_FROM`…).
pub fn run_task_with(
    task: &Task,
    (env, ctx): (&minijinja::Environment<'static>, &minijinja::Value),
    cwd: &Path,
    how: &TaskRun,
) -> Result<()> {
    match task_command(task, env, ctx, cwd, how)? {
        Some((command, shown, _)) => run(command, &format!("task `{shown}`"), Output::Captured),
        None => Ok(()),
    }
}

/// The context a task renders in: the run's, with `how`'s phase, values and template folder.
fn task_context(ctx: &minijinja::Value, how: &TaskRun) -> minijinja::Value {
    let mut merged = std::collections::BTreeMap::new();
    for key in ctx.try_iter().into_iter().flatten() {
        if let (Some(name), Ok(value)) = (key.as_str(), ctx.get_item(&key)) {
            merged.insert(name.to_string(), value);
        }
    }
    if !how.phase.is_empty() && merged.contains_key("_copier_phase") {
        merged.insert("_copier_phase".into(), minijinja::Value::from(how.phase));
    }
    for (name, value) in &how.extra {
        merged.insert(format!("_{name}"), minijinja::Value::from(value.as_str()));
    }
    if let (Some(dir), Some(conf)) = (how.template_dir, merged.get("_copier_conf")) {
        let mut conf: std::collections::BTreeMap<String, minijinja::Value> = conf
            .try_iter()
            .into_iter()
            .flatten()
            .filter_map(|k| Some((k.as_str()?.to_string(), conf.get_item(&k).ok()?)))
            .collect();
        conf.insert(
            "src_path".into(),
            minijinja::Value::from(dir.display().to_string()),
        );
        merged.insert("_copier_conf".into(), minijinja::Value::from(conf));
    }
    minijinja::Value::from(merged)
}

/// copier's `_copier_conf.src_path` and `dst_path` are Python paths: `src_path / 'x.py'`
/// joins them. minijinja's `/` divides numbers only, so such a join (a chain of string
/// literals or names after either path) is read as copier's `pathjoin(…)`.
pub fn python_path_division(text: &str) -> std::borrow::Cow<'_, str> {
    static JOIN: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r#"(_copier_conf\.(?:src|dst)_path)((?:\s*/\s*(?:'[^']*'|"[^"]*"|[A-Za-z_][\w.]*))+)"#,
        )
        .expect("the pattern is valid")
    });
    static PART: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"\s*/\s*('[^']*'|"[^"]*"|[A-Za-z_][\w.]*)"#)
            .expect("the pattern is valid")
    });
    JOIN.replace_all(text, |c: &regex::Captures| {
        let parts: Vec<&str> = PART
            .captures_iter(&c[2])
            .map(|p| p.get(1).map_or("", |m| m.as_str()))
            .collect();
        format!("pathjoin({}, {})", &c[1], parts.join(", "))
    })
}

/// A task's command, rendered, with how errors name it and how copier announces it (a
/// command line as it is, an argument list as Python shows a list); `None` when its `when`
/// renders false.
fn task_command(
    task: &Task,
    env: &minijinja::Environment<'static>,
    ctx: &minijinja::Value,
    cwd: &Path,
    how: &TaskRun,
) -> Result<Option<(Command, String, String)>> {
    let ctx = &task_context(ctx, how);
    let render = |text: &str| {
        crate::bounded::render_str_bounded(env, &python_path_division(text), ctx)
            .map_err(|e| Error::new(format!("task `{task}`: {e}")))
    };
    if let Some(when) = &task.when {
        // copier casts the rendered text: empty, false, no, off, 0 and none are false.
        let rendered = render(when)?;
        let falsy = ["", "false", "no", "off", "0", "none", "n"];
        if falsy.contains(&rendered.trim().to_ascii_lowercase().as_str()) {
            return Ok(None);
        }
    }
    let finish = |dir| command_in(task, dir, ctx, how, &render);
    let dir = match &task.working_directory {
        Some(dir) => {
            let dir = render(dir)?;
            // A migration's folder is copier's: the project's joined with it, wherever
            // that leads (it runs under --trust, and may move things around the project).
            if how.anywhere {
                return finish(cwd.join(dir));
            }
            // `./hello` and `.` (copier's default) name folders inside the project; `..`
            // and absolute paths are still refused.
            let parts: Vec<&str> = dir.split('/').filter(|p| *p != ".").collect();
            let dir = match parts.iter().all(|p| p.is_empty()) && !dir.starts_with('/') {
                true => String::new(),
                false => parts.join("/").trim_end_matches('/').to_string(),
            };
            if !dir.is_empty() {
                crate::render::paths::check_inside(&dir)
                    .map_err(|m| Error::new(format!("task `{task}`: working_directory {m}")))?;
            }
            cwd.join(dir)
        }
        None => cwd.to_path_buf(),
    };
    finish(dir)
}

/// A task's rendered command, run in `dir` with `how`'s values in its environment, and
/// `COPIER_OPERATION` as every copier task has it.
fn command_in(
    task: &Task,
    dir: std::path::PathBuf,
    ctx: &minijinja::Value,
    how: &TaskRun,
    render: &dyn Fn(&str) -> Result<String>,
) -> Result<Option<(Command, String, String)>> {
    let (mut command, shown, announced) = match &task.command {
        TaskCommand::Shell(line) => {
            let line = render(line)?;
            let mut command = Command::new("sh");
            command.arg("-c").arg(&line);
            (command, line.clone(), line)
        }
        TaskCommand::Argv(argv) => {
            let argv = argv.iter().map(|a| render(a)).collect::<Result<Vec<_>>>()?;
            let mut command = Command::new(&argv[0]);
            command.args(&argv[1..]);
            (command, argv.join(" "), python_list(&argv))
        }
    };
    command.current_dir(dir);
    if let Some(operation) = ctx
        .get_attr("_copier_operation")
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
    {
        command.env("COPIER_OPERATION", operation);
    }
    command.envs(how.extra.iter().map(|(k, v)| (k.to_ascii_uppercase(), v)));
    Ok(Some((command, shown, announced)))
}

/// A list of strings as Python's `repr` shows it: `['ls', '-l']`.
fn python_list(items: &[String]) -> String {
    let quoted: Vec<String> = items
        .iter()
        .map(|item| {
            let quote = if item.contains('\'') && !item.contains('"') {
                '"'
            } else {
                '\''
            };
            let mut text = String::from(quote);
            for c in item.chars() {
                match c {
                    '\\' => text.push_str("\\\\"),
                    '\n' => text.push_str("\\n"),
                    '\t' => text.push_str("\\t"),
                    '\r' => text.push_str("\\r"),
                    c if c == quote => {
                        text.push('\\');
                        text.push(c);
                    }
                    c => text.push(c),
                }
            }
            text.push(quote);
            text
        })
        .collect();
    format!("[{}]", quoted.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_join_of_copiers_python_paths_is_read_as_pathjoin() {
        assert_eq!(
            python_path_division("python {{ _copier_conf.src_path / 'tasks.py' }} 1"),
            "python {{ pathjoin(_copier_conf.src_path, 'tasks.py') }} 1"
        );
        assert_eq!(
            python_path_division("[[ _copier_conf.dst_path/\"a\" / name ]]"),
            "[[ pathjoin(_copier_conf.dst_path, \"a\", name) ]]"
        );
        // Anything else is left as it is: a division of numbers, a path without a join.
        for text in ["{{ 4 / 2 }}", "{{ _copier_conf.src_path }}", "a / b"] {
            assert_eq!(python_path_division(text), text);
        }
    }

    #[test]
    fn an_argument_list_is_announced_as_python_shows_a_list() {
        let list =
            |items: &[&str]| python_list(&items.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(list(&["echo", "hi"]), "['echo', 'hi']");
        assert_eq!(list(&["it's"]), "[\"it's\"]");
        assert_eq!(
            list(&["a'b\"c", "back\\slash", "new\nline"]),
            r#"['a\'b"c', 'back\\slash', 'new\nline']"#
        );
    }
}
