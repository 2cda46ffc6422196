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
    if is_windows_device_name(name) {
        return Err(reserved(name, "template name"));
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
    let last = name.rsplit('/').next().unwrap_or(name);
    if is_windows_device_name(last) || is_windows_device_name(name.trim_start_matches('@')) {
        return Err(reserved(name, &format!("{ecosystem} package name")));
    }
    Err(Error::usage(format!("`{name}` is not a valid {ecosystem} package name")).hint(rule))
}

/// The refusal of a name Windows reserves.
fn reserved(name: &str, what: &str) -> Error {
    Error::usage(format!(
        "`{name}` is not a usable {what}: Windows reserves it for a device (CON, PRN, AUX, NUL, COM1-9, LPT1-9, with any extension), so no folder in a feed, store or checkout can have it"
    ))
    .hint("choose another name")
}

/// Whether Windows reserves `name` for a device: CON, PRN, AUX, NUL, COM1-9 or LPT1-9, in
/// any case, alone or before an extension (`nul.txt`, `Aux.Utils`), trailing spaces ignored.
/// No file or folder can have such a name there.
pub fn is_windows_device_name(name: &str) -> bool {
    let stem = name
        .split('.')
        .next()
        .unwrap_or(name)
        .trim_end()
        .to_ascii_uppercase();
    matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || ((stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.len() == 4
            && matches!(stem.as_bytes()[3], b'1'..=b'9'))
}

/// NuGet's id rule: `^\w+([.-]\w+)*$` over ASCII, at most 100 characters.
pub fn is_package_id(name: &str) -> bool {
    let word = |part: &str| {
        !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    };
    name.len() <= MAX_NAME && name.split(['.', '-']).all(word) && !is_windows_device_name(name)
}

fn is_crate_name(name: &str) -> bool {
    !is_windows_device_name(name)
        && name.len() <= 64
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
    name.len() <= 214 && part(unscoped) && !is_windows_device_name(unscoped)
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
    fn names_windows_reserves_for_devices_are_refused() {
        for bad in [
            "CON",
            "con",
            "Nul",
            "aux.json",
            "Aux.Utils",
            "COM1",
            "lpt9.x",
            "PRN",
        ] {
            assert!(is_windows_device_name(bad), "{bad}");
            assert!(!is_package_id(bad), "{bad}");
            assert!(check_package_name("nuget", bad).is_err(), "{bad}");
            assert!(check_template_name(bad).is_err(), "{bad}");
        }
        assert!(!is_crate_name("con") && !is_npm_name("nul") && !is_npm_name("@acme/aux"));
        for good in [
            "CONFIG",
            "COM0",
            "COM10",
            "Console.Utils",
            "nullable",
            "LPT",
            "Auxiliary",
        ] {
            assert!(!is_windows_device_name(good), "{good}");
            assert!(is_package_id(good), "{good}");
        }
        let refused = check_package_name("nuget", "CON").unwrap_err().to_string();
        assert!(refused.contains("Windows reserves it"), "{refused}");
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
