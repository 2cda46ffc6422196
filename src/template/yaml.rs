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
    parse_with(text, origin, options)
}

/// Parses a mapping PyYAML wrote: copier's answers files. PyYAML follows YAML 1.1, where a
/// number needs a dot and a signed exponent, so it writes an abbreviated commit such as
/// `71265e0` or `75e7086` unquoted; YAML 1.2 reads those as numbers, the second as infinity.
/// A top-level scalar YAML 1.1 reads as text is taken as written, as copier takes it.
pub fn from_pyyaml_str(text: &str, origin: &str) -> Result<serde_json::Value> {
    let options = serde_saphyr::options! {
        strict_booleans: true,
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::Error,
        non_finite_float_policy: serde_saphyr::NonFiniteFloatPolicy::PassThrough,
    };
    let mut value: serde_json::Value = parse_with(text, origin, options)
        .map_err(|e| Error::new(format!("{}: {}", e.location(), e.message)))?;
    let serde_json::Value::Object(map) = &mut value else {
        return Ok(value);
    };
    if !map.values().any(|v| v.is_number() || v.is_null()) {
        return Ok(value);
    }
    // One pass over the lines, whatever the number of keys.
    let mut written = std::collections::HashMap::new();
    for (key, text) in top_level_lines(text) {
        written.entry(key).or_insert(text);
    }
    for (key, value) in map.iter_mut() {
        if !(value.is_number() || value.is_null()) {
            continue;
        }
        if let Some(text) = written
            .get(key.as_str())
            .filter(|w| !pyyaml_reads_as_data(w))
        {
            *value = serde_json::Value::String(text.to_string());
        }
    }
    Ok(value)
}

/// The text of the top-level `key: value` line of a YAML mapping, as written.
pub fn written_scalar(text: &str, key: &str) -> Option<String> {
    top_level_lines(text)
        .find(|(k, _)| *k == key)
        .map(|(_, value)| value.to_string())
}

/// The top-level `key: value` lines of a YAML mapping: each key, and its value as written.
fn top_level_lines(text: &str) -> impl Iterator<Item = (&str, &str)> {
    text.lines().filter_map(|line| {
        let (key, value) = line.split_once(':')?;
        let value = value.split(" #").next().unwrap_or("").trim();
        (!value.is_empty()).then_some((key.trim_end(), value))
    })
}

/// Whether PyYAML's resolvers (YAML 1.1) read a plain scalar as a number, a boolean or null.
fn pyyaml_reads_as_data(plain: &str) -> bool {
    static RESOLVERS: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        // PyYAML's resolver.py: bool, float, int, null.
        regex::Regex::new(concat!(
            r"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF",
            r"|[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?",
            r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
            r"|[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+",
            r"|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+|~|null|Null|NULL)$"
        ))
        .expect("PyYAML's resolvers compile")
    });
    RESOLVERS.is_match(plain)
}

fn parse_with<T: DeserializeOwned>(
    text: &str,
    origin: &str,
    options: serde_saphyr::Options,
) -> std::result::Result<T, YamlError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_level_scalars_pyyaml_reads_as_text_stay_text() {
        let text =
            "_commit: 75e7086\nshort: 1234e5\noctal: 0o17\nversion: 1.0\nhex: 0x1F\nnone: ~\n";
        let value = from_pyyaml_str(text, "answers").unwrap();
        assert_eq!(value["_commit"], "75e7086");
        assert_eq!(value["short"], "1234e5");
        assert_eq!(value["octal"], "0o17");
        assert_eq!(value["version"], 1.0);
        assert_eq!(value["hex"], 31);
        assert!(value["none"].is_null());
    }
}
