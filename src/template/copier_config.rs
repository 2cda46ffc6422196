//! copier's reading of `copier.yml` (`_template.py`'s `load_template_config`): several YAML
//! documents, merged (later ones win, `_exclude`, `_jinja_extensions`, `_secret_questions` and
//! `_skip_if_exists` are joined); a document that is `!include PATTERN` stands for the
//! documents of every template file the glob matches. YAML's safe loader constructs no Python
//! objects: a `!!python/…` tag is refused, as copier refuses it.

use granit_parser::{Event, Parser};
use serde_json::{Map, Value};

use super::yaml::{self, YamlError};

/// The files a pattern of `!include` names, with their text, sorted by path; or why not.
pub type Includer<'a> = &'a dyn Fn(&str) -> Result<Vec<(String, String)>, String>;

/// The settings copier joins across documents rather than taking the last one's.
const JOINED: [&str; 4] = [
    "_exclude",
    "_jinja_extensions",
    "_secret_questions",
    "_skip_if_exists",
];

/// YAML's own tags, which copier's safe loader reads.
const CORE_TAGS: [&str; 9] = [
    "str", "int", "float", "bool", "null", "seq", "map", "merge", "value",
];

/// Nested `!include`s deeper than this are a loop.
const MAX_DEPTH: usize = 16;

/// `copier.yml` (its `text`, read from `origin`) as one mapping, as copier merges it.
pub fn load(
    text: &str,
    origin: &str,
    include: Includer<'_>,
) -> Result<Map<String, Value>, YamlError> {
    let mut documents = Vec::new();
    documents_of(text, origin, include, 0, &mut documents)?;
    let mut merged = Map::new();
    for document in &documents {
        for (key, value) in document {
            merged.insert(key.clone(), value.clone());
        }
    }
    for key in JOINED {
        let joined: Vec<Value> = documents
            .iter()
            .filter_map(|d| d.get(key))
            .flat_map(|v| match v {
                Value::Array(items) => items.clone(),
                other => vec![other.clone()],
            })
            .collect();
        if documents.iter().filter(|d| d.contains_key(key)).count() > 1 {
            merged.insert(key.to_string(), Value::Array(joined));
        }
    }
    Ok(merged)
}

/// What one YAML document of the file is.
enum Document {
    /// Text between these byte offsets, starting at this line and column (0-based).
    Text {
        start: usize,
        end: usize,
        line: usize,
        col: usize,
    },
    /// `!include PATTERN`.
    Include(String),
}

fn at(origin: &str, line: usize, col: usize, message: String) -> YamlError {
    YamlError {
        origin: origin.to_string(),
        line: Some(line as u64),
        column: Some(col as u64 + 1),
        message,
    }
}

/// The mappings of `text`'s documents, includes expanded, empty documents left out, a
/// document that is a list read as its items (copier flattens them).
fn documents_of(
    text: &str,
    origin: &str,
    include: Includer<'_>,
    depth: usize,
    out: &mut Vec<Map<String, Value>>,
) -> Result<(), YamlError> {
    for document in split(text, origin)? {
        match document {
            Document::Include(pattern) => {
                if depth >= MAX_DEPTH {
                    return Err(at(
                        origin,
                        1,
                        0,
                        format!(
                            "!include {pattern}: includes nested more than {MAX_DEPTH} deep (an include of itself?)"
                        ),
                    ));
                }
                let relative = pattern.trim();
                if relative.starts_with('/') {
                    return Err(at(
                        origin,
                        1,
                        0,
                        "YAML include file path must be a relative path".to_string(),
                    ));
                }
                // Named relative to the template's root; the caller, which knows where that
                // is, names it absolutely as copier does.
                let relative = normalized(relative).map_err(|above| {
                    at(
                        origin,
                        1,
                        0,
                        format!(
                            "\"{above}\" is forbidden: YAML include file path must be inside the template directory"
                        ),
                    )
                })?;
                let files = include(&relative)
                    .map_err(|m| at(origin, 1, 0, format!("!include {relative}: {m}")))?;
                for (path, text) in files {
                    documents_of(&text, &path, include, depth + 1, out)?;
                }
            }
            Document::Text {
                start,
                end,
                line,
                col,
            } => {
                // Padded so that errors point at the line and column in the whole file.
                let padded = format!(
                    "{}{}{}",
                    "\n".repeat(line.saturating_sub(1)),
                    " ".repeat(col),
                    &text[start..end]
                );
                match yaml::parse::<Value>(&padded, origin)? {
                    Value::Null => {}
                    Value::Object(map) => out.push(map),
                    Value::Array(items) => {
                        for item in items {
                            match item {
                                Value::Object(map) => out.push(map),
                                Value::Null => {}
                                other => {
                                    return Err(at(
                                        origin,
                                        line,
                                        col,
                                        format!(
                                            "a document of copier.yml is a list holding `{other}`: copier merges mappings only"
                                        ),
                                    ));
                                }
                            }
                        }
                    }
                    other => {
                        return Err(at(
                            origin,
                            line,
                            col,
                            format!(
                                "a document of copier.yml is `{other}`, not a mapping of settings and questions"
                            ),
                        ));
                    }
                }
            }
        }
    }
    Ok(())
}

/// An `!include` pattern with `.` and `NAME/..` undone; when it leads above the template's
/// root, `Err` with that path (`../outside/x.yml`).
fn normalized(pattern: &str) -> Result<String, String> {
    let mut kept: Vec<&str> = Vec::new();
    let mut above = 0;
    for part in pattern.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if kept.pop().is_none() {
                    above += 1;
                }
            }
            other => kept.push(other),
        }
    }
    match above {
        0 => Ok(kept.join("/")),
        _ => Err(format!("{}{}", "../".repeat(above), kept.join("/"))),
    }
}

