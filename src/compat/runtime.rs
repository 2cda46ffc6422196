//! Runtimes as target framework monikers (`net8.0`, `netstandard2.0`, `node18`, `rust1.75`)
//! and the `RuntimeRequires` expressions over them (`>= net8.0`).

use semver::Version;

/// A runtime: a family and a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runtime {
    /// `net`, `netstandard`, `netcoreapp`, `node`, `rust`…
    pub family: String,
    /// The version, padded to three parts.
    pub version: Version,
}

impl Runtime {
    /// Parses `net8.0`, `netstandard2.1`, `node>=18` (the comparison is dropped), `rust1.75`.
    pub fn parse(text: &str) -> Option<Runtime> {
        let text = text.trim().trim_start_matches(['>', '<', '=', ' ']);
        let split = text.find(|c: char| c.is_ascii_digit())?;
        let (family, number) = text.split_at(split);
        let family = family
            .trim_end_matches(['>', '<', '='])
            .to_ascii_lowercase();
        let mut parts: Vec<u64> = number
            .split('.')
            .map(|p| p.parse().ok())
            .collect::<Option<_>>()?;
        parts.resize(3, 0);
        Some(Runtime {
            family,
            version: Version::new(parts[0], parts[1], parts[2]),
        })
    }
}

impl std::fmt::Display for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}{}.{}",
            self.family, self.version.major, self.version.minor
        )
    }
}

/// Whether `runtime` satisfies `expression` (`>= net8.0`, `< net10.0`, `net8.0`). `None` when
/// the expression cannot be read.
pub fn satisfies(runtime: &Runtime, expression: &str) -> Option<bool> {
    let expression = expression.trim();
    let (op, rest) = ["<=", ">=", "==", "<", ">", "="]
        .iter()
        .find_map(|op| expression.strip_prefix(op).map(|rest| (*op, rest)))
        .unwrap_or(("=", expression));
    let wanted = Runtime::parse(rest)?;
    if wanted.family != runtime.family {
        return Some(false);
    }
    let (a, b) = (&runtime.version, &wanted.version);
    Some(match op {
        ">=" => a >= b,
        ">" => a > b,
        "<=" => a <= b,
        "<" => a < b,
        _ => a == b,
    })
}

/// Whether a library built for `framework` runs on `runtime`: the same family at a version
/// no higher, or .NET Standard on .NET Core and .NET 5+.
pub fn runs_on(framework: &str, runtime: &Runtime) -> Option<bool> {
    let target = Runtime::parse(framework)?;
    if target.family == runtime.family {
        return Some(target.version <= runtime.version);
    }
    Some(target.family == "netstandard" && matches!(runtime.family.as_str(), "net" | "netcoreapp"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtimes_compare_within_their_family() {
        let net8 = Runtime::parse("net8.0").unwrap();
        assert_eq!(satisfies(&net8, ">= net8.0"), Some(true));
        assert_eq!(satisfies(&net8, ">= net9.0"), Some(false));
        assert_eq!(satisfies(&net8, "< net10.0"), Some(true));
        assert_eq!(satisfies(&net8, "node18"), Some(false));
        assert_eq!(satisfies(&net8, "banana"), None);
        assert_eq!(runs_on("net6.0", &net8), Some(true));
        assert_eq!(runs_on("net9.0", &net8), Some(false));
        assert_eq!(runs_on("netstandard2.0", &net8), Some(true));
        assert_eq!(net8.to_string(), "net8.0");
    }
}
