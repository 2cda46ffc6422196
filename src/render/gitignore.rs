//! copier's `_exclude` matching: gitignore-style patterns as the Python `pathspec` package
//! (1.x, its `gitignore` pattern, which copier 9.19 uses) reads them, matched against an
//! output path. pathspec differs from git where git cannot re-include a file below an
//! excluded folder: here every path is judged on its own, the last pattern that matches it
//! deciding, so `*` then `!/foo/keep.txt` keeps `foo/keep.txt`, as copier does.

use regex::Regex;

/// One compiled pattern: what it matches and whether it excludes (`false` for a `!x`).
#[derive(Debug, Clone)]
struct Pattern {
    regex: Regex,
    exclude: bool,
}

/// A list of patterns, matched last to first.
#[derive(Debug, Clone, Default)]
pub struct Spec {
    patterns: Vec<Pattern>,
}

impl Spec {
    /// Compiles `lines` (blank lines and `#` comments are no-ops, as in pathspec), each in
    /// Unicode's decomposed form (NFD) as copier normalises them; paths are not normalised.
    pub fn new<'a>(lines: impl IntoIterator<Item = &'a str>) -> Result<Spec, String> {
        use unicode_normalization::UnicodeNormalization;
        let mut patterns = Vec::new();
        for line in lines {
            let decomposed: String;
            let line = if line.is_ascii() {
                line
            } else {
                decomposed = line.nfd().collect();
                &decomposed
            };
            if let Some((regex, exclude)) = translate(line)? {
                let regex = Regex::new(&regex)
                    .map_err(|e| format!("the exclude pattern `{line}` is not valid: {e}"))?;
                patterns.push(Pattern { regex, exclude });
            }
        }
        Ok(Spec { patterns })
    }

    /// Whether `path` (relative, `/`-separated) is excluded.
    pub fn is_excluded(&self, path: &str) -> bool {
        // pathspec's normalize_file: a leading `/` or `./` is dropped.
        let path = path
            .strip_prefix('/')
            .or_else(|| path.strip_prefix("./"))
            .unwrap_or(path);
        self.patterns
            .iter()
            .rev()
            .find(|p| p.regex.is_match(path))
            .is_some_and(|p| p.exclude)
    }

    /// Whether there are no patterns.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }
}

/// pathspec's `GitIgnoreBasicPattern.pattern_to_regex`: the regex (searched, so anchored by
/// its own `^`) and whether it excludes; `None` for a blank line or a comment.
fn translate(line: &str) -> Result<Option<(String, bool)>, String> {
    let invalid = || format!("invalid exclude pattern `{line}`");
    // Trailing spaces go, unless the pattern ends with an escaped one.
    let mut pattern = if line.ends_with("\\ ") {
        line
    } else {
        line.trim_end()
    };
    if pattern.is_empty() || pattern.starts_with('#') {
        return Ok(None);
    }
    let exclude = match pattern.strip_prefix('!') {
        Some(rest) => {
            pattern = rest;
            false
        }
        None => true,
    };
    let mut segments: Vec<&str> = pattern.split('/').collect();
    let mut is_dir_pattern = segments.last().is_some_and(|s| s.is_empty());
    if pattern == "/" {
        is_dir_pattern = false;
    }
    if segments[0].is_empty() {
        segments.remove(0);
    } else if (segments.len() == 1 || (segments.len() == 2 && segments[1].is_empty()))
        && segments[0] != "**"
    {
        segments.insert(0, "**");
    }
    if segments.is_empty() {
        return Err(invalid());
    }
    if let Some(last) = segments.last_mut()
        && last.is_empty()
    {
        *last = "**";
    }
    let mut i = segments.len() - 1;
    while i > 0 {
        if segments[i - 1] == "**" && segments[i] == "**" {
            segments.remove(i);
        }
        i -= 1;
    }
    let regex = match segments.as_slice() {
        ["**"] if is_dir_pattern => "/".to_string(),
        ["**"] | ["**", "*"] => ".".to_string(),
        ["**", "*", "**"] => "/".to_string(),
        _ => translate_segments(&segments).ok_or_else(invalid)?,
    };
    Ok(Some((regex, exclude)))
}

