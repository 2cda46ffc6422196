//! Default answers a user keeps for every template, where the peers keep them:
//! cookiecutter's `default_context` in `~/.cookiecutterrc` (or `$COOKIECUTTER_CONFIG`), and
//! copier's `defaults` in its settings file (`$COPIER_SETTINGS_PATH`, or
//! `$XDG_CONFIG_HOME/copier/settings.yml`). Each stands in for the template's own default of
//! a parameter of the same name, for that tool's templates only: answers given with `--set`
//! or `--answers` still win, and a prompt offers it as the default.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::manifest::{Flavour, Manifest, ParamType};
use crate::error::{Error, Result};

/// One peer's settings file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    /// Where it is.
    pub path: PathBuf,
    /// Named by the peer's environment variable: its absence is worth saying (an error for
    /// cookiecutter, a warning for copier, as they do).
    pub named: bool,
}

/// Where the user's default answers are read from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Files {
    /// cookiecutter's configuration file.
    pub cookiecutter: Option<File>,
    /// copier's settings file.
    pub copier: Option<File>,
}

impl Files {
    /// The files the peers would read, from their environment variables and the home and
    /// configuration folders.
    pub fn locate(
        var: impl Fn(&str) -> Option<String>,
        home: Option<&Path>,
        config_home: Option<&Path>,
    ) -> Files {
        let named = |name: &str| {
            var(name).map(|path| File {
                path: PathBuf::from(path),
                named: true,
            })
        };
        let found = |path: PathBuf| File { path, named: false };
        let config_home = config_home
            .map(Path::to_path_buf)
            .or_else(|| home.map(|h| h.join(".config")));
        Files {
            cookiecutter: named("COOKIECUTTER_CONFIG")
                .or_else(|| home.map(|h| found(h.join(".cookiecutterrc")))),
            copier: named("COPIER_SETTINGS_PATH")
                .or_else(|| config_home.map(|c| found(c.join("copier").join("settings.yml")))),
        }
    }

    /// The file for templates of `flavour` (factory's own templates take none).
    fn of(&self, flavour: Flavour) -> Option<(&File, &'static str)> {
        match flavour {
            Flavour::Cookiecutter => self.cookiecutter.as_ref().map(|f| (f, "default_context")),
            Flavour::Copier => self.copier.as_ref().map(|f| (f, "defaults")),
            Flavour::Factory => None,
        }
    }
}

/// The user's default answers for a template, and what is worth a warning about them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Loaded {
    /// Name to value.
    pub defaults: Map<String, Value>,
    /// Where they came from.
    pub path: Option<PathBuf>,
    /// A named file that is missing (copier warns), a default no choice allows.
    pub warnings: Vec<String>,
}

/// Reads the default answers for a template of `flavour`; none when there is no file.
pub fn load(files: &Files, flavour: Flavour) -> Result<Loaded> {
    let Some((file, key)) = files.of(flavour) else {
        return Ok(Loaded::default());
    };
    let text = match std::fs::read_to_string(&file.path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && file.named => {
            let shown = file.path.display();
            return match flavour {
                Flavour::Cookiecutter => Err(Error::new(format!(
                    "COOKIECUTTER_CONFIG names {shown}, which does not exist"
                ))
                .hint("create it, or unset COOKIECUTTER_CONFIG to read ~/.cookiecutterrc")),
                _ => Ok(Loaded {
                    warnings: vec![format!(
                        "COPIER_SETTINGS_PATH names {shown}, which does not exist; no default answers were read from it"
                    )],
                    ..Loaded::default()
                }),
            };
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Loaded::default()),
        Err(e) => return Err(Error::io("read", &file.path, e)),
    };
    let shown = file.path.display().to_string();
    let bad = |what: &str| {
        Error::new(format!("{shown}: {what}")).hint(format!(
            "the file holds `{key}:` with one `name: value` line per answer"
        ))
    };
    let document: Value = super::yaml::from_str(&text, &shown)?;
    let defaults = match document {
        Value::Null => Map::new(),
        Value::Object(mut map) => match map.remove(key) {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(defaults)) => defaults,
            Some(_) => return Err(bad(&format!("`{key}` is not a mapping"))),
        },
        _ => return Err(bad("the top level is not a mapping")),
    };
    Ok(Loaded {
        defaults,
        path: Some(file.path.clone()),
        warnings: Vec::new(),
    })
}

/// The manifest with the user's defaults standing in for its own. A default that none of a
/// choice's options is is left out with a warning, as cookiecutter does; names the
/// template lacks are ignored.
pub fn apply(manifest: &Manifest, loaded: &mut Loaded) -> Manifest {
    let mut patched = manifest.clone();
    if loaded.defaults.is_empty() {
        return patched;
    }
    let cookiecutter = manifest.flavour() == Flavour::Cookiecutter;
    for parameter in &mut patched.parameters {
        let Some(value) = loaded.defaults.get(&parameter.name) else {
            continue;
        };
        // cookiecutter reads every scalar as text, as it does its own defaults.
        let value = match value {
            Value::Number(n) if cookiecutter => Value::String(n.to_string()),
            other => other.clone(),
        };
        let allowed = |v: &Value| {
            parameter.choices.as_ref().is_none_or(|choices| {
                choices
                    .iter()
                    .any(|c| c == v || c.as_str().is_some_and(|c| Some(c) == v.as_str()))
            })
        };
        let fits = match parameter.kind {
            ParamType::Choice => allowed(&value),
            ParamType::Multichoice => value
                .as_array()
                .is_some_and(|items| items.iter().all(allowed)),
            _ => true,
        };
        if fits {
            parameter.default = Some(value);
        } else {
            loaded.warnings.push(format!(
                "the default answer {value} for `{}` in {} is none of its choices; the template's default stands",
                parameter.name,
                loaded
                    .path
                    .as_ref()
                    .map_or_else(String::new, |p| p.display().to_string())
            ));
        }
    }
    patched
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_peers_variables_come_before_their_usual_places() {
        let home = Path::new("/home/u");
        let vars = |name: &str| (name == "COPIER_SETTINGS_PATH").then(|| "/etc/c.yml".to_string());
        let files = Files::locate(vars, Some(home), None);
        assert_eq!(
            files.cookiecutter.unwrap().path,
            PathBuf::from("/home/u/.cookiecutterrc")
        );
        let copier = files.copier.unwrap();
        assert_eq!(
            (copier.path.to_str(), copier.named),
            (Some("/etc/c.yml"), true)
        );
        let xdg = Files::locate(|_| None, Some(home), Some(Path::new("/x")));
        assert_eq!(
            xdg.copier.unwrap().path,
            PathBuf::from("/x/copier/settings.yml")
        );
    }
}
