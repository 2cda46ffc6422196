//! Answers read from stdin when it is not a terminal, the way each template's tool reads
//! them there (copier's and cookiecutter's own test suites drive their prompts over a pipe):
//! copier's questionary prompts as keystrokes (the default already typed in, arrow keys,
//! space, y/n, Alt+Enter), cookiecutter's and factory's one answer a line. Questions are
//! shown on stderr. When stdin ends, the questions left take their defaults and those
//! without one are missing (the caller names them).

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;

use serde_json::Value;

use crate::template::answers::Asker;
use crate::template::manifest::{AskStyle, ParamType, Parameter};
use crate::template::params;

/// One key, as prompt_toolkit reads it from a byte stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Char(char),
    /// `\r` or `\n` (prompt_toolkit handles `\n` as Enter).
    Enter,
    /// Escape then Enter, or Alt+Enter: ends a multi-line answer.
    AltEnter,
    Up,
    Down,
    Left,
    Right,
    Home,
    End,
    Backspace,
    /// Alt+Backspace: the word before the cursor goes.
    AltBackspace,
    Delete,
    Interrupt,
    /// Anything else (Tab, other control keys and escape sequences): ignored.
    Other,
}

/// stdin as keys, with what was read but not used kept for the next question (as
/// prompt_toolkit's type-ahead does).
struct Keys<R> {
    reader: R,
    fd: Option<i32>,
    bytes: VecDeque<u8>,
    ended: bool,
}

impl<R: Read> Keys<R> {
    fn new(reader: R, fd: Option<i32>) -> Self {
        Keys {
            reader,
            fd,
            bytes: VecDeque::new(),
            ended: false,
        }
    }

