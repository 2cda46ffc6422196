//! The Python string and list methods templates call that minijinja's pycompat does not
//! have, with Python's results (`'{:>8}'`-style widths bounded like `str.format`'s).

use minijinja::value::{Value, from_args};
use minijinja::{Error, ErrorKind};

use super::MAX_FORMAT_WIDTH;

/// `value.method(args)` when it is one of ours; `None` hands it to pycompat.
pub fn call(value: &Value, method: &str, args: &[Value]) -> Option<Result<Value, Error>> {
    if let Some(s) = value.as_str() {
        return string_method(s, method, args);
    }
    if value.as_object().is_some() && method == "index" && value.len().is_some() {
        return Some(list_index(value, args));
    }
    None
}

fn string_method(s: &str, method: &str, args: &[Value]) -> Option<Result<Value, Error>> {
    let result = match method {
        "rsplit" => from_args(args).map(|(sep, max): (Option<&str>, Option<i64>)| {
            Value::from(rsplit(s, sep, max.unwrap_or(-1)))
        }),
        "partition" => from_args(args).and_then(|(sep,): (&str,)| {
            nonempty(sep)?;
            Ok(triple(match s.split_once(sep) {
                Some((a, b)) => [a, sep, b],
                None => [s, "", ""],
            }))
        }),
        "rpartition" => from_args(args).and_then(|(sep,): (&str,)| {
            nonempty(sep)?;
            Ok(triple(match s.rsplit_once(sep) {
                Some((a, b)) => [a, sep, b],
                None => ["", "", s],
            }))
        }),
        "zfill" => from_args(args).and_then(|(width,): (i64,)| {
            let pad = padding(s, width)?;
            let (sign, digits) = match s.strip_prefix(['+', '-']) {
                Some(rest) => (&s[..1], rest),
                None => ("", s),
            };
            Ok(Value::from(format!("{sign}{}{digits}", "0".repeat(pad))))
        }),
        "ljust" | "rjust" | "center" => {
            from_args(args).and_then(|(width, fill): (i64, Option<&str>)| {
                let fill = fill_char(fill)?;
                let pad = padding(s, width)?;
                let (left, right) = match method {
                    "ljust" => (0, pad),
                    "rjust" => (pad, 0),
                    // CPython: the odd character goes left when the width is odd.
                    _ => {
                        let left = pad / 2 + (pad & width as usize & 1);
                        (left, pad - left)
                    }
                };
                let fill = fill.to_string();
                Ok(Value::from(format!(
                    "{}{s}{}",
                    fill.repeat(left),
                    fill.repeat(right)
                )))
            })
        }
        "removeprefix" => {
            from_args(args).map(|(p,): (&str,)| Value::from(s.strip_prefix(p).unwrap_or(s)))
        }
        "removesuffix" => {
            from_args(args).map(|(p,): (&str,)| Value::from(s.strip_suffix(p).unwrap_or(s)))
        }
        "swapcase" => from_args(args).map(|()| {
            Value::from(
                s.chars()
                    .flat_map(|c| -> Box<dyn Iterator<Item = char>> {
                        if c.is_uppercase() {
                            Box::new(c.to_lowercase())
                        } else if c.is_lowercase() {
                            Box::new(c.to_uppercase())
                        } else {
                            Box::new(std::iter::once(c))
                        }
                    })
                    .collect::<String>(),
            )
        }),
        "casefold" => from_args(args).map(|()| Value::from(s.to_lowercase().replace('ß', "ss"))),
        "isidentifier" => from_args(args).map(|()| {
            let mut chars = s.chars();
            Value::from(
                chars.next().is_some_and(|c| c == '_' || c.is_alphabetic())
                    && chars.all(|c| c == '_' || c.is_alphanumeric()),
            )
        }),
        "isdecimal" => from_args(args)
            .map(|()| Value::from(!s.is_empty() && s.chars().all(|c| c.is_ascii_digit()))),
        "istitle" => from_args(args).map(|()| Value::from(is_title(s))),
        "index" | "rindex" => from_args(args).and_then(|(sub,): (&str,)| {
            let found = if method == "index" {
                s.find(sub)
            } else {
                s.rfind(sub)
            };
            found
                .map(|at| Value::from(s[..at].chars().count()))
                .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, "substring not found"))
        }),
        "expandtabs" => from_args(args).and_then(|(size,): (Option<i64>,)| {
            let size = size.unwrap_or(8).max(0) as usize;
            if size as u64 > MAX_FORMAT_WIDTH {
                return Err(too_wide(size as i64));
            }
            Ok(Value::from(expand_tabs(s, size)))
        }),
        _ => return None,
    };
    Some(result)
}

