//! Interactive answers with dialoguer, on stderr, only when stdin and stderr are terminals
//! (over a pipe, `crate::prompt` reads them).

use dialoguer::theme::{ColorfulTheme, SimpleTheme, Theme};
use dialoguer::{Confirm, Input, MultiSelect, Password, Select};
use serde_json::Value;

use crate::template::answers::Asker;
use crate::template::manifest::{ParamType, Parameter};
use crate::template::params;

/// Asks on the terminal, checking each answer like any other and asking again until valid.
pub(crate) struct TerminalAsker {
    theme: Box<dyn Theme>,
}

impl TerminalAsker {
    /// A prompter; plain without colour (`NO_COLOR`).
    pub(crate) fn new(color: bool) -> Self {
        let theme: Box<dyn Theme> = if !color {
            Box::new(SimpleTheme)
        } else {
            Box::new(ColorfulTheme::default())
        };
        TerminalAsker { theme }
    }
}

fn question(param: &Parameter) -> String {
    let text = param.prompt.clone().unwrap_or_else(|| param.name.clone());
    match &param.help {
        Some(help) => format!("{text} ({help})"),
        None => text,
    }
}

/// One question being asked: where, how and about what.
struct Question<'a> {
    theme: &'a dyn Theme,
    term: console::Term,
    param: &'a Parameter,
    prompt: String,
    default: Option<&'a Value>,
    check: &'a dyn Fn(&Value) -> Result<(), String>,
}

impl Question<'_> {
    fn failed(&self, e: dialoguer::Error) -> String {
        format!("parameter `{}`: could not ask: {e}", self.param.name)
    }

    /// Whether the template's validators accept `value`; their message is shown otherwise.
    fn accepted(&self, value: &Value) -> bool {
        match (self.check)(value) {
            Ok(()) => true,
            Err(message) => {
                let _ = self.term.write_line(&format!("  {message}"));
                false
            }
        }
    }

    fn confirm(&self) -> Result<Value, String> {
        let mut confirm = Confirm::with_theme(self.theme).with_prompt(&self.prompt);
        if let Some(Value::Bool(b)) = self.default {
            confirm = confirm.default(*b);
        }
        confirm
            .interact_on(&self.term)
            .map(Value::Bool)
            .map_err(|e| self.failed(e))
    }

    fn select(&self) -> Result<Value, String> {
        let choices = self.param.choices.clone().unwrap_or_default();
        let items: Vec<String> = choices.iter().map(params::display_value).collect();
        let start = self.default.and_then(|d| {
            choices
                .iter()
                .position(|c| params::display_value(c) == params::display_value(d))
        });
        let index = Select::with_theme(self.theme)
            .with_prompt(&self.prompt)
            .items(&items)
            .default(start.unwrap_or(0))
            .interact_on(&self.term)
            .map_err(|e| self.failed(e))?;
        Ok(choices[index].clone())
    }

    fn multi_select(&self) -> Result<Value, String> {
        let choices = self.param.choices.clone().unwrap_or_default();
        let items: Vec<String> = choices.iter().map(params::display_value).collect();
        let chosen: Vec<bool> = choices
            .iter()
            .map(|c| {
                self.default
                    .and_then(Value::as_array)
                    .is_some_and(|d| d.contains(c))
            })
            .collect();
        let picked = MultiSelect::with_theme(self.theme)
            .with_prompt(&self.prompt)
            .items(&items)
            .defaults(&chosen)
            .interact_on(&self.term)
            .map_err(|e| self.failed(e))?;
        Ok(Value::Array(
            picked.into_iter().map(|i| choices[i].clone()).collect(),
        ))
    }

    fn secret(&self) -> Result<Value, String> {
        loop {
            let text = Password::with_theme(self.theme)
                .with_prompt(&self.prompt)
                .allow_empty_password(self.default.is_some())
                .interact_on(&self.term)
                .map_err(|e| self.failed(e))?;
            if text.is_empty()
                && let Some(default) = self.default
            {
                return Ok(default.clone());
            }
            match params::parse_text(self.param, &text) {
                Ok(value) => return Ok(value),
                // Never echo the secret back.
                Err(_) => {
                    let _ = self
                        .term
                        .write_line("  that value is not valid for this parameter; try again");
                }
            }
        }
    }

    fn text(&self) -> Result<Value, String> {
        let param = self.param;
        let check = self.check;
        let mut input = Input::<String>::with_theme(self.theme)
            .with_prompt(&self.prompt)
            .validate_with(|text: &String| {
                params::parse_text(param, text).and_then(|value| check(&value))
            });
        if let Some(default) = self.default {
            let shown = match default {
                Value::Array(items) => items
                    .iter()
                    .map(params::display_value)
                    .collect::<Vec<_>>()
                    .join(","),
                other => params::display_value(other),
            };
            input = input.default(shown);
        } else if !param.required {
            input = input.allow_empty(true);
        }
        let text = input
            .interact_text_on(&self.term)
            .map_err(|e| self.failed(e))?;
        params::parse_text(param, &text)
    }
}

