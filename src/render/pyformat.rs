//! JSON and YAML written the way Python's `json.dumps` and PyYAML's `yaml.dump` write them,
//! so the filters cookiecutter and copier templates use (`jsonify`, `to_json`,
//! `to_nice_json`, `to_yaml`, `to_nice_yaml`) give the same bytes as those tools.
//!
//! YAML follows PyYAML's emitter for what templates hold (mappings with string keys, lists,
//! strings, numbers, booleans, null): keys sorted, block style (with `to_yaml`, collections of
//! scalars only in flow style), sequences in mappings not indented, its choice between plain,
//! single-quoted and double-quoted scalars, and plain and single-quoted scalars folded past
//! column 80. Flow collections are not folded.

use std::fmt::Write;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use crate::bounded::MAX_RENDERED_BYTES;

/// How `json.dumps` is called.
pub struct JsonStyle {
    /// `indent=`: `None` writes one line with `", "` and `": "` between items.
    pub indent: Option<usize>,
    /// `sort_keys=True`.
    pub sort_keys: bool,
}

/// `json.dumps(value, indent=…, sort_keys=…)` with Python's defaults otherwise
/// (`ensure_ascii=True`: every character past ASCII as a `\uXXXX` escape). An indent over
/// the format limit, or an output over the rendered-file limit (indentation grows with the
/// indent times the depth times the items), is an error, never an allocation that aborts.
pub fn json(value: &Value, style: &JsonStyle) -> Result<String, minijinja::Error> {
    if let Some(indent) = style.indent {
        super::bounded_width("indent", indent)?;
    }
    let mut out = String::new();
    write_json(&mut out, value, style, 0);
    within_bound(out)
}

/// `out`, unless padding was left out of it for passing [`MAX_RENDERED_BYTES`].
fn within_bound(out: String) -> Result<String, minijinja::Error> {
    if out.len() > MAX_RENDERED_BYTES {
        return Err(minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            format!(
                "the serialised value passed {} MB, the limit for one file: a smaller indent, or less data",
                MAX_RENDERED_BYTES >> 20
            ),
        ));
    }
    Ok(out)
}

/// Pads `out` with `n` spaces, or (past the bound) with one more byte than the bound allows,
/// so that [`within_bound`] refuses it without the padding ever being allocated.
fn pad(out: &mut String, n: usize) {
    if out.len().saturating_add(n) > MAX_RENDERED_BYTES {
        if out.len() <= MAX_RENDERED_BYTES {
            out.extend(std::iter::repeat_n(' ', MAX_RENDERED_BYTES + 1 - out.len()));
        }
        return;
    }
    out.extend(std::iter::repeat_n(' ', n));
}

fn write_json(out: &mut String, value: &Value, style: &JsonStyle, depth: usize) {
    if out.len() > MAX_RENDERED_BYTES {
        return;
    }
    let (open, close, items): (char, char, Vec<(Option<&str>, &Value)>) = match value {
        Value::Array(items) => ('[', ']', items.iter().map(|v| (None, v)).collect()),
        Value::Object(map) => {
            let entries: Vec<(&String, &Value)> = if style.sort_keys {
                sorted(map)
            } else {
                map.iter().collect()
            };
            let entries = entries.into_iter().map(|(k, v)| (Some(k.as_str()), v));
            ('{', '}', entries.collect())
        }
        scalar => return write_json_scalar(out, scalar),
    };
    out.push(open);
    if items.is_empty() {
        out.push(close);
        return;
    }
    for (i, (key, item)) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match style.indent {
            Some(indent) => {
                out.push('\n');
                pad(out, indent * (depth + 1));
            }
            None if i > 0 => out.push(' '),
            None => {}
        }
        if let Some(key) = key {
            write_json_string(out, key);
            out.push_str(": ");
        }
        write_json(out, item, style, depth + 1);
    }
    if let Some(indent) = style.indent {
        out.push('\n');
        pad(out, indent * depth);
    }
    out.push(close);
}

fn write_json_scalar(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match n.as_f64().filter(|_| n.is_f64()) {
            Some(f) => out.push_str(&python_float(f, "Infinity", "NaN")),
            None => out.push_str(&n.to_string()),
        },
        Value::String(s) => write_json_string(out, s),
        Value::Array(_) | Value::Object(_) => unreachable!("collections are written above"),
    }
}

fn write_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

