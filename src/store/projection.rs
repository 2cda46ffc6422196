//! `state/state.json`: the folded state plus the log offset it reflects. Derived and
//! rebuildable: deleting it loses nothing; a stale one is detected and rebuilt.

use std::fs;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{OnDamage, Store};
use crate::domain::State;
use crate::error::{Error, Result};

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
/// line, and the last event before it is the last event the projection applied.
pub fn matches_log(store: &Store, projection: &Projection) -> Result<bool> {
    if projection.log_offset == 0 {
        return Ok(projection.state.event_count == 0);
    }
    store.log_position_fits(
        projection.log_offset,
        projection.state.last_event_id.as_deref(),
    )
}

/// What [`catch_up`] did.
#[derive(Debug, Clone)]
pub struct CaughtUp {
    /// The log offset the state now reflects.
    pub offset: u64,
    /// Events applied.
    pub applied: u64,
    /// With [`OnDamage::Warn`], when a damaged line was skipped: where it starts and the
    /// state just before it. That is what may be saved: a projection never passes a damaged
    /// line, so the next command meets it again (one that writes refuses).
    pub before_damage: Option<(u64, State)>,
}

/// Applies every event from `offset` to `state`, under the store's rule for a damaged line.
pub fn catch_up(
    store: &Store,
    offset: u64,
    state: &mut State,
    on_damage: OnDamage,
) -> Result<CaughtUp> {
    let mut caught = CaughtUp {
        offset,
        applied: 0,
        before_damage: None,
    };
    let Some(mut events) = store.events_from(offset, on_damage)? else {
        return Ok(caught);
    };
    loop {
        let next = events
            .next_event()?
            .map(|entry| (entry.envelope, entry.event));
        if caught.before_damage.is_none()
            && let Some(at) = events.first_skipped_at()
        {
            caught.before_damage = Some((at, state.clone()));
        }
        let Some((envelope, event)) = next else {
            break;
        };
        state.apply(&envelope.event_id, &envelope.occurred_at, event.as_ref());
        caught.applied += 1;
    }
    caught.offset = events.offset();
    Ok(caught)
}
