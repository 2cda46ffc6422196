//! Interactive answers with dialoguer, on stderr, only when stdin and stderr are terminals.

use dialoguer::theme::{ColorfulTheme, SimpleTheme, Theme};
use dialoguer::{Confirm, Input, MultiSelect, Password, Select};
use serde_json::Value;

use crate::template::answers::Asker;
use crate::template::manifest::{ParamType, Parameter};
use crate::template::params;

/// Asks on the terminal, checking each answer like any other and asking again until valid.
pub struct TerminalAsker {
    theme: Box<dyn Theme>,
}

impl TerminalAsker {
    /// A prompter; plain when `NO_COLOR` is set.
    pub fn new() -> Self {
        let theme: Box<dyn Theme> = if std::env::var_os("NO_COLOR").is_some() {
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

impl Asker for TerminalAsker {
    fn ask(&mut self, param: &Parameter, default: Option<&Value>) -> Result<Value, String> {
        let term = console::Term::stderr();
        let prompt = question(param);
        let theme = self.theme.as_ref();
        let failed =
            |e: dialoguer::Error| format!("parameter `{}`: could not ask: {e}", param.name);
        match param.kind {
            ParamType::Bool => {
                let mut confirm = Confirm::with_theme(theme).with_prompt(prompt);
                if let Some(Value::Bool(b)) = default {
                    confirm = confirm.default(*b);
                }
                confirm.interact_on(&term).map(Value::Bool).map_err(failed)
            }
            ParamType::Choice => {
                let choices = param.choices.clone().unwrap_or_default();
                let items: Vec<String> = choices.iter().map(params::display_value).collect();
                let start = default.and_then(|d| {
                    choices
                        .iter()
                        .position(|c| params::display_value(c) == params::display_value(d))
                });
                let index = Select::with_theme(theme)
                    .with_prompt(prompt)
                    .items(&items)
                    .default(start.unwrap_or(0))
                    .interact_on(&term)
                    .map_err(failed)?;
                Ok(choices[index].clone())
            }
            ParamType::Multichoice => {
                let choices = param.choices.clone().unwrap_or_default();
                let items: Vec<String> = choices.iter().map(params::display_value).collect();
                let chosen: Vec<bool> = choices
                    .iter()
                    .map(|c| {
                        default
                            .and_then(Value::as_array)
                            .is_some_and(|d| d.contains(c))
                    })
                    .collect();
                let picked = MultiSelect::with_theme(theme)
                    .with_prompt(prompt)
                    .items(&items)
                    .defaults(&chosen)
                    .interact_on(&term)
                    .map_err(failed)?;
                Ok(Value::Array(
                    picked.into_iter().map(|i| choices[i].clone()).collect(),
                ))
            }
            _ if param.secret => loop {
                let text = Password::with_theme(theme)
                    .with_prompt(prompt.clone())
                    .allow_empty_password(default.is_some())
                    .interact_on(&term)
                    .map_err(failed)?;
                if text.is_empty()
                    && let Some(default) = default
                {
                    return Ok(default.clone());
                }
                match params::parse_text(param, &text) {
                    Ok(value) => return Ok(value),
                    // Never echo the secret back.
                    Err(_) => {
                        let _ = term
                            .write_line("  that value is not valid for this parameter; try again");
                    }
                }
            },
            _ => {
                let mut input = Input::<String>::with_theme(theme)
                    .with_prompt(prompt)
                    .validate_with(|text: &String| params::parse_text(param, text).map(|_| ()));
                if let Some(default) = default {
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
                let text = input.interact_text_on(&term).map_err(failed)?;
                params::parse_text(param, &text)
            }
        }
    }
}
