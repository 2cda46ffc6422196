//! The one printer: whether an invocation prints human text, one JSON document or nothing
//! but errors is decided here, and every byte for stdout goes through it. A closed stdout
//! (`factory events | head`) ends the process quietly, as ripgrep does: by then the command's
//! work is recorded, and nobody is left to read the rest.

use std::fmt::Display;
use std::io::Write;

use serde::Serialize;

use crate::error::Error;

/// How an invocation prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Text for people.
    Human,
    /// One JSON document (or JSON Lines for streams).
    Json,
    /// Errors only.
    Quiet,
}

/// Prints reports, warnings and errors.
#[derive(Debug)]
pub(crate) struct Printer {
    mode: Mode,
    color: bool,
    out_color: bool,
    printed_json: std::cell::Cell<bool>,
}

/// Text for a terminal: every known secret masked (`crate::secrets`), and control characters
/// a file name or a template could carry (escape sequences, carriage returns, tabs) shown
/// escaped; line breaks stay.
fn printable(text: &str) -> String {
    let text = crate::secrets::redact(text);
    if !text.chars().any(|c| c.is_control() && c != '\n') {
        return text.into_owned();
    }
    let mut shown = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() && c != '\n' {
            shown.extend(c.escape_debug());
        } else {
            shown.push(c);
        }
    }
    shown
}

/// A template's own words on stderr (copier's `_message_after_copy`…), as copier prints
/// them with a line break after; secrets masked, control characters other than line
/// breaks and tabs shown escaped.
pub(crate) fn template_says(text: &str) {
    let text = crate::secrets::redact(text);
    let mut shown = String::with_capacity(text.len() + 1);
    for c in text.chars() {
        if c.is_control() && c != '\n' && c != '\t' {
            shown.extend(c.escape_debug());
        } else {
            shown.push(c);
        }
    }
    shown.push('\n');
    let _ = std::io::stderr().lock().write_all(shown.as_bytes());
}

/// A hint line on stderr, for usage errors found before a printer exists.
pub(crate) fn hint(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "hint: {}", printable(text));
}

/// `out!(printer, "…", args)` prints one line of human text.
macro_rules! out {
    ($printer:expr) => {
        $printer.line("")
    };
    ($printer:expr, $($arg:tt)*) => {
        $printer.line(format_args!($($arg)*))
    };
}
pub(crate) use out;

impl Printer {
    /// A printer for `--json` / `--quiet`, colouring stderr when `color` and stdout when
    /// `out_color` (what `--color`, NO_COLOR, CLICOLOR_FORCE and the streams say).
    pub(crate) fn new(json: bool, quiet: bool, color: bool, out_color: bool) -> Printer {
        let mode = match (json, quiet) {
            (true, _) => Mode::Json,
            (false, true) => Mode::Quiet,
            (false, false) => Mode::Human,
        };
        Printer {
            mode,
            color,
            out_color,
            printed_json: std::cell::Cell::new(false),
        }
    }

    /// Whether stderr is coloured (prompts are drawn there).
    pub(crate) fn color(&self) -> bool {
        self.color
    }

    /// Whether JSON is wanted.
    pub(crate) fn json(&self) -> bool {
        self.mode == Mode::Json
    }

    /// Whether human text is wanted.
    pub(crate) fn human(&self) -> bool {
        self.mode == Mode::Human
    }

    /// Whether only errors are wanted.
    pub(crate) fn quiet(&self) -> bool {
        self.mode == Mode::Quiet
    }

    /// One line of human text (nothing in JSON or quiet mode).
    pub(crate) fn line(&self, text: impl Display) {
        if self.human() {
            self.raw(format!("{text}\n").as_bytes());
        }
    }

    /// A line about a problem: printed in human and quiet mode (quiet hides only what went
    /// well), not with JSON.
    pub(crate) fn problem(&self, text: impl Display) {
        if !self.json() {
            self.raw(format!("{text}\n").as_bytes());
        }
    }

