//! Printing helpers shared by the subcommands.

use std::io::Write;

use serde::Serialize;

use crate::error::Error;

/// Prints one JSON document and a newline to stdout.
pub fn print_json<T: Serialize>(value: &T) {
    let mut text = serde_json::to_string_pretty(value).expect("output serializes");
    text.push('\n');
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// Prints an error to stderr: `error: …` and, when known, `hint: …`.
pub fn print_error(err: &Error, color: bool) {
    let color = color && std::env::var_os("NO_COLOR").is_none();
    let (red, cyan, reset) = if color {
        ("\x1b[1;31m", "\x1b[36m", "\x1b[0m")
    } else {
        ("", "", "")
    };
    let mut text = format!("{red}error{reset}: {}\n", err.message);
    if let Some(hint) = &err.hint {
        text.push_str(&format!("  {cyan}hint{reset}: {hint}\n"));
    }
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}
