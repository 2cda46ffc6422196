//! One command, one type, one dispatcher. Each platform command is defined once, as its
//! request type in its use case's module; that type is the wire contract of the queues too
//! (`Deserialize` + `JsonSchema`, the envelope's camelCase, unknown fields refused), with the
//! switches only the command line has left out of it. [`execute`] runs any command; the
//! command line calls [`run`] with the request it built, the worker [`execute`] with the one
//! it parsed, and both end in the same [`Request::run`].

use std::path::{Component, Path, PathBuf};

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{Session, compat, generate, library, template, upgrade, validate};
use crate::error::{Error, Result};
use crate::generate::Progress;
use crate::template::answers::Asker;

/// Where the folders a request names are put.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Placement {
    /// As given, relative to the current folder (the command line).
    #[default]
    AsGiven,
    /// Below this root and never outside it (a worker's `--output-root`; absolute, resolved).
    Below(PathBuf),
}

impl Placement {
    /// The folder `folder` names under this rule.
    pub fn folder(&self, folder: &str) -> Result<PathBuf> {
        match self {
            Placement::AsGiven => Ok(PathBuf::from(folder)),
            Placement::Below(root) => inside_root(root, folder),
        }
    }

    /// The root named folders must stay inside, if any.
    pub fn root(&self) -> Option<&Path> {
        match self {
            Placement::AsGiven => None,
            Placement::Below(root) => Some(root),
        }
    }

    /// Where scratch folders go (a repository target's checkout).
    pub fn scratch_root(&self) -> PathBuf {
        match self {
            Placement::AsGiven => std::env::temp_dir(),
            Placement::Below(root) => root.clone(),
        }
    }
}

/// A folder a command names, below the output root: relative, without `..`, and not
/// reached through a link that leaves the root.
fn inside_root(root: &Path, folder: &str) -> Result<PathBuf> {
    let refuse = |why: &str| {
        Error::usage(format!("target folder `{folder}` {why}"))
            .hint("name a folder relative to the worker's --output-root, e.g. {\"folder\": \"orders-api\"}")
    };
    let path = Path::new(folder);
    if folder.is_empty() {
        return Err(refuse("is empty"));
    }
    if !path.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(refuse("leaves the output root (absolute, or with `..`)"));
    }
    let target = root.join(path);
    // The deepest part that exists must resolve inside the root.
    let existing = target.ancestors().find(|a| a.exists()).unwrap_or(root);
    let resolved =
        std::fs::canonicalize(existing).map_err(|e| Error::io("resolve", existing, e))?;
    if !resolved.starts_with(root) {
        return Err(refuse("leads out of the output root through a link"));
    }
    Ok(target)
}

/// What a use case may use besides the session.
pub struct Ports<'a> {
    /// Progress of the files written.
    pub progress: &'a dyn Progress,
    /// Asks for answers (on a terminal); `None` elsewhere.
    pub asker: Option<&'a mut dyn Asker>,
    /// Where named folders go.
    pub placement: Placement,
}

impl Default for Ports<'_> {
    fn default() -> Self {
        Ports {
            progress: &crate::generate::Silent,
            asker: None,
            placement: Placement::AsGiven,
        }
    }
}

/// What a finished use case reports, as far as callers that do not know its type care.
pub trait Outcome {
    /// The negative verdict the report holds (exit 3), if any.
    fn verdict(&self) -> Option<Error> {
        None
    }
}

impl Outcome for template::Registered {}
impl Outcome for template::VersionCreated {}
impl Outcome for (template::Published, Option<super::registry::Pushed>) {}
impl Outcome for generate::GenerateReport {}
impl Outcome for library::RegisteredLibrary {}
impl Outcome for library::RecordedRelease {}
impl Outcome for library::Scanned {}
impl Outcome for library::PublishedPackage {}
impl Outcome for library::Advised {}

/// A platform command's request: its wire form and its use case.
pub trait Request: DeserializeOwned + JsonSchema {
    /// Its type in the catalog, VerbNoun.
    const TYPE: &'static str;
    /// What it reports.
    type Report: Outcome;
    /// Runs its use case.
    fn run(self, session: &Session, ports: Ports) -> Result<Self::Report>;
}

/// Runs one request (the command line, which knows the type it built).
pub fn run<R: Request>(session: &Session, request: R, ports: Ports) -> Result<R::Report> {
    request.run(session, ports)
}

fn typed<T: DeserializeOwned>(command_type: &str, payload: &Value) -> Result<T> {
    T::deserialize(payload).map_err(|e| {
        Error::usage(format!(
            "the payload of {command_type} does not fit its schema: {e}"
        ))
    })
}

