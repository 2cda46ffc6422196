//! JSON with the byte spans of its nodes (serde_json keeps none): a strict recursive-descent
//! reader whose scalars are decoded by serde_json, so both agree on what is valid.

use super::text::{Span, Style, TextFormat, leaf};
use super::{Kind, MAX_DEPTH, Node};

/// The JSON format.
pub(super) struct Json;

impl TextFormat for Json {
    fn scales_indentation(&self) -> bool {
        true
    }

    fn parse(&self, text: &str) -> Option<Node<Span>> {
        let mut reader = Reader {
            text,
            bytes: text.as_bytes(),
            at: 0,
        };
        reader.white();
        let root = reader.value(0)?;
        reader.white();
        (reader.at == text.len()).then_some(root)
    }
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn white(&mut self) {
        while self
            .bytes
            .get(self.at)
            .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        {
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.bytes.get(self.at) == Some(&byte)).then(|| self.at += 1)
    }

    fn value(&mut self, depth: usize) -> Option<Node<Span>> {
        if depth > MAX_DEPTH {
            return None;
        }
        let start = self.at;
        match self.bytes.get(self.at)? {
            b'{' => {
                self.at += 1;
                self.white();
                let mut entries = Vec::new();
                if self.eat(b'}').is_none() {
                    loop {
                        self.white();
                        let key_start = self.at;
                        let key = self.string()?;
                        self.white();
                        self.eat(b':')?;
                        self.white();
                        let mut value = self.value(depth + 1)?;
                        value.at.entry = key_start..value.at.value.end;
                        entries.push((key, value));
                        self.white();
                        if self.eat(b',').is_none() {
                            self.eat(b'}')?;
                            break;
                        }
                    }
                }
                Some(self.container(Kind::Map(entries), start))
            }
            b'[' => {
                self.at += 1;
                self.white();
                let mut items = Vec::new();
                if self.eat(b']').is_none() {
                    loop {
                        self.white();
                        items.push(self.value(depth + 1)?);
                        self.white();
                        if self.eat(b',').is_none() {
                            self.eat(b']')?;
                            break;
                        }
                    }
                }
                Some(self.container(Kind::Seq(items), start))
            }
            b'"' => {
                let s = self.string()?;
                Some(leaf(format!("s:{s}"), start..self.at, Style::Inline))
            }
            _ => {
                while self
                    .bytes
                    .get(self.at)
                    .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'+' | b'.'))
                {
                    self.at += 1;
                }
                let raw = &self.text[start..self.at];
                let canonical = match serde_json::from_str::<serde_json::Value>(raw).ok()? {
                    serde_json::Value::Null => "null".to_string(),
                    serde_json::Value::Bool(b) => format!("b:{b}"),
                    serde_json::Value::Number(n) => format!("n:{n}"),
                    _ => return None,
                };
                Some(leaf(canonical, start..self.at, Style::Inline))
            }
        }
    }

    fn container(&self, kind: Kind<Span>, start: usize) -> Node<Span> {
        Node {
            kind,
            at: Span {
                value: start..self.at,
                entry: start..self.at,
                style: Style::Flow,
            },
        }
    }

    /// A string at the cursor, decoded.
    fn string(&mut self) -> Option<String> {
        let start = self.at;
        self.eat(b'"')?;
        loop {
            match self.bytes.get(self.at)? {
                b'"' => break,
                b'\\' => self.at += 2,
                _ => self.at += 1,
            }
        }
        self.at += 1;
        serde_json::from_str(self.text.get(start..self.at)?).ok()
    }
}
