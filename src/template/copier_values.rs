//! copier's reading of an answer (`_user_data.py`'s `Question.parse_answer`): the cast of its
//! question's type, then the check against the choices. An answer given as text (`--set`,
//! a prompt, a templated default) and one given as a value (an answers file) are read the
//! way copier reads them, so the same answer gives the same value either way.

use serde_json::{Number, Value};

use super::manifest::{CopierType, ParamType, Parameter};

/// `value` as copier reads an answer to `param` (of copier type `kind`).
pub fn parse_answer(param: &Parameter, kind: CopierType, value: &Value) -> Result<Value, String> {
    // Only a YAML or JSON question takes nothing for an answer: copier's InvalidTypeError,
    // in its words (scripts match them).
    if value.is_null() && !matches!(kind, CopierType::Yaml | CopierType::Json) {
        return Err(format!(
            "Invalid answer \"None\" of type \"<class 'NoneType'>\" to question \"{}\" of type \"{}\"",
            param.name,
            type_name(kind)
        ));
    }
    if param.kind != ParamType::Multichoice {
        return parse_one(param, kind, value);
    }
    // A multiselect answer given as text is a YAML list, read one level deep: its items are
    // then cast by the question's type (copier's `parse_yaml_list`).
    let items = match value {
        Value::String(text) => shallow_list(text)?,
        Value::Array(items) => items.clone(),
        other => {
            return Err(format!(
                "{} is not a list: give the choices as a YAML list, such as [a, b]",
                py_repr(other)
            ));
        }
    };
    let answers = items
        .iter()
        .map(|item| parse_one(param, kind, item))
        .collect::<Result<Vec<_>, _>>()?;
    // copier keeps the choices' order, whatever the answer's.
    let chosen = param
        .choices
        .iter()
        .flatten()
        .filter_map(|choice| cast(kind, choice).ok())
        .filter(|choice| answers.contains(choice))
        .collect();
    Ok(Value::Array(chosen))
}

fn parse_one(param: &Parameter, kind: CopierType, value: &Value) -> Result<Value, String> {
    let answer = cast(kind, value)?;
    let Some(choices) = &param.choices else {
        return Ok(answer);
    };
    let mut valid = Vec::new();
    let mut refusal = None;
    // Each disabled choice disables one choice of its value, in order: of two choices with
    // the same value, one may be disabled and the other not (copier accepts the value then).
    let mut disabled_left: Vec<Option<(Value, &String)>> = param
        .disabled_choices
        .iter()
        .map(|(c, message)| cast(kind, c).ok().map(|c| (c, message)))
        .collect();
    for choice in choices {
        let Ok(value) = cast(kind, choice) else {
            continue;
        };
        let disabled = disabled_left
            .iter_mut()
            .find(|d| d.as_ref().is_some_and(|(c, _)| *c == value))
            .and_then(Option::take)
            .map(|(c, message)| (c, message.clone()));
        match disabled {
            None if value == answer => return Ok(answer),
            None => valid.push(value),
            Some((_, message)) if value == answer => {
                refusal.get_or_insert_with(|| message.clone());
            }
            Some(_) => {}
        }
    }
    if let Some(message) = refusal {
        return Err(format!("Invalid choice for '{}': {message}", param.name));
    }
    let listed: Vec<String> = valid.iter().map(py_repr).collect();
    Err(format!(
        "Invalid choice for '{}': {} is not in [{}]",
        param.name,
        py_repr(&answer),
        listed.join(", ")
    ))
}

