//! What cookiecutter and copier templates expect of Jinja2 beyond minijinja's core:
//! jinja2-time's `{% now %}` tag, and the filters copier ships (from jinja2-ansible-filters).

use base64::Engine;
use minijinja::value::Kwargs;
use minijinja::{Environment, Error, ErrorKind, Value};
use time::OffsetDateTime;

use super::pyformat;

/// C's strftime as Python gives it (see [`super::datetime::strftime`]), at the instant's own
/// offset.
pub fn strftime(t: OffsetDateTime, format: &str) -> Result<String, Error> {
    super::datetime::strftime(super::datetime::Moment::of(t), format)
}

fn now(
    settings: &super::Settings,
    timezone: Option<String>,
    format: Option<String>,
) -> Result<String, Error> {
    let instant = settings.now();
    let at = match timezone.as_deref() {
        None => instant,
        Some(tz) if tz.eq_ignore_ascii_case("utc") => instant,
        // cookiecutter's TimeExtension (arrow): the machine's own zone.
        Some(tz) if tz.eq_ignore_ascii_case("local") => instant.to_offset(settings.local_offset),
        Some(tz) => {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("now: time zone `{tz}` is not supported; use 'utc' or 'local'"),
            ));
        }
    };
    strftime(at, format.as_deref().unwrap_or("%Y-%m-%d"))
}

/// A value as JSON for the serialising filters. An undefined value is an error, as it is for
/// Jinja2's `json.dumps`: it never becomes `null` silently.
fn json_of(value: &Value) -> Result<serde_json::Value, Error> {
    if value.is_undefined() {
        return Err(Error::new(
            ErrorKind::UndefinedError,
            "an undefined value cannot be serialised",
        ));
    }
    serde_json::to_value(value).map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))
}

fn regex(pattern: &str) -> Result<regex::Regex, Error> {
    regex::Regex::new(pattern).map_err(|e| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("regex `{pattern}`: {e}"),
        )
    })
}

/// The `indent` of `to_nice_json` and `to_nice_yaml`, given by position or by name (4 when
/// neither); any other keyword is an error.
fn indent_argument(positional: Option<usize>, kwargs: &Kwargs) -> Result<usize, Error> {
    let named: Option<usize> = kwargs.get("indent")?;
    kwargs.assert_all_used()?;
    Ok(named.or(positional).unwrap_or(4))
}

/// Adds `now` and copier's common filters: to_json, to_nice_json, to_yaml, to_nice_yaml,
/// bool, regex_search, regex_replace, b64encode, b64decode, basename, dirname.
pub fn register(env: &mut Environment<'static>, settings: &super::Settings) {
    let settings = settings.clone();
    env.add_function("now", move |timezone, format| {
        now(&settings, timezone, format)
    });
    // As jinja2-ansible-filters calls json.dumps and yaml.dump.
    env.add_filter("to_json", |v: Value| {
        let style = pyformat::JsonStyle {
            indent: None,
            sort_keys: false,
        };
        json_of(&v).and_then(|j| pyformat::json(&j, &style))
    });
    env.add_filter(
        "to_nice_json",
        |v: Value, indent: Option<usize>, kwargs: Kwargs| -> Result<String, Error> {
            let style = pyformat::JsonStyle {
                indent: Some(indent_argument(indent, &kwargs)?),
                sort_keys: true,
            };
            json_of(&v).and_then(|j| pyformat::json(&j, &style))
        },
    );
    env.add_filter("to_yaml", |v: Value| {
        let style = pyformat::YamlStyle {
            indent: 2,
            flow_leaves: true,
        };
        json_of(&v).and_then(|j| pyformat::yaml(&j, &style))
    });
    env.add_filter(
        "to_nice_yaml",
        |v: Value, indent: Option<usize>, kwargs: Kwargs| -> Result<String, Error> {
            let style = pyformat::YamlStyle {
                indent: indent_argument(indent, &kwargs)?,
                flow_leaves: false,
            };
            json_of(&v).and_then(|j| pyformat::yaml(&j, &style))
        },
    );
    env.add_filter("bool", |v: Value| match v.as_str() {
        Some(s) => matches!(
            s.trim().to_ascii_lowercase().as_str(),
            "yes" | "on" | "1" | "true"
        ),
        None => v.is_true(),
    });
    env.add_filter(
        "regex_search",
        |s: String, pattern: String| -> Result<Value, Error> {
            Ok(regex(&pattern)?
                .find(&s)
                .map_or(Value::from(()), |m| Value::from(m.as_str())))
        },
    );
    env.add_filter(
        "regex_replace",
        |s: String, pattern: String, replacement: String| -> Result<String, Error> {
            // Python's \1 back-references are $1 here.
            let replacement = regex::Regex::new(r"\\(\d)")
                .expect("valid")
                .replace_all(&replacement, "$${1}");
            Ok(regex(&pattern)?
                .replace_all(&s, replacement.as_ref())
                .into_owned())
        },
    );
    env.add_filter("b64encode", |s: String| {
        base64::engine::general_purpose::STANDARD.encode(s)
    });
    env.add_filter("b64decode", |s: String| -> Result<String, Error> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(s.trim())
            .map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    });
    env.add_function("pathjoin", pathjoin);
    env.add_filter("basename", |s: String| {
        s.rsplit('/').next().unwrap_or_default().to_string()
    });
    env.add_filter("dirname", |s: String| {
        s.rsplit_once('/')
            .map_or(String::new(), |(d, _)| d.to_string())
    });
}

