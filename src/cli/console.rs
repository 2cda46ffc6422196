//! What a generation shows on the terminal while it runs: the progress bar, the template's
//! messages and the output of its code.

use std::io::IsTerminal;

use super::App;
use crate::generate::Progress;

/// An indicatif bar on stderr.
struct Bar(indicatif::ProgressBar);

/// Runs shorter than this many files finish before a bar would help.
const BAR_FROM_FILES: u64 = 500;

impl Progress for Bar {
    fn start(&self, total: u64) {
        if total < BAR_FROM_FILES {
            self.0
                .set_draw_target(indicatif::ProgressDrawTarget::hidden());
        }
        self.0.set_length(total);
    }
    fn tick(&self) {
        self.0.inc(1);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

/// What a generation shows on the terminal: the bar (when there is one), the template's
/// messages and copier's task lines on stderr (not with --quiet, as copier's quiet), and
/// the output of the template's code as cookiecutter and copier show it: its stdout on
/// stdout, or on stderr with --json so stdout stays one JSON document. copier's quiet does
/// not hide what tasks print, and neither does --quiet.
pub(crate) struct Console {
    bar: Option<Bar>,
    quiet: bool,
    json: bool,
    debug: Debug,
}

/// Where debug lines go: stderr with --verbose, appended to --debug-file.
#[derive(Default)]
pub(crate) struct Debug {
    pub(crate) verbose: bool,
    pub(crate) file: Option<std::sync::Mutex<std::fs::File>>,
}

impl Debug {
    /// Opens `file` for appending (created when missing), as cookiecutter's --debug-file.
    pub(crate) fn new(verbose: bool, file: Option<&std::path::Path>) -> crate::Result<Debug> {
        let file = match file {
            Some(path) => Some(std::sync::Mutex::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| crate::Error::io("open the debug file", path, e))?,
            )),
            None => None,
        };
        Ok(Debug { verbose, file })
    }
}

impl Console {
    pub(crate) fn new(app: &App) -> Console {
        Console::with_debug(app, Debug::default())
    }

    pub(crate) fn with_debug(app: &App, debug: Debug) -> Console {
        let show_progress = app.human() && std::io::stderr().is_terminal();
        Console {
            bar: show_progress.then(Bar::new),
            quiet: app.printer.quiet(),
            json: app.json(),
            debug,
        }
    }
}

impl Progress for Console {
    fn start(&self, total: u64) {
        if let Some(bar) = &self.bar {
            bar.start(total);
        }
    }
    fn tick(&self) {
        if let Some(bar) = &self.bar {
            bar.tick();
        }
    }
    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
    fn say(&self, text: &str) {
        if self.quiet {
            return;
        }
        let print = || super::printer::template_says(text);
        match &self.bar {
            Some(bar) => bar.0.suspend(print),
            None => print(),
        }
    }
    fn debug(&self, logger: &str, message: &str) {
        // cookiecutter's debug format, `LEVEL logger: message`; never a secret.
        let line = format!("DEBUG {logger}: {}\n", crate::secrets::redact(message));
        if let Some(file) = &self.debug.file {
            use std::io::Write;
            let mut file = file.lock().unwrap_or_else(|e| e.into_inner());
            let _ = file.write_all(line.as_bytes());
        }
        if self.debug.verbose {
            let print = || eprint!("{line}");
            match &self.bar {
                Some(bar) => bar.0.suspend(print),
                None => print(),
            }
        }
    }
    fn code_output(&self) -> crate::generate::hooks::Output {
        match self.json {
            true => crate::generate::hooks::Output::OnStderr,
            false => crate::generate::hooks::Output::Shown,
        }
    }
}

impl Bar {
    fn new() -> Bar {
        let style = indicatif::ProgressStyle::with_template(
            "{spinner} rendering {pos}/{len} files {wide_bar} {eta}",
        )
        .expect("the template is valid");
        Bar(
            indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr())
                .with_style(style),
        )
    }
}