    /// Reads what is there (waiting for it); false once the input ended.
    fn fill(&mut self) -> bool {
        if self.ended {
            return false;
        }
        let mut chunk = [0u8; 4096];
        loop {
            match self.reader.read(&mut chunk) {
                Ok(0) => {
                    self.ended = true;
                    return false;
                }
                Ok(n) => {
                    self.bytes.extend(&chunk[..n]);
                    return true;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => {
                    self.ended = true;
                    return false;
                }
            }
        }
    }

    /// Whether more input is ready within `millis` (always true without a descriptor).
    fn ready(&self, millis: i32) -> bool {
        let Some(fd) = self.fd else { return true };
        let mut poll = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd for the length given.
        let n = unsafe { libc::poll(&mut poll, 1, millis) };
        n > 0
    }

    /// Whether the input has ended, known without waiting: an empty pipe still open is not.
    fn ended_now(&mut self) -> bool {
        if self.bytes.is_empty() && !self.ended && self.ready(0) {
            self.fill();
        }
        self.bytes.is_empty() && self.ended
    }

    /// The next key among the bytes already read; `None` when they are used up.
    fn next(&mut self) -> Option<Key> {
        let first = *self.bytes.front()?;
        if first == 0x1b {
            // A lone Escape may be the start of a sequence still on its way.
            if self.bytes.len() < 3 && !self.ended && self.ready(50) {
                self.fill();
            }
            return Some(self.escape());
        }
        if first >= 0x80 {
            return Some(self.utf8());
        }
        self.bytes.pop_front();
        Some(match first {
            b'\r' | b'\n' => Key::Enter,
            0x08 | 0x7f => Key::Backspace,
            0x03 => Key::Interrupt,
            0x01 => Key::Home,
            0x05 => Key::End,
            0x0e => Key::Down,
            0x10 => Key::Up,
            0x02 => Key::Left,
            0x06 => Key::Right,
            0x04 => Key::Delete,
            c if c < 0x20 => Key::Other,
            c => Key::Char(c as char),
        })
    }

    fn escape(&mut self) -> Key {
        self.bytes.pop_front();
        let Some(&second) = self.bytes.front() else {
            return Key::Other;
        };
        match second {
            b'\r' | b'\n' => {
                self.bytes.pop_front();
                Key::AltEnter
            }
            0x08 | 0x7f => {
                self.bytes.pop_front();
                Key::AltBackspace
            }
            b'[' | b'O' => {
                self.bytes.pop_front();
                // Parameters, then one final byte in @..~.
                let mut body = Vec::new();
                while let Some(b) = self.bytes.pop_front() {
                    body.push(b);
                    if (0x40..=0x7e).contains(&b) {
                        break;
                    }
                }
                match body.as_slice() {
                    b"A" => Key::Up,
                    b"B" => Key::Down,
                    b"C" => Key::Right,
                    b"D" => Key::Left,
                    b"H" | b"1~" | b"7~" => Key::Home,
                    b"F" | b"4~" | b"8~" => Key::End,
                    b"3~" => Key::Delete,
                    _ => Key::Other,
                }
            }
            // Alt with another key: nothing copier's prompts use.
            _ => {
                self.bytes.pop_front();
                Key::Other
            }
        }
    }

    fn utf8(&mut self) -> Key {
        let first = self.bytes[0];
        let len = match first {
            0xc0..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xf7 => 4,
            _ => 1,
        };
        while self.bytes.len() < len && !self.ended && self.fill() {}
        let taken: Vec<u8> = (0..len.min(self.bytes.len()))
            .filter_map(|_| self.bytes.pop_front())
            .collect();
        std::str::from_utf8(&taken)
            .ok()
            .and_then(|s| s.chars().next())
            .map_or(Key::Other, Key::Char)
    }

    /// One line (without its end); `None` once the input ended with nothing left.
    fn line(&mut self) -> Option<String> {
        loop {
            if let Some(end) = self.bytes.iter().position(|b| *b == b'\n') {
                let mut line: Vec<u8> = self.bytes.drain(..=end).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Some(String::from_utf8_lossy(&line).into_owned());
            }
            if !self.fill() {
                // A last line without its newline is still an answer.
                if self.bytes.is_empty() {
                    return None;
                }
                let line: Vec<u8> = self.bytes.drain(..).collect();
                return Some(String::from_utf8_lossy(&line).into_owned());
            }
        }
    }
}

/// Why a question was not answered.
enum Unanswered {
    /// The input ended.
    Ended,
    /// ^C was read.
    Interrupted,
}

/// Reads answers from stdin, showing each question on stderr.
pub struct PipeAsker<R, W> {
    keys: Keys<R>,
    out: W,
    number: usize,
}

impl PipeAsker<std::io::Stdin, std::io::Stderr> {
    /// Answers from this process's stdin.
    pub fn stdin() -> Self {
        let stdin = std::io::stdin();
        let fd = stdin.as_raw_fd();
        PipeAsker {
            keys: Keys::new(stdin, Some(fd)),
            out: std::io::stderr(),
            number: 0,
        }
    }
}

impl<R: Read, W: Write> Asker for PipeAsker<R, W> {
    fn ask(
        &mut self,
        param: &Parameter,
        default: Option<&Value>,
        check: &dyn Fn(&Value) -> Result<(), String>,
    ) -> Result<Option<Value>, String> {
        // Nothing is shown when there is nothing left to answer with (`</dev/null` in CI).
        if self.keys.ended_now() {
            return Ok(None);
        }
        self.number += 1;
        let asked = match param.asking.style {
            AskStyle::Copier => self.copier(param, default, check),
            AskStyle::Cookiecutter | AskStyle::Factory => self.lines(param, default, check),
        };
        let _ = self.out.flush();
        match asked {
            Ok(value) => Ok(Some(value)),
            Err(Unanswered::Ended) => {
                let _ = writeln!(self.out);
                Ok(None)
            }
            Err(Unanswered::Interrupted) => {
                // As a ^C on a terminal: nothing was written yet, and the process ends.
                let _ = writeln!(self.out, "\nExecution stopped by user");
                let _ = self.out.flush();
                std::process::exit(130);
            }
        }
    }
}

/// Another asker that also asks the questions `--ask` names, whatever else would leave them
/// unasked; with `--defaults`, only those.
pub struct Forced {
    asker: Box<dyn Asker>,
    patterns: globset::GlobSet,
    only: bool,
}

impl Forced {
    /// `asker`, forced for the names matching any of `patterns` (globs, as copier's
    /// fnmatch), asking nothing else when `only`.
    pub fn new(
        asker: Box<dyn Asker>,
        patterns: &[String],
        only: bool,
    ) -> crate::error::Result<Self> {
        let mut set = globset::GlobSetBuilder::new();
        for pattern in patterns {
            let glob = globset::Glob::new(pattern).map_err(|e| {
                crate::error::Error::usage(format!("--ask {pattern}: not a pattern: {e}"))
            })?;
            set.add(glob);
        }
        let patterns = set
            .build()
            .map_err(|e| crate::error::Error::usage(format!("--ask: {e}")))?;
        Ok(Forced {
            asker,
            patterns,
            only,
        })
    }
}

impl Asker for Forced {
    fn ask(
        &mut self,
        param: &Parameter,
        default: Option<&Value>,
        check: &dyn Fn(&Value) -> Result<(), String>,
    ) -> Result<Option<Value>, String> {
        self.asker.ask(param, default, check)
    }