/// Python's `repr` of a float (`1e+20`, `2.5`, `1.0`), with `inf` and `nan` spelled as asked.
fn python_float(f: f64, infinity: &str, nan: &str) -> String {
    if f.is_nan() {
        return nan.to_string();
    }
    if f.is_infinite() {
        return format!("{}{infinity}", if f < 0.0 { "-" } else { "" });
    }
    let magnitude = f.abs();
    if magnitude != 0.0 && !(1e-4..1e16).contains(&magnitude) {
        // Scientific notation: mantissa as short as round-trips, exponent signed, two digits.
        let text = format!("{f:e}");
        let (mantissa, exponent) = text.split_once('e').expect("{:e} has an exponent");
        let exponent: i32 = exponent.parse().expect("an integer exponent");
        let sign = if exponent < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exponent.abs());
    }
    let text = format!("{f:?}");
    if text.contains('.') {
        text
    } else {
        format!("{text}.0")
    }
}

/// How `yaml.dump` is called.
pub struct YamlStyle {
    /// `indent=` (PyYAML's default is 2; `to_nice_yaml` passes 4).
    pub indent: usize,
    /// `default_flow_style=None`: collections holding only scalars in flow style (`to_yaml`);
    /// otherwise block style throughout (`to_nice_yaml`).
    pub flow_leaves: bool,
}

/// The column past which PyYAML folds scalars (`width=80`).
const WIDTH: usize = 80;

/// `yaml.dump(value, allow_unicode=True, indent=…, default_flow_style=…)`.
/// Bounded as [`json`] is.
pub fn yaml(value: &Value, style: &YamlStyle) -> Result<String, minijinja::Error> {
    super::bounded_width("indent", style.indent)?;
    let mut emitter = Emitter {
        out: String::new(),
        column: 0,
        style,
    };
    if is_scalar(value) || is_flow(value, style) {
        let plain = emitter.node(value, style.indent, BLOCK);
        emitter.newline();
        if plain {
            // PyYAML ends a document whose root is an open plain scalar with `...`.
            emitter.out.push_str("...\n");
        }
    } else {
        emitter.block(value, 0, false);
        emitter.newline();
    }
    within_bound(emitter.out)
}

/// Where a scalar stands, which decides how it may be written.
#[derive(Clone, Copy, PartialEq)]
struct Context {
    /// Inside a flow collection.
    flow: bool,
    /// A mapping key (a "simple key": one line, never folded).
    key: bool,
}

const BLOCK: Context = Context {
    flow: false,
    key: false,
};

const FLOW: Context = Context {
    flow: true,
    key: false,
};

struct Emitter<'s> {
    out: String,
    column: usize,
    style: &'s YamlStyle,
}

fn is_flow(value: &Value, style: &YamlStyle) -> bool {
    match value {
        Value::Array(items) => {
            items.is_empty() || (style.flow_leaves && items.iter().all(is_scalar))
        }
        Value::Object(map) => map.is_empty() || (style.flow_leaves && map.values().all(is_scalar)),
        _ => false,
    }
}

fn is_scalar(value: &Value) -> bool {
    !matches!(value, Value::Array(_) | Value::Object(_))
}

fn sorted(map: &serde_json::Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    entries
}

