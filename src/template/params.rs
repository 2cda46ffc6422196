//! Parameter values: typing, constraints, and the JSON Schema 2020-12 document of a
//! template's parameters.

use serde_json::{Map, Value, json};

use super::manifest::{Manifest, ParamType, Parameter};

/// Whether text holds template syntax (`{{ … }}` or `{% … %}`).
pub fn is_template_text(text: &str) -> bool {
    text.contains("{{") || text.contains("{%")
}

/// Whether a default is a template expression (rendered over earlier answers) rather than a
/// literal.
pub fn is_expression(value: &Value) -> bool {
    value.as_str().is_some_and(is_template_text)
}

/// Parses a `--set` value or a typed-in answer by the parameter's type.
pub fn parse_text(param: &Parameter, text: &str) -> Result<Value, String> {
    if param.copier_type.is_some() {
        return coerce(param, &Value::String(text.to_string()));
    }
    let value = match param.kind {
        ParamType::String | ParamType::Choice => Value::String(text.to_string()),
        ParamType::Bool => match text.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "on" | "1" => Value::Bool(true),
            "false" | "no" | "n" | "off" | "0" => Value::Bool(false),
            _ => {
                return Err(format!(
                    "`{text}` is not a bool (use true/false, yes/no, y/n, on/off or 1/0)"
                ));
            }
        },
        ParamType::Int => text
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| format!("`{text}` is not a whole number"))?,
        ParamType::Float => text
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| format!("`{text}` is not a number"))?,
        ParamType::Yaml => {
            return crate::template::yaml::parse::<Value>(text, &param.name)
                .map_err(|e| format!("`{text}` is not YAML: {}", e.message));
        }
        ParamType::Multichoice | ParamType::List => Value::Array(
            text.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.to_string()))
                .collect(),
        ),
    };
    coerce(param, &value)
}

/// Checks a value against the parameter's type and constraints, converting where the
/// meaning is plain (a number given for a string, a comma list for a list).
pub fn coerce(param: &Parameter, value: &Value) -> Result<Value, String> {
    if let Some(kind) = param.copier_type {
        return super::copier_values::parse_answer(param, kind, value);
    }
    let value = match (param.kind, value) {
        (ParamType::String, Value::String(_)) => value.clone(),
        (ParamType::String, Value::Number(n)) => Value::String(n.to_string()),
        (ParamType::Bool, Value::Bool(_)) => value.clone(),
        // One rule in every input mode: 1 and 0 from a file mean what `--set x=1` means.
        (ParamType::Bool, Value::Number(n)) => return parse_text(param, &n.to_string()),
        (ParamType::Int, Value::Number(n)) if n.is_i64() || n.is_u64() => value.clone(),
        (ParamType::Float, Value::Number(_)) => value.clone(),
        (ParamType::Choice, Value::String(_) | Value::Number(_) | Value::Bool(_)) => value.clone(),
        (ParamType::Yaml, _) => value.clone(),
        (ParamType::Multichoice | ParamType::List, Value::Array(items)) => {
            if param.kind == ParamType::List && !items.iter().all(Value::is_string) {
                return Err("a list takes strings".to_string());
            }
            value.clone()
        }
        (ParamType::Bool | ParamType::Int | ParamType::Float, Value::String(s))
        | (ParamType::Multichoice | ParamType::List, Value::String(s)) => {
            return parse_text(param, s);
        }
        _ => {
            return Err(format!(
                "expected {}, got {}",
                describe_type(param.kind),
                describe_value(value)
            ));
        }
    };
    check_constraints(param, &value)?;
    Ok(value)
}

fn check_constraints(param: &Parameter, value: &Value) -> Result<(), String> {
    if let (Some(pattern), Value::String(s)) = (&param.pattern, value) {
        let re = regex::Regex::new(pattern)
            .map_err(|e| format!("pattern `{pattern}` does not compile: {e}"))?;
        if !re.is_match(s) {
            return Err(format!("`{s}` does not match pattern `{pattern}`"));
        }
    }
    if let Some(choices) = &param.choices {
        let allowed = |v: &Value| choices.iter().any(|c| same_choice(c, v));
        let ok = match value {
            Value::Array(items) if param.kind == ParamType::Multichoice => {
                items.iter().all(allowed)
            }
            Value::Array(_) => true,
            v => allowed(v),
        };
        if !ok {
            let list: Vec<String> = choices.iter().map(display_value).collect();
            return Err(format!(
                "{} is not one of the choices: {}",
                display_value(value),
                list.join(", ")
            ));
        }
    }
    if let Some(n) = value.as_f64() {
        if let Some(min) = param.min
            && n < min
        {
            return Err(format!("{n} is below the minimum {min}"));
        }
        if let Some(max) = param.max
            && n > max
        {
            return Err(format!("{n} is above the maximum {max}"));
        }
    }
    Ok(())
}

/// Whether `value` (a default, an earlier answer) is `choice` of `param`, the choice read
/// by a copier question's type (its `json` choice `[1]` is the answer [1]).
pub fn is_choice(param: &Parameter, choice: &Value, value: &Value) -> bool {
    same_choice(choice, value)
        || param.copier_type.is_some_and(|kind| {
            super::copier_values::cast(kind, choice).is_ok_and(|cast| cast == *value)
        })
}

