//! `state/state.json`: the folded state plus the log offset it reflects. Derived and
//! rebuildable: deleting it loses nothing; a stale one is detected and rebuilt.

use std::fs;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::domain::State;
use crate::error::{Error, Result};
use crate::events::Envelope;
use crate::events::log::{self, LogReader};

/// The projection format this build writes (2: versions list their registry artifacts).
const PROJECTION_FORMAT: u32 = 2;

/// The projection file's contents.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Projection {
    /// Format of this file.
    pub format_version: u32,
    /// The log offset (bytes) the state reflects.
    pub log_offset: u64,
    /// The state.
    pub state: State,
}

/// Reads the saved projection; `None` when it is missing, unreadable or of another format
/// (all of which mean "replay").
pub fn load(path: &Path) -> Option<Projection> {
    let bytes = fs::read(path).ok()?;
    let projection: Projection = serde_json::from_slice(&bytes).ok()?;
    (projection.format_version == PROJECTION_FORMAT).then_some(projection)
}

/// Saves the projection (temporary file, then rename).
pub fn save(path: &Path, log_offset: u64, state: &State) -> Result<()> {
    let dir = path.parent().expect("projection has a parent");
    fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
    let tmp = dir.join(format!(".state-{}.tmp", std::process::id()));
    let projection = Projection {
        format_version: PROJECTION_FORMAT,
        log_offset,
        state: state.clone(),
    };
    let bytes = serde_json::to_vec(&projection).expect("state serializes");
    fs::write(&tmp, bytes)
        .and_then(|_| fs::rename(&tmp, path))
        .map_err(|e| Error::io("write", path, e))
}

/// Whether a saved projection belongs to this log: its offset is inside the log, ends a
/// line, and the line just before it is the last event the projection applied.
pub fn matches_log(log_path: &Path, projection: &Projection) -> Result<bool> {
    let offset = projection.log_offset;
    if offset == 0 {
        return Ok(projection.state.event_count == 0);
    }
    if offset > log::len(log_path)? {
        return Ok(false);
    }
    Ok(log::last_event_id_before(log_path, offset)? == projection.state.last_event_id)
}

/// Applies every complete line from `offset` to `state`; returns the new offset and how
/// many events were applied.
pub fn catch_up(log_path: &Path, offset: u64, state: &mut State) -> Result<(u64, u64)> {
    let Some(mut reader) = LogReader::open_at(log_path, offset)? else {
        return Ok((offset, 0));
    };
    let mut applied = 0;
    while let Some(line) = reader.next_line()? {
        let envelope = Envelope::from_line(line.bytes).map_err(|e| {
            Error::new(format!(
                "{}: the line at byte {} is not an event envelope: {e}",
                log_path.display(),
                line.start
            ))
            .hint("run `factory store check`; move the damaged line out of the log to continue")
        })?;
        let event = envelope.event()?;
        state.apply(&envelope.event_id, &envelope.occurred_at, event.as_ref());
        applied += 1;
    }
    Ok((reader.offset(), applied))
}
