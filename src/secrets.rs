//! The one redaction step. Every secret value of a run (given, prompted, or derived from a
//! secret) is registered here the moment it is known, and everything that leaves the process
//! passes through `redact`: the printer (stdout, stderr, errors, warnings), the events before
//! they are appended (so the log and every broker), and the records factory writes about a run
//! (`scaffold.yaml`, answers and replay files). Rendered files are the user's output and keep
//! what the template put in them.
//!
//! The registry is process-wide on purpose: a secret is secret wherever it turns up, in
//! whichever message, and a long-running worker redacting a value of an earlier command in a
//! later one hides too much, never too little.

use std::borrow::Cow;
use std::sync::RwLock;

use aho_corasick::{AhoCorasick, MatchKind};

/// What a secret is replaced with.
pub const MASK: &str = "***";

/// Values shorter than this are not masked: replacing every `a` or `1` would make every
/// message unreadable and hide nothing.
const SHORTEST: usize = 3;

struct Known {
    values: Vec<String>,
    matcher: Option<AhoCorasick>,
}

static KNOWN: RwLock<Known> = RwLock::new(Known {
    values: Vec::new(),
    matcher: None,
});

/// Registers a secret value, in its plain form and as it appears inside a JSON string.
pub fn register(value: &str) {
    if value.len() < SHORTEST {
        return;
    }
    let json = serde_json::to_string(value).expect("a string serializes");
    let escaped = &json[1..json.len() - 1];
    let mut known = KNOWN.write().unwrap_or_else(|e| e.into_inner());
    let before = known.values.len();
    for form in [value, escaped] {
        if !known.values.iter().any(|v| v == form) {
            known.values.push(form.to_string());
        }
    }
    if known.values.len() != before {
        known.matcher = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&known.values)
            .ok();
    }
}

/// Whether any secret is known (the fast path when none is).
pub fn any() -> bool {
    KNOWN
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .matcher
        .is_some()
}

/// `text` with every known secret replaced by `***`.
pub fn redact(text: &str) -> Cow<'_, str> {
    let known = KNOWN.read().unwrap_or_else(|e| e.into_inner());
    match &known.matcher {
        Some(matcher) if matcher.is_match(text) => {
            let masks = vec![MASK; known.values.len()];
            Cow::Owned(matcher.replace_all(text, &masks))
        }
        _ => Cow::Borrowed(text),
    }
}

/// Bytes with every known secret replaced by `***`.
pub fn redact_bytes(bytes: &[u8]) -> Cow<'_, [u8]> {
    let known = KNOWN.read().unwrap_or_else(|e| e.into_inner());
    match &known.matcher {
        Some(matcher) if matcher.is_match(bytes) => {
            let masks = vec![MASK.as_bytes(); known.values.len()];
            Cow::Owned(matcher.replace_all_bytes(bytes, &masks))
        }
        _ => Cow::Borrowed(bytes),
    }
}

/// Every string inside a JSON value, redacted in place.
pub fn redact_json(value: &mut serde_json::Value) {
    if !any() {
        return;
    }
    match value {
        serde_json::Value::String(text) => {
            if let Cow::Owned(clean) = redact(text) {
                *text = clean;
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_json),
        serde_json::Value::Object(map) => map.values_mut().for_each(redact_json),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_values_are_masked_in_text_bytes_and_json() {
        register("hunter2-in-a-test");
        register("quo\"te-secret");
        register("ab");
        assert_eq!(redact("token=hunter2-in-a-test;"), "token=***;");
        assert_eq!(redact("short ab stays"), "short ab stays");
        let line = serde_json::to_string(&serde_json::json!({"e": "quo\"te-secret"})).unwrap();
        assert_eq!(&*redact(&line), r#"{"e":"***"}"#);
        assert_eq!(&*redact_bytes(b"x hunter2-in-a-test"), b"x ***");
        let mut value = serde_json::json!({"a": ["hunter2-in-a-test/x"], "n": 1});
        redact_json(&mut value);
        assert_eq!(value, serde_json::json!({"a": ["***/x"], "n": 1}));
    }
}
