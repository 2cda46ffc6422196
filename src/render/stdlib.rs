//! Jinja2's builtin filters where minijinja's differ from Jinja2 3.1 or are missing: the
//! arguments Jinja2 takes (by position or by name) and the bytes it writes, checked against
//! the real Jinja2 by `tests/jinja2.rs`.

use minijinja::value::{Kwargs, Rest, Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind};

use super::pyformat;

/// Registers the filters, replacing minijinja's of the same name.
pub fn register(env: &mut Environment<'static>) {
    env.add_filter("int", int);
    env.add_filter("float", float);
    env.add_filter("center", |s: String, width: Option<i64>| {
        let width = Value::from(width.unwrap_or(80));
        super::pymethods::call(&Value::from(s), "center", &[width])
            .expect("center is a string method")
    });
    env.add_filter("truncate", truncate);
    env.add_filter("round", round);
    env.add_filter("filesizeformat", filesizeformat);
    env.add_filter("indent", indent);
    env.add_filter("wordwrap", wordwrap);
    env.add_filter("urlencode", urlencode);
    env.add_filter("tojson", tojson);
    env.add_filter("xmlattr", xmlattr);
    env.add_filter("escape", |v: Value| {
        Value::from_safe_string(escape(&text_of(&v)))
    });
    env.add_filter("e", |v: Value| {
        Value::from_safe_string(escape(&text_of(&v)))
    });
    env.add_filter("forceescape", |v: Value| {
        Value::from_safe_string(escape(&v.to_string()))
    });
    env.add_filter("items", |v: Value| -> Result<Value, Error> {
        if v.is_undefined() {
            return Ok(Value::from(Vec::<Value>::new()));
        }
        let mut pairs = Vec::new();
        for key in v.try_iter()? {
            let value = v.get_item(&key)?;
            pairs.push(Value::from(vec![key, value]));
        }
        Ok(Value::from(pairs))
    });
}

/// markupsafe's escape: `& < > " '`.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A value's text; already-safe strings are not escaped again.
fn text_of(value: &Value) -> String {
    if value.is_safe() {
        return value.as_str().unwrap_or_default().to_string();
    }
    value.to_string()
}

/// `int(value, default=0, base=10)`: Jinja2 falls back to the default instead of failing.
fn int(value: Value, default: Option<i64>, kwargs: Kwargs) -> Result<Value, Error> {
    let default = kwargs
        .get::<Option<i64>>("default")?
        .or(default)
        .unwrap_or(0);
    let base = kwargs.get::<Option<u32>>("base")?.unwrap_or(10);
    kwargs.assert_all_used()?;
    if let Some(s) = value.as_str() {
        let s = s.trim().replace('_', "");
        let digits = match base {
            16 => s.trim_start_matches("0x").trim_start_matches("0X"),
            8 => s.trim_start_matches("0o").trim_start_matches("0O"),
            2 => s.trim_start_matches("0b").trim_start_matches("0B"),
            _ => s.as_str(),
        };
        if let Ok(n) = i64::from_str_radix(digits, base) {
            return Ok(Value::from(n));
        }
        // Jinja2 tries float(value) next: "4.5"|int is 4.
        return Ok(Value::from(
            s.parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map_or(default, |f| f.trunc() as i64),
        ));
    }
    match value.kind() {
        ValueKind::Number => Ok(Value::from(
            i64::try_from(value.clone())
                .ok()
                .or_else(|| f64::try_from(value).ok().map(|f| f.trunc() as i64))
                .unwrap_or(default),
        )),
        ValueKind::Bool => Ok(Value::from(i64::from(value.is_true()))),
        _ => Ok(Value::from(default)),
    }
}

/// `float(value, default=0.0)`.
fn float(value: Value, default: Option<f64>, kwargs: Kwargs) -> Result<Value, Error> {
    let default = kwargs
        .get::<Option<f64>>("default")?
        .or(default)
        .unwrap_or(0.0);
    kwargs.assert_all_used()?;
    let parsed = match value.as_str() {
        Some(s) => s.trim().parse::<f64>().ok(),
        None => f64::try_from(value).ok(),
    };
    Ok(Value::from(parsed.unwrap_or(default)))
}

