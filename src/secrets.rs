//! The one redaction step. Every secret value of a run (given, prompted, or derived from a
//! secret) is registered here the moment it is known, and everything that leaves the process
//! passes through `redact`: the printer (stdout, stderr, errors, warnings), the events before
//! they are appended (so the log and every broker), and the records factory writes about a run
//! (`scaffold.yaml`, answers and replay files). Rendered files are the user's output and keep
//! what the template put in them.
//!
//! The registry is process-wide on purpose: a secret is secret wherever it turns up, in
//! whichever message. A long-running worker handles each command inside a [`Scope`]: what
//! the command's thread registers is forgotten when the command ends (unless something
//! outside a scope registered the same value), so the list does not grow with every
//! command handled and nothing of an ended command stays in memory.

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
    /// Per value: how many open scopes registered it, and whether it was registered
    /// outside any scope (then it stays).
    holders: Vec<(usize, bool)>,
    matcher: Option<AhoCorasick>,
}

impl Known {
    fn rebuild(&mut self) {
        self.matcher = if self.values.is_empty() {
            None
        } else {
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&self.values)
                .ok()
        };
    }
}

static KNOWN: RwLock<Known> = RwLock::new(Known {
    values: Vec::new(),
    holders: Vec::new(),
    matcher: None,
});

thread_local! {
    /// The values this thread registered inside its open scope.
    static SCOPE: std::cell::RefCell<Option<Vec<String>>> = const { std::cell::RefCell::new(None) };
}

/// Registers a secret value, in its plain form and as it appears inside a JSON string.
pub fn register(value: &str) {
    if value.len() < SHORTEST {
        return;
    }
    let json = serde_json::to_string(value).expect("a string serializes");
    let escaped = &json[1..json.len() - 1];
    let scoped = SCOPE.with(|s| s.borrow().is_some());
    let mut known = KNOWN.write().unwrap_or_else(|e| e.into_inner());
    let before = known.values.len();
    for form in [value, escaped] {
        let index = match known.values.iter().position(|v| v == form) {
            Some(index) => index,
            None => {
                known.values.push(form.to_string());
                known.holders.push((0, false));
                known.values.len() - 1
            }
        };
        if scoped {
            let newly = SCOPE.with(|s| {
                let mut s = s.borrow_mut();
                let list = s.as_mut().expect("checked above");
                let newly = !list.iter().any(|v| v == form);
                if newly {
                    list.push(form.to_string());
                }
                newly
            });
            if newly {
                known.holders[index].0 += 1;
            }
        } else {
            known.holders[index].1 = true;
        }
    }
    if known.values.len() != before {
        known.rebuild();
    }
}

/// The secrets of one unit of work (a worker's command) on this thread: forgotten when
/// the scope is dropped.
#[must_use = "the scope ends when it is dropped"]
pub struct Scope(());

impl Scope {
    /// Opens a scope on this thread (one at a time).
    pub fn begin() -> Scope {
        SCOPE.with(|s| *s.borrow_mut() = Some(Vec::new()));
        Scope(())
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        let Some(mine) = SCOPE.with(|s| s.borrow_mut().take()) else {
            return;
        };
        if mine.is_empty() {
            return;
        }
        let mut known = KNOWN.write().unwrap_or_else(|e| e.into_inner());
        for value in &mine {
            if let Some(index) = known.values.iter().position(|v| v == value) {
                known.holders[index].0 = known.holders[index].0.saturating_sub(1);
            }
        }
        let before = known.values.len();
        let (values, holders): (Vec<String>, Vec<(usize, bool)>) =
            std::mem::take(&mut known.values)
                .into_iter()
                .zip(std::mem::take(&mut known.holders))
                .filter(|(_, (scopes, outside))| *scopes > 0 || *outside)
                .unzip();
        known.values = values;
        known.holders = holders;
        if known.values.len() != before {
            known.rebuild();
        }
    }
}

/// How many values are registered now.
pub fn count() -> usize {
    KNOWN.read().unwrap_or_else(|e| e.into_inner()).values.len()
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
    fn a_scope_forgets_what_it_registered_and_keeps_what_others_did() {
        let kept = std::thread::spawn(|| {
            register("kept-outside-any-scope");
            {
                let _scope = Scope::begin();
                register("only-this-command-knew");
                register("kept-outside-any-scope");
                assert_eq!(redact("only-this-command-knew"), "***");
            }
            (
                redact("only-this-command-knew").into_owned(),
                redact("kept-outside-any-scope").into_owned(),
            )
        })
        .join()
        .unwrap();
        assert_eq!(kept.0, "only-this-command-knew");
        assert_eq!(kept.1, "***");
    }

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