fn rsplit(s: &str, sep: Option<&str>, max: i64) -> Vec<String> {
    let max = if max < 0 { usize::MAX } else { max as usize };
    let mut parts: Vec<String> = match sep {
        Some(sep) => s
            .rsplitn(max.saturating_add(1), sep)
            .map(String::from)
            .collect(),
        None => {
            // Whitespace runs, from the right; the rest keeps its inner spaces.
            let mut out = Vec::new();
            let mut rest = s.trim_end();
            while !rest.is_empty() {
                if out.len() == max {
                    out.push(rest.to_string());
                    break;
                }
                match rest.rfind(char::is_whitespace) {
                    Some(at) => {
                        let ws = rest[at..].chars().next().map_or(1, char::len_utf8);
                        out.push(rest[at + ws..].to_string());
                        rest = rest[..at].trim_end();
                    }
                    None => {
                        out.push(rest.to_string());
                        rest = "";
                    }
                }
            }
            out
        }
    };
    parts.reverse();
    parts
}

fn is_title(s: &str) -> bool {
    let (mut cased, mut previous_cased) = (false, false);
    for c in s.chars() {
        if c.is_uppercase() {
            if previous_cased {
                return false;
            }
            previous_cased = true;
            cased = true;
        } else if c.is_lowercase() {
            if !previous_cased {
                return false;
            }
            previous_cased = true;
            cased = true;
        } else {
            previous_cased = false;
        }
    }
    cased
}

fn expand_tabs(s: &str, size: usize) -> String {
    let mut out = String::with_capacity(s.len());
    let mut column = 0;
    for c in s.chars() {
        match c {
            '\t' if size > 0 => {
                let spaces = size - column % size;
                out.extend(std::iter::repeat_n(' ', spaces));
                column += spaces;
            }
            '\t' => {}
            '\n' | '\r' => {
                out.push(c);
                column = 0;
            }
            _ => {
                out.push(c);
                column += 1;
            }
        }
    }
    out
}

fn list_index(list: &Value, args: &[Value]) -> Result<Value, Error> {
    let (wanted,): (&Value,) = from_args(args)?;
    for (at, item) in list.try_iter()?.enumerate() {
        if &item == wanted {
            return Ok(Value::from(at));
        }
    }
    Err(Error::new(
        ErrorKind::InvalidOperation,
        format!("{wanted} is not in list"),
    ))
}

/// How many fill characters reach `width` (0 when `s` is as wide already).
fn padding(s: &str, width: i64) -> Result<usize, Error> {
    if width > MAX_FORMAT_WIDTH as i64 {
        return Err(too_wide(width));
    }
    Ok((width.max(0) as usize).saturating_sub(s.chars().count()))
}

fn too_wide(width: i64) -> Error {
    Error::new(
        ErrorKind::InvalidOperation,
        format!("width {width} is over the limit of {MAX_FORMAT_WIDTH}"),
    )
}

fn fill_char(fill: Option<&str>) -> Result<char, Error> {
    let fill = fill.unwrap_or(" ");
    let mut chars = fill.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Ok(c),
        _ => Err(Error::new(
            ErrorKind::InvalidOperation,
            "the fill character must be exactly one character long",
        )),
    }
}

/// Python's 3-tuple, as the list minijinja has.
fn triple(parts: [&str; 3]) -> Value {
    Value::from(parts.map(String::from).to_vec())
}

fn nonempty(sep: &str) -> Result<(), Error> {
    if sep.is_empty() {
        return Err(Error::new(ErrorKind::InvalidOperation, "empty separator"));
    }
    Ok(())
}