impl Emitter<'_> {
    fn push(&mut self, text: &str) {
        self.out.push_str(text);
        self.column += text.chars().count();
    }

    fn newline(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    fn indent_to(&mut self, indent: usize) {
        if self.column > 0 {
            self.newline();
        }
        self.pad_to(indent);
    }

    fn pad_to(&mut self, column: usize) {
        if self.column < column {
            pad(&mut self.out, column - self.column);
            self.column = column;
        }
    }

    /// A block collection (never a scalar) whose entries start at column `indent`; `inline`
    /// when the first entry continues the current line (after a sequence's `- `).
    fn block(&mut self, value: &Value, indent: usize, inline: bool) {
        let step = self.style.indent;
        match value {
            Value::Object(map) => {
                for (i, (key, item)) in sorted(map).into_iter().enumerate() {
                    if i > 0 || !inline {
                        self.indent_to(indent);
                    } else {
                        self.pad_to(indent);
                    }
                    if key.is_empty() || key.contains('\n') || key.chars().count() >= 128 {
                        // Not a simple key: PyYAML writes `? KEY` and `: VALUE` lines.
                        self.push("? ");
                        self.string(key, indent + step, BLOCK);
                        self.indent_to(indent);
                    } else {
                        let key_context = Context {
                            flow: false,
                            key: true,
                        };
                        self.string(key, indent + step, key_context);
                    }
                    self.push(":");
                    match item {
                        Value::Object(_) if !is_flow(item, self.style) => {
                            self.block(item, indent + step, false);
                        }
                        // Sequences in a mapping are not indented (PyYAML's "indentless").
                        Value::Array(_) if !is_flow(item, self.style) => {
                            self.block(item, indent, false);
                        }
                        _ => {
                            self.push(" ");
                            self.node(item, indent + step, BLOCK);
                        }
                    }
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 || !inline {
                        self.indent_to(indent);
                    } else {
                        self.pad_to(indent);
                    }
                    self.push("-");
                    if is_flow(item, self.style) || is_scalar(item) {
                        self.push(" ");
                        self.node(item, indent + step, BLOCK);
                    } else {
                        self.pad_to(indent + step);
                        self.block(item, indent + step, true);
                    }
                }
            }
            _ => unreachable!("block() is given collections only"),
        }
    }

    /// A scalar or a flow collection; `indent` is where a folded scalar continues, or where
    /// a flow collection's items continue when it breaks its line. Returns whether it was a
    /// plain scalar.
    fn node(&mut self, value: &Value, indent: usize, context: Context) -> bool {
        match value {
            // Numbers, booleans and null are plain scalars too.
            Value::Null => {
                self.push("null");
                return true;
            }
            Value::Bool(b) => {
                self.push(if *b { "true" } else { "false" });
                return true;
            }
            Value::Number(n) => {
                match n.as_f64().filter(|_| n.is_f64()) {
                    Some(f) => {
                        let text = python_float(f, ".inf", ".nan").to_lowercase();
                        // PyYAML writes `1.0e+20` where Python's repr is `1e+20`.
                        let text = match text.split_once('e') {
                            Some((m, e)) if !m.contains('.') => format!("{m}.0e{e}"),
                            _ => text,
                        };
                        self.push(&text);
                    }
                    None => self.push(&n.to_string()),
                }
                return true;
            }
            Value::String(s) => return self.string(s, indent, context),
            Value::Array(items) => {
                self.push("[");
                for (i, item) in items.iter().enumerate() {
                    self.flow_separator(i, indent);
                    self.node(item, indent + self.style.indent, FLOW);
                }
                self.push("]");
            }
            Value::Object(map) => {
                self.push("{");
                for (i, (key, item)) in sorted(map).into_iter().enumerate() {
                    self.flow_separator(i, indent);
                    let key_context = Context {
                        flow: true,
                        key: true,
                    };
                    self.string(key, indent, key_context);
                    self.push(": ");
                    self.node(item, indent + self.style.indent, FLOW);
                }
                self.push("}");
            }
        }
        false
    }

    /// Between the items of a flow collection: a comma, then a space, or a line break when
    /// past column 80.
    fn flow_separator(&mut self, index: usize, indent: usize) {
        if index == 0 {
            return;
        }
        self.push(",");
        if self.column > WIDTH {
            self.newline();
            self.pad_to(indent);
        } else {
            self.push(" ");
        }
    }

    fn string(&mut self, s: &str, indent: usize, context: Context) -> bool {
        let analysis = Analysis::of(s);
        let one_line_key = context.key && (s.is_empty() || analysis.multiline);
        let plain = !one_line_key
            && if context.flow {
                analysis.flow_plain
            } else {
                analysis.block_plain
            }
            && !resolves_to_other_type(s);
        let fold = !context.key;
        if plain {
            self.words(s, indent, fold, false);
        } else if analysis.single_quoted && !(context.key && analysis.multiline) {
            self.push("'");
            self.words(s, indent, fold, true);
            self.push("'");
        } else {
            self.double_quoted(s);
        }
        plain
    }

    /// Plain or single-quoted text: a lone space past column 80 becomes a line break, and
    /// (quoted) line breaks are written doubled, as PyYAML folds them.
    fn words(&mut self, s: &str, indent: usize, fold: bool, quoted: bool) {
        let chars: Vec<char> = s.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == ' ' {
                let run = chars[i..].iter().take_while(|&&c| c == ' ').count();
                let inside = i > 0 && i + run < chars.len();
                if fold && run == 1 && self.column > WIDTH && (!quoted || inside) {
                    self.newline();
                    self.pad_to(indent);
                } else {
                    self.push(&" ".repeat(run));
                }
                i += run;
            } else if c == '\n' && quoted {
                let run = chars[i..].iter().take_while(|&&c| c == '\n').count();
                for _ in 0..=run {
                    self.newline();
                }
                self.pad_to(indent);
                i += run;
            } else if c == '\'' && quoted {
                self.push("''");
                i += 1;
            } else {
                let mut buffer = [0u8; 4];
                self.push(c.encode_utf8(&mut buffer));
                i += 1;
            }
        }
    }

    fn double_quoted(&mut self, s: &str) {
        let mut text = String::from("\"");
        for c in s.chars() {
            match c {
                '\0' => text.push_str("\\0"),
                '\u{7}' => text.push_str("\\a"),
                '\u{8}' => text.push_str("\\b"),
                '\t' => text.push_str("\\t"),
                '\n' => text.push_str("\\n"),
                '\u{b}' => text.push_str("\\v"),
                '\u{c}' => text.push_str("\\f"),
                '\r' => text.push_str("\\r"),
                '\u{1b}' => text.push_str("\\e"),
                '"' => text.push_str("\\\""),
                '\\' => text.push_str("\\\\"),
                '\u{85}' => text.push_str("\\N"),
                '\u{a0}' => text.push_str("\\_"),
                '\u{2028}' => text.push_str("\\L"),
                '\u{2029}' => text.push_str("\\P"),
                c if is_printable(c) => text.push(c),
                c if (c as u32) <= 0xff => {
                    let _ = write!(text, "\\x{:02X}", c as u32);
                }
                c if (c as u32) <= 0xffff => {
                    let _ = write!(text, "\\u{:04X}", c as u32);
                }
                c => {
                    let _ = write!(text, "\\U{:08X}", c as u32);
                }
            }
        }
        text.push('"');
        self.push(&text);
    }
}

