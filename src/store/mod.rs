//! The store (DESIGN.md section 2): one folder holding the log, objects, projections and
//! the writers' lock. Found by `--store` > `FACTORY_STORE` > the nearest `.factory-store/`
//! above the current folder > the user data folder; created on first write.

pub mod check;
pub mod config;
pub mod cursors;
pub mod gc;
pub mod objects;
pub mod projection;
pub mod reader;

use std::cell::{Cell, RefCell};
use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};

use crate::domain::{DomainEvent, State};
use crate::error::{Error, Result};
use crate::events::log;
use crate::events::{Envelope, EventContext};
pub use config::StoreConfig;
pub use objects::Objects;
pub use reader::{CommandIndex, Entry, LogEvents, OnDamage};

/// The environment variable naming the store folder.
pub const STORE_ENV: &str = "FACTORY_STORE";
/// The folder name searched for upwards from the current folder.
pub const LOCAL_STORE_DIR: &str = ".factory-store";

/// Finds the store folder: `explicit` (the flag or `FACTORY_STORE`) > the nearest
/// `.factory-store/` from `cwd` upwards > the user data folder (`data_home`).
pub fn locate(explicit: Option<&Path>, cwd: &Path, data_home: Option<&Path>) -> Result<PathBuf> {
    if let Some(dir) = explicit {
        return Ok(dir.to_path_buf());
    }
    for dir in cwd.ancestors() {
        let candidate = dir.join(LOCAL_STORE_DIR);
        if candidate.is_dir() {
            return Ok(candidate);
        }
    }
    data_home.map(Path::to_path_buf).ok_or_else(|| {
        Error::new("cannot find a store: no --store, FACTORY_STORE, .factory-store/ or home folder")
            .hint("pass --store DIR or set FACTORY_STORE")
    })
}

/// What a write decided: the events to append, the objects they name (written first),
/// and a value for the caller.
#[derive(Debug)]
pub struct Decision<T> {
    /// Events, in order.
    pub events: Vec<DomainEvent>,
    /// Object bytes with their hex sha256, written before the events.
    pub objects: Vec<(String, Vec<u8>)>,
    /// What the command reports.
    pub output: T,
    /// `causes[i] = Some(j)`: event `i` was caused by event `j` (default: each by the one
    /// before).
    pub causes: Vec<Option<usize>>,
}

impl<T> Decision<T> {
    /// Events and the objects they name.
    pub fn with_objects(
        events: Vec<DomainEvent>,
        objects: Vec<(String, Vec<u8>)>,
        output: T,
    ) -> Self {
        Decision {
            objects,
            ..Decision::events(events, output)
        }
    }

    /// Events only, no objects.
    pub fn events(events: Vec<DomainEvent>, output: T) -> Self {
        Decision {
            events,
            objects: Vec::new(),
            output,
            causes: Vec::new(),
        }
    }
}

/// A store folder.
#[derive(Debug)]
pub struct Store {
    root: PathBuf,
    config: StoreConfig,
    notices: RefCell<Vec<String>>,
    wrote_events: Cell<bool>,
    /// Damaged lines already warned about.
    damage_warned: reader::Warned,
}

/// The exclusive writers' lock; released on drop.
#[derive(Debug)]
pub struct WriteLock {
    _file: File,
}

impl Store {
    /// Opens the store at `root`. A missing or empty folder is a store yet to be created; a
    /// folder with other files and no `store.yaml` is refused.
    pub fn open(root: &Path) -> Result<Store> {
        let config_path = root.join("store.yaml");
        let config = if config_path.is_file() {
            StoreConfig::load(&config_path)?
        } else {
            check_can_become_store(root)?;
            StoreConfig::new(None)
        };
        Ok(Store {
            root: root.to_path_buf(),
            config,
            notices: RefCell::new(Vec::new()),
            wrote_events: Cell::new(false),
            damage_warned: Default::default(),
        })
    }

    /// Creates a store at `root` (or confirms one is there). Returns whether it was created.
    pub fn init(root: &Path, tenant: Option<&str>) -> Result<(Store, bool)> {
        let config_path = root.join("store.yaml");
        if config_path.is_file() {
            return Ok((Store::open(root)?, false));
        }
        check_can_become_store(root)?;
        let store = Store {
            root: root.to_path_buf(),
            config: StoreConfig::new(tenant),
            notices: RefCell::new(Vec::new()),
            wrote_events: Cell::new(false),
            damage_warned: Default::default(),
        };
        store.create()?;
        Ok((store, true))
    }

    /// The store folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The store's configuration.
    pub fn config(&self) -> &StoreConfig {
        &self.config
    }

    /// The log file: opened by the store alone (its readers are in [`reader`]).
    fn log_path(&self) -> PathBuf {
        self.root.join("events.jsonl")
    }

