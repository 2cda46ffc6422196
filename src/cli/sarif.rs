//! `validate --format sarif`: the SARIF 2.1.0 log code-scanning dashboards read.

use serde_json::{Value, json};

use crate::app::validate::ValidationSource;
use crate::domain::events::{CheckOutcome, CheckStatus};
use crate::validate::CHECKS;

/// Where a SARIF log's paths start. A folder's files are named from the root of the git
/// repository holding it (else the current folder), as GitHub's code scanning resolves
/// them, with `%SRCROOT%` pointing at that root (as eslint and clippy-sarif write them);
/// a stored or fetched template's from its own root, `TEMPLATEROOT`.
pub(crate) struct Base {
    /// `%SRCROOT%` or `TEMPLATEROOT`.
    id: &'static str,
    /// What the id stands for: `file:///…/` or a description.
    root: Value,
    /// The template folder from the base, ending in `/` (empty at the root).
    prefix: String,
    /// The manifest, from the template's root: where a result without a file points.
    manifest: Option<String>,
}

impl Base {
    pub(crate) fn of(source: &ValidationSource, subject: &str) -> Base {
        let ValidationSource::Folder(dir) = source else {
            return Base {
                id: "TEMPLATEROOT",
                root: json!({"description": {"text": format!("the root of the template {subject}")}}),
                prefix: String::new(),
                manifest: None,
            };
        };
        let folder = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.clone());
        let cwd = std::env::current_dir()
            .ok()
            .and_then(|c| std::fs::canonicalize(c).ok());
        let root = folder
            .ancestors()
            .find(|a| a.join(".git").exists())
            .map(std::path::Path::to_path_buf)
            .or_else(|| cwd.filter(|c| folder.starts_with(c)))
            .unwrap_or_else(|| folder.clone());
        let relative = folder
            .strip_prefix(&root)
            .unwrap_or(std::path::Path::new(""));
        let mut prefix = uri_path(&relative.to_string_lossy());
        if !prefix.is_empty() {
            prefix.push('/');
        }
        let manifest = [
            "template.yaml",
            "copier.yml",
            "copier.yaml",
            "cookiecutter.json",
        ]
        .into_iter()
        .find(|name| folder.join(name).is_file())
        .map(str::to_string);
        let mut root_uri = format!("file://{}", uri_path(&root.to_string_lossy()));
        if !root_uri.ends_with('/') {
            root_uri.push('/');
        }
        Base {
            id: "%SRCROOT%",
            root: json!({"uri": root_uri}),
            prefix,
            manifest,
        }
    }

    /// The manifest a result without a file points at: the folder's, or the one the
    /// other results name.
    fn manifest(&self, checks: &[CheckOutcome]) -> String {
        const NAMES: [&str; 4] = [
            "template.yaml",
            "copier.yml",
            "copier.yaml",
            "cookiecutter.json",
        ];
        self.manifest.clone().unwrap_or_else(|| {
            checks
                .iter()
                .filter_map(|c| c.location.as_deref()?.split(':').next())
                .find(|file| NAMES.contains(file))
                .unwrap_or(NAMES[0])
                .to_string()
        })
    }
}

/// A path as a URI path: `/` separators, and what a URI cannot hold percent-encoded.
fn uri_path(path: &str) -> String {
    const ESCAPED: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
        .add(b' ')
        .add(b'"')
        .add(b'#')
        .add(b'%')
        .add(b'<')
        .add(b'>')
        .add(b'?')
        .add(b'`')
        .add(b'{')
        .add(b'}');
    percent_encoding::utf8_percent_encode(&path.replace('\\', "/"), ESCAPED).to_string()
}

/// A SARIF 2.1.0 log of the failures and warnings, for code-scanning dashboards: every
/// result has a location (the manifest, for one about no file).
pub(crate) fn log(checks: &[CheckOutcome], base: &Base) -> Value {
    let rules: Vec<Value> = CHECKS
        .iter()
        .map(|(id, description)| json!({"id": id, "shortDescription": {"text": description}}))
        .collect();
    let manifest = base.manifest(checks);
    let results: Vec<Value> = checks
        .iter()
        .filter(|c| matches!(c.status, CheckStatus::Fail | CheckStatus::Warn))
        .map(|c| {
            let location = c
                .location
                .as_deref()
                .and_then(|l| physical_location(l, base))
                .unwrap_or_else(|| physical_location(&manifest, base).expect("a file name"));
            json!({
                "ruleId": c.check,
                "level": if c.status == CheckStatus::Fail { "error" } else { "warning" },
                "message": {"text": c.message},
                "locations": [location],
            })
        })
        .collect();
    let mut base_ids = serde_json::Map::new();
    base_ids.insert(base.id.to_string(), base.root.clone());
    json!({
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [{
            "tool": {"driver": {
                "name": "factory",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "originalUriBaseIds": base_ids,
            "results": results,
        }],
    })
}

/// `file[:line[:col]]` as a SARIF physical location; `None` for locations that are not files.
fn physical_location(location: &str, base: &Base) -> Option<Value> {
    let mut parts = location.splitn(3, ':');
    let file = parts.next()?;
    if file.is_empty() || file.contains(' ') {
        return None;
    }
    let line = parts.next().and_then(|l| l.parse::<u64>().ok());
    let column = parts.next().and_then(|c| c.parse::<u64>().ok());
    let uri = format!("{}{}", base.prefix, uri_path(file));
    let mut physical = json!({"artifactLocation": {"uri": uri, "uriBaseId": base.id}});
    if let Some(line) = line {
        physical["region"] = json!({"startLine": line});
        if let Some(column) = column {
            physical["region"]["startColumn"] = json!(column);
        }
    }
    Some(json!({"physicalLocation": physical}))
}
