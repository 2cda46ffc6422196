//! YAML with the byte spans of its nodes, from the events of granit-parser (the parser
//! serde-saphyr reads YAML with). One document of maps, lists and scalars; anchors, aliases,
//! tags, complex keys and `|+` / `|2` block scalars are left to the line merge.

use std::ops::Range;

use granit_parser::{Event, Parser, ScalarStyle, StructureStyle};

use super::text::{Span, Style, TextFormat, leaf};
use super::{Kind, MAX_DEPTH, Node};

/// The YAML format.
pub(super) struct Yaml;

impl TextFormat for Yaml {
    fn scales_indentation(&self) -> bool {
        false
    }

    fn parse(&self, text: &str) -> Option<Node<Span>> {
        let mut events = Vec::new();
        for event in Parser::new_from_str(text) {
            let (event, span) = event.ok()?;
            // Comments are kept as bytes of the lines they are on.
            if !matches!(event, Event::Comment(..)) {
                events.push((event, span.byte_range()?));
            }
        }
        let mut reader = Reader {
            text,
            events,
            at: 0,
        };
        reader.expect(|e| matches!(e, Event::StreamStart))?;
        reader.expect(|e| matches!(e, Event::DocumentStart(..)))?;
        let root = reader.node(0)?;
        reader.expect(|e| matches!(e, Event::DocumentEnd))?;
        reader.expect(|e| matches!(e, Event::StreamEnd))?;
        Some(root)
    }
}

/// Why `text` is not valid YAML: a syntax error, or a key given twice in one mapping.
pub(super) fn problem(text: &str) -> Option<String> {
    // Per open collection: for a mapping, its keys so far and whether a key comes next.
    let mut open: Vec<Option<(Vec<String>, bool)>> = Vec::new();
    for event in Parser::new_from_str(text) {
        let (event, span) = match event {
            Ok(e) => e,
            Err(e) => return Some(e.to_string()),
        };
        let is_key = matches!(open.last(), Some(Some((_, true))));
        if let (true, Event::Scalar(key, ..)) = (is_key, &event) {
            let Some(Some((keys, _))) = open.last_mut() else {
                unreachable!("a mapping is open")
            };
            if keys.iter().any(|k| k == key.as_ref()) {
                let at = span.byte_range().map_or(0, |r| r.start);
                let line = text.get(..at).unwrap_or_default().matches('\n').count() + 1;
                return Some(format!(
                    "line {line}: the key `{key}` appears twice in one mapping"
                ));
            }
            keys.push(key.to_string());
        }
        let starts_node = matches!(
            event,
            Event::Scalar(..)
                | Event::Alias(..)
                | Event::SequenceStart(..)
                | Event::MappingStart(..)
        );
        // A node in a mapping flips it between key and value.
        if starts_node && let Some(Some((_, next_is_key))) = open.last_mut() {
            *next_is_key = !*next_is_key;
        }
        match event {
            Event::MappingStart(..) => open.push(Some((Vec::new(), true))),
            Event::SequenceStart(..) => open.push(None),
            Event::MappingEnd | Event::SequenceEnd => {
                open.pop();
            }
            _ => {}
        }
    }
    None
}

struct Reader<'a> {
    text: &'a str,
    events: Vec<(Event<'a>, Range<usize>)>,
    at: usize,
}

impl<'a> Reader<'a> {
    fn next(&mut self) -> Option<(Event<'a>, Range<usize>)> {
        let next = self.events.get(self.at)?.clone();
        self.at += 1;
        Some(next)
    }