/// Choices compare by value, and a string answer matches a number or bool choice with the
/// same text (answers typed at a prompt or given with `--set` are text).
pub fn same_choice(choice: &Value, value: &Value) -> bool {
    choice == value
        || match (choice, value) {
            (c, Value::String(s)) if !c.is_string() => display_value(c) == *s,
            _ => false,
        }
}

/// A value as a person reads it: strings bare, everything else as JSON.
pub fn display_value(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn describe_type(kind: ParamType) -> &'static str {
    match kind {
        ParamType::String => "a string",
        ParamType::Bool => "true or false",
        ParamType::Int => "a whole number",
        ParamType::Float => "a number",
        ParamType::Choice => "one of the choices",
        ParamType::Multichoice => "a list of choices",
        ParamType::List => "a list of strings",
        ParamType::Yaml => "a YAML value",
    }
}

fn describe_value(value: &Value) -> String {
    match value {
        Value::Null => "nothing".into(),
        Value::Bool(b) => format!("the bool {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string `{s}`"),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
    }
}

/// The parameters as a JSON Schema 2020-12 document of the answers object.
pub fn schema_document(manifest: &Manifest, version: &str) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for param in &manifest.parameters {
        let mut prop = Map::new();
        match param.kind {
            ParamType::String => {
                prop.insert("type".into(), json!("string"));
            }
            ParamType::Bool => {
                prop.insert("type".into(), json!("boolean"));
            }
            ParamType::Int => {
                prop.insert("type".into(), json!("integer"));
            }
            ParamType::Float => {
                prop.insert("type".into(), json!("number"));
            }
            ParamType::Choice | ParamType::Yaml => {}
            ParamType::Multichoice => {
                prop.insert("type".into(), json!("array"));
                prop.insert("uniqueItems".into(), json!(true));
            }
            ParamType::List => {
                prop.insert("type".into(), json!("array"));
                prop.insert("items".into(), json!({"type": "string"}));
            }
        }
        if let Some(choices) = &param.choices {
            let choices = Value::Array(choices.clone());
            if param.kind == ParamType::Multichoice {
                prop.insert("items".into(), json!({ "enum": choices }));
            } else {
                prop.insert("enum".into(), choices);
            }
        }
        if let Some(pattern) = &param.pattern {
            prop.insert("pattern".into(), json!(pattern));
        }
        if let Some(min) = param.min {
            prop.insert("minimum".into(), json!(min));
        }
        if let Some(max) = param.max {
            prop.insert("maximum".into(), json!(max));
        }
        if let Some(help) = &param.help {
            prop.insert("description".into(), json!(help));
        }
        if let Some(default) = &param.default {
            if is_expression(default) {
                prop.insert("x-factory-default-expression".into(), default.clone());
            } else if !param.secret {
                prop.insert("default".into(), default.clone());
            }
        }
        if let Some(when) = &param.when {
            prop.insert("x-factory-when".into(), json!(when));
        }
        if param.secret {
            prop.insert("writeOnly".into(), json!(true));
            prop.insert("x-factory-secret".into(), json!(true));
        }
        if param.required && param.when.is_none() {
            required.push(json!(param.name));
        }
        properties.insert(param.name.clone(), Value::Object(prop));
    }
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": format!("urn:factory:template:{}:{}:parameters", manifest.name, version),
        "title": format!("{} parameters", manifest.title()),
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(kind: ParamType) -> Parameter {
        Parameter {
            name: "p".into(),
            kind,
            required: false,
            default: None,
            choices: None,
            pattern: None,
            min: None,
            max: None,
            help: None,
            prompt: None,
            when: None,
            secret: false,
            hidden: false,
            ask_when: None,
            validator: None,
            choice_validators: Vec::new(),
            copier_type: None,
            disabled_choices: Vec::new(),
            choices_template: None,
            type_template: None,
            asking: Default::default(),
        }
    }

    #[test]
    fn values_are_typed_and_checked() {
        let mut p = param(ParamType::Int);
        p.min = Some(1.0);
        p.max = Some(500.0);
        assert_eq!(parse_text(&p, "20").unwrap(), json!(20));
        assert!(
            parse_text(&p, "0")
                .unwrap_err()
                .contains("below the minimum")
        );
        assert!(
            parse_text(&p, "x")
                .unwrap_err()
                .contains("not a whole number")
        );
        assert!(coerce(&p, &json!(1.5)).is_err());

        let mut s = param(ParamType::String);
        s.pattern = Some("^[a-z][a-z0-9-]*$".into());
        assert!(coerce(&s, &json!("orders")).is_ok());
        assert!(
            coerce(&s, &json!("Orders"))
                .unwrap_err()
                .contains("pattern")
        );

        let mut c = param(ParamType::Choice);
        c.choices = Some(vec![json!("postgresql"), json!("none")]);
        assert!(coerce(&c, &json!("none")).is_ok());
        assert!(
            coerce(&c, &json!("mysql"))
                .unwrap_err()
                .contains("not one of")
        );

        let b = param(ParamType::Bool);
        assert_eq!(parse_text(&b, "no").unwrap(), json!(false));
        assert!(coerce(&b, &json!("maybe")).is_err());

        let mut m = param(ParamType::Multichoice);
        m.choices = Some(vec![json!("a"), json!("b")]);
        assert_eq!(parse_text(&m, "a, b").unwrap(), json!(["a", "b"]));
        assert!(parse_text(&m, "a,c").is_err());
    }
}