    /// `FAIL`, red on a terminal.
    pub(crate) fn fail_label(&self) -> &'static str {
        if self.out_color {
            "\x1b[1;31mFAIL\x1b[0m"
        } else {
            "FAIL"
        }
    }

    /// One JSON document, pretty, whatever the mode (the caller asked for JSON).
    pub(crate) fn json_document<T: Serialize>(&self, value: &T) {
        let mut text = serde_json::to_string_pretty(value).expect("output serializes");
        text.push('\n');
        self.printed_json.set(true);
        self.raw(text.as_bytes());
    }

    /// Whether a JSON document was printed already.
    pub(crate) fn printed_json(&self) -> bool {
        self.printed_json.get()
    }

    /// Bytes for stdout as they are (streams, scripts, generated files).
    pub(crate) fn raw(&self, bytes: &[u8]) {
        let bytes = crate::secrets::redact_bytes(bytes);
        let mut stdout = std::io::stdout().lock();
        // A full disk behind a redirect is rare and the report is already recorded.
        let _ = exit_on_broken_pipe(stdout.write_all(&bytes).and_then(|()| stdout.flush()));
    }

    /// A buffered stdout for streams of lines (the event log): written in large blocks.
    pub(crate) fn stream(&self) -> Stream {
        Stream(std::io::BufWriter::with_capacity(
            64 * 1024,
            std::io::stdout().lock(),
        ))
    }

    /// A note on stderr (not in quiet or JSON mode): how something was done.
    pub(crate) fn note(&self, text: impl Display) {
        if self.human() {
            let _ = writeln!(
                std::io::stderr().lock(),
                "note: {}",
                printable(&text.to_string())
            );
        }
    }

    /// A warning on stderr (not in quiet mode).
    pub(crate) fn warn(&self, text: impl Display) {
        if !self.quiet() {
            let _ = writeln!(
                std::io::stderr().lock(),
                "warning: {}",
                printable(&text.to_string())
            );
        }
    }

    /// A warning of the template's tool (a deprecated form, a dirty local template), on
    /// stderr in every mode: `--quiet` and `--json` keep stderr for what needs acting on,
    /// and this does (copier's Python warnings are shown whatever its `--quiet` says).
    pub(crate) fn tool_warning(&self, text: impl Display) {
        let _ = writeln!(
            std::io::stderr().lock(),
            "warning: {}",
            printable(&text.to_string())
        );
    }

    /// An error on stderr: `error: …` and, when known, `hint: …`.
    pub(crate) fn error(&self, err: &Error) {
        let (red, cyan, reset) = if self.color {
            ("\x1b[1;31m", "\x1b[36m", "\x1b[0m")
        } else {
            ("", "", "")
        };
        let mut text = format!("{red}error{reset}: {}\n", printable(&err.message));
        if let Some(hint) = &err.hint {
            text.push_str(&format!("  {cyan}hint{reset}: {}\n", printable(hint)));
        }
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }
}

/// Buffered lines for stdout; a closed stdout ends the process quietly.
pub(crate) struct Stream(std::io::BufWriter<std::io::StdoutLock<'static>>);

impl Stream {
    /// One line (the newline is added).
    pub(crate) fn line(&mut self, bytes: &[u8]) -> crate::Result<()> {
        let written = self
            .0
            .write_all(&crate::secrets::redact_bytes(bytes))
            .and_then(|()| self.0.write_all(b"\n"));
        exit_on_broken_pipe(written)
    }

    /// Sends what is buffered.
    pub(crate) fn flush(&mut self) -> crate::Result<()> {
        exit_on_broken_pipe(self.0.flush())
    }
}

/// Nobody reads a closed pipe: the command's work is done, so it ends quietly (exit 0).
/// Any other failure to write is an error.
fn exit_on_broken_pipe(result: std::io::Result<()>) -> crate::Result<()> {
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(Error::new(format!("cannot write to stdout: {e}"))),
        Ok(()) => Ok(()),
    }
}
