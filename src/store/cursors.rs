//! Per-target push progress: `cursors/<target>.json`, written atomically, and a lock so two
//! pushes to one target take turns.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How far a target has been pushed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cursor {
    /// The target, without credentials.
    pub target: String,
    /// The log offset after the last acknowledged event.
    pub offset: u64,
    /// The last acknowledged event.
    pub last_event_id: Option<String>,
    /// How many events were acknowledged in all.
    pub pushed: u64,
    /// When it last moved.
    pub updated_at: Option<String>,
}

/// The cursors folder of a store.
#[derive(Debug, Clone)]
pub struct Cursors {
    dir: PathBuf,
}

impl Cursors {
    /// The cursors below `dir`.
    pub fn new(dir: PathBuf) -> Self {
        Cursors { dir }
    }

    fn path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// A target's cursor; the start of the log when it has none.
    pub fn load(&self, id: &str) -> Result<Cursor> {
        let path = self.path(id);
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                Error::new(format!("{} is unreadable: {e}", path.display())).hint(
                    "delete it to push everything again (brokers drop duplicates by message id)",
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Cursor::default()),
            Err(e) => Err(Error::io("read", &path, e)),
        }
    }

    /// Saves a cursor: temporary file, flush, rename.
    pub fn save(&self, id: &str, cursor: &Cursor) -> Result<()> {
        fs::create_dir_all(&self.dir).map_err(|e| Error::io("create", &self.dir, e))?;
        let path = self.path(id);
        let tmp = self.dir.join(format!(".{id}.{}.tmp", std::process::id()));
        let bytes = serde_json::to_vec_pretty(cursor).expect("cursors serialize");
        let written = File::create(&tmp)
            .and_then(|mut f| f.write_all(&bytes).and_then(|_| f.sync_data()))
            .and_then(|_| fs::rename(&tmp, &path));
        written.map_err(|e| Error::io("write", &path, e))
    }

    /// Every saved cursor: (id, cursor).
    pub fn all(&self) -> Result<Vec<(String, Cursor)>> {
        let mut out = Vec::new();
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return Ok(out);
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(id) = name
                .strip_suffix(".json")
                .filter(|_| !name.starts_with('.'))
            {
                out.push((id.to_string(), self.load(id)?));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// Takes the target's push lock, waiting for another push to the same target.
    pub fn lock(&self, id: &str) -> Result<File> {
        fs::create_dir_all(&self.dir).map_err(|e| Error::io("create", &self.dir, e))?;
        let path: &Path = &self.dir.join(format!("{id}.lock"));
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|e| Error::io("open", path, e))?;
        file.lock().map_err(|e| Error::io("lock", path, e))?;
        Ok(file)
    }
}