/// PyYAML's printable set with `allow_unicode=True`.
fn is_printable(c: char) -> bool {
    matches!(c, '\n' | ' '..='~' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
        && c != '\u{feff}'
}

/// What PyYAML's `analyze_scalar` decides about a string.
struct Analysis {
    multiline: bool,
    flow_plain: bool,
    block_plain: bool,
    single_quoted: bool,
}

impl Analysis {
    fn of(s: &str) -> Analysis {
        if s.is_empty() {
            return Analysis {
                multiline: false,
                flow_plain: false,
                block_plain: true,
                single_quoted: true,
            };
        }
        let chars: Vec<char> = s.chars().collect();
        let is_space = |c: char| {
            matches!(
                c,
                '\0' | ' ' | '\t' | '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}'
            )
        };
        let is_break = |c: char| matches!(c, '\n' | '\u{85}' | '\u{2028}' | '\u{2029}');
        let mut block_indicators = s.starts_with("---") || s.starts_with("...");
        let mut flow_indicators = block_indicators;
        let (mut line_breaks, mut special) = (false, false);
        let (mut leading, mut trailing, mut break_space, mut space_break) =
            (false, false, false, false);
        let (mut previous_space, mut previous_break) = (false, false);
        let mut preceded_by_space = true;
        for (index, &c) in chars.iter().enumerate() {
            let followed_by_space = chars.get(index + 1).is_none_or(|&n| is_space(n));
            if index == 0 {
                if "#,[]{}&*!|>'\"%@`".contains(c) {
                    flow_indicators = true;
                    block_indicators = true;
                }
                if c == '?' || c == ':' {
                    flow_indicators = true;
                    block_indicators |= followed_by_space;
                }
                if c == '-' && followed_by_space {
                    flow_indicators = true;
                    block_indicators = true;
                }
            } else {
                if ",?[]{}".contains(c) {
                    flow_indicators = true;
                }
                if c == ':' {
                    flow_indicators = true;
                    block_indicators |= followed_by_space;
                }
                if c == '#' && preceded_by_space {
                    flow_indicators = true;
                    block_indicators = true;
                }
            }
            line_breaks |= is_break(c);
            if !is_printable(c) {
                special = true;
            }
            let last = index + 1 == chars.len();
            if c == ' ' {
                leading |= index == 0;
                trailing |= last;
                break_space |= previous_break;
                (previous_space, previous_break) = (true, false);
            } else if is_break(c) {
                leading |= index == 0;
                trailing |= last;
                space_break |= previous_space;
                (previous_space, previous_break) = (false, true);
            } else {
                (previous_space, previous_break) = (false, false);
            }
            preceded_by_space = is_space(c);
        }
        let mut flow_plain = !(leading || trailing);
        let mut block_plain = flow_plain;
        let mut single_quoted = true;
        if break_space {
            (flow_plain, block_plain, single_quoted) = (false, false, false);
        }
        if space_break || special {
            (flow_plain, block_plain, single_quoted) = (false, false, false);
        }
        if line_breaks {
            (flow_plain, block_plain) = (false, false);
        }
        flow_plain &= !flow_indicators;
        block_plain &= !block_indicators;
        Analysis {
            multiline: line_breaks,
            flow_plain,
            block_plain,
            single_quoted,
        }
    }
}

/// Whether PyYAML would read the plain text back as something other than a string (a bool,
/// null, a number, a date, `<<` or `=`), so it must be quoted.
fn resolves_to_other_type(s: &str) -> bool {
    static OTHER: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"^(?:",
            r"yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF",
            r"|~|null|Null|NULL|<<|=",
            r"|[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?",
            r"|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?",
            r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*",
            r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
            r"|[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+",
            r"|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+",
            r"|[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]",
            r"|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?",
            r")$"
        ))
        .expect("valid")
    });
    s.is_empty() || OTHER.is_match(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_as_python_writes_it() {
        let value = json!({"b": [1, 2.5, 1e20], "a": {"x": "é\n\"q\""}, "c": {}, "d": []});
        let line = JsonStyle {
            indent: None,
            sort_keys: false,
        };
        assert_eq!(
            json(&value, &line).unwrap(),
            r#"{"b": [1, 2.5, 1e+20], "a": {"x": "\u00e9\n\"q\""}, "c": {}, "d": []}"#
        );
        let nice = JsonStyle {
            indent: Some(4),
            sort_keys: true,
        };
        assert_eq!(
            json(&json!({"b": [1], "a": {}}), &nice).unwrap(),
            "{\n    \"a\": {},\n    \"b\": [\n        1\n    ]\n}"
        );
    }

    #[test]
    fn yaml_as_pyyaml_writes_it() {
        let nice = YamlStyle {
            indent: 4,
            flow_leaves: false,
        };
        let value = json!({"z": [1, {"k": "v", "j": ["a"]}], "a": {"b": "yes", "c": "", "d": "x: y"}, "e": {}});
        assert_eq!(
            yaml(&value, &nice).unwrap(),
            "a:\n    b: 'yes'\n    c: ''\n    d: 'x: y'\ne: {}\nz:\n- 1\n-   j:\n    - a\n    k: v\n"
        );
        assert_eq!(yaml(&json!("abc"), &nice).unwrap(), "abc\n...\n");
        assert_eq!(yaml(&json!("1.0"), &nice).unwrap(), "'1.0'\n");
        let flow = YamlStyle {
            indent: 2,
            flow_leaves: true,
        };
        assert_eq!(
            yaml(&json!({"a": [1, "b"], "m": [{"k": 1}]}), &flow).unwrap(),
            "a: [1, b]\nm:\n- {k: 1}\n"
        );
    }

    #[test]
    fn indents_and_sizes_are_bounded() {
        let wide = JsonStyle {
            indent: Some(10_001),
            sort_keys: true,
        };
        let err = json(&json!([1]), &wide).unwrap_err();
        assert!(
            err.to_string()
                .contains("indent 10001 is over the limit of 10000"),
            "{err}"
        );
        let deep = YamlStyle {
            indent: 999_999_999,
            flow_leaves: false,
        };
        assert!(yaml(&json!({"a": {"b": 1}}), &deep).is_err());
        // Within the indent bound, the product of indent, depth and items is bounded too.
        let nested = json!([[[[[[[[[[(0..2000).collect::<Vec<_>>()]]]]]]]]]]);
        let most = JsonStyle {
            indent: Some(10_000),
            sort_keys: true,
        };
        let err = json(&nested, &most).unwrap_err();
        assert!(err.to_string().contains("passed 64 MB"), "{err}");
        let most = YamlStyle {
            indent: 10_000,
            flow_leaves: false,
        };
        assert!(yaml(&json!({"a": {"b": {"c": {"d": {"e": {"f": {"g": (0..2000).map(|i| json!({"k": i})).collect::<Vec<_>>()}}}}}}}), &most).is_err());
    }
}
