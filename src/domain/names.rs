//! What a template or library may be called. Names become folder names in feeds, repository
//! names in registries and keys in the store, so they follow the package-id rules of their
//! ecosystem and are checked once, when they enter (register), never patched later.

use crate::error::{Error, Result};

/// The longest name (NuGet's limit for package ids).
const MAX_NAME: usize = 100;

/// Template names follow NuGet's package-id rule: runs of letters, digits and `_`, joined by
/// single `.` or `-`.
pub fn check_template_name(name: &str) -> Result<()> {
    if is_package_id(name) {
        return Ok(());
    }
    Err(Error::usage(format!(
        "`{name}` is not a usable template name"
    ))
    .hint("names are letters, digits and `_`, joined by single `.` or `-` (at most 100): pass --name"))
}

/// A library's name under its ecosystem's rule (NuGet ids, crate names, npm package names).
pub fn check_package_name(ecosystem: &str, name: &str) -> Result<()> {
    let (ok, rule) = match ecosystem {
        "cargo" => (
            is_crate_name(name),
            "a crate name is a letter, then letters, digits, `-` or `_` (at most 64)",
        ),
        "npm" => (
            is_npm_name(name),
            "an npm name is lower-case letters, digits, `-`, `.`, `_` or `~`, optionally under one @scope/",
        ),
        _ => (
            is_package_id(name),
            "a NuGet id is letters, digits and `_`, joined by single `.` or `-` (at most 100)",
        ),
    };
    if ok {
        return Ok(());
    }
    Err(Error::usage(format!("`{name}` is not a valid {ecosystem} package name")).hint(rule))
}

/// NuGet's id rule: `^\w+([.-]\w+)*$` over ASCII, at most 100 characters.
pub fn is_package_id(name: &str) -> bool {
    let word = |part: &str| {
        !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    };
    name.len() <= MAX_NAME && name.split(['.', '-']).all(word)
}

fn is_crate_name(name: &str) -> bool {
    name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn is_npm_name(name: &str) -> bool {
    let part = |p: &str| {
        !p.is_empty()
            && !p.starts_with(['.', '_'])
            && p.bytes().all(|b| {
                b.is_ascii_lowercase()
                    || b.is_ascii_digit()
                    || matches!(b, b'-' | b'.' | b'_' | b'~')
            })
    };
    let unscoped = match name.strip_prefix('@') {
        Some(scoped) => match scoped.split_once('/') {
            Some((scope, rest)) if part(scope) => rest,
            _ => return false,
        },
        None => name,
    };
    name.len() <= 214 && part(unscoped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_ids_are_words_joined_by_dots_and_dashes() {
        for good in [
            "Acme.Json",
            "web-api",
            "a_b",
            "x",
            "Contoso.Booking-Client2",
        ] {
            assert!(is_package_id(good), "{good}");
        }
        for bad in [
            "",
            "../x",
            "..",
            "/srv/evil",
            "a..b",
            ".a",
            "a.",
            "a/b",
            "a b",
            "a\nb",
            "é",
            "-a",
            "a@1",
        ] {
            assert!(!is_package_id(bad), "{bad:?}");
        }
        assert!(!is_package_id(&"a".repeat(101)));
    }

    #[test]
    fn crate_and_npm_names_follow_their_registries() {
        assert!(is_crate_name("serde_json") && is_crate_name("tokio-util"));
        assert!(!is_crate_name("1x") && !is_crate_name("a.b") && !is_crate_name("../x"));
        assert!(is_npm_name("left-pad") && is_npm_name("@acme/ui.kit"));
        for bad in ["Upper", "@acme", "@/x", "../x", "a/b", ".hidden", "@a/b/c"] {
            assert!(!is_npm_name(bad), "{bad}");
        }
    }
}