macro_rules! commands {
    ($($name:ident($module:ident) -> $report:ty;)*) => {
        /// A command with its typed request. One is made per command run, so the size of
        /// the largest request (GenerateScaffold) costs nothing worth a box.
        #[derive(Debug, Clone, PartialEq)]
        #[allow(missing_docs, clippy::large_enum_variant)]
        pub enum Command {
            $($name($module::$name),)*
        }

        /// What a command reported.
        #[allow(missing_docs, clippy::large_enum_variant)]
        pub enum Report {
            $($name($report),)*
        }

        $(impl Request for $module::$name {
            const TYPE: &'static str = stringify!($name);
            type Report = $report;
            fn run(self, session: &Session, ports: Ports) -> Result<$report> {
                $module::$name::execute(self, session, ports)
            }
        })*

        /// Every command type, in catalog order.
        pub const COMMAND_TYPES: &[&str] = &[$(stringify!($name),)*];

        impl Command {
            /// The typed command of a payload; an unknown type or a payload that does not
            /// fit its schema is a usage error.
            pub fn parse(command_type: &str, payload: &Value) -> Result<Command> {
                match command_type {
                    $(stringify!($name) => Ok(Command::$name(typed(command_type, payload)?)),)*
                    other => Err(Error::usage(format!(
                        "`{other}` is not a command type{}",
                        crate::suggest::did_you_mean(other, COMMAND_TYPES.iter().copied())
                    ))),
                }
            }

            /// A payload's JSON Schema, or `None` for a type not in the catalog.
            pub fn payload_schema(command_type: &str) -> Option<Value> {
                match command_type {
                    $(stringify!($name) => Some(schemars::schema_for!($module::$name).to_value()),)*
                    _ => None,
                }
            }

            /// Its type, VerbNoun.
            pub fn command_type(&self) -> &'static str {
                match self {
                    $(Command::$name(_) => stringify!($name),)*
                }
            }
        }

        /// Runs any command through its use case.
        pub fn execute(session: &Session, command: Command, ports: Ports) -> Result<Report> {
            match command {
                $(Command::$name(request) => request.run(session, ports).map(Report::$name),)*
            }
        }

        impl Report {
            /// The negative verdict the report holds (exit 3), if any.
            pub fn verdict(&self) -> Option<Error> {
                match self {
                    $(Report::$name(report) => report.verdict(),)*
                }
            }
        }
    };
}

commands! {
    RegisterTemplate(template) -> template::Registered;
    CreateTemplateVersion(template) -> template::VersionCreated;
    PublishTemplate(template) -> (template::Published, Option<super::registry::Pushed>);
    ValidateTemplate(validate) -> validate::Validated;
    GenerateScaffold(generate) -> generate::GenerateReport;
    EvaluateCompatibility(compat) -> compat::Evaluated;
    PlanTemplateUpgrade(upgrade) -> upgrade::UpgradeReport;
    RegisterLibrary(library) -> library::RegisteredLibrary;
    CreateLibraryVersion(library) -> library::RecordedRelease;
    ScanDependencies(library) -> library::Scanned;
    PublishPackage(library) -> library::PublishedPackage;
    AdvisePackageUpgrade(library) -> library::Advised;
}

impl Report {
    /// The exit code the command line gives for it: 0, or 3 for a negative verdict.
    pub fn exit_code(&self) -> u8 {
        self.verdict().map_or(0, |e| e.kind.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_parse_into_the_request_types_and_misfits_are_usage_errors() {
        let parsed = Command::parse(
            "GenerateScaffold",
            &serde_json::json!({"template": "T", "target": {"folder": "o"}}),
        )
        .unwrap();
        assert_eq!(parsed.command_type(), "GenerateScaffold");
        let Command::GenerateScaffold(request) = parsed else {
            panic!("a GenerateScaffold")
        };
        assert_eq!(request.target.folder.as_deref(), Some("o"));
        assert!(!request.trust, "a payload cannot ask for --trust");
        let refused = Command::parse("GenerateScaffold", &serde_json::json!({"template": 1}));
        let refused = refused.unwrap_err();
        assert!(refused.message.contains("does not fit its schema"));
        assert_eq!(refused.kind, crate::error::ErrorKind::Usage);
        // A command-line-only switch is not part of the wire form.
        let trust = Command::parse(
            "GenerateScaffold",
            &serde_json::json!({"template": "T", "target": {}, "trust": true}),
        );
        assert!(trust.unwrap_err().message.contains("unknown field `trust`"));
        let unknown = Command::parse("GenerateScafold", &serde_json::json!({})).unwrap_err();
        assert!(unknown.message.contains("did you mean `GenerateScaffold`"));
        let routed: Vec<&str> = crate::queue::catalog::COMMANDS
            .iter()
            .map(|s| s.command_type)
            .collect();
        assert_eq!(
            routed, COMMAND_TYPES,
            "every command is routed, in one order"
        );
        for command_type in COMMAND_TYPES {
            assert!(Command::payload_schema(command_type).is_some());
        }
    }

    #[test]
    fn a_bump_and_a_number_are_one_or_the_other() {
        let Command::CreateTemplateVersion(bumped) = Command::parse(
            "CreateTemplateVersion",
            &serde_json::json!({"template": "T", "bump": "minor"}),
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(
            bumped.version_spec().unwrap(),
            crate::domain::commands::VersionSpec::Bump(crate::domain::commands::Bump::Minor)
        );
        let both = Command::parse(
            "CreateTemplateVersion",
            &serde_json::json!({"template": "T", "bump": "minor", "version": "1.0.0"}),
        );
        let Ok(Command::CreateTemplateVersion(both)) = both else {
            panic!()
        };
        assert!(both.version_spec().is_err());
        assert!(
            Command::parse(
                "CreateTemplateVersion",
                &serde_json::json!({"template": "T", "bump": "huge"}),
            )
            .is_err()
        );
    }

    #[test]
    fn placement_below_a_root_refuses_what_leaves_it() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path().canonicalize().unwrap();
        let below = Placement::Below(root.clone());
        assert_eq!(below.folder("a/b").unwrap(), root.join("a/b"));
        for bad in ["", "../x", "/etc", "a/../../x"] {
            assert_eq!(
                below.folder(bad).unwrap_err().kind,
                crate::error::ErrorKind::Usage,
                "{bad}"
            );
        }
        assert_eq!(
            Placement::AsGiven.folder("../x").unwrap(),
            PathBuf::from("../x")
        );
    }
}