/// `truncate(s, length=255, killwords=False, end='...', leeway=5)`, Jinja2's algorithm.
fn truncate(s: String, positional: Rest<Value>, kwargs: Kwargs) -> Result<String, Error> {
    let args = Arguments::new(
        &positional,
        &kwargs,
        &["length", "killwords", "end", "leeway"],
    )?;
    let length: usize = args.get(0)?.unwrap_or(255);
    let killwords: bool = args.get(1)?.unwrap_or(false);
    let end: String = args.get(2)?.unwrap_or_else(|| "...".into());
    let leeway: usize = args.get(3)?.unwrap_or(5);
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= length + leeway {
        return Ok(s);
    }
    let keep: String = chars[..length.saturating_sub(end.chars().count())]
        .iter()
        .collect();
    if killwords {
        return Ok(keep + &end);
    }
    let kept = match keep.rsplit_once(' ') {
        Some((before, _)) => before.to_string(),
        None => keep,
    };
    Ok(kept + &end)
}

/// `wordwrap(s, width=79, break_long_words=True, wrapstring=None, break_on_hyphens=True)`:
/// positional arguments as Jinja2 takes them, wrapped by minijinja-contrib.
fn wordwrap(s: Value, positional: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    const NAMES: [&str; 4] = [
        "width",
        "break_long_words",
        "wrapstring",
        "break_on_hyphens",
    ];
    let args = Arguments::new(&positional, &kwargs, &NAMES)?;
    let mut named: Vec<(&str, Value)> = Vec::new();
    for (i, key) in NAMES.iter().enumerate() {
        if let Some(value) = args.get::<Value>(i)? {
            named.push((key, value));
        }
    }
    minijinja_contrib::filters::wordwrap(&s, Kwargs::from_iter(named))
}

/// A filter's arguments as Python binds them: by position, or by name.
struct Arguments<'a> {
    positional: &'a [Value],
    kwargs: &'a Kwargs,
    names: &'a [&'a str],
}

impl<'a> Arguments<'a> {
    fn new(
        positional: &'a [Value],
        kwargs: &'a Kwargs,
        names: &'a [&'a str],
    ) -> Result<Self, Error> {
        if positional.len() > names.len() {
            return Err(Error::from(ErrorKind::TooManyArguments));
        }
        for name in names {
            let _ = kwargs.get::<Option<Value>>(name)?;
        }
        kwargs.assert_all_used()?;
        Ok(Arguments {
            positional,
            kwargs,
            names,
        })
    }

    fn get<T>(&self, index: usize) -> Result<Option<T>, Error>
    where
        T: for<'v> minijinja::value::ArgType<'v, Output = T>,
    {
        if let Some(value) = self.positional.get(index) {
            return T::from_value(Some(value)).map(Some);
        }
        self.kwargs.get::<Option<T>>(self.names[index])
    }
}

/// `urlencode`: a string percent-encoded (`/` kept); a mapping or pairs as a query string,
/// spaces as `+`, as Jinja2 does.
fn urlencode(value: Value) -> Result<String, Error> {
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    const SAFE_PATH: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'/')
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    const QUERY: &AsciiSet = &SAFE_PATH.add(b'/');
    let query = |text: &str| {
        utf8_percent_encode(text, QUERY)
            .to_string()
            .replace("%20", "+")
    };
    match value.kind() {
        ValueKind::Map => {
            let mut parts = Vec::new();
            for key in value.try_iter()? {
                let item = value.get_item(&key)?;
                parts.push(format!(
                    "{}={}",
                    query(&key.to_string()),
                    query(&item.to_string())
                ));
            }
            Ok(parts.join("&"))
        }
        _ => Ok(utf8_percent_encode(&value.to_string(), SAFE_PATH).to_string()),
    }
}

/// `tojson(indent=None)`: `json.dumps` with sorted keys, `<>&'` as `\u00XX`, marked safe.
fn tojson(value: Value, indent: Option<usize>, kwargs: Kwargs) -> Result<Value, Error> {
    let indent = kwargs.get::<Option<usize>>("indent")?.or(indent);
    kwargs.assert_all_used()?;
    if value.is_undefined() {
        return Err(Error::new(
            ErrorKind::UndefinedError,
            "an undefined value cannot be serialised",
        ));
    }
    let json = serde_json::to_value(&value)
        .map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))?;
    let style = pyformat::JsonStyle {
        indent,
        sort_keys: true,
    };
    let text = pyformat::json(&json, &style)?
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\'', "\\u0027");
    Ok(Value::from_safe_string(text))
}

