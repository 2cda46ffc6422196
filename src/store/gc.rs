//! What a store holds that nothing needs: temporary files of writers that died (their names
//! carry the writer's process id) and objects no event refers to (written by a command that
//! died before it appended its events). `store check` reports them; `store gc` removes them
//! under the write lock, when no write can be between its objects and its events.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::Store;
use crate::domain::State;
use crate::error::{Error, Result};
use crate::events::log::LogReader;
use crate::tree::Tree;

/// What can go.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Garbage {
    /// Temporary files of writers that are gone, relative to the store.
    pub temporaries: Vec<PathBuf>,
    /// Objects no event refers to, relative to the store.
    pub unreferenced: Vec<PathBuf>,
    /// Their size in bytes.
    pub bytes: u64,
}

impl Garbage {
    /// Whether there is nothing to collect.
    pub fn is_empty(&self) -> bool {
        self.temporaries.is_empty() && self.unreferenced.is_empty()
    }

    /// One sentence for a report.
    pub fn summary(&self) -> String {
        format!(
            "{} temporary file(s) of stopped writers and {} object(s) no event refers to ({} bytes)",
            self.temporaries.len(),
            self.unreferenced.len(),
            self.bytes
        )
    }
}

/// What the log and the versions' trees name: every object that must stay.
#[derive(Debug, Default)]
pub struct References {
    objects: HashSet<String>,
    /// Versions whose tree could not be read: their blobs are unknown, so nothing is safe
    /// to remove.
    unreadable_trees: usize,
}

impl References {
    /// Notes every `sha256:<hex>` in one line of the log.
    pub fn note_line(&mut self, line: &[u8]) {
        const PREFIX: &[u8] = b"sha256:";
        for at in memchr::memmem::find_iter(line, PREFIX) {
            let hex = &line[at + PREFIX.len()..];
            if hex.len() >= 64 && hex[..64].iter().all(u8::is_ascii_hexdigit) {
                self.objects
                    .insert(String::from_utf8_lossy(&hex[..64]).into_owned());
            }
        }
    }

    /// Notes a version's tree: every blob it lists, or that it could not be read.
    pub fn note_tree(&mut self, tree: Option<&Tree>) {
        let Some(tree) = tree else {
            self.unreadable_trees += 1;
            return;
        };
        for file in &tree.files {
            let hex = file.blob.trim_start_matches(super::objects::PREFIX);
            self.objects.insert(hex.to_string());
        }
    }

    /// Everything the store names, read from the log and the trees.
    fn of(store: &Store, state: &State) -> Result<References> {
        let mut references = References::default();
        if let Some(mut reader) = LogReader::open_at(&store.log_path(), 0)? {
            while let Some(line) = reader.next_line()? {
                references.note_line(line.bytes);
            }
        }
        let objects = store.objects();
        for template in state.templates.values() {
            for version in &template.versions {
                let tree = objects
                    .get(&version.tree)
                    .and_then(|b| Tree::from_bytes(&b))
                    .ok();
                references.note_tree(tree.as_ref());
            }
        }
        Ok(references)
    }
}

/// Finds what can go. `locked` says the caller holds the write lock: then a temporary file
/// without a process id in its name (only ever written under the lock) is a dead writer's too.
/// With a version's tree unreadable no object is called unreferenced (its blobs are unknown).
pub fn find(store: &Store, references: &References, locked: bool) -> Result<Garbage> {
    let mut garbage = Garbage::default();
    let root = store.root();
    let note = |garbage: &mut Garbage, path: &Path, temporary: bool| {
        let size = fs::symlink_metadata(path).map_or(0, |m| m.len());
        let relative = path.strip_prefix(root).unwrap_or(path).to_path_buf();
        garbage.bytes += size;
        if temporary {
            garbage.temporaries.push(relative);
        } else {
            garbage.unreferenced.push(relative);
        }
    };
    for (dir, pid_of) in [
        (
            root.to_path_buf(),
            root_pid as fn(&str) -> Option<Option<u32>>,
        ),
        (root.join("state"), state_pid),
        (root.join("cursors"), cursor_pid),
    ] {
        for path in files_in(&dir)? {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            if let Some(pid) = pid_of(&name)
                && pid.map_or(locked, |pid| !crate::process::alive(pid))
            {
                note(&mut garbage, &path, true);
            }
        }
    }
    let objects = root.join("objects");
    for shard in files_in_dirs(&objects)? {
        for path in files_in(&shard)? {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            if let Some(rest) = name.strip_prefix(".tmp-") {
                let pid = rest.split('-').next().and_then(|p| p.parse().ok());
                if pid.is_none_or(|pid| !crate::process::alive(pid)) {
                    note(&mut garbage, &path, true);
                }
                continue;
            }
            let shard_name = shard.file_name().unwrap_or_default().to_string_lossy();
            if references.unreadable_trees == 0
                && !references.objects.contains(&format!("{shard_name}{name}"))
            {
                note(&mut garbage, &path, false);
            }
        }
    }
    Ok(garbage)
}

/// Removes what `find` reports, under the write lock. Returns what went.
pub fn collect(store: &Store) -> Result<Garbage> {
    if !store.exists() {
        return Ok(Garbage::default());
    }
    let lock = store.lock()?;
    store.recover_torn_tail(&lock)?;
    // A damaged line refuses: the trees it names would be unknown, their blobs unreferenced.
    let (state, ..) = store.load_caught_up(super::OnDamage::Refuse)?;
    let references = References::of(store, &state)?;
    let garbage = find(store, &references, true)?;
    for relative in garbage.temporaries.iter().chain(&garbage.unreferenced) {
        let path = store.root().join(relative);
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("remove", &path, e)),
        }
    }
    Ok(garbage)
}

/// `.store.yaml.tmp` and `events.jsonl.rebuild-tmp` are written under the lock, without a pid.
fn root_pid(name: &str) -> Option<Option<u32>> {
    (name == ".store.yaml.tmp" || name == "events.jsonl.rebuild-tmp").then_some(None)
}

/// `.state-PID.tmp`.
fn state_pid(name: &str) -> Option<Option<u32>> {
    let pid = name.strip_prefix(".state-")?.strip_suffix(".tmp")?;
    Some(pid.parse().ok())
}

/// `.ID.PID.tmp`.
fn cursor_pid(name: &str) -> Option<Option<u32>> {
    let rest = name.strip_prefix('.')?.strip_suffix(".tmp")?;
    Some(rest.rsplit('.').next().and_then(|p| p.parse().ok()))
}

fn files_in(dir: &Path) -> Result<Vec<PathBuf>> {
    entries(dir, |t| t.is_file())
}

fn files_in_dirs(dir: &Path) -> Result<Vec<PathBuf>> {
    entries(dir, |t| t.is_dir())
}

fn entries(dir: &Path, keep: fn(&fs::FileType) -> bool) -> Result<Vec<PathBuf>> {
    let read = match fs::read_dir(dir) {
        Ok(read) => read,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("read", dir, e)),
    };
    let mut out = Vec::new();
    for entry in read {
        let entry = entry.map_err(|e| Error::io("read", dir, e))?;
        if entry.file_type().is_ok_and(|t| keep(&t)) {
            out.push(entry.path());
        }
    }
    out.sort();
    Ok(out)
}