    fn asks_for(&self, param: &Parameter, default: Option<&Value>) -> bool {
        !self.only && self.asker.asks_for(param, default)
    }

    fn previous(&self, name: &str) -> Option<Value> {
        self.asker.previous(name)
    }

    fn forced(&self, name: &str) -> bool {
        self.patterns.is_match(name)
    }
}

/// The type name copier shows after the question's name.
fn type_name(param: &Parameter) -> String {
    if let Some(name) = &param.asking.type_name {
        return name.clone();
    }
    match param.kind {
        ParamType::Bool => "bool",
        ParamType::Int => "int",
        ParamType::Float => "float",
        ParamType::Yaml => "yaml",
        _ => "str",
    }
    .to_string()
}

/// The labels shown for the choices.
fn labels(param: &Parameter) -> Vec<String> {
    let choices = param.choices.as_deref().unwrap_or_default();
    choices
        .iter()
        .enumerate()
        .map(|(i, c)| {
            param
                .asking
                .labels
                .get(i)
                .cloned()
                .unwrap_or_else(|| params::display_value(c))
        })
        .collect()
}

/// A text answer being edited: the characters and the cursor.
#[derive(Default)]
struct Line {
    chars: Vec<char>,
    cursor: usize,
}

impl Line {
    fn with(text: &str) -> Self {
        let chars: Vec<char> = text.chars().collect();
        Line {
            cursor: chars.len(),
            chars,
        }
    }

    fn text(&self) -> String {
        self.chars.iter().collect()
    }

    /// Applies an editing key; whether the text changed.
    fn edit(&mut self, key: Key) -> bool {
        match key {
            Key::Char(c) => {
                self.chars.insert(self.cursor, c);
                self.cursor += 1;
                true
            }
            Key::Backspace if self.cursor > 0 => {
                self.cursor -= 1;
                self.chars.remove(self.cursor);
                true
            }
            Key::Delete if self.cursor < self.chars.len() => {
                self.chars.remove(self.cursor);
                true
            }
            Key::AltBackspace => {
                // prompt_toolkit's words: runs of [A-Za-z0-9_], or of other non-blanks.
                let word = |c: char| c.is_alphanumeric() || c == '_';
                let mut start = self.cursor;
                while start > 0 && self.chars[start - 1].is_whitespace() {
                    start -= 1;
                }
                if start > 0 {
                    let kind = word(self.chars[start - 1]);
                    while start > 0
                        && !self.chars[start - 1].is_whitespace()
                        && word(self.chars[start - 1]) == kind
                    {
                        start -= 1;
                    }
                }
                let changed = start < self.cursor;
                self.chars.drain(start..self.cursor);
                self.cursor = start;
                changed
            }
            Key::Left => {
                self.cursor = self.cursor.saturating_sub(1);
                false
            }
            Key::Right => {
                self.cursor = (self.cursor + 1).min(self.chars.len());
                false
            }
            Key::Home => {
                self.cursor = 0;
                false
            }
            Key::End => {
                self.cursor = self.chars.len();
                false
            }
            _ => false,
        }
    }
}

impl<R: Read, W: Write> PipeAsker<R, W> {
    fn say(&mut self, text: &str) {
        let _ = writeln!(self.out, "{text}");
    }

    /// The next key, waiting for input; the input's end or ^C stop the question.
    fn key(&mut self, idle: &mut dyn FnMut(&mut Self)) -> Result<Key, Unanswered> {
        loop {
            if let Some(key) = self.keys.next() {
                return match key {
                    Key::Interrupt => Err(Unanswered::Interrupted),
                    key => Ok(key),
                };
            }
            // Everything read so far is handled: what a terminal would show now.
            idle(self);
            let _ = self.out.flush();
            if !self.keys.fill() {
                return Err(Unanswered::Ended);
            }
        }
    }

