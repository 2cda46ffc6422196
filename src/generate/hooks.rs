//! Code a template asks to run: cookiecutter's `hooks/pre_gen_project.*` and
//! `hooks/post_gen_project.*`, copier's `_tasks`. Nothing runs unless the user passed
//! `--trust`; without it the run stops before writing and names what it would have run.

use std::path::Path;
use std::process::Command;

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

/// What a template would run.
#[derive(Debug, Clone, Default)]
pub struct Hooks {
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
                match stem {
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
        self.pre.is_empty() && self.post.is_empty() && self.tasks.is_empty()
    }

    /// What would run, for messages.
    pub fn describe(&self) -> Vec<String> {
        self.pre
            .iter()
            .chain(&self.post)
            .map(|h| h.name.clone())
            .chain(self.tasks.iter().map(|t| format!("task `{t}`")))
            .collect()
    }
}

fn run(mut command: Command, what: &str) -> Result<()> {
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
) -> Result<()> {
    let script = crate::bounded::render_str_bounded(env, &hook.text, ctx)
        .map_err(|e| Error::new(format!("{}: {e}", hook.name)))?;
    let extension = hook.name.rsplit('.').next().unwrap_or_default();
    let file = tempfile::Builder::new()
        .prefix("factory-hook-")
        .suffix(&format!(".{extension}"))
        .tempfile()
        .map_err(|e| Error::new(format!("cannot write {}: {e}", hook.name)))?;
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
    run(command, &hook.name)
}

/// Renders a task and runs it in `cwd` (or its `working_directory` below it): a command line
/// with `sh -c`, an argument list directly; skipped when its `when` renders false.
pub fn run_task(
    task: &Task,
    env: &minijinja::Environment<'static>,
    ctx: &minijinja::Value,
    cwd: &Path,
) -> Result<()> {
    run_task_with(task, env, ctx, cwd, &[])
}

/// [`run_task`] with values copier adds for this task: `_NAME` in its context, `NAME` (upper
/// case) in its environment, as copier gives a migration `_stage`/`STAGE`, `_version_from`/
/// `VERSION_FROM`… and every task `_copier_operation`/`COPIER_OPERATION`.
pub fn run_task_with(
    task: &Task,
    env: &minijinja::Environment<'static>,
    ctx: &minijinja::Value,
    cwd: &Path,
    extra: &[(String, String)],
) -> Result<()> {
    let with_extra;
    let ctx = if extra.is_empty() {
        ctx
    } else {
        let mut merged = std::collections::BTreeMap::new();
        for key in ctx.try_iter().into_iter().flatten() {
            if let (Some(name), Ok(value)) = (key.as_str(), ctx.get_item(&key)) {
                merged.insert(name.to_string(), value);
            }
        }
        for (name, value) in extra {
            merged.insert(format!("_{name}"), minijinja::Value::from(value.as_str()));
        }
        with_extra = minijinja::Value::from(merged);
        &with_extra
    };
    let render = |text: &str| {
        crate::bounded::render_str_bounded(env, text, ctx)
            .map_err(|e| Error::new(format!("task `{task}`: {e}")))
    };
    if let Some(when) = &task.when {
        // copier casts the rendered text: empty, false, no, off, 0 and none are false.
        let rendered = render(when)?;
        let falsy = ["", "false", "no", "off", "0", "none", "n"];
        if falsy.contains(&rendered.trim().to_ascii_lowercase().as_str()) {
            return Ok(());
        }
    }
    let dir = match &task.working_directory {
        Some(dir) => {
            let dir = render(dir)?;
            crate::render::paths::check_inside(&dir)
                .map_err(|m| Error::new(format!("task `{task}`: working_directory {m}")))?;
            cwd.join(dir)
        }
        None => cwd.to_path_buf(),
    };
    let (mut command, shown) = match &task.command {
        TaskCommand::Shell(line) => {
            let line = render(line)?;
            let mut command = Command::new("sh");
            command.arg("-c").arg(&line);
            (command, line)
        }
        TaskCommand::Argv(argv) => {
            let argv = argv.iter().map(|a| render(a)).collect::<Result<Vec<_>>>()?;
            let mut command = Command::new(&argv[0]);
            command.args(&argv[1..]);
            (command, argv.join(" "))
        }
    };
    command.current_dir(dir);
    command.envs(extra.iter().map(|(k, v)| (k.to_ascii_uppercase(), v)));
    run(command, &format!("task `{shown}`"))
}
