//! Version ranges as templates and libraries write them: semver requirements
//! (`>=4.1.0, <5.0.0`) and NuGet interval notation (`[4.1,5.0)`), both read into one form,
//! a [`semver::VersionReq`].

use semver::VersionReq;

/// Parses a semver requirement or a NuGet interval.
pub fn parse_range(text: &str) -> Result<VersionReq, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("the version range is empty".to_string());
    }
    if text.starts_with(['[', '(']) {
        return parse_interval(text);
    }
    VersionReq::parse(text).map_err(|e| format!("`{text}` is not a version range: {e}"))
}

fn parse_interval(text: &str) -> Result<VersionReq, String> {
    let bad = || format!("`{text}` is not a NuGet interval such as [4.1,5.0), [1.0] or (,2.0]");
    let inclusive_start = text.starts_with('[');
    let inclusive_end = match text.chars().last() {
        Some(']') => true,
        Some(')') => false,
        _ => return Err(bad()),
    };
    let inner = &text[1..text.len() - 1];
    let mut parts = Vec::new();
    match inner.split_once(',') {
        None => {
            if !(inclusive_start && inclusive_end) {
                return Err(bad());
            }
            parts.push(format!("={}", normalise(inner).ok_or_else(bad)?));
        }
        Some((low, high)) => {
            let (low, high) = (low.trim(), high.trim());
            if low.is_empty() && high.is_empty() {
                return Err(bad());
            }
            if !low.is_empty() {
                let op = if inclusive_start { ">=" } else { ">" };
                parts.push(format!("{op}{}", normalise(low).ok_or_else(bad)?));
            }
            if !high.is_empty() {
                let op = if inclusive_end { "<=" } else { "<" };
                parts.push(format!("{op}{}", normalise(high).ok_or_else(bad)?));
            }
        }
    }
    VersionReq::parse(&parts.join(", ")).map_err(|_| bad())
}

/// Parses a range as an ecosystem writes it in its project files: NuGet's bare `4.1.0` means
/// "at least 4.1.0"; npm separates comparators with spaces; Cargo's bare `1.2` is a caret
/// requirement. The result is the one internal form.
pub fn parse_range_in(ecosystem: &str, text: &str) -> Result<VersionReq, String> {
    let text = text.trim();
    match ecosystem {
        "nuget" => match normalise(text) {
            Some(version) => VersionReq::parse(&format!(">={version}")).map_err(|e| e.to_string()),
            None => parse_range(text),
        },
        "npm" => {
            if text.contains("||") {
                return Err(format!(
                    "`{text}`: alternatives (`||`) are not supported; name one range"
                ));
            }
            let text = if text.is_empty() || text == "latest" {
                "*"
            } else {
                text
            };
            // `>=1.2 <2` means both; semver writes that with a comma.
            let mut joined = String::new();
            for (i, part) in text.split_whitespace().enumerate() {
                let glue = i > 0 && !joined.ends_with(['<', '>', '=', '~', '^']);
                if glue {
                    joined.push_str(", ");
                }
                joined.push_str(part);
            }
            parse_range(&joined)
        }
        _ => parse_range(text),
    }
}

/// A NuGet version (`4.1`, `4.1.0`, `4.1.0.0`) as a three-part semver version.
pub fn normalise(version: &str) -> Option<String> {
    let version = version.trim();
    let (core, pre) = match version.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (version, None),
    };
    let mut numbers: Vec<u64> = core
        .split('.')
        .map(|p| p.parse().ok())
        .collect::<Option<Vec<_>>>()?;
    if numbers.is_empty() || numbers.len() > 4 || (numbers.len() == 4 && numbers[3] != 0) {
        return None;
    }
    numbers.resize(3, 0);
    let mut out = format!("{}.{}.{}", numbers[0], numbers[1], numbers[2]);
    if let Some(pre) = pre {
        out.push('-');
        out.push_str(pre);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_notations_read_into_one_form() {
        let semver = parse_range(">=4.1.0, <5.0.0").unwrap();
        let nuget = parse_range("[4.1,5.0)").unwrap();
        assert_eq!(semver, nuget);
        assert_eq!(parse_range("[1.0]").unwrap().to_string(), "=1.0.0");
        assert_eq!(parse_range("(,2.0]").unwrap().to_string(), "<=2.0.0");
        assert_eq!(parse_range("(1.0,)").unwrap().to_string(), ">1.0.0");
        assert_eq!(
            parse_range_in("nuget", "4.1.0").unwrap().to_string(),
            ">=4.1.0"
        );
        assert_eq!(parse_range_in("nuget", "[4.1,5.0)").unwrap(), semver);
        assert_eq!(parse_range_in("npm", ">=4.1.0 <5.0.0").unwrap(), semver);
        assert_eq!(
            parse_range_in("npm", "^18.2.0").unwrap().to_string(),
            "^18.2.0"
        );
        assert_eq!(parse_range_in("cargo", "1.2").unwrap().to_string(), "^1.2");
        assert!(parse_range_in("npm", "1 || 2").is_err());
        for bad in ["", "[1.0", "(1.0)", "[,]", "banana", "[1.0.0.1,2)"] {
            assert!(parse_range(bad).is_err(), "{bad}");
        }
    }
}