    /// The objects.
    pub fn objects(&self) -> Objects {
        Objects::new(self.root.join("objects"))
    }

    /// The push cursors, one per broker target.
    pub fn cursors(&self) -> cursors::Cursors {
        cursors::Cursors::new(self.root.join("cursors"))
    }

    /// The objects as the engines read them.
    pub fn blobs(&self) -> std::sync::Arc<dyn crate::template::snapshot::Blobs> {
        std::sync::Arc::new(self.objects())
    }

    fn projection_path(&self) -> PathBuf {
        self.root.join("state").join("state.json")
    }

    /// Whether `store.yaml` exists yet.
    pub fn exists(&self) -> bool {
        self.root.join("store.yaml").is_file()
    }

    /// Messages for the user gathered while working (recoveries, rebuilds); drained.
    pub fn take_notices(&self) -> Vec<String> {
        std::mem::take(&mut self.notices.borrow_mut())
    }

    /// Whether this handle appended events (and has not reported it yet); cleared on read.
    pub fn take_wrote_events(&self) -> bool {
        self.wrote_events.replace(false)
    }

    /// Adds a message for the user (shown with the store's own notices).
    pub fn notice(&self, message: String) {
        self.notices.borrow_mut().push(message);
    }

    fn create(&self) -> Result<()> {
        for dir in ["objects", "state", "cursors"] {
            let path = self.root.join(dir);
            fs::create_dir_all(&path).map_err(|e| Error::io("create", &path, e))?;
        }
        let config_path = self.root.join("store.yaml");
        let tmp = self.root.join(".store.yaml.tmp");
        fs::write(&tmp, self.config.to_yaml())
            .and_then(|_| fs::rename(&tmp, &config_path))
            .map_err(|e| Error::io("write", &config_path, e))?;
        let log_path = self.log_path();
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| Error::io("create", &log_path, e))?;
        Ok(())
    }

    /// Removes what `create` made: `created_top`, the highest folder that did not exist
    /// before, or else the store's own files in the folder that did.
    fn uncreate(&self, created_top: Option<&Path>) {
        if let Some(top) = created_top {
            let _ = fs::remove_dir_all(top);
            return;
        }
        for name in ["objects", "state", "cursors"] {
            let _ = fs::remove_dir_all(self.root.join(name));
        }
        for name in ["store.yaml", "events.jsonl", "lock"] {
            let _ = fs::remove_file(self.root.join(name));
        }
    }

    /// Takes the writers' lock, waiting for other writers.
    pub fn lock(&self) -> Result<WriteLock> {
        let path = self.root.join("lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io("open", &path, e))?;
        file.lock().map_err(|e| Error::io("lock", &path, e))?;
        Ok(WriteLock { _file: file })
    }

    fn try_lock(&self) -> Option<WriteLock> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.root.join("lock"))
            .ok()?;
        file.try_lock().ok()?;
        Some(WriteLock { _file: file })
    }

    /// Moves a partial last line of the log aside (the trace of a writer that died mid-write).
    /// Call with the lock held.
    fn recover_torn_tail(&self, _lock: &WriteLock) -> Result<()> {
        let log_path = self.log_path();
        let Some(whole) = log::torn_tail(&log_path)? else {
            return Ok(());
        };
        let end = log::len(&log_path)?;
        let partial = log::read_range(&log_path, whole, end)?;
        let dir = self.root.join("recovered");
        fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
        let stamp = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
        let aside = dir.join(format!("events-torn-at-{whole}-{stamp}.partial"));
        fs::write(&aside, &partial).map_err(|e| Error::io("write", &aside, e))?;
        let file = OpenOptions::new()
            .write(true)
            .open(&log_path)
            .map_err(|e| Error::io("open", &log_path, e))?;
        file.set_len(whole)
            .and_then(|_| file.sync_all())
            .map_err(|e| Error::io("truncate", &log_path, e))?;
        self.notice(format!(
            "the event log ended in a partial line ({} bytes at byte {whole}, left by an interrupted write); moved it to {}",
            partial.len(),
            aside.display()
        ));
        Ok(())
    }

    /// Moves every damaged line (see [`reader`]) out of the log into `recovered/`, with its
    /// line number reported, so it no longer stops commands that write. The log is rewritten
    /// whole (a temporary file renamed over it) while the lock is held, and only when a line
    /// is damaged; everything before the first damaged line keeps its offset (blank lines
    /// stay), so push cursors taken before it still fit.
    fn set_damaged_lines_aside(&self, _lock: &WriteLock) -> Result<()> {
        let log_path = self.log_path();
        let Some(mut reader) = log::LogReader::open_at(&log_path, 0)? else {
            return Ok(());
        };
        let kept_path = self.root.join("events.jsonl.rebuild-tmp");
        let mut kept = std::io::BufWriter::new(
            File::create(&kept_path).map_err(|e| Error::io("create", &kept_path, e))?,
        );
        let mut damaged: Vec<(u64, Vec<u8>)> = Vec::new();
        while let Some(line) = reader.next_line()? {
            match reader::Line::read(line.bytes) {
                reader::Line::Damaged(_) => damaged.push((line.number, line.bytes.to_vec())),
                reader::Line::Blank | reader::Line::Event { .. } => {
                    std::io::Write::write_all(&mut kept, line.bytes)
                        .and_then(|()| std::io::Write::write_all(&mut kept, b"\n"))
                        .map_err(|e| Error::io("write", &kept_path, e))?
                }
            }
        }
        let file = kept
            .into_inner()
            .map_err(|e| Error::io("write", &kept_path, e.into_error()))?;
        file.sync_all()
            .map_err(|e| Error::io("write", &kept_path, e))?;
        if damaged.is_empty() {
            let _ = fs::remove_file(&kept_path);
            return Ok(());
        }
        let dir = self.root.join("recovered");
        fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
        let stamp = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
        let aside = dir.join(format!("events-damaged-{stamp}.jsonl"));
        let mut text = Vec::new();
        for (_, bytes) in &damaged {
            text.extend_from_slice(bytes);
            text.push(b'\n');
        }
        fs::write(&aside, text).map_err(|e| Error::io("write", &aside, e))?;
        fs::rename(&kept_path, &log_path).map_err(|e| Error::io("replace", &log_path, e))?;
        let numbers: Vec<String> = damaged.iter().map(|(n, _)| n.to_string()).collect();
        self.notice(format!(
            "events.jsonl lines {} were not readable events; moved them to {} (push cursors made before may need `events push --status` and a reset)",
            numbers.join(", "),
            aside.display()
        ));
        Ok(())
    }

    /// The current state, for a command that may write: the saved projection caught up
    /// with the log. A damaged line refuses (see [`reader`]). Cost follows the number of
    /// events since the projection was saved, not the length of the log.
    pub fn state(&self) -> Result<State> {
        self.state_with(OnDamage::Refuse)
    }

    /// The current state, for a command that only reads: a damaged line is skipped with a
    /// warning (among the notices) and the state answers from the readable lines.
    pub fn state_for_reading(&self) -> Result<State> {
        self.state_with(OnDamage::Warn)
    }

    fn state_with(&self, on_damage: OnDamage) -> Result<State> {
        if !self.exists() {
            return Ok(State::default());
        }
        if log::torn_tail(&self.log_path())?.is_some() {
            let lock = self.lock()?;
            self.recover_torn_tail(&lock)?;
        }
        let (state, caught, rebuilt) = self.load_caught_up(on_damage)?;
        if caught.applied > 0 || rebuilt {
            // A projection never passes a damaged line: it stops before it, where the next
            // command meets the line again (one that writes refuses).
            let (offset, saved) = match &caught.before_damage {
                Some((at, before)) => (*at, before),
                None => (caught.offset, &state),
            };
            // Best effort: a reader that could not save leaves the work for the next one.
            if let Some(_lock) = self.try_lock() {
                let _ = projection::save(&self.projection_path(), offset, saved);
            }
        }
        Ok(state)
    }

    /// Loads the projection and applies the rest of the log; returns the state, what the
    /// catch-up did and whether the state was rebuilt from scratch.
    fn load_caught_up(&self, on_damage: OnDamage) -> Result<(State, projection::CaughtUp, bool)> {
        let (mut state, offset, rebuilt) = match projection::load(&self.projection_path()) {
            Some(p) if projection::matches_log(self, &p)? => (p.state, p.log_offset, false),
            Some(_) => {
                self.notice("state/ did not match the event log; rebuilt it from the log".into());
                (State::default(), 0, true)
            }
            None => (State::default(), 0, log::len(&self.log_path())? > 0),
        };
        let caught = projection::catch_up(self, offset, &mut state, on_damage)?;
        Ok((state, caught, rebuilt))
    }

    /// Moves damaged lines aside, then replays the whole log into a fresh state and saves it
    /// as the projection.
    pub fn rebuild(&self) -> Result<State> {
        let lock = self.lock()?;
        self.recover_torn_tail(&lock)?;
        self.set_damaged_lines_aside(&lock)?;
        let mut state = State::default();
        let caught = projection::catch_up(self, 0, &mut state, OnDamage::Refuse)?;
        projection::save(&self.projection_path(), caught.offset, &state)?;
        Ok(state)
    }

    /// Runs one write command: takes the lock, brings the state up to date, lets `decide`
    /// choose events, writes their objects, appends the events in one flushed write, saves
    /// the projection, and releases the lock. If `decide` refuses, nothing changes.
    pub fn write<T>(
        &self,
        context: &EventContext,
        decide: impl FnOnce(&State) -> Result<Decision<T>>,
    ) -> Result<(Vec<Envelope>, T)> {
        self.commit(|state| {
            let decision = decide(state)?;
            let mut envelopes = context.stamp_caused(&decision.events, &decision.causes);
            // Nothing a secret reached (an error quoting a path built from one) is recorded.
            for envelope in &mut envelopes {
                crate::secrets::redact_json(&mut envelope.payload);
            }
            Ok(Append {
                envelopes,
                events: decision.events,
                objects: decision.objects,
                output: decision.output,
            })
        })
    }

    /// Appends events recorded elsewhere (a version pulled from a registry) as they are,
    /// with their own ids and times, after the objects they name; `prepare` sees the state
    /// under the lock and returns what is still missing from it.
    pub fn import<T>(
        &self,
        prepare: impl FnOnce(&State) -> Result<Append<T>>,
    ) -> Result<(Vec<Envelope>, T)> {
        self.commit(prepare)
    }

    fn commit<T>(
        &self,
        prepare: impl FnOnce(&State) -> Result<Append<T>>,
    ) -> Result<(Vec<Envelope>, T)> {
        let fresh = !self.exists();
        // The highest folder this command would create, to remove if it is refused.
        let created_top = self
            .root
            .ancestors()
            .take_while(|d| !d.as_os_str().is_empty() && !d.exists())
            .last()
            .map(Path::to_path_buf);
        if fresh {
            self.create()?;
        }
        let lock = self.lock()?;
        self.recover_torn_tail(&lock)?;
        // A damaged line refuses before anything is decided or written.
        let (mut state, caught, _) = self.load_caught_up(OnDamage::Refuse)?;
        let offset = caught.offset;
        let prepared = match prepare(&state) {
            Ok(prepared) => prepared,
            Err(e) => {
                // A store made for this command alone goes again: a refusal changes nothing.
                if fresh {
                    drop(lock);
                    self.uncreate(created_top.as_deref());
                }
                return Err(e);
            }
        };
        // Durable before the log names them.
        self.objects().put_many(&prepared.objects)?;
        let envelopes = prepared.envelopes;
        let mut buffer = Vec::with_capacity(envelopes.len() * 512);
        for envelope in &envelopes {
            envelope.write_line(&mut buffer);
        }
        let mut new_offset = offset;
        if !buffer.is_empty() {
            new_offset = log::append(&self.log_path(), &buffer)?;
            self.wrote_events.set(true);
            for (envelope, event) in envelopes.iter().zip(&prepared.events) {
                state.apply(&envelope.event_id, &envelope.occurred_at, Some(event));
            }
        }
        if new_offset != offset + buffer.len() as u64 {
            // Someone appended without the lock; replay rather than trust our fold.
            self.notice("the log grew outside the lock; rebuilt state/ from the log".into());
            state = State::default();
            new_offset = projection::catch_up(self, 0, &mut state, OnDamage::Refuse)?.offset;
        }
        projection::save(&self.projection_path(), new_offset, &state)?;
        drop(lock);
        Ok((envelopes, prepared.output))
    }

    /// Replaces `store.yaml` with `config` (under the lock, through a temporary file).
    pub fn save_config(&self, config: &StoreConfig) -> Result<()> {
        if !self.exists() {
            self.create()?;
        }
        let _lock = self.lock()?;
        let path = self.root.join("store.yaml");
        let tmp = self.root.join(".store.yaml.tmp");
        fs::write(&tmp, config.to_yaml())
            .and_then(|_| fs::rename(&tmp, &path))
            .map_err(|e| Error::io("write", &path, e))
    }
}

/// What a write appends: envelopes with the events they carry, after the objects.
#[derive(Debug)]
pub struct Append<T> {
    /// The envelopes, in order.
    pub envelopes: Vec<Envelope>,
    /// The event each envelope carries.
    pub events: Vec<DomainEvent>,
    /// Object bytes with their hex sha256.
    pub objects: Vec<(String, Vec<u8>)>,
    /// What the command reports.
    pub output: T,
}

/// A folder may become a store when it is missing, empty, or already a store.
fn check_can_become_store(root: &Path) -> Result<()> {
    match fs::read_dir(root) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(Error::new(format!(
                    "{} is not a factory store: it has files but no store.yaml",
                    root.display()
                ))
                .hint("point --store (or FACTORY_STORE) at a store, or at an empty or missing folder to create one"));
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => Err(Error::new(format!(
            "{} is not a factory store: it is a file",
            root.display()
        ))
        .hint("point --store (or FACTORY_STORE) at a folder")),
        Err(e) => Err(Error::io("read", root, e)),
    }
}
