//! The small grammars every command shares: `NAME@VERSION` (templates and libraries are
//! addressed by name or id everywhere) and `NAME=VALUE`.

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// `NAME` or `NAME@VERSION` (split at the last `@`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reference<'a> {
    /// The name or id.
    pub name: &'a str,
    /// The version, when one is named.
    pub version: Option<&'a str>,
}

impl<'a> Reference<'a> {
    /// Splits `NAME@VERSION` at the last `@`; a leading `@` is part of the name.
    /// `NAME@latest` is `NAME` (npm's and cargo's habit), and `NAME@v1.2.0` is `NAME@1.2.0`
    /// (a git tag's spelling), as npm reads both.
    pub fn parse(text: &'a str) -> Reference<'a> {
        match text.rsplit_once('@') {
            Some((name, "latest")) if !name.is_empty() => Reference {
                name,
                version: None,
            },
            Some((name, version)) if !name.is_empty() => Reference {
                name,
                version: Some(without_v(version)),
            },
            _ => Reference {
                name: text,
                version: None,
            },
        }
    }

    /// The version, or a usage error saying how to name one (`show` lists the versions).
    pub fn required_version(&self, show: &str) -> Result<&'a str> {
        self.version.ok_or_else(|| {
            Error::usage(format!("`{}` names no version", self.name)).hint(format!(
                "use {}@X.Y.Z; `{show} {}` lists its versions",
                self.name, self.name
            ))
        })
    }
}

/// `v1.2.0` as `1.2.0`; anything else (a range, a tag that is no version) as it is.
pub fn without_v(version: &str) -> &str {
    match version.strip_prefix('v') {
        Some(rest) if semver::Version::parse(rest).is_ok() => rest,
        _ => version,
    }
}

/// `--set NAME=VALUE` pairs into answers (strings, typed later by each parameter).
pub fn parse_assignments(pairs: &[String], into: &mut Map<String, Value>) -> Result<()> {
    for pair in pairs {
        let (name, value) = pair.split_once('=').ok_or_else(|| {
            Error::usage(format!("--set `{pair}` is not NAME=VALUE"))
                .hint("for example --set service_name=orders")
        })?;
        into.insert(name.trim().to_string(), Value::String(value.to_string()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_split_at_the_last_at() {
        assert_eq!(Reference::parse("a@1.0.0").version, Some("1.0.0"));
        assert_eq!(Reference::parse("@scope/x@2").name, "@scope/x");
        assert_eq!(Reference::parse("@scope/x").version, None);
        assert_eq!(Reference::parse("plain").name, "plain");
        assert_eq!(Reference::parse("a@latest").version, None);
        assert_eq!(Reference::parse("a@v2.0.0").version, Some("2.0.0"));
        assert_eq!(Reference::parse("a@vnext").version, Some("vnext"));
    }

    #[test]
    fn assignments_need_an_equals_sign() {
        let mut map = Map::new();
        parse_assignments(&["a=b=c".into()], &mut map).unwrap();
        assert_eq!(map["a"], "b=c");
        assert!(parse_assignments(&["nope".into()], &mut map).is_err());
    }
}
