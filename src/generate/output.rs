//! The output folder: a temporary folder beside the target, moved into place only when
//! everything succeeded, so a failure leaves no half-written project.
//!
//! The folder the target lives in is resolved once and held open. The staging folder, every
//! file written into it and the final move go through that handle (on Linux through
//! `/proc/self/fd/N`, which the kernel resolves through the open folder itself), so a folder
//! on the way that is renamed or swapped for a link while the run goes on cannot send any of
//! it elsewhere.
//!
//! `--force` over a non-empty target is all or nothing across a kill: the target's own files
//! that the template does not write (and those `_skip_if_exists` keeps) are carried into the
//! staged tree (hard links), then the staged tree and the target are exchanged in one step
//! (`renameat2(RENAME_EXCHANGE)`). A kill at any point leaves the old tree or the new one in
//! place, and the other in a staging folder that the next command on the folder removes.
//! Where the exchange cannot be done (not Linux, a target that is a mount point, a file system
//! without the call, or a target this process is inside, as with `-o .`), the files move one
//! by one under a journal (`crate::transaction`) that the next command rolls back.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};
use crate::transaction::Transaction;

/// Whether a folder is missing or empty. A folder holding only `.git` (a fresh `git init`, or
/// a repository just made on a hosting service) counts as empty, as `cargo init`, `copier copy`
/// and `dotnet new` allow.
pub fn is_missing_or_empty(dir: &Path) -> Result<bool> {
    match fs::read_dir(dir) {
        Ok(entries) => {
            for entry in entries {
                let entry = entry.map_err(|e| Error::io("read", dir, e))?;
                if entry.file_name() != ".git" {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotADirectory => Err(Error::new(format!(
            "{} is a file, not a folder",
            dir.display()
        ))
        .hint("choose another output folder with -o")),
        Err(e) => Err(Error::io("read", dir, e)),
    }
}

/// Refuses an output folder that is itself a symlink: writing into it would write wherever it
/// points.
pub fn refuse_link(target: &Path) -> Result<()> {
    match fs::symlink_metadata(target) {
        Ok(meta) if meta.file_type().is_symlink() => Err(link_error(target)),
        _ => Ok(()),
    }
}

fn link_error(target: &Path) -> Error {
    Error::new(format!(
        "{} is a symlink; factory does not write through links",
        target.display()
    ))
    .hint("name the real folder with -o")
}

/// Refuses an output folder named `.git` (in any spelling git on some system accepts) or
/// inside one, at any depth of the path as given or as it resolves: what is written there is
/// a repository's own configuration (a `core.fsmonitor` runs at the next `git status`).
pub fn refuse_git_dir(target: &Path) -> Result<()> {
    let resolved = resolved(target);
    for path in [target, resolved.as_path()] {
        for part in path.components() {
            if let Component::Normal(name) = part
                && crate::template::snapshot::is_git_dir_name(&name.to_string_lossy())
            {
                return Err(Error::usage(format!(
                    "the output folder {} is a git repository's own folder `{}` or inside one; factory writes nothing there",
                    target.display(),
                    name.to_string_lossy()
                ))
                .hint("choose an output folder that is not named .git and not inside one (the repository's working folder is the one that holds .git)"));
            }
        }
    }
    Ok(())
}

/// `path` as it resolves now: its deepest existing folder's real path, then the rest.
fn resolved(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut rest = Vec::new();
    let mut existing = absolute.as_path();
    loop {
        if let Ok(real) = fs::canonicalize(existing) {
            let mut out = real;
            out.extend(rest.iter().rev());
            return out;
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => return absolute,
        }
    }
}

/// A folder resolved once and held open; reached afterwards through the handle, never by
/// its path again.
struct HeldDir {
    /// Its real path when it was opened: for messages only.
    real: PathBuf,
    /// A path that leads to the held folder itself, wherever it is now.
    at: PathBuf,
    #[cfg(unix)]
    fd: std::os::fd::OwnedFd,
}

#[cfg(unix)]
fn dir_flags() -> rustix::fs::OFlags {
    use rustix::fs::OFlags;
    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC
}

impl HeldDir {
    /// Opens a folder by its real path, refusing a link anywhere on the way (one swapped in
    /// since the path was resolved).
    fn open(real: PathBuf) -> io::Result<HeldDir> {
        #[cfg(target_os = "linux")]
        {
            use rustix::fs::{CWD, Mode, ResolveFlags};
            let fd = match rustix::fs::openat2(
                CWD,
                &real,
                dir_flags(),
                Mode::empty(),
                ResolveFlags::NO_SYMLINKS,
            ) {
                Ok(fd) => fd,
                // A kernel before 5.6, or a sandbox that forbids the call: the real path
                // with only its last part checked.
                Err(rustix::io::Errno::NOSYS | rustix::io::Errno::PERM) => {
                    rustix::fs::open(&real, dir_flags(), Mode::empty())?
                }
                Err(e) => return Err(e.into()),
            };
            Ok(HeldDir::new(real, fd))
        }
        #[cfg(all(unix, not(target_os = "linux")))]
        {
            let fd = rustix::fs::open(&real, dir_flags(), rustix::fs::Mode::empty())?;
            Ok(HeldDir::new(real, fd))
        }
        #[cfg(not(unix))]
        {
            if !fs::metadata(&real)?.is_dir() {
                return Err(io::Error::other("not a folder"));
            }
            Ok(HeldDir {
                at: real.clone(),
                real,
            })
        }
    }

    /// Opens the folder `name` in this one; a link there is refused.
    fn child(&self, name: &OsStr) -> io::Result<HeldDir> {
        let real = self.real.join(name);
        #[cfg(unix)]
        {
            let fd = rustix::fs::openat(&self.fd, name, dir_flags(), rustix::fs::Mode::empty())?;
            Ok(HeldDir::new(real, fd))
        }
        #[cfg(not(unix))]
        {
            if !fs::symlink_metadata(self.at.join(name))?.is_dir() {
                return Err(io::Error::other("not a folder"));
            }
            Ok(HeldDir {
                at: real.clone(),
                real,
            })
        }
    }

    #[cfg(unix)]
    fn new(real: PathBuf, fd: std::os::fd::OwnedFd) -> HeldDir {
        let at = through_handle(&fd).unwrap_or_else(|| real.clone());
        HeldDir { real, at, fd }
    }
}

/// `/proc/self/fd/N` for an open folder, when it leads to that very folder (procfs mounted):
/// every path below it is resolved by the kernel from the open handle, so code that works
/// with paths (rendering, hooks, hashing) stays inside the folder that was opened.
#[cfg(unix)]
fn through_handle(fd: &std::os::fd::OwnedFd) -> Option<PathBuf> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::MetadataExt;
    let path = PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()));
    let held = rustix::fs::fstat(fd).ok()?;
    let seen = fs::metadata(&path).ok()?;
    (seen.ino() == held.st_ino as u64 && seen.dev() == held.st_dev as u64).then_some(path)
}