/// copier's cast of one value to a question type (`cast_answer`).
pub fn cast(kind: CopierType, value: &Value) -> Result<Value, String> {
    let invalid = || {
        format!(
            "Invalid answer {} for a question of type {}",
            py_repr(value),
            type_name(kind)
        )
    };
    // What Python's casts refuse with a TypeError (copier's InvalidTypeError): nothing for
    // a question that is not YAML or JSON, a list or mapping for a number or a path.
    let wrong_type = || {
        format!(
            "Invalid answer type: {} ({}) for a question of type {}",
            py_repr(value),
            py_type(value),
            type_name(kind)
        )
    };
    if value.is_null() && !matches!(kind, CopierType::Yaml | CopierType::Json) {
        return Err(wrong_type());
    }
    let container = matches!(value, Value::Array(_) | Value::Object(_));
    if container && matches!(kind, CopierType::Int | CopierType::Float | CopierType::Path) {
        return Err(wrong_type());
    }
    match kind {
        CopierType::Str | CopierType::Path => match value {
            Value::String(_) => Ok(value.clone()),
            Value::Number(_) | Value::Bool(_) => Ok(Value::String(py_str(value))),
            _ if kind == CopierType::Path => Ok(Value::String(py_str(value))),
            _ => Err(invalid()),
        },
        CopierType::Bool => Ok(Value::Bool(cast_to_bool(value))),
        CopierType::Int => match value {
            Value::Bool(b) => Ok(Value::from(i64::from(*b))),
            Value::Number(n) if n.is_i64() || n.is_u64() => Ok(value.clone()),
            // Python's int() of a float drops the fraction.
            Value::Number(n) => n
                .as_f64()
                .filter(|f| f.is_finite())
                .map(|f| Value::from(f.trunc() as i64))
                .ok_or_else(invalid),
            Value::String(s) => py_int(s).map(Value::from).ok_or_else(invalid),
            _ => Err(invalid()),
        },
        CopierType::Float => {
            let f = match value {
                Value::Bool(b) => Some(f64::from(u8::from(*b))),
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.trim().replace('_', "").parse::<f64>().ok(),
                _ => None,
            };
            f.and_then(Number::from_f64)
                .map(Value::Number)
                .ok_or_else(invalid)
        }
        CopierType::Yaml => match value {
            Value::String(text) => super::yaml::parse::<Value>(text, "answer")
                .map_err(|e| format!("{} is not YAML: {}", py_repr(value), e.message)),
            other => Ok(other.clone()),
        },
        CopierType::Json => match value {
            Value::String(text) => serde_json::from_str(text)
                .map_err(|e| format!("{} is not JSON: {e}", py_repr(value))),
            other => Ok(other.clone()),
        },
    }
}

/// copier's `cast_to_bool`: a number is true unless zero; YAML's words for true and false
/// and for nothing; empty text is false; any other text is true.
pub fn cast_to_bool(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => {
            if let Ok(f) = s.trim().parse::<f64>() {
                return f != 0.0;
            }
            !matches!(
                s.trim().to_lowercase().as_str(),
                "" | "n" | "no" | "f" | "false" | "off" | "~" | "null" | "none"
            )
        }
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
    }
}

/// Python's `int()` of text: surrounding space, a sign, and `_` between digits.
fn py_int(text: &str) -> Option<i64> {
    let t = text.trim();
    let digits = t.trim_start_matches(['+', '-']);
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return None;
    }
    t.replace('_', "").parse().ok()
}

/// The items of a YAML list written as text, each as written (quotes of a quoted item
/// dropped), as copier's `parse_yaml_list` reads a multiselect answer.
fn shallow_list(text: &str) -> Result<Vec<Value>, String> {
    let not_a_list = || format!("Not a YAML list: {}", py_repr(&Value::String(text.into())));
    match super::yaml::parse::<Value>(text, "answer") {
        Ok(Value::Array(items)) => {
            let raw = flow_items(text).filter(|raw| raw.len() == items.len());
            Ok(items
                .into_iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::String(_) => item,
                    Value::Number(_) | Value::Bool(_) | Value::Null => Value::String(match &item {
                        Value::Null => "null".to_string(),
                        other => other.to_string(),
                    }),
                    // A list or mapping inside stays as written (copier keeps its raw text).
                    nested => match &raw {
                        Some(raw) => Value::String(raw[i].clone()),
                        None => nested,
                    },
                })
                .collect())
        }
        _ => Err(not_a_list()),
    }
}

