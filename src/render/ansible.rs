//! jinja2-ansible-filters' core filters, which copier loads into every template, with the
//! package's output (checked against it by `tests/jinja2.rs`). The serialising and base64
//! filters are in `jinja2.rs`; the ones that read the machine (`fileglob`, `expanduser`,
//! `expandvars`, `realpath`) or are random (`random_mac`, `shuffle`) are left out: an unknown
//! filter is an error that names them, never a silent difference.

use minijinja::value::{Kwargs, Rest, Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind};

/// Registers the filters.
pub fn register(env: &mut Environment<'static>) {
    env.add_filter("to_uuid", |s: Value| {
        let namespace = uuid::Uuid::parse_str("20851c88-ac15-449f-9ee7-74829105da86")
            .expect("the namespace is a uuid");
        uuid::Uuid::new_v5(&namespace, s.to_string().as_bytes()).to_string()
    });
    env.add_filter("from_json", |s: String| -> Result<Value, Error> {
        let json: serde_json::Value = serde_json::from_str(&s)
            .map_err(|e| Error::new(ErrorKind::InvalidOperation, format!("from_json: {e}")))?;
        Ok(Value::from(minijinja::value::Serde(json)))
    });
    env.add_filter("from_yaml", |v: Value| -> Result<Value, Error> {
        let Some(text) = v.as_str() else {
            return Ok(v);
        };
        let yaml: serde_json::Value = crate::template::yaml::parse(text, "from_yaml")
            .map_err(|e| Error::new(ErrorKind::InvalidOperation, e.message))?;
        Ok(Value::from(minijinja::value::Serde(yaml)))
    });
    env.add_filter("splitext", |p: String| {
        let (root, ext) = splitext(&p);
        Value::from(vec![root.to_string(), ext.to_string()])
    });
    env.add_filter("win_basename", |p: String| win_split(&p).1.to_string());
    env.add_filter("win_dirname", |p: String| win_split(&p).0);
    env.add_filter("win_splitdrive", |p: String| {
        let (drive, rest) = win_drive(&p);
        Value::from(vec![drive.to_string(), rest.to_string()])
    });
    env.add_filter("quote", |s: Value| shell_quote(&s.to_string()));
    env.add_filter("md5", |s: Value| hex_digest::<md5::Md5>(&s.to_string()));
    env.add_filter("sha1", |s: Value| hex_digest::<sha1::Sha1>(&s.to_string()));
    env.add_filter("checksum", |s: Value| {
        hex_digest::<sha1::Sha1>(&s.to_string())
    });
    env.add_filter("hash", |s: Value, kind: Option<String>| -> Value {
        let text = s.to_string();
        match kind.as_deref().unwrap_or("sha1") {
            "sha1" => Value::from(hex_digest::<sha1::Sha1>(&text)),
            "md5" => Value::from(hex_digest::<md5::Md5>(&text)),
            "sha224" => Value::from(hex_digest::<sha2::Sha224>(&text)),
            "sha256" => Value::from(hex_digest::<sha2::Sha256>(&text)),
            "sha384" => Value::from(hex_digest::<sha2::Sha384>(&text)),
            "sha512" => Value::from(hex_digest::<sha2::Sha512>(&text)),
            // The package returns None for a hash Python's hashlib does not know.
            _ => Value::from(()),
        }
    });
    env.add_filter("regex_escape", |s: String| python_re_escape(&s));
    env.add_filter("regex_findall", regex_findall);
    env.add_filter(
        "ternary",
        |value: Value, yes: Value, no: Value, none: Option<Value>| match none {
            Some(none) if value.is_none() && !none.is_none() => none,
            _ if value.is_true() => yes,
            _ => no,
        },
    );
    env.add_filter(
        "mandatory",
        |value: Value, message: Option<String>| -> Result<Value, Error> {
            if !value.is_undefined() {
                return Ok(value);
            }
            Err(Error::new(
                ErrorKind::UndefinedError,
                message.unwrap_or_else(|| "Mandatory variable not defined.".into()),
            ))
        },
    );
    env.add_filter("type_debug", |value: Value| {
        match value.kind() {
            ValueKind::Undefined => "Undefined",
            ValueKind::None => "NoneType",
            ValueKind::Bool => "bool",
            ValueKind::Number if value.is_integer() => "int",
            ValueKind::Number => "float",
            ValueKind::String => "str",
            ValueKind::Seq => "list",
            ValueKind::Map => "dict",
            _ => "object",
        }
        .to_string()
    });
    env.add_filter("comment", comment);
    env.add_filter("combine", combine);
    env.add_filter(
        "extract",
        |item: Value, container: Value, more: Option<Value>| -> Result<Value, Error> {
            let mut value = container.get_item(&item)?;
            if let Some(more) = more {
                let keys: Vec<Value> = match more.kind() {
                    ValueKind::Seq => more.try_iter()?.collect(),
                    _ => vec![more],
                };
                for key in keys {
                    value = value.get_item(&key).unwrap_or(Value::UNDEFINED);
                }
            }
            Ok(value)
        },
    );
    env.add_filter(
        "flatten",
        |list: Value, levels: Option<i64>, kwargs: Kwargs| -> Result<Value, Error> {
            let levels = kwargs.get::<Option<i64>>("levels")?.or(levels);
            kwargs.assert_all_used()?;
            Ok(Value::from(flatten(&list, levels)?))
        },
    );
}

