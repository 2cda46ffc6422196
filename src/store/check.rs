//! `factory store check`: re-hash every object, parse every line of the log, check that
//! what the events name exists, that no stored tree holds a path that would leave its
//! output folder or plant `.git`, and that the projection equals a full replay.

use serde::Serialize;

use super::{OnDamage, Store, projection, reader};
use crate::domain::State;
use crate::error::Result;
use crate::events::log::{self, LogReader};
use crate::hash::{HashedFile, tree_hash};
use crate::ids;
use crate::tree::Tree;

/// What `store check` found.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckReport {
    /// Events read.
    pub events: u64,
    /// Objects re-hashed.
    pub objects: u64,
    /// Template versions whose trees were checked.
    pub versions: u64,
    /// Problems, one sentence each.
    pub problems: Vec<String>,
    /// Things worth knowing that are not problems.
    pub notes: Vec<String>,
    /// What `store gc` would remove.
    pub garbage: super::gc::Garbage,
}

impl CheckReport {
    /// Whether the store is sound.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks the whole store. Reads only; takes no lock.
pub fn check(store: &Store) -> Result<CheckReport> {
    let mut report = CheckReport::default();
    let log_path = store.log_path();

    // The log: every complete line is an envelope with a readable payload.
    let mut replay = State::default();
    // What `store gc` would keep, noted on the way rather than read again.
    let mut references = super::gc::References::default();
    if let Some(mut reader) = LogReader::open_at(&log_path, 0)? {
        while let Some(line) = reader.next_line()? {
            references.note_line(line.bytes);
            // The readers' one rule: blank lines are not events and not damage.
            let envelope = match reader::Line::read(line.bytes) {
                reader::Line::Blank => continue,
                reader::Line::Damaged(why) => {
                    report.events += 1;
                    report
                        .problems
                        .push(format!("events.jsonl:{}: {why}", line.number));
                    continue;
                }
                reader::Line::Event { envelope, event } => {
                    report.events += 1;
                    replay.apply(&envelope.event_id, &envelope.occurred_at, event.as_ref());
                    envelope
                }
            };
            if !ids::has_prefix(&envelope.event_id, ids::EVENT) {
                report.problems.push(format!(
                    "events.jsonl:{}: eventId `{}` is not evt-<uuid>",
                    line.number, envelope.event_id
                ));
            }
        }
        let end = reader.offset();
        if let Some(whole) = log::torn_tail(&log_path)? {
            report.problems.push(format!(
                "events.jsonl ends in a partial line at byte {whole}; the next write command moves it aside"
            ));
        }
        // The projection must equal the replay once caught up.
        match projection::load(&store.projection_path()) {
            None => report
                .notes
                .push("state/ is missing; the next command rebuilds it".into()),
            Some(saved) => {
                if !projection::matches_log(store, &saved)? {
                    report
                        .notes
                        .push("state/ does not match the log; the next command rebuilds it".into());
                } else {
                    let mut state = saved.state;
                    // A damaged line (reported above) stops the catch-up; say so, go on.
                    match projection::catch_up(store, saved.log_offset, &mut state, OnDamage::Refuse) {
                        Ok(caught) if caught.offset != end || state != replay => report
                            .problems
                            .push("state/ differs from a full replay of the log; run `factory store rebuild`".into()),
                        Ok(_) => {}
                        Err(_) => report.notes.push(
                            "state/ could not be compared past the damaged line".into(),
                        ),
                    }
                }
            }
        }
    }

    // Objects: each file hashes to its name.
    let objects = store.objects();
    if !log_path.exists() {
        let objects_held = objects.list()?.len();
        let recorded =
            projection::load(&store.projection_path()).map_or(0, |p| p.state.event_count);
        if objects_held > 0 || recorded > 0 {
            report.problems.push(format!(
                "events.jsonl is missing, but the store holds {objects_held} object(s) and state/ records {recorded} event(s): the log was lost"
            ));
        }
    }
    for (hex, path) in objects.list()? {
        report.objects += 1;
        match crate::hash::sha256_file(&path) {
            Ok(actual) if actual == hex => {}
            Ok(_) => report.problems.push(format!(
                "object {} does not hash to its name (corrupt)",
                path.display()
            )),
            Err(e) => report.problems.push(e.message),
        }
    }

    // Every version's tree exists, its blobs exist, and they add up to its content hash.
    for template in replay.templates.values() {
        for version in &template.versions {
            report.versions += 1;
            let at = format!("{}@{}", template.name, version.version);
            let tree = match objects
                .get(&version.tree)
                .and_then(|b| Tree::from_bytes(&b))
            {
                Ok(tree) => tree,
                Err(e) => {
                    report.problems.push(format!("{at}: tree: {}", e.message));
                    references.note_tree(None);
                    continue;
                }
            };
            references.note_tree(Some(&tree));
            // Paths that would leave the output folder or plant `.git` (a tree pulled
            // before pulls checked them, or put there by hand): generate refuses them.
            for problem in crate::render::paths::tree_problems(&tree) {
                report.problems.push(format!("{at}: tree: {problem}"));
            }
            let mut files = Vec::with_capacity(tree.files.len());
            for file in &tree.files {
                let hex = file.blob.trim_start_matches(super::objects::PREFIX);
                if !objects.path_of(hex).is_file() {
                    report.problems.push(format!(
                        "{at}: object {} for {} is missing",
                        file.blob, file.path
                    ));
                }
                files.push(HashedFile {
                    path: file.path.clone(),
                    sha256: hex.to_string(),
                });
            }
            if tree_hash(&mut files).content_hash != version.content_hash {
                report.problems.push(format!(
                    "{at}: its files no longer add up to content hash {}",
                    version.content_hash
                ));
            }
        }
    }
    report.garbage = super::gc::find(store, &references, false)?;
    if !report.garbage.is_empty() {
        report.notes.push(format!(
            "{}; `factory store gc` removes them",
            report.garbage.summary()
        ));
    }
    Ok(report)
}
