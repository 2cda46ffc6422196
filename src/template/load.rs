//! A template's manifest from its files, whatever the flavour: `template.yaml`, or a
//! `copier.yml` or `cookiecutter.json` mapped to one, in that order of preference.

use super::manifest::{MANIFEST_FILE, Manifest};
use super::snapshot::TemplateFiles;
use super::yaml::YamlError;
use super::{cookiecutter, copier};

/// A template's manifest (`template.yaml`, or a mapped `cookiecutter.json`), with errors
/// pointing into `label`'s files.
pub fn manifest_of(files: &TemplateFiles, label: &str, name_hint: &str) -> crate::Result<Manifest> {
    manifest_and_text(files, name_hint)
        .map(|(m, _)| m)
        .map_err(|e| {
            // In a folder, the file's own path (`DIR/cookiecutter.json:1:20`), which
            // editors open and cookiecutter's message names.
            let folder = std::path::Path::new(label);
            let location = match folder.is_dir() {
                true => folder.join(e.location()).display().to_string(),
                false => format!("{label}: {}", e.location()),
            };
            let message = match folder.is_dir() {
                true => forbidden_absolute(folder, &e.message).unwrap_or(e.message),
                false => e.message,
            };
            crate::Error::new(format!("{location}: {message}"))
                .hint("fix the manifest; `factory validate --path DIR` lists every problem")
        })
}

/// copier names an `!include` that leads out of the template by the path it resolves to
/// (its ForbiddenPathError, `"/abs/outside/x.yml" is forbidden`, which scripts match): the
/// path relative to the template's root that the config reader names, made absolute.
fn forbidden_absolute(folder: &std::path::Path, message: &str) -> Option<String> {
    let (relative, rest) = message.strip_prefix('"')?.split_once("\" is forbidden")?;
    if !relative.starts_with("../") {
        return None;
    }
    let mut path = std::fs::canonicalize(folder).ok()?;
    for part in relative.split('/') {
        match part {
            ".." => {
                path.pop();
            }
            part => path.push(part),
        }
    }
    let path = std::fs::canonicalize(&path).unwrap_or(path);
    Some(format!("\"{}\" is forbidden{rest}", path.display()))
}

/// The manifest and the text it came from (for pointing at lines).
pub fn manifest_and_text(
    files: &TemplateFiles,
    name_hint: &str,
) -> Result<(Manifest, String), YamlError> {
    let read = |path: &str| -> Result<Option<String>, YamlError> {
        match files.get(path) {
            None => Ok(None),
            Some(file) => {
                let bytes = file.read().map_err(|e| YamlError {
                    origin: path.to_string(),
                    line: None,
                    column: None,
                    message: e.message,
                })?;
                String::from_utf8(bytes.into_owned())
                    .map(Some)
                    .map_err(|_| YamlError {
                        origin: path.to_string(),
                        line: None,
                        column: None,
                        message: "not UTF-8 text".into(),
                    })
            }
        }
    };
    if let Some(text) = read(MANIFEST_FILE)? {
        return Manifest::parse(&text, MANIFEST_FILE).map(|m| (m, text));
    }
    // A template with both copier.yml and cookiecutter.json is a copier template (the
    // cookiecutter.json is then usually copier's own compatibility shim or a leftover).
    if copier::CONFIG_FILES.iter().all(|f| files.get(f).is_some()) {
        return Err(YamlError {
            origin: copier::CONFIG_FILES[0].to_string(),
            line: None,
            column: None,
            message: format!(
                "MULTIPLE CONFIG FILES: the template has both {} and {}, as copier refuses; keep one",
                copier::CONFIG_FILES[0],
                copier::CONFIG_FILES[1]
            ),
        });
    }
    for file in copier::CONFIG_FILES {
        if let Some(text) = read(file)? {
            let include = |pattern: &str| included(files, pattern);
            return copier::manifest(&text, file, name_hint, &include).map(|m| (m, text));
        }
    }
    if let Some(text) = read(cookiecutter::CONTEXT_FILE)? {
        let paths: Vec<&str> = files.files.iter().map(|f| f.path.as_str()).collect();
        return cookiecutter::manifest(&text, name_hint, &paths).map(|m| (m, text));
    }
    Err(YamlError {
        origin: MANIFEST_FILE.to_string(),
        line: None,
        column: None,
        message: format!(
            "no {MANIFEST_FILE} (or {}) in the template folder",
            cookiecutter::CONTEXT_FILE
        ),
    })
}

/// The files of the template an `!include` glob of its copier.yml names, sorted by path.
pub(crate) fn included(
    files: &TemplateFiles,
    pattern: &str,
) -> Result<Vec<(String, String)>, String> {
    let glob = globset::GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map_err(|e| format!("not a glob: {e}"))?
        .compile_matcher();
    files
        .files
        .iter()
        .filter(|f| glob.is_match(&f.path))
        .map(|f| {
            let bytes = f.read().map_err(|e| e.message)?;
            String::from_utf8(bytes.into_owned())
                .map(|text| (f.path.clone(), text))
                .map_err(|_| format!("{} is not UTF-8 text", f.path))
        })
        .collect()
}

/// A template's manifest as `generate` reads a folder: as [`manifest_of`], and a folder
/// holding none of the files that mark a template is what copier makes of any folder, a
/// copier template without questions (`true` then).
pub fn manifest_of_any(
    files: &TemplateFiles,
    label: &str,
    name_hint: &str,
) -> crate::Result<(Manifest, bool)> {
    let marked = [MANIFEST_FILE, cookiecutter::CONTEXT_FILE]
        .iter()
        .chain(copier::CONFIG_FILES.iter())
        .any(|f| files.get(f).is_some());
    if marked {
        manifest_of(files, label, name_hint).map(|m| (m, false))
    } else {
        Ok((copier::bare_manifest(name_hint), true))
    }
}

/// A name for a template from where it lives: the last part of a path or URL, without `.git`.
pub fn name_from_location(location: &str) -> String {
    let trimmed = location
        .split('#')
        .next()
        .unwrap_or(location)
        .trim_end_matches('/');
    let last = trimmed.rsplit(['/', '\\']).next().unwrap_or(trimmed);
    last.strip_suffix(".git").unwrap_or(last).to_string()
}

/// Whether a folder holds a template of any flavour.
pub fn is_template_dir(dir: &std::path::Path) -> bool {
    [
        MANIFEST_FILE,
        cookiecutter::CONTEXT_FILE,
        copier::CONFIG_FILES[0],
        copier::CONFIG_FILES[1],
    ]
    .iter()
    .any(|file| dir.join(file).is_file())
}