fn hex_digest<D: sha2::Digest>(text: &str) -> String {
    hex::encode(D::digest(text.as_bytes()))
}

/// `os.path.splitext`: the extension from the last dot of the last name, unless that name
/// is only dots before it.
fn splitext(path: &str) -> (&str, &str) {
    let name_start = path.rfind('/').map_or(0, |i| i + 1);
    match path.rfind('.') {
        Some(dot) if dot > name_start && path[name_start..dot].bytes().any(|b| b != b'.') => {
            (&path[..dot], &path[dot..])
        }
        _ => (path, ""),
    }
}

/// `ntpath.splitdrive` for drive letters.
fn win_drive(path: &str) -> (&str, &str) {
    let bytes = path.as_bytes();
    if bytes.len() >= 2 && bytes[1] == b':' && bytes[0].is_ascii_alphabetic() {
        path.split_at(2)
    } else {
        ("", path)
    }
}

/// `ntpath.split`: (head without trailing separators unless it is the root, tail).
fn win_split(path: &str) -> (String, &str) {
    let (drive, rest) = win_drive(path);
    let cut = rest.rfind(['\\', '/']).map_or(0, |i| i + 1);
    let (head, tail) = rest.split_at(cut);
    let trimmed = head.trim_end_matches(['\\', '/']);
    let head = if trimmed.is_empty() { head } else { trimmed };
    (format!("{drive}{head}"), tail)
}

/// `shlex.quote`.
fn shell_quote(s: &str) -> String {
    if s.is_empty() {
        return "''".into();
    }
    let safe = s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"_@%+=:,./-".contains(&b));
    if safe {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\"'\"'"))
}

/// `re.escape` (Python 3.7+): every character that is not `_` or alphanumeric (ASCII) and
/// is special to `re` gets a backslash.
fn python_re_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for c in s.chars() {
        if "()[]{}?*+-|^$\\.&~# \t\n\r\x0b\x0c".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `regex_findall(regex, multiline=False, ignorecase=False)`: `re.findall` — the matches, a
/// group's text when there is one group, a list per match when there are more.
fn regex_findall(s: String, pattern: String, kwargs: Kwargs) -> Result<Value, Error> {
    let multiline: bool = kwargs.get::<Option<bool>>("multiline")?.unwrap_or(false);
    let ignorecase: bool = kwargs.get::<Option<bool>>("ignorecase")?.unwrap_or(false);
    kwargs.assert_all_used()?;
    let re = regex::RegexBuilder::new(&pattern)
        .multi_line(multiline)
        .case_insensitive(ignorecase)
        .build()
        .map_err(|e| {
            Error::new(
                ErrorKind::InvalidOperation,
                format!("regex `{pattern}`: {e}"),
            )
        })?;
    let groups = re.captures_len() - 1;
    let mut out = Vec::new();
    for captures in re.captures_iter(&s) {
        let text = |i: usize| Value::from(captures.get(i).map_or("", |m| m.as_str()));
        out.push(match groups {
            0 => text(0),
            1 => text(1),
            n => Value::from((1..=n).map(text).collect::<Vec<_>>()),
        });
    }
    Ok(Value::from(out))
}

/// `comment(style='plain', **kw)`: the package's decoration algorithm.
fn comment(text: String, style: Option<String>, kwargs: Kwargs) -> Result<String, Error> {
    let style = style.unwrap_or_else(|| "plain".into());
    let (beginning, decoration, end) = match style.as_str() {
        "plain" => ("", "# ", ""),
        "erlang" => ("", "% ", ""),
        "c" => ("", "// ", ""),
        "cblock" => ("/*", " * ", " */"),
        "xml" => ("<!--", " - ", "-->"),
        other => {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("comment: unknown style `{other}`"),
            ));
        }
    };
    let text_of = |key: &str, default: &str| -> Result<String, Error> {
        Ok(kwargs
            .get::<Option<String>>(key)?
            .unwrap_or_else(|| default.to_string()))
    };
    let decoration = text_of("decoration", decoration)?;
    let prepostfix = decoration.trim_end().to_string();
    let newline = text_of("newline", "\n")?;
    let beginning = text_of("beginning", beginning)?;
    let prefix = text_of("prefix", &prepostfix)?;
    let postfix = text_of("postfix", &prepostfix)?;
    let end = text_of("end", end)?;
    let prefix_count = kwargs
        .get::<Option<usize>>("prefix_count")?
        .unwrap_or(1)
        .min(1000);
    let postfix_count = kwargs
        .get::<Option<usize>>("postfix_count")?
        .unwrap_or(1)
        .min(1000);
    kwargs.assert_all_used()?;
    let mut out = String::new();
    if !beginning.is_empty() {
        out.push_str(&beginning);
        out.push_str(&newline);
    }
    if !prefix.is_empty() {
        let one = if prefix != newline {
            format!("{prefix}{newline}")
        } else {
            newline.clone()
        };
        out.push_str(&one.repeat(prefix_count));
    }
    let body = format!(
        "{decoration}{}",
        text.replace(&newline, &format!("{newline}{decoration}"))
    );
    out.push_str(&body.replace(
        &format!("{decoration}{newline}"),
        &format!("{}{newline}", decoration.trim_end()),
    ));
    for _ in 0..postfix_count {
        out.push_str(&newline);
        out.push_str(&postfix);
    }
    if !end.is_empty() {
        out.push_str(&newline);
        out.push_str(&end);
    }
    Ok(out)
}