/// A temporary folder beside the target, removed on drop unless it was moved into place;
/// also removes the folders above the target that it had to create.
pub struct Staging {
    /// The temporary folder, reached through its handle: where the run writes.
    pub dir: PathBuf,
    /// The folder the target is in.
    parent: HeldDir,
    /// The target's name in it.
    name: OsString,
    /// The staging folder's name in it.
    tmp_name: OsString,
    /// The staging folder itself, held so that `dir` leads to it.
    _staging: HeldDir,
    /// The folder where missing parents were made, and those parents (relative, deepest
    /// last).
    created: Option<(HeldDir, Vec<PathBuf>)>,
    placed: bool,
}

impl Staging {
    /// Creates the staging folder beside `target` (creating the target's parents if needed).
    /// An existing target is named by its real path, so `-o .` stages beside the current
    /// folder, not inside it.
    pub fn new(target: &Path, within: Option<&Path>) -> Result<Staging> {
        refuse_git_dir(target)?;
        refuse_link(target)?;
        let target = fs::canonicalize(target).unwrap_or_else(|_| target.to_path_buf());
        let (parent_path, name) = crate::transaction::beside(&target);
        // The deepest folder on the way that exists is resolved once; the missing ones are
        // made through its handle.
        let mut existing = parent_path.clone();
        let mut missing: Vec<OsString> = Vec::new();
        loop {
            match fs::symlink_metadata(&existing) {
                Ok(_) => break,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    match (existing.parent(), existing.file_name()) {
                        (Some(up), Some(part)) => {
                            missing.push(part.to_os_string());
                            existing = if up.as_os_str().is_empty() {
                                PathBuf::from(".")
                            } else {
                                up.to_path_buf()
                            };
                        }
                        _ => return Err(Error::io("create", &parent_path, e)),
                    }
                }
                Err(e) => return Err(Error::io("read", &existing, e)),
            }
        }
        let real = fs::canonicalize(&existing).map_err(|e| Error::io("resolve", &existing, e))?;
        if let Some(root) = within.filter(|root| !real.starts_with(root)) {
            return Err(Error::usage(format!(
                "{} leads out of {} through a link",
                target.display(),
                root.display()
            )));
        }
        // Opened by its real path with no link allowed on the way: the folder checked above.
        let mut held = HeldDir::open(real.clone()).map_err(|e| held_error(&real, e))?;
        // The folder where the first missing one was made, and those made (relative to it).
        let mut base: Option<HeldDir> = None;
        let mut made: Vec<PathBuf> = Vec::new();
        let mut below = PathBuf::new();
        for part in missing.iter().rev() {
            let fresh = match fs::create_dir(held.at.join(part)) {
                Ok(()) => true,
                // Another run made it meanwhile.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => false,
                Err(e) => return Err(Error::io("create", &held.real.join(part), e)),
            };
            let next = held
                .child(part)
                .map_err(|e| held_error(&held.real.join(part), e))?;
            if fresh && base.is_none() {
                base = Some(held);
            }
            if base.is_some() {
                below.push(part);
                if fresh {
                    made.push(below.clone());
                }
            }
            held = next;
        }
        let created = base.map(|base| (base, made));
        let parent = held;
        crate::transaction::remove_dead_stagings(&parent.at);
        let stamp = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
        let tmp_name = OsString::from(format!(
            ".{name}.factory-tmp-{}-{stamp}",
            std::process::id()
        ));
        let tmp_at = parent.at.join(&tmp_name);
        // Named by the output and its folder: the staging folder's name means nothing to
        // the user (it is only where the output is made before it is moved into place).
        fs::create_dir(&tmp_at).map_err(|e| {
            let io = Error::io("write in", &parent.real, e);
            Error {
                message: format!(
                    "cannot write {}: {}",
                    parent.real.join(&name).display(),
                    io.message
                ),
                ..io
            }
            .hint("choose an output folder you can write to with -o DIR")
        })?;
        let staging = match parent.child(&tmp_name) {
            Ok(staging) => staging,
            Err(e) => {
                let _ = fs::remove_dir(&tmp_at);
                return Err(held_error(&parent.real.join(&tmp_name), e));
            }
        };
        Ok(Staging {
            dir: staging.at.clone(),
            parent,
            name: OsString::from(name),
            tmp_name,
            _staging: staging,
            created,
            placed: false,
        })
    }

    /// The target, reached through the held folder it is in.
    pub fn target(&self) -> PathBuf {
        self.parent.at.join(&self.name)
    }

    /// The target's path for messages.
    fn shown(&self) -> PathBuf {
        self.parent.real.join(&self.name)
    }

    /// Moves the staged files into the target: a rename when the target is missing; the
    /// top-level entries when it is empty; with `overwrite` into a non-empty target, the
    /// target's own files carried into the staged tree and the two exchanged (or, where that
    /// cannot be done, file by file under a journal), refusing symlinked folders in the
    /// target, which could lead outside it. Nothing here judges the target's files: the
    /// caller says `overwrite` for `--force`, or once copier's judgement of each one
    /// ([`super::existing`]) settled them all; without it a non-empty target is refused.
    pub fn place(mut self, overwrite: bool, keep_existing: &globset::GlobSet) -> Result<Placed> {
        let target = self.target();
        let meta = match fs::symlink_metadata(&target) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                self.rename_into_place()
                    .map_err(|e| Error::io("move the output to", &self.shown(), e))?;
                self.placed = true;
                return Ok(Placed { staging: self });
            }
            Err(e) => return Err(Error::io("read", &self.shown(), e)),
        };
        if meta.file_type().is_symlink() {
            return Err(link_error(&self.shown()));
        }
        if !meta.is_dir() {
            return Err(Error::new(format!(
                "{} is a file, not a folder",
                self.shown().display()
            ))
            .hint("choose another output folder with -o"));
        }
        if is_missing_or_empty(&target)? {
            // An empty folder (or one holding only `.git`) stays: it may be the current
            // folder, or a repository. The output's top-level entries move into it.
            let entries = fs::read_dir(&self.dir).map_err(|e| Error::io("read", &self.dir, e))?;
            for entry in entries {
                let entry = entry.map_err(|e| Error::io("read", &self.dir, e))?;
                let to = target.join(entry.file_name());
                if fs::symlink_metadata(&to).is_ok() {
                    return Err(Error::new(format!(
                        "{} already exists in the target; the template writes it too",
                        self.shown().join(entry.file_name()).display()
                    ))
                    .hint("generate into an empty folder"));
                }
                fs::rename(entry.path(), &to).map_err(|e| {
                    Error::io(
                        "move the output to",
                        &self.shown().join(entry.file_name()),
                        e,
                    )
                })?;
            }
            return Ok(Placed { staging: self });
        }
        if !overwrite {
            return Err(not_empty(&self.shown()));
        }
        // Everything is checked before anything moves.
        let moves = self.replaced_files(&target, keep_existing)?;
        if !holds_current_dir(&target) {
            carry(&target, &self.dir, keep_existing)?;
            match self.exchange() {
                Ok(()) => {
                    self.placed = true;
                    // The old tree, now in the staging folder's place; a kill here leaves it
                    // to the next command, which removes it.
                    crate::transaction::remove_tree(&self.parent.at.join(&self.tmp_name));
                    return Ok(Placed { staging: self });
                }
                Err(e) if exchange_unsupported(&e) => {}
                Err(e) => return Err(Error::io("exchange the output with", &self.shown(), e)),
            }
        }
        // Each file the output replaces is moved into a backup first, so a failure (or a
        // kill) part-way can be undone. Files carried before an exchange that could not be
        // done are the target's own (the same file): they stay where they are.
        let moves: Vec<PathBuf> = moves
            .into_iter()
            .filter(|rel| !same_file(&self.dir.join(rel), &target.join(rel)))
            .collect();
        let transaction = Transaction::begin(&target, &moves)?;
        for rel in &moves {
            if let Err(e) = transaction.put(rel, Some(&self.dir.join(rel))) {
                transaction.rollback();
                return Err(e);
            }
        }
        transaction.commit();
        Ok(Placed { staging: self })
    }

    /// The staged files (and links) that replace or add a file in the target, after checking
    /// that none goes through a link in the target, lands on a folder there, or needs a
    /// folder where the target has a file.
    fn replaced_files(&self, target: &Path, keep: &globset::GlobSet) -> Result<Vec<PathBuf>> {
        let mut moves = Vec::new();
        for entry in walkdir::WalkDir::new(&self.dir).min_depth(1) {
            let entry = entry
                .map_err(|e| Error::new(format!("cannot read {}: {e}", self.dir.display())))?;
            let rel = entry
                .path()
                .strip_prefix(&self.dir)
                .expect("below staging")
                .to_path_buf();
            // A link where the template writes a file is replaced by the file, as copier
            // unlinks it: the link goes, nothing is written where it points. One on the way
            // to a file, or where the template writes a folder, would lead the files below
            // it wherever it points.
            if let Some(link) = link_on_the_way(target, &rel)
                && (link != rel || entry.file_type().is_dir())
            {
                return Err(link_error(&self.shown().join(link))
                    .hint("remove the link or generate into an empty folder"));
            }
            let there = fs::symlink_metadata(target.join(&rel)).ok();
            if entry.file_type().is_dir() {
                if there.is_some_and(|m| !m.is_dir()) {
                    return Err(Error::new(format!(
                        "{} is a file in the target; the template writes a folder there",
                        self.shown().join(&rel).display()
                    ))
                    .hint("move that file away, or generate into an empty folder"));
                }
                continue;
            }
            if there.is_some() && keep.is_match(&rel) {
                continue;
            }
            if there.is_some_and(|m| m.is_dir()) {
                return Err(Error::new(format!(
                    "{} is a folder in the target; the template writes a file there",
                    self.shown().join(&rel).display()
                ))
                .hint("move that folder away, or generate into an empty folder"));
            }
            moves.push(rel);
        }
        Ok(moves)
    }

    /// Moves the staged tree to the missing target; never over something that appeared
    /// there meanwhile.
    fn rename_into_place(&self) -> io::Result<()> {
        #[cfg(target_os = "linux")]
        {
            use rustix::fs::RenameFlags;
            match rustix::fs::renameat_with(
                &self.parent.fd,
                &self.tmp_name,
                &self.parent.fd,
                &self.name,
                RenameFlags::NOREPLACE,
            ) {
                Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS) => {}
                done => return done.map_err(io::Error::from),
            }
        }
        #[cfg(unix)]
        {
            rustix::fs::renameat(&self.parent.fd, &self.tmp_name, &self.parent.fd, &self.name)
                .map_err(io::Error::from)
        }
        #[cfg(not(unix))]
        {
            fs::rename(self.parent.at.join(&self.tmp_name), self.target())
        }
    }

    /// Exchanges the staged tree and the target in one step.
    fn exchange(&self) -> io::Result<()> {
        #[cfg(target_os = "linux")]
        {
            rustix::fs::renameat_with(
                &self.parent.fd,
                &self.tmp_name,
                &self.parent.fd,
                &self.name,
                rustix::fs::RenameFlags::EXCHANGE,
            )
            .map_err(io::Error::from)
        }
        #[cfg(not(target_os = "linux"))]
        {
            Err(io::Error::from(io::ErrorKind::Unsupported))
        }
    }
}

