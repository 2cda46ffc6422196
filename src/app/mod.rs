//! The application layer: one use case per command of the platform, so a command message
//! (from a shell, a CI step or a queue) maps 1:1 onto code. Each use case takes a typed
//! request and the ports it needs (the [`Session`]: store, settings, clock and ids; a
//! progress sink; an answer asker) and returns a typed report. It decides inside
//! `Store::write`, with the state read under the lock. Nothing here prints.

pub mod command;
pub mod compat;
pub mod generate;
pub mod library;
pub mod push;
pub mod registry;
pub mod remote;
mod settings;
pub mod template;
pub mod upgrade;
pub mod upgrade_check;
pub mod validate;
pub mod worker;

pub use crate::domain::Reference;
pub use crate::domain::reference::parse_assignments;
pub use command::{Command, Placement, Ports, Report, Request, execute, run};
pub use settings::{Flags, Settings};

use crate::error::Result;
use crate::events::{Envelope, EventContext};
use crate::store::{Decision, Store};

/// The store and settings one invocation works with.
#[derive(Debug)]
pub struct Session {
    /// The store.
    pub store: Store,
    /// The resolved settings.
    pub settings: Settings,
    notes: std::cell::RefCell<Vec<String>>,
    tool_warnings: std::cell::RefCell<Vec<String>>,
}

impl Session {
    /// Opens the store the settings name (or find).
    pub fn open(settings: Settings) -> Result<Session> {
        let root = crate::store::locate(
            settings.store.as_deref(),
            &settings.cwd,
            settings.data_home.as_deref(),
        )?;
        Ok(Session {
            store: Store::open(&root)?,
            settings,
            notes: Default::default(),
            tool_warnings: Default::default(),
        })
    }

    /// The envelope fields of this invocation's events.
    pub fn context(&self) -> EventContext {
        self.settings.event_context(self.store.config())
    }

    /// Decides and appends under the store's lock (see [`Store::write`]).
    pub fn write<T>(
        &self,
        decide: impl FnOnce(&crate::domain::State) -> Result<Decision<T>>,
    ) -> Result<(Vec<Envelope>, T)> {
        self.store.write(&self.context(), decide)
    }

    /// Something the user should hear that is not a warning (the tag a fetch chose).
    pub fn note(&self, text: String) {
        self.notes.borrow_mut().push(text);
    }

    /// What reading a template had to say: its notes, and its tool's warnings.
    pub fn relay(&self, resolved: &crate::source::ResolvedSource) {
        for note in &resolved.notes {
            self.note(note.clone());
        }
        for warning in &resolved.tool_warnings {
            self.tool_warning(warning.clone());
        }
    }

    /// A warning the template's tool gives as a Python warning, said once whatever
    /// `--quiet` says, as copier's are: a form it deprecates (still honoured), changes not
    /// committed in a local template (its DirtyLocalWarning).
    pub fn tool_warning(&self, text: String) {
        let mut warnings = self.tool_warnings.borrow_mut();
        if !warnings.contains(&text) {
            warnings.push(text);
        }
    }

    /// The tool warnings gathered so far; drained.
    pub fn take_tool_warnings(&self) -> Vec<String> {
        std::mem::take(&mut self.tool_warnings.borrow_mut())
    }

    /// The notes gathered so far; drained.
    pub fn take_notes(&self) -> Vec<String> {
        std::mem::take(&mut self.notes.borrow_mut())
    }

    /// What the user should hear about besides the report: the store's notices (recoveries,
    /// rebuilds), the deprecated builtins templates called and, after a command that wrote events, a failed automatic push.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = self.store.take_notices();
        // Once per deprecated builtin the templates called (copier warns at each call).
        warnings.extend(
            self.settings
                .render
                .take_deprecated()
                .into_iter()
                .map(crate::render::copier_data::deprecation),
        );
        warnings.extend(remote::registry_warnings());
        if self.store.take_wrote_events() {
            warnings.extend(push::auto_push(&self.store));
        }
        warnings
    }
}

/// The ids of envelopes, for reports.
pub fn event_ids(envelopes: &[Envelope]) -> Vec<String> {
    envelopes.iter().map(|e| e.event_id.clone()).collect()
}