    fn expect(&mut self, want: impl Fn(&Event<'a>) -> bool) -> Option<()> {
        let (event, _) = self.next()?;
        want(&event).then_some(())
    }

    fn peek_end(&self) -> bool {
        matches!(
            self.events.get(self.at),
            Some((Event::SequenceEnd | Event::MappingEnd, _))
        )
    }

    fn node(&mut self, depth: usize) -> Option<Node<Span>> {
        if depth > MAX_DEPTH {
            return None;
        }
        let (event, span) = self.next()?;
        match event {
            Event::Scalar(value, style, anchor, tag) => {
                if anchor != 0 || tag.is_some() {
                    return None;
                }
                self.scalar(&value, style, span)
            }
            Event::SequenceStart(style, anchor, tag) => {
                if anchor != 0 || tag.is_some() {
                    return None;
                }
                let mut items = Vec::new();
                while !self.peek_end() {
                    let mut item = self.node(depth + 1)?;
                    if style == StructureStyle::Block {
                        // A block item is written from its dash.
                        let before = self.text[..item.at.value.start].trim_end();
                        if !before.ends_with('-') {
                            return None;
                        }
                        item.at.entry = before.len() - 1..item.at.entry.end;
                    }
                    items.push(item);
                }
                let (_, end) = self.next()?;
                Some(self.container(Kind::Seq(items), style, span.start, end.end))
            }
            Event::MappingStart(style, anchor, tag) => {
                if anchor != 0 || tag.is_some() {
                    return None;
                }
                let mut entries = Vec::new();
                while !self.peek_end() {
                    let (Event::Scalar(key, key_style, 0, None), key_span) = self.next()? else {
                        return None;
                    };
                    if matches!(key_style, ScalarStyle::Literal | ScalarStyle::Folded) {
                        return None;
                    }
                    let mut value = self.node(depth + 1)?;
                    if value.at.value.is_empty() {
                        // An empty value (`key:`) is placed after its colon.
                        let after = &self.text[key_span.end..];
                        let colon = after.find(|c: char| c != ' ' && c != '\t')?;
                        if !after[colon..].starts_with(':') {
                            return None;
                        }
                        let at = key_span.end + colon + 1;
                        value.at.value = at..at;
                        value.at.entry = at..at;
                    }
                    value.at.entry = key_span.start..value.at.entry.end.max(key_span.end);
                    entries.push((key.into_owned(), value));
                }
                let (_, end) = self.next()?;
                Some(self.container(Kind::Map(entries), style, span.start, end.end))
            }
            _ => None,
        }
    }

    fn container(
        &self,
        kind: Kind<Span>,
        style: StructureStyle,
        start: usize,
        flow_end: usize,
    ) -> Node<Span> {
        let (end, style) = match style {
            StructureStyle::Flow => (flow_end, Style::Flow),
            // A block collection ends with its last child (its end event is at the next token).
            StructureStyle::Block => {
                let last = match &kind {
                    Kind::Map(entries) => entries.last().map(|(_, n)| n.at.entry.end),
                    Kind::Seq(items) => items.last().map(|n| n.at.entry.end),
                    Kind::Leaf(_) => None,
                };
                (last.unwrap_or(start), Style::Block)
            }
        };
        Node {
            kind,
            at: Span {
                value: start..end,
                entry: start..end,
                style,
            },
        }
    }

    fn scalar(&self, value: &str, style: ScalarStyle, span: Range<usize>) -> Option<Node<Span>> {
        match style {
            ScalarStyle::Literal | ScalarStyle::Folded => {
                // Its span runs on to the next token: it ends at its last character.
                let header = self.text[..span.start].trim_end_matches([' ', '\n', '\r']);
                let line = &header[header.rfind('\n').map_or(0, |i| i + 1)..];
                let indicators = line.rsplit(['|', '>']).next()?;
                let indicators = indicators.split('#').next()?.trim();
                // Kept trailing lines (`+`) and explicit indentation change with the lines
                // around them.
                if !(indicators.is_empty() || indicators == "-") {
                    return None;
                }
                let body = &self.text[span.clone()];
                let end = span.start + body.trim_end().len();
                Some(leaf(
                    format!("s:{value}"),
                    span.start..end,
                    Style::BlockScalar,
                ))
            }
            ScalarStyle::Plain => Some(leaf(plain(value), span, Style::Inline)),
            _ => Some(leaf(format!("s:{value}"), span, Style::Inline)),
        }
    }
}

/// A plain scalar's value under YAML 1.2's core schema.
fn plain(value: &str) -> String {
    match value {
        "" | "~" | "null" | "Null" | "NULL" => return "null".to_string(),
        "true" | "True" | "TRUE" => return "b:true".to_string(),
        "false" | "False" | "FALSE" => return "b:false".to_string(),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return "f:inf".to_string(),
        "-.inf" | "-.Inf" | "-.INF" => return "f:-inf".to_string(),
        ".nan" | ".NaN" | ".NAN" => return "f:nan".to_string(),
        _ => {}
    }
    let int = if let Some(octal) = value.strip_prefix("0o") {
        i128::from_str_radix(octal, 8).ok()
    } else if let Some(hex) = value.strip_prefix("0x") {
        i128::from_str_radix(hex, 16).ok()
    } else if value
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'-' || b == b'+')
    {
        value.parse::<i128>().ok()
    } else {
        None
    };
    if let Some(int) = int {
        return format!("i:{int}");
    }
    let float_like = value.bytes().any(|b| b.is_ascii_digit())
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'));
    match value.parse::<f64>() {
        Ok(f) if float_like => format!("f:{f:?}"),
        _ => format!("s:{value}"),
    }
}