    /// A copier question, as questionary asks it.
    fn copier(
        &mut self,
        param: &Parameter,
        default: Option<&Value>,
        check: &dyn Fn(&Value) -> Result<(), String>,
    ) -> Result<Value, Unanswered> {
        let qmark = param
            .asking
            .qmark
            .clone()
            .unwrap_or_else(|| if param.secret { "🕵️" } else { "🎤" }.to_string());
        let kind = type_name(param);
        // copier shows the help instead of the name, or the name with its type.
        let message = match param.help.as_deref().map(str::trim_end) {
            Some(help) if !help.is_empty() => help.to_string(),
            _ if kind == "str" => param.name.clone(),
            _ => format!("{} ({kind})", param.name),
        };
        self.say(&format!("{qmark} {message}"));
        match param.kind {
            ParamType::Bool => self.confirm(default),
            ParamType::Choice => self.select(param, default, check),
            ParamType::Multichoice => self.checkbox(param, default, check),
            _ => self.text(param, &kind, default, check),
        }
    }

    fn confirm(&mut self, default: Option<&Value>) -> Result<Value, Unanswered> {
        let default = default.and_then(Value::as_bool).unwrap_or(false);
        self.say(if default { "   (Y/n)" } else { "   (y/N)" });
        // y and n answer at once, as questionary's confirm does; Enter takes the default.
        let answer = loop {
            match self.key(&mut |_| {})? {
                Key::Char('y' | 'Y') => break true,
                Key::Char('n' | 'N') => break false,
                Key::Enter | Key::AltEnter => break default,
                _ => {}
            }
        };
        self.say(if answer { "   → Yes" } else { "   → No" });
        Ok(Value::Bool(answer))
    }

    fn select(
        &mut self,
        param: &Parameter,
        default: Option<&Value>,
        check: &dyn Fn(&Value) -> Result<(), String>,
    ) -> Result<Value, Unanswered> {
        let choices = param.choices.clone().unwrap_or_default();
        if choices.is_empty() {
            return Err(Unanswered::Ended);
        }
        let labels = labels(param);
        // A choice whose own validator refuses it cannot be picked (questionary's disabled):
        // copier's were rendered before the question (`disabled_choices`), others are tried.
        let disabled: Vec<Option<String>> = choices
            .iter()
            .map(
                |c| match param.disabled_choices.iter().find(|(v, _)| v == c) {
                    Some((_, why)) => Some(why.clone()),
                    None if param.copier_type.is_some() => None,
                    None => param
                        .choice_validators
                        .iter()
                        .any(|(v, _)| params::same_choice(v, c))
                        .then(|| check(c).err())
                        .flatten(),
                },
            )
            .collect();
        let enabled = |i: usize| disabled[i].is_none();
        let mut at = default
            .and_then(|d| choices.iter().position(|c| params::is_choice(param, c, d)))
            .filter(|i| enabled(*i))
            .or_else(|| (0..choices.len()).find(|i| enabled(*i)))
            .unwrap_or(0);
        self.say("   (Use arrow keys)");
        for (i, label) in labels.iter().enumerate() {
            match &disabled[i] {
                Some(why) => self.say(&format!("   - {label} ({why})")),
                None if i == at => self.say(&format!(" » {label}")),
                None => self.say(&format!("   {label}")),
            }
        }
        let count = choices.len();
        loop {
            let step = match self.key(&mut |_| {})? {
                Key::Up | Key::Char('k') => count - 1,
                Key::Down | Key::Char('j') => 1,
                Key::Enter | Key::AltEnter => {
                    self.say(&format!("   → {}", labels[at]));
                    return Ok(choices[at].clone());
                }
                _ => continue,
            };
            if (0..count).any(enabled) {
                at = (at + step) % count;
                while !enabled(at) {
                    at = (at + step) % count;
                }
            }
        }
    }