/// pathspec's `__translate_segments`.
fn translate_segments(segments: &[&str]) -> Option<String> {
    let mut out = String::new();
    let mut need_slash = false;
    let end = segments.len() - 1;
    for (i, segment) in segments.iter().enumerate() {
        if *segment == "**" {
            if i == 0 {
                out.push_str("^(?:.+/)?");
            } else if i < end {
                out.push_str("(?:/.+)?");
                need_slash = true;
            } else {
                out.push('/');
            }
            continue;
        }
        if i == 0 {
            out.push('^');
        }
        if need_slash {
            out.push('/');
        }
        if *segment == "*" {
            out.push_str("[^/]+");
        } else {
            out.push_str(&translate_glob(segment)?);
        }
        if i == end {
            out.push_str(if *segment == "*" { "/?$" } else { "(?:/|$)" });
        }
        need_slash = true;
    }
    Some(out)
}

/// pathspec's `_translate_segment_glob` with invalid ranges taken literally; `None` for a
/// trailing backslash.
fn translate_glob(pattern: &str) -> Option<String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::new();
    let mut escape = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if escape {
            escape = false;
            out.push_str(&regex::escape(&c.to_string()));
        } else if c == '\\' {
            escape = true;
        } else if c == '*' {
            out.push_str("[^/]*");
        } else if c == '?' {
            out.push_str("[^/]");
        } else if c == '[' {
            let mut j = i;
            if j < chars.len() && (chars[j] == '!' || chars[j] == '^') {
                j += 1;
            }
            if j < chars.len() && chars[j] == ']' {
                j += 1;
            }
            while j < chars.len() && chars[j] != ']' {
                j += 1;
            }
            if j < chars.len() {
                j += 1;
                out.push('[');
                if chars[i] == '!' || chars[i] == '^' {
                    out.push('^');
                    i += 1;
                }
                // Python's class syntax is plain; the regex crate reads `[`, `&&`, `~~` and
                // `--` inside a class as set operations, so those are escaped.
                for &inner in &chars[i..j - 1] {
                    match inner {
                        '\\' => out.push_str("\\\\"),
                        '[' | '&' | '~' => {
                            out.push('\\');
                            out.push(inner);
                        }
                        _ => out.push(inner),
                    }
                }
                out.push(']');
                i = j;
            } else {
                out.push_str("\\[");
            }
        } else {
            out.push_str(&regex::escape(&c.to_string()));
        }
    }
    (!escape).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::Spec;

    fn spec(lines: &[&str]) -> Spec {
        Spec::new(lines.iter().copied()).unwrap()
    }

    #[test]
    fn patterns_match_as_pathspec_does() {
        let s = spec(&[
            "*.exclude",
            "!do_not.exclude",
            "exclude_dir/",
            "!exclude_dir/please_copy_me",
        ]);
        assert!(s.is_excluded("x.exclude"));
        assert!(s.is_excluded("sub/x.exclude"));
        assert!(!s.is_excluded("do_not.exclude"));
        assert!(s.is_excluded("exclude_dir/x"));
        assert!(!s.is_excluded("exclude_dir/please_copy_me"));
        // A folder pattern matches what is below the folder, not a file of that name.
        assert!(!s.is_excluded("exclude_dir"));
        assert!(!s.is_excluded("not_exclude_dir/x!"));
        // Everything, then one file back: judged path by path.
        let s = spec(&["*", "!/foo/keep-me.txt"]);
        assert!(s.is_excluded("exclude-me.txt"));
        assert!(!s.is_excluded("foo/keep-me.txt"));
        assert!(s.is_excluded("foo/other.txt"));
        // Anchored, inner `**`, a trailing `*` that does not reach below.
        let s = spec(&["/a.txt", "docs/**/build", "foo/*"]);
        assert!(s.is_excluded("a.txt") && !s.is_excluded("sub/a.txt"));
        assert!(s.is_excluded("docs/build/x") && s.is_excluded("docs/a/b/build"));
        assert!(s.is_excluded("foo/bar") && !s.is_excluded("foo/bar/hello.c"));
        // Comments, blank lines and ranges.
        let s = spec(&["# note", "", "*.py[co]", "~*"]);
        assert!(s.is_excluded("m.pyc") && !s.is_excluded("m.py") && s.is_excluded("~x"));
        let s = spec(&["[!a]b"]);
        assert!(s.is_excluded("xb") && !s.is_excluded("ab"));
        assert!(spec(&["a[&&b]"]).is_excluded("a&"));
        assert!(Spec::new(["x\\"]).is_err());
        // Patterns are decomposed, paths are not: a precomposed name is not matched.
        let s = spec(&["ma\u{f1}ana.txt"]);
        assert!(s.is_excluded("man\u{303}ana.txt") && !s.is_excluded("ma\u{f1}ana.txt"));
    }
}