/// A placed output, with the folder it is in still held.
pub struct Placed {
    staging: Staging,
}

impl Placed {
    /// The output folder, reached through the held folder it is in.
    pub fn dir(&self) -> PathBuf {
        self.staging.target()
    }
}

/// The first part of `target/rel` that exists as a symlink, relative to `target`.
fn link_on_the_way(target: &Path, rel: &Path) -> Option<PathBuf> {
    let mut part = PathBuf::new();
    for name in rel.components() {
        part.push(name);
        match fs::symlink_metadata(target.join(&part)) {
            Ok(meta) if meta.file_type().is_symlink() => return Some(part),
            Ok(_) => {}
            Err(_) => return None,
        }
    }
    None
}

/// Why a folder could not be held open.
fn held_error(path: &Path, e: io::Error) -> Error {
    #[cfg(unix)]
    let looped = e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error());
    #[cfg(not(unix))]
    let looped = false;
    if looped {
        // A part of the path became a link after it was resolved.
        return Error::new(format!(
            "{} changed while the run resolved it: a link appeared on the way",
            path.display()
        ))
        .hint(
            "make sure nothing replaces the output's folders while factory writes, then run again",
        );
    }
    Error::io("open", path, e)
}

/// Whether this process works inside `target` (`-o .`, or a folder above the current one):
/// exchanging it would leave the process, and relative paths, in the old tree.
fn holds_current_dir(target: &Path) -> bool {
    let (Ok(cwd), Ok(real)) = (std::env::current_dir(), fs::canonicalize(target)) else {
        return true;
    };
    cwd.starts_with(real)
}