/// `xmlattr(autospace=True)`: ` key="value"` for every item that is not none or undefined.
fn xmlattr(value: Value, autospace: Option<bool>) -> Result<Value, Error> {
    let mut out = String::new();
    for key in value.try_iter()? {
        let item = value.get_item(&key)?;
        if item.is_undefined() || item.is_none() {
            continue;
        }
        let name = key.to_string();
        if name.chars().any(|c| c.is_whitespace() || "/>=".contains(c)) {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("invalid character in attribute name: {name:?}"),
            ));
        }
        out.push_str(&format!(
            " {}=\"{}\"",
            escape(&name),
            escape(&text_of(&item))
        ));
    }
    if !autospace.unwrap_or(true) {
        out = out.trim_start().to_string();
    }
    Ok(Value::from_safe_string(out))
}

/// `round(value, precision=0, method='common')`: `floor` and `ceil` give floats, as Jinja2's
/// `math.floor(value * 10**p) / 10**p` does; `common` is Python's `round`.
fn round(value: Value, positional: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let args = Arguments::new(&positional, &kwargs, &["precision", "method"])?;
    let precision: i32 = args.get(0)?.unwrap_or(0);
    let method: String = args.get(1)?.unwrap_or_else(|| "common".into());
    let scale = 10f64.powi(precision);
    let number = f64::try_from(value.clone())
        .map_err(|_| Error::new(ErrorKind::InvalidOperation, "round needs a number"))?;
    match method.as_str() {
        "common" => minijinja::filters::round(
            value,
            Some(precision),
            None,
            Kwargs::from_iter(Vec::<(&str, Value)>::new()),
        ),
        "floor" => Ok(Value::from((number * scale).floor() / scale)),
        "ceil" => Ok(Value::from((number * scale).ceil() / scale)),
        _ => Err(Error::new(
            ErrorKind::InvalidOperation,
            "method must be common, ceil or floor",
        )),
    }
}

/// `filesizeformat(value, binary=False)`, Jinja2's units and rounding.
fn filesizeformat(value: Value, binary: Option<bool>) -> Result<String, Error> {
    let bytes = match value.as_str() {
        Some(s) => s.trim().parse::<f64>().ok(),
        None => f64::try_from(value).ok(),
    }
    .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, "filesizeformat needs a number"))?;
    let binary = binary.unwrap_or(false);
    let base: f64 = if binary { 1024.0 } else { 1000.0 };
    let prefixes = if binary {
        ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"]
    } else {
        ["kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"]
    };
    if bytes == 1.0 {
        return Ok("1 Byte".into());
    }
    if bytes < base {
        return Ok(format!("{} Bytes", bytes.trunc() as i64));
    }
    let mut unit = base;
    for prefix in prefixes {
        unit *= base;
        if bytes < unit || prefix == prefixes[prefixes.len() - 1] {
            return Ok(format!("{:.1} {prefix}", base * bytes / unit));
        }
    }
    unreachable!("the last prefix returns")
}

/// `indent(s, width=4, first=False, blank=False)`, Jinja2 3.1's algorithm (a width may be
/// a string to indent with).
fn indent(s: String, positional: Rest<Value>, kwargs: Kwargs) -> Result<String, Error> {
    let args = Arguments::new(&positional, &kwargs, &["width", "first", "blank"])?;
    let width: Value = args.get(0)?.unwrap_or_else(|| Value::from(4));
    let first: bool = args.get(1)?.unwrap_or(false);
    let blank: bool = args.get(2)?.unwrap_or(false);
    let indention = match width.as_str() {
        Some(text) => text.to_string(),
        None => {
            let n = super::bounded_width("indent width", usize::try_from(width)?)?;
            " ".repeat(n)
        }
    };
    let text = format!("{s}\n");
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::with_capacity(text.len() * 2);
    for (i, line) in lines.iter().enumerate() {
        if i > 0 {
            out.push('\n');
            if blank || !line.is_empty() {
                out.push_str(&indention);
            }
        }
        out.push_str(line);
    }
    if first {
        out.insert_str(0, &indention);
    }
    Ok(out)
}
