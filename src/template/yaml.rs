//! YAML reading through serde-saphyr: strict booleans (so `no` stays a string), duplicate
//! keys refused, and errors that carry `file:line:col`.

use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// Where a YAML error is, for reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    /// The file or source name.
    pub origin: String,
    /// 1-based line, when known.
    pub line: Option<u64>,
    /// 1-based column, when known.
    pub column: Option<u64>,
    /// What is wrong.
    pub message: String,
}

impl YamlError {
    /// `origin:line:col`, as far as known.
    pub fn location(&self) -> String {
        match (self.line, self.column) {
            (Some(l), Some(c)) => format!("{}:{l}:{c}", self.origin),
            (Some(l), None) => format!("{}:{l}", self.origin),
            _ => self.origin.clone(),
        }
    }
}

/// Parses YAML into `T`, keeping the error's location.
pub fn parse<T: DeserializeOwned>(text: &str, origin: &str) -> std::result::Result<T, YamlError> {
    let options = serde_saphyr::options! {
        strict_booleans: true,
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::Error,
    };
    serde_saphyr::from_str_with_options(text, options).map_err(|e| {
        let location = e.location();
        let message = e.without_snippet().to_string();
        // The message may repeat the position; keep the first line, which says what is wrong.
        let first = message.lines().next().unwrap_or("invalid YAML").trim();
        let message = match first.rfind(" at line ") {
            Some(i) if location.is_some() => first[..i].to_string(),
            _ => first.to_string(),
        };
        // Drop advice aimed at the library's users rather than ours.
        let message = match message.find(", set DuplicateKeyPolicy") {
            Some(i) => message[..i].to_string(),
            None => message,
        };
        let message = with_suggestion(message);
        YamlError {
            origin: origin.to_string(),
            line: location.map(|l| l.line()).filter(|&l| l > 0),
            column: location.map(|l| l.column()).filter(|&c| c > 0),
            message,
        }
    })
}

/// Parses YAML into `T`; the error is a ready-to-print [`Error`].
pub fn from_str<T: DeserializeOwned>(text: &str, origin: &str) -> Result<T> {
    parse(text, origin).map_err(|e| Error::new(format!("{}: {}", e.location(), e.message)))
}

/// A YAML scalar for `value`: JSON string quoting, which YAML reads back unchanged.
pub fn quote(value: &str) -> String {
    serde_json::to_string(value).expect("strings serialize")
}

/// `unknown field `paramters`, expected one of …` gains the closest known key.
fn with_suggestion(message: String) -> String {
    let Some(rest) = message.strip_prefix("unknown field `") else {
        return message;
    };
    let Some((typed, expected)) = rest.split_once("`, expected one of ") else {
        return message;
    };
    let known = expected.split(", ").map(|k| k.trim_matches('`'));
    let hint = crate::suggest::did_you_mean(typed, known);
    format!("{message}{hint}")
}