/// The documents of `text`, every tag checked.
fn split(text: &str, origin: &str) -> Result<Vec<Document>, YamlError> {
    let mut documents = Vec::new();
    let mut depth = 0usize;
    let mut current: Option<(usize, usize, usize)> = None;
    let mut root_include: Option<String> = None;
    let mut nodes_in_document = 0usize;
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| {
            let mark = e.marker();
            at(origin, mark.line(), mark.col(), e.info())
        })?;
        let start = span.start.byte_offset().unwrap_or(0);
        let end = span.end.byte_offset().unwrap_or(text.len());
        match &event {
            Event::DocumentStart(..) => {
                current = Some((start, span.start.line(), span.start.col()));
                root_include = None;
                nodes_in_document = 0;
                depth = 0;
            }
            Event::DocumentEnd => {
                let (doc_start, line, col) = current.take().unwrap_or((start, 1, 0));
                match root_include.take() {
                    Some(pattern) => documents.push(Document::Include(pattern)),
                    None => documents.push(Document::Text {
                        start: doc_start,
                        end: end.max(doc_start),
                        line,
                        col,
                    }),
                }
            }
            Event::Scalar(value, _, _, tag) => {
                if let Some(tag) = tag {
                    let is_include = tag.handle() == "!" && tag.suffix() == "include";
                    let mark = span.tag_start.unwrap_or(span.start);
                    if is_include && depth == 0 && nodes_in_document == 0 {
                        root_include = Some(value.to_string());
                    } else if is_include {
                        return Err(at(origin, mark.line(), mark.col(),
                            "`!include` inside a value: factory reads `!include` only as a whole document (`--- !include FILE`), as copier's templates use it".to_string()));
                    } else {
                        check_tag(tag, origin, mark.line(), mark.col())?;
                    }
                }
                nodes_in_document += 1;
            }
            Event::SequenceStart(_, _, tag) | Event::MappingStart(_, _, tag) => {
                if let Some(tag) = tag {
                    let mark = span.tag_start.unwrap_or(span.start);
                    if tag.handle() == "!" && tag.suffix() == "include" {
                        return Err(at(origin, mark.line(), mark.col(),
                            "Unsupported YAML node: `!include` takes a file name or a glob, not a list or a mapping".to_string()));
                    }
                    check_tag(tag, origin, mark.line(), mark.col())?;
                }
                depth += 1;
                nodes_in_document += 1;
            }
            Event::SequenceEnd | Event::MappingEnd => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(documents)
}

/// YAML's own tags pass; a Python object's is refused as copier's safe loader refuses it.
fn check_tag(
    tag: &granit_parser::Tag,
    origin: &str,
    line: usize,
    col: usize,
) -> Result<(), YamlError> {
    let core = tag.handle() == "tag:yaml.org,2002:";
    if core && CORE_TAGS.contains(&tag.suffix()) {
        return Ok(());
    }
    let written = if core {
        format!("!!{}", tag.suffix())
    } else {
        tag.to_string()
    };
    let message = if tag.suffix().starts_with("python/") {
        format!(
            "INVALID CONFIG FILE: the tag `{written}` would construct a Python object; copier reads copier.yml with YAML's safe loader, which refuses it, and so does factory"
        )
    } else {
        format!(
            "INVALID CONFIG FILE: the tag `{written}` is not one copier's loader reads (it reads `!include` and YAML's own tags)"
        )
    };
    Err(at(origin, line, col, message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn files(pattern: &str) -> Result<Vec<(String, String)>, String> {
        let all = [
            (
                "common_jinja.yml",
                "_templates_suffix: .tmpl\n_exclude: [a]\n",
            ),
            (
                "common_questions.yml",
                "your_age:\n  type: int\nyour_name:\n  type: yaml\n",
            ),
            ("exclusions.yml", "_exclude: ['*.yml']\n"),
        ];
        let glob = globset::Glob::new(pattern)
            .map_err(|e| e.to_string())?
            .compile_matcher();
        Ok(all
            .iter()
            .filter(|(p, _)| glob.is_match(p))
            .map(|(p, t)| (p.to_string(), t.to_string()))
            .collect())
    }

    #[test]
    fn documents_and_includes_merge_as_copier_merges_them() {
        let text = "---\n!include 'common_*.yml'\n---\n!include exclusions.yml\n---\n\n---\nyour_name:\n  type: str\n";
        let merged = load(text, "copier.yml", &files).unwrap();
        assert_eq!(
            Value::Object(merged),
            json!({
                "_templates_suffix": ".tmpl",
                "_exclude": ["a", "*.yml"],
                "your_age": {"type": "int"},
                "your_name": {"type": "str"},
            })
        );
    }

    #[test]
    fn python_tags_are_refused_with_where_they_are() {
        let error = load(
            "q:\n  type: str\n  default: !!python/name:os.system\n",
            "copier.yml",
            &files,
        )
        .unwrap_err();
        assert_eq!(error.location(), "copier.yml:3:12");
        assert!(
            error.message.contains("`!!python/name:os.system`"),
            "{}",
            error.message
        );
        let error = load("!include /etc/passwd\n", "copier.yml", &files).unwrap_err();
        assert!(error.message.contains("must be a relative path"));
        let error = load("a: 1\nb: [\n", "copier.yml", &files).unwrap_err();
        assert_eq!(error.origin, "copier.yml");
        assert!(error.line.is_some());
    }
}