    fn checkbox(
        &mut self,
        param: &Parameter,
        default: Option<&Value>,
        check: &dyn Fn(&Value) -> Result<(), String>,
    ) -> Result<Value, Unanswered> {
        let choices = param.choices.clone().unwrap_or_default();
        let labels = labels(param);
        let count = choices.len();
        let mut chosen: Vec<bool> = choices
            .iter()
            .map(|c| {
                default
                    .and_then(Value::as_array)
                    .is_some_and(|d| d.iter().any(|v| params::is_choice(param, c, v)))
            })
            .collect();
        let mut at = 0;
        self.say("   (Use arrow keys to move, <space> to select, <a> to toggle, <i> to invert)");
        for (i, label) in labels.iter().enumerate() {
            let mark = if chosen[i] { "●" } else { "○" };
            let pointer = if i == at { "»" } else { " " };
            self.say(&format!(" {pointer} {mark} {label}"));
        }
        let picked = |chosen: &[bool]| {
            Value::Array(
                choices
                    .iter()
                    .zip(chosen)
                    .filter(|(_, on)| **on)
                    .map(|(c, _)| c.clone())
                    .collect(),
            )
        };
        loop {
            match self.key(&mut |_| {})? {
                Key::Up | Key::Char('k') if count > 0 => at = (at + count - 1) % count,
                Key::Down | Key::Char('j') if count > 0 => at = (at + 1) % count,
                Key::Char(' ') if count > 0 => chosen[at] = !chosen[at],
                Key::Char('i') => chosen.iter_mut().for_each(|on| *on = !*on),
                Key::Char('a') => {
                    let all = chosen.iter().all(|on| *on);
                    chosen.iter_mut().for_each(|on| *on = !all);
                }
                Key::Enter | Key::AltEnter => {
                    let value = picked(&chosen);
                    match check(&value) {
                        Ok(()) => {
                            let names: Vec<&str> = labels
                                .iter()
                                .zip(&chosen)
                                .filter(|(_, on)| **on)
                                .map(|(l, _)| l.as_str())
                                .collect();
                            self.say(&format!("   → [{}]", names.join(", ")));
                            return Ok(value);
                        }
                        Err(message) => self.say(&format!("   {message}")),
                    }
                }
                _ => {}
            }
        }
    }

    /// A text answer: the default already typed in (typing adds to it, as in copier's
    /// prompt), Enter (or Alt+Enter when it spans lines) ends it, checked as it is typed.
    fn text(
        &mut self,
        param: &Parameter,
        kind: &str,
        default: Option<&Value>,
        check: &dyn Fn(&Value) -> Result<(), String>,
    ) -> Result<Value, Unanswered> {
        let multiline = param.asking.multiline.as_deref().is_some_and(|m| {
            let m = m.trim().to_ascii_lowercase();
            m.parse::<f64>().map_or(
                matches!(m.as_str(), "y" | "yes" | "t" | "true" | "on"),
                |n| n != 0.0,
            )
        });
        let shown = default.map(|d| copier_text(kind, d, multiline));
        let mut line = Line::with(shown.as_deref().unwrap_or(""));
        // A secret shows as much as copier's stars show, without telling its length.
        let mask = |line: &Line| match (param.secret, line.chars.is_empty()) {
            (true, true) => String::new(),
            (true, false) => "******".to_string(),
            (false, _) => line.text(),
        };
        if multiline {
            self.say("   (Finish with 'Alt+Enter' or 'Esc then Enter')");
        }
        match (&param.asking.placeholder, line.chars.is_empty()) {
            (Some(placeholder), true) => self.say(&format!("   {placeholder}")),
            _ => self.say(&format!("   {}", mask(&line))),
        }
        let parse = |text: &str| -> Result<Value, String> {
            let value = copier_value(param, kind, text).map_err(|_| "Invalid input".to_string())?;
            check(&value)?;
            Ok(value)
        };
        let mut changed = false;
        loop {
            let key = self.key(&mut |me: &mut Self| {
                // What copier shows as the answer is typed: its verdict.
                if changed && let Err(message) = parse(&line.text()) {
                    me.say(&format!("   {}  {message}", mask(&line)));
                }
                changed = false;
            })?;
            let accept = match key {
                Key::Enter if multiline => {
                    line.edit(Key::Char('\n'));
                    changed = true;
                    false
                }
                Key::Enter | Key::AltEnter => true,
                key => {
                    changed |= line.edit(key);
                    false
                }
            };
            if accept {
                match parse(&line.text()) {
                    Ok(value) => {
                        let shown = if param.secret {
                            "******".to_string()
                        } else {
                            line.text().replace('\n', "\n     ")
                        };
                        self.say(&format!("   → {shown}"));
                        return Ok(value);
                    }
                    Err(message) => {
                        self.say(&format!("   {}", mask(&line)));
                        self.say(&format!("   {message}"));
                        changed = false;
                    }
                }
            }
        }
    }