/// Errors that mean the exchange cannot be done here (the journal does it instead): a file
/// system without it, a target that is a mount point, a kernel without the call.
fn exchange_unsupported(e: &io::Error) -> bool {
    #[cfg(unix)]
    {
        use rustix::io::Errno;
        let unsupported = [
            Errno::INVAL,
            Errno::NOSYS,
            Errno::OPNOTSUPP,
            Errno::XDEV,
            Errno::BUSY,
        ];
        if unsupported
            .iter()
            .any(|errno| e.raw_os_error() == Some(errno.raw_os_error()))
        {
            return true;
        }
    }
    e.kind() == io::ErrorKind::Unsupported
}

/// Whether two paths name the same file (hard links of one inode).
fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (fs::symlink_metadata(a), fs::symlink_metadata(b)) {
            (Ok(a), Ok(b)) => a.ino() == b.ino() && a.dev() == b.dev(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (a, b);
        false
    }
}

/// Carries what `--force` leaves of the target into the staged tree, so that exchanging the
/// two changes only what the template writes: the target's files and folders the template
/// does not write, and its files that `_skip_if_exists` keeps. Files are hard links (the
/// same bytes, nothing copied; a copy where a link cannot be made), links are made again,
/// folders get the target's permissions (last, so that a read-only one is filled first).
fn carry(target: &Path, staged: &Path, keep: &globset::GlobSet) -> Result<()> {
    let mode = |path: &Path| {
        fs::metadata(path)
            .map(|m| m.permissions())
            .map_err(|e| Error::io("read", path, e))
    };
    let mut modes = vec![(staged.to_path_buf(), mode(target)?)];
    let mut walk = walkdir::WalkDir::new(target).min_depth(1).into_iter();
    while let Some(entry) = walk.next() {
        let entry =
            entry.map_err(|e| Error::new(format!("cannot read {}: {e}", target.display())))?;
        let rel = entry.path().strip_prefix(target).expect("below target");
        let to = staged.join(rel);
        let kind = entry.file_type();
        match fs::symlink_metadata(&to) {
            Ok(there) if there.is_dir() => {
                if kind.is_dir() {
                    modes.push((to, mode(entry.path())?));
                }
                continue;
            }
            Ok(_) if keep.is_match(rel) && !kind.is_dir() => {
                fs::remove_file(&to).map_err(|e| Error::io("replace", &to, e))?;
            }
            // The template's file wins.
            Ok(_) => {
                if kind.is_dir() {
                    walk.skip_current_dir();
                }
                continue;
            }
            Err(_) => {}
        }
        if kind.is_dir() {
            fs::create_dir(&to).map_err(|e| Error::io("create", &to, e))?;
            modes.push((to, mode(entry.path())?));
        } else if fs::hard_link(entry.path(), &to).is_err() {
            if kind.is_symlink() {
                let link =
                    fs::read_link(entry.path()).map_err(|e| Error::io("read", entry.path(), e))?;
                make_link(&link, &to)?;
            } else if kind.is_file() {
                fs::copy(entry.path(), &to).map_err(|e| Error::io("copy", entry.path(), e))?;
            } else {
                // A pipe or a device that cannot be linked is not read (it could block).
                return Err(Error::new(format!(
                    "{} is neither a file, a folder nor a link, and cannot be kept",
                    entry.path().display()
                ))
                .hint("move it away, or generate into an empty folder"));
            }
        }
    }
    for (dir, permissions) in modes.into_iter().rev() {
        fs::set_permissions(&dir, permissions)
            .map_err(|e| Error::io("set the mode of", &dir, e))?;
    }
    Ok(())
}

#[cfg(unix)]
fn make_link(link: &Path, at: &Path) -> Result<()> {
    std::os::unix::fs::symlink(link, at).map_err(|e| Error::io("create the link", at, e))
}

#[cfg(not(unix))]
fn make_link(_link: &Path, at: &Path) -> Result<()> {
    Err(Error::new(format!(
        "cannot carry the link {}",
        at.display()
    )))
}

/// The error for a non-empty target without `--force`.
pub fn not_empty(target: &Path) -> Error {
    Error::conflict(format!("{} is not empty", target.display()))
        .hint("choose an empty or new folder with -o, or pass --force to write over it")
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.placed {
            crate::transaction::remove_tree(&self.parent.at.join(&self.tmp_name));
            if let Some((base, dirs)) = &self.created {
                for dir in dirs.iter().rev() {
                    let _ = fs::remove_dir(base.at.join(dir));
                }
            }
        }
    }
}
