//! What cookiecutter and copier templates expect of Jinja2 beyond minijinja's core:
//! jinja2-time's `{% now %}` tag, and the filters copier ships (from jinja2-ansible-filters).

use base64::Engine;
use minijinja::value::Kwargs;
use minijinja::{Environment, Error, ErrorKind, Value};
use time::OffsetDateTime;

use super::pyformat;

/// strftime for the common codes (`%Y %m %d %H %M %S %y %b %B %a %A %j %p %%`).
pub fn strftime(t: OffsetDateTime, format: &str) -> Result<String, Error> {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    const DAYS: [&str; 7] = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    let mut out = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let month = MONTHS[u8::from(t.month()) as usize - 1];
        let day = DAYS[t.weekday().number_days_from_monday() as usize];
        match chars.next() {
            Some('Y') => out.push_str(&format!("{:04}", t.year())),
            Some('y') => out.push_str(&format!("{:02}", t.year() % 100)),
            Some('m') => out.push_str(&format!("{:02}", u8::from(t.month()))),
            Some('d') => out.push_str(&format!("{:02}", t.day())),
            Some('H') => out.push_str(&format!("{:02}", t.hour())),
            Some('M') => out.push_str(&format!("{:02}", t.minute())),
            Some('S') => out.push_str(&format!("{:02}", t.second())),
            Some('j') => out.push_str(&format!("{:03}", t.ordinal())),
            Some('b') => out.push_str(&month[..3]),
            Some('B') => out.push_str(month),
            Some('a') => out.push_str(&day[..3]),
            Some('A') => out.push_str(day),
            Some('p') => out.push_str(if t.hour() < 12 { "AM" } else { "PM" }),
            Some('z') => {
                let (h, m, _) = t.offset().as_hms();
                let sign = if t.offset().is_negative() { '-' } else { '+' };
                out.push_str(&format!("{sign}{:02}{:02}", h.abs(), m.abs()));
            }
            Some('%') => out.push('%'),
            Some(other) => {
                return Err(Error::new(
                    ErrorKind::InvalidOperation,
                    format!("strftime code %{other} is not supported"),
                ));
            }
            None => out.push('%'),
        }
    }
    Ok(out)
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
    env.add_filter("basename", |s: String| {
        s.rsplit('/').next().unwrap_or_default().to_string()
    });
    env.add_filter("dirname", |s: String| {
        s.rsplit_once('/')
            .map_or(String::new(), |(d, _)| d.to_string())
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strftime_formats_the_common_codes() {
        let t = crate::clock::parse_rfc3339("2026-06-11T09:05:00Z").unwrap();
        assert_eq!(
            strftime(t, "%Y-%m-%d %H:%M %b %A %j").unwrap(),
            "2026-06-11 09:05 Jun Thursday 162"
        );
    }
}