    /// A cookiecutter or factory question: one answer a line, an empty line for the default.
    fn lines(
        &mut self,
        param: &Parameter,
        default: Option<&Value>,
        check: &dyn Fn(&Value) -> Result<(), String>,
    ) -> Result<Value, Unanswered> {
        let cookiecutter = param.asking.style == AskStyle::Cookiecutter;
        let text = param.prompt.clone().unwrap_or_else(|| param.name.clone());
        let prefix = format!("  [{}] ", self.number);
        let choices = param.choices.clone().unwrap_or_default();
        let labels = labels(param);
        let shown_default = match (param.kind, default) {
            (_, None) => None,
            (_, Some(_)) if param.secret => Some("******".to_string()),
            (ParamType::Bool, Some(Value::Bool(b))) => Some(if *b { "y" } else { "n" }.to_string()),
            (ParamType::Choice, Some(d)) => choices
                .iter()
                .position(|c| params::is_choice(param, c, d))
                .map(|i| (i + 1).to_string()),
            (ParamType::Multichoice, Some(Value::Array(items))) => Some(
                items
                    .iter()
                    .map(params::display_value)
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            (ParamType::Yaml, Some(d)) if cookiecutter => {
                let _ = d;
                Some("default".to_string())
            }
            (_, Some(d)) => Some(params::display_value(d)),
        };
        let question = match param.kind {
            ParamType::Choice | ParamType::Multichoice => {
                let mut lines = vec![format!("{prefix}Select {text}")];
                if let Some(help) = &param.help {
                    lines.push(format!("    {help}"));
                }
                for (i, label) in labels.iter().enumerate() {
                    lines.push(format!("    {} - {label}", i + 1));
                }
                let numbers: Vec<String> = (1..=choices.len()).map(|i| i.to_string()).collect();
                let how = if param.kind == ParamType::Multichoice {
                    "Choose any, separated by commas, from"
                } else {
                    "Choose from"
                };
                lines.push(format!("    {how} [{}]", numbers.join("/")));
                lines.join("\n")
            }
            ParamType::Bool => format!("{prefix}{text} [y/n]"),
            _ => match &param.help {
                Some(help) if !cookiecutter => format!("{prefix}{text} - {help}"),
                _ => format!("{prefix}{text}"),
            },
        };
        loop {
            match &shown_default {
                Some(d) => {
                    let _ = write!(self.out, "{question} ({d}): ");
                }
                None => {
                    let _ = write!(self.out, "{question}: ");
                }
            }
            let _ = self.out.flush();
            let Some(answer) = self.keys.line() else {
                return Err(Unanswered::Ended);
            };
            if answer.contains('\u{3}') {
                return Err(Unanswered::Interrupted);
            }
            let _ = writeln!(self.out);
            let parsed = if answer.trim().is_empty() {
                match default {
                    Some(d) => Ok(d.clone()),
                    None if !param.required => Ok(empty(param.kind)),
                    None => Err("an answer is needed".to_string()),
                }
            } else {
                self.line_value(param, &choices, answer.trim())
            };
            match parsed.and_then(|v| check(&v).map(|()| v)) {
                Ok(value) => return Ok(value),
                Err(message) => {
                    let message = match (cookiecutter, param.kind) {
                        (true, ParamType::Choice) => {
                            "Please select one of the available options".to_string()
                        }
                        (true, ParamType::Bool) => "Please enter Y or N".to_string(),
                        // A message may quote what was typed.
                        _ if param.secret => {
                            "that value is not valid for this parameter; try again".to_string()
                        }
                        _ => message,
                    };
                    let _ = writeln!(self.out, "  {message}");
                }
            }
        }
    }

    /// A typed line as a value: a choice by its number or value, the rest by type.
    fn line_value(
        &self,
        param: &Parameter,
        choices: &[Value],
        text: &str,
    ) -> Result<Value, String> {
        let by_number = |t: &str| -> Option<Value> {
            t.parse::<usize>()
                .ok()
                .filter(|n| (1..=choices.len()).contains(n))
                .map(|n| choices[n - 1].clone())
        };
        match param.kind {
            ParamType::Choice => by_number(text)
                .or_else(|| {
                    choices
                        .iter()
                        .find(|c| params::display_value(c) == text)
                        .cloned()
                })
                .ok_or_else(|| format!("`{text}` is not one of the choices")),
            ParamType::Multichoice => {
                let mut picked = Vec::new();
                for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                    match by_number(part).or_else(|| {
                        choices
                            .iter()
                            .find(|c| params::display_value(c) == part)
                            .cloned()
                    }) {
                        Some(value) => picked.push(value),
                        None => return Err(format!("`{part}` is not one of the choices")),
                    }
                }
                params::coerce(param, &Value::Array(picked))
            }
            ParamType::Yaml if param.asking.style == AskStyle::Cookiecutter => {
                match serde_json::from_str::<Value>(text) {
                    Ok(Value::Object(map)) => Ok(Value::Object(map)),
                    Ok(_) => Err("Requires JSON dict.".to_string()),
                    Err(_) => Err("Unable to decode to JSON.".to_string()),
                }
            }
            _ => params::parse_text(param, text),
        }
    }
}

/// What an optional question without a default holds when left empty.
fn empty(kind: ParamType) -> Value {
    match kind {
        ParamType::String => Value::String(String::new()),
        ParamType::Bool => Value::Bool(false),
        ParamType::Multichoice | ParamType::List => Value::Array(Vec::new()),
        ParamType::Int | ParamType::Float | ParamType::Choice | ParamType::Yaml => Value::Null,
    }
}

/// A default as copier types it into the prompt: JSON and YAML dumped (over lines when the
/// answer spans lines), the rest as text.
fn copier_text(kind: &str, value: &Value, multiline: bool) -> String {
    match (kind, value) {
        (_, Value::Null) => String::new(),
        ("json", v) if multiline => serde_json::to_string_pretty(v).unwrap_or_default(),
        ("json", v) => python_json(v),
        ("yaml", Value::String(s)) => s.clone(),
        ("yaml", v @ (Value::Array(_) | Value::Object(_))) => python_json(v),
        (_, Value::Bool(b)) if kind != "bool" => if *b { "True" } else { "False" }.to_string(),
        (_, v) => params::display_value(v),
    }
}

/// JSON as Python's `json.dumps` writes it on one line (`, ` and `: ` between items).
fn python_json(value: &Value) -> String {
    match value {
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(python_json).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(map) => {
            let items: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", Value::String(k.clone()), python_json(v)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
        other => other.to_string(),
    }
}

/// A typed answer as copier casts it for the question's type.
fn copier_value(param: &Parameter, kind: &str, text: &str) -> Result<Value, String> {
    let value = match kind {
        // copier casts the text itself: a JSON or YAML string is read once, not read again.
        "json" | "yaml" if param.copier_type.is_some() && !text.trim().is_empty() => {
            Value::String(text.to_string())
        }
        "json" => serde_json::from_str(text).map_err(|e| e.to_string())?,
        "yaml" => {
            if text.trim().is_empty() {
                Value::Null
            } else {
                crate::template::yaml::parse::<Value>(text, &param.name).map_err(|e| e.message)?
            }
        }
        "int" => Value::from(text.trim().parse::<i64>().map_err(|e| e.to_string())?),
        "float" => text
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or("not a number")?,
        _ => Value::String(text.to_string()),
    };
    params::coerce(param, &value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(bytes: &[u8]) -> Vec<Key> {
        let mut keys = Keys::new(bytes, None);
        keys.fill();
        std::iter::from_fn(|| keys.next()).collect()
    }

    #[test]
    fn bytes_read_as_prompt_toolkit_reads_them() {
        assert_eq!(
            keys(b"a\r\n\x1b[A\x1b[B\x1b\r\x1b\x08\x08\x03 "),
            vec![
                Key::Char('a'),
                Key::Enter,
                Key::Enter,
                Key::Up,
                Key::Down,
                Key::AltEnter,
                Key::AltBackspace,
                Key::Backspace,
                Key::Interrupt,
                Key::Char(' '),
            ]
        );
        assert_eq!(keys("é".as_bytes()), vec![Key::Char('é')]);
    }

    #[test]
    fn alt_backspace_takes_a_word_as_prompt_toolkit_does() {
        let mut line = Line::with("wrong your_age");
        line.edit(Key::AltBackspace);
        assert_eq!(line.text(), "wrong ");
        line.edit(Key::AltBackspace);
        assert_eq!(line.text(), "");
        let mut line = Line::with("ab-1");
        line.edit(Key::AltBackspace);
        assert_eq!(line.text(), "ab-");
    }
}