/// The items of a YAML flow list (`[a, [1], {k: v}]`) as written, split at its top-level
/// commas; `None` for any other form.
fn flow_items(text: &str) -> Option<Vec<String>> {
    let inner = text.trim().strip_prefix('[')?.strip_suffix(']')?;
    let (mut items, mut current, mut depth) = (Vec::new(), String::new(), 0i32);
    let mut quote: Option<char> = None;
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some('"'), '\\') => {
                current.push(c);
                current.extend(chars.next());
                continue;
            }
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[' | '{') => depth += 1,
            (None, ']' | '}') => depth -= 1,
            (None, ',') if depth == 0 => {
                items.push(std::mem::take(&mut current).trim().to_string());
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    if !current.trim().is_empty() {
        items.push(current.trim().to_string());
    }
    Some(items)
}

/// Python's name of the type copier would have read `value` as.
fn py_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

fn type_name(kind: CopierType) -> &'static str {
    match kind {
        CopierType::Str => "str",
        CopierType::Int => "int",
        CopierType::Float => "float",
        CopierType::Bool => "bool",
        CopierType::Yaml => "yaml",
        CopierType::Json => "json",
        CopierType::Path => "path",
    }
}

/// Python's `str()` of a scalar (`True`, `1.0`).
fn py_str(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => "None".into(),
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or_default();
            if f.fract() == 0.0 && f.abs() < 1e16 {
                format!("{f:.1}")
            } else {
                f.to_string()
            }
        }
        other => other.to_string(),
    }
}

/// Python's `repr()` of a value, as copier's messages quote answers.
pub fn py_repr(value: &Value) -> String {
    match value {
        Value::String(s) => {
            if s.contains('\'') && !s.contains('"') {
                format!("\"{s}\"")
            } else {
                format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
            }
        }
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(py_repr).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}: {}", py_repr(&Value::String(k.clone())), py_repr(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => py_str(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answers_are_cast_as_copier_casts_them() {
        assert_eq!(cast(CopierType::Yaml, &json!("1")).unwrap(), json!(1));
        assert_eq!(
            cast(CopierType::Yaml, &json!("[1, 3]")).unwrap(),
            json!([1, 3])
        );
        assert_eq!(
            cast(CopierType::Json, &json!("{\"a\": 1}")).unwrap(),
            json!({"a": 1})
        );
        assert!(cast(CopierType::Json, &json!("{a")).is_err());
        assert_eq!(
            cast(CopierType::Bool, &json!("false")).unwrap(),
            json!(false)
        );
        assert_eq!(cast(CopierType::Bool, &json!("0")).unwrap(), json!(false));
        assert_eq!(
            cast(CopierType::Bool, &json!("maybe")).unwrap(),
            json!(true)
        );
        assert_eq!(
            cast(CopierType::Int, &json!(" 1_000 ")).unwrap(),
            json!(1000)
        );
        assert_eq!(cast(CopierType::Int, &json!(1.7)).unwrap(), json!(1));
        assert!(cast(CopierType::Int, &json!("1.5")).is_err());
        assert_eq!(cast(CopierType::Str, &json!(1.0)).unwrap(), json!("1.0"));
        assert_eq!(cast(CopierType::Float, &json!("2")).unwrap(), json!(2.0));
        assert!(cast(CopierType::Str, &json!(null)).is_err());
    }

    #[test]
    fn a_multiselect_answer_is_a_yaml_list_in_the_choices_order() {
        let param = Parameter {
            kind: ParamType::Multichoice,
            choices: Some(vec![json!("3.11"), json!("3.12"), json!("3.13")]),
            ..serde_json::from_value(json!({"name": "v"})).unwrap()
        };
        let parsed = parse_answer(&param, CopierType::Str, &json!("[\"3.13\", 3.12]")).unwrap();
        assert_eq!(parsed, json!(["3.12", "3.13"]));
        assert!(
            parse_answer(&param, CopierType::Str, &json!("3.12,3.13"))
                .unwrap_err()
                .contains("Not a YAML list")
        );
        let message = parse_answer(&param, CopierType::Str, &json!("[3.9]")).unwrap_err();
        assert_eq!(
            message,
            "Invalid choice for 'v': '3.9' is not in ['3.11', '3.12', '3.13']"
        );
    }
}