/// `combine(*dicts, recursive=False, list_merge='replace')`: later dictionaries win.
fn combine(first: Value, rest: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let recursive: bool = kwargs.get::<Option<bool>>("recursive")?.unwrap_or(false);
    let list_merge: String = kwargs
        .get::<Option<String>>("list_merge")?
        .unwrap_or_else(|| "replace".into());
    kwargs.assert_all_used()?;
    if !["replace", "keep", "append", "prepend"].contains(&list_merge.as_str()) {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("combine: list_merge `{list_merge}` is not supported"),
        ));
    }
    let mut dicts = Vec::new();
    for term in std::iter::once(first).chain(rest.0) {
        match term.kind() {
            ValueKind::Seq => dicts.extend(term.try_iter()?),
            _ => dicts.push(term),
        }
    }
    let mut merged = serde_json::Map::new();
    for dict in dicts {
        let serde_json::Value::Object(map) = serde_json::to_value(&dict)
            .map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))?
        else {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                "combine: every argument must be a dictionary",
            ));
        };
        merge(&mut merged, map, recursive, &list_merge);
    }
    Ok(Value::from(minijinja::value::Serde(merged)))
}

fn merge(
    into: &mut serde_json::Map<String, serde_json::Value>,
    from: serde_json::Map<String, serde_json::Value>,
    recursive: bool,
    list_merge: &str,
) {
    use serde_json::Value as J;
    for (key, value) in from {
        let merged = match (into.remove(&key), value) {
            (Some(J::Object(mut old)), J::Object(new)) if recursive => {
                merge(&mut old, new, recursive, list_merge);
                J::Object(old)
            }
            (Some(J::Array(old)), J::Array(new)) => match list_merge {
                "keep" => J::Array(old),
                "append" => J::Array(old.into_iter().chain(new).collect()),
                "prepend" => J::Array(new.into_iter().chain(old).collect()),
                _ => J::Array(new),
            },
            (_, new) => new,
        };
        into.insert(key, merged);
    }
}

/// `flatten(levels=None)`, with the package's quirk: a none (or "None", "null") item ends
/// the list.
fn flatten(list: &Value, levels: Option<i64>) -> Result<Vec<Value>, Error> {
    let mut out = Vec::new();
    for item in list.try_iter()? {
        if item.is_none() || matches!(item.as_str(), Some("None" | "null")) {
            break;
        }
        match (item.kind(), levels) {
            (ValueKind::Seq, None) => out.extend(flatten(&item, None)?),
            (ValueKind::Seq, Some(n)) if n >= 1 => out.extend(flatten(&item, Some(n - 1))?),
            _ => out.push(item),
        }
    }
    Ok(out)
}