impl Asker for TerminalAsker {
    fn ask(
        &mut self,
        param: &Parameter,
        default: Option<&Value>,
        check: &dyn Fn(&Value) -> Result<(), String>,
    ) -> Result<Option<Value>, String> {
        restore_cursor_on_interrupt();
        let question = Question {
            theme: self.theme.as_ref(),
            term: console::Term::stderr(),
            param,
            prompt: question(param),
            default,
            check,
        };
        // A validator's refusal asks again, as copier does (text answers are checked as
        // they are typed).
        loop {
            let value = match param.kind {
                ParamType::Bool => question.confirm(),
                ParamType::Choice => question.select(),
                ParamType::Multichoice => question.multi_select(),
                _ if param.secret => question.secret(),
                _ => return question.text().map(Some),
            }?;
            if question.accepted(&value) {
                return Ok(Some(value));
            }
        }
    }
}

/// dialoguer hides the cursor in choice, confirm and multi-select prompts; ^C (SIGINT) would
/// end the process with it hidden. Shows it again first, then ends as SIGINT does.
fn restore_cursor_on_interrupt() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    extern "C" fn on_interrupt(_: libc::c_int) {
        const SHOW: &[u8] = b"\x1b[?25h\n";
        // SAFETY: write(2) and _exit(2) are async-signal-safe.
        unsafe {
            libc::write(2, SHOW.as_ptr().cast(), SHOW.len());
            libc::_exit(130);
        }
    }
    ONCE.call_once(|| {
        // SAFETY: installs a handler that only calls async-signal-safe functions.
        unsafe {
            libc::signal(
                libc::SIGINT,
                on_interrupt as extern "C" fn(libc::c_int) as libc::sighandler_t,
            );
        }
    });
}

impl super::App {
    /// What asks for missing answers without `--defaults`: a prompt on a terminal, or
    /// stdin read as the template's tool reads it over a pipe (questions on stderr); none
    /// when stdin is a terminal but stderr is not. With `--ask` patterns, the questions they
    /// match are asked in any case (and with `--defaults` only they).
    pub(super) fn asker(
        &self,
        defaults: bool,
        ask: &[String],
    ) -> crate::error::Result<Option<Box<dyn crate::template::answers::Asker>>> {
        if defaults && ask.is_empty() {
            return Ok(None);
        }
        let asker: Box<dyn crate::template::answers::Asker> = if self.interactive() {
            Box::new(TerminalAsker::new(self.printer.color()))
        } else if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
            Box::new(crate::prompt::PipeAsker::stdin())
        } else {
            return Ok(None);
        };
        if ask.is_empty() {
            return Ok(Some(asker));
        }
        Ok(Some(Box::new(crate::prompt::Forced::new(
            asker, ask, defaults,
        )?)))
    }
}