/// copier's `pathjoin(*parts, mode='posix')`: `str(PurePosixPath(*parts))` (or
/// `PureWindowsPath` with `mode='windows'`; `native` is posix here, as on the systems
/// factory's output is compared on).
fn pathjoin(parts: minijinja::value::Rest<Value>, kwargs: Kwargs) -> Result<String, Error> {
    let mode: Option<String> = kwargs.get("mode")?;
    kwargs.assert_all_used()?;
    let mut texts = Vec::with_capacity(parts.len());
    for part in parts.iter() {
        match part.as_str() {
            Some(text) => texts.push(text),
            None => {
                return Err(Error::new(
                    ErrorKind::InvalidOperation,
                    format!(
                        "pathjoin: argument should be a str, not {} (`{part}`), as Python's PurePath says",
                        part.kind()
                    ),
                ));
            }
        }
    }
    match mode.as_deref().unwrap_or("posix") {
        "posix" | "native" => Ok(posix_join(&texts)),
        "windows" => Ok(windows_join(&texts)),
        other => Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("pathjoin: mode `{other}` is not one of posix, windows, native"),
        )),
    }
}

/// `str(PurePosixPath(*parts))`: an absolute part starts over, empty and `.` parts go, and
/// exactly two leading slashes are kept (POSIX leaves their meaning open).
fn posix_join(parts: &[&str]) -> String {
    let start = parts.iter().rposition(|p| p.starts_with('/')).unwrap_or(0);
    let parts = &parts[start..];
    let root = match parts.first() {
        Some(first) if first.starts_with("//") && !first.starts_with("///") => "//",
        Some(first) if first.starts_with('/') => "/",
        _ => "",
    };
    let names: Vec<&str> = parts
        .iter()
        .flat_map(|p| p.split('/'))
        .filter(|n| !n.is_empty() && *n != ".")
        .collect();
    let joined = format!("{root}{}", names.join("/"));
    if joined.is_empty() {
        ".".to_string()
    } else {
        joined
    }
}

/// `str(PureWindowsPath(*parts))` as Python 3.11 gives it: `/` read as `\\`, a part with
/// a drive starts over, a part with a root keeps the drive and starts the names over.
fn windows_join(parts: &[&str]) -> String {
    let (mut drive, mut root, mut names) = (String::new(), "", Vec::<String>::new());
    for part in parts {
        let part = part.replace('/', "\\");
        let (part_drive, rest) = windows_drive(&part);
        let part_root = rest.starts_with('\\');
        if !part_drive.is_empty() {
            root = "";
            names.clear();
            drive = part_drive.to_string();
        }
        if part_root {
            root = "\\";
            names.clear();
        }
        names.extend(
            rest.split('\\')
                .filter(|n| !n.is_empty() && *n != ".")
                .map(str::to_string),
        );
    }
    // A UNC drive (`\\\\server\\share`) always has a root.
    if drive.starts_with("\\\\") {
        root = "\\";
    }
    let joined = format!("{drive}{root}{}", names.join("\\"));
    if joined.is_empty() {
        ".".to_string()
    } else {
        joined
    }
}

/// A Windows path's drive (`C:` or `\\\\server\\share`) and the rest.
fn windows_drive(path: &str) -> (&str, &str) {
    let bytes = path.as_bytes();
    if bytes.len() >= 2 && bytes[1] == b':' && bytes[0].is_ascii_alphabetic() {
        return path.split_at(2);
    }
    if let Some(unc) = path.strip_prefix("\\\\")
        && let Some((server, rest)) = unc.split_once('\\')
        && !server.is_empty()
    {
        let share_end = rest.find('\\').unwrap_or(rest.len());
        if share_end > 0 {
            let end = 2 + server.len() + 1 + share_end;
            return path.split_at(end);
        }
    }
    ("", path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pathjoin_joins_as_purepath_does() {
        assert_eq!(posix_join(&["a", "b/c", "d.txt"]), "a/b/c/d.txt");
        assert_eq!(posix_join(&["a", "/b", "c"]), "/b/c");
        assert_eq!(posix_join(&["a/", "./b//c", ""]), "a/b/c");
        assert_eq!(posix_join(&["//a", "b"]), "//a/b");
        assert_eq!(posix_join(&["///a"]), "/a");
        assert_eq!(posix_join(&[]), ".");
        assert_eq!(posix_join(&["a/../b"]), "a/../b");
        assert_eq!(windows_join(&["a", "b/c"]), "a\\b\\c");
        assert_eq!(windows_join(&["C:/x", "y"]), "C:\\x\\y");
        assert_eq!(windows_join(&["C:\\x", "\\y"]), "C:\\y");
        assert_eq!(windows_join(&["a", "D:b"]), "D:b");
        assert_eq!(windows_join(&["C:a", "C:b"]), "C:b");
        assert_eq!(windows_join(&["\\\\srv\\share", "x"]), "\\\\srv\\share\\x");
    }

    #[test]
    fn strftime_formats_the_common_codes() {
        let t = crate::clock::parse_rfc3339("2026-06-11T09:05:00Z").unwrap();
        assert_eq!(
            strftime(t, "%Y-%m-%d %H:%M %b %A %j").unwrap(),
            "2026-06-11 09:05 Jun Thursday 162"
        );
    }
}
