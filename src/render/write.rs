//! Writes a planned render to a folder: files rendered and written in parallel, each read,
//! rendered, written and hashed once, so memory stays at one file per worker.

use std::collections::HashSet;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::tree::{PlannedFile, RenderProblem, Renderer};
use crate::error::{Error, Result};
use crate::hash::{HashedFile, sha256_hex};

/// What was written for one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenFile {
    /// Relative path.
    pub path: String,
    /// Hex sha256 of its bytes.
    pub sha256: String,
    /// Its size.
    pub size: u64,
}

impl From<&WrittenFile> for HashedFile {
    fn from(file: &WrittenFile) -> HashedFile {
        HashedFile {
            path: file.path.clone(),
            sha256: file.sha256.clone(),
        }
    }
}

/// The most files a writer takes at a time: a folder's, or part of a large folder's.
const RUN: usize = 256;

/// The plan cut into runs a writer takes whole: neighbouring files of one folder, at most
/// [`RUN`] of them. Two writers creating files in one folder queue on its lock, and spin
/// while they wait.
fn runs(plan: &[PlannedFile]) -> Vec<std::ops::Range<usize>> {
    let folder = |i: usize| plan[i].path.rsplit_once('/').map_or("", |(dir, _)| dir);
    let mut runs = Vec::new();
    let mut start = 0;
    for i in 1..=plan.len() {
        if i == plan.len() || i - start == RUN || folder(i) != folder(start) {
            runs.push(start..i);
            start = i;
        }
    }
    runs
}

/// Renders and writes every planned file below `root` (a fresh folder). Stops at the first
/// problem: the earliest file in plan order that fails, whichever worker saw it. `progress`
/// is called once per file written.
pub fn write_plan(
    renderer: &Renderer,
    plan: &[PlannedFile],
    ctx: &minijinja::Value,
    root: &Path,
    progress: &(dyn Fn() + Sync),
) -> std::result::Result<Vec<WrittenFile>, RenderProblem> {
    let root = Root::open(root)
        .map_err(|e| RenderProblem::Read(format!("cannot open {}: {e}", root.display())))?;
    let root = &root;
    // Every folder is made once, before the writers start, so they only create files.
    let folder_problem = make_folders(plan, root);
    let plan = match &folder_problem {
        Some((at, _)) => &plan[..*at],
        None => plan,
    };
    let runs = runs(plan);
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(runs.len())
        .max(1);
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let first_problem: Mutex<Option<(usize, RenderProblem)>> = Mutex::new(None);
    let written: Mutex<Vec<WrittenFile>> = Mutex::new(Vec::with_capacity(plan.len()));
    let work = || {
        let mut local = Vec::new();
        let mut claimed = 0..0;
        while !failed.load(Ordering::Relaxed) {
            let i = match claimed.next() {
                Some(i) => i,
                None => match runs.get(next.fetch_add(1, Ordering::Relaxed)) {
                    Some(run) => {
                        claimed = run.clone();
                        match claimed.next() {
                            Some(i) => i,
                            None => continue,
                        }
                    }
                    None => break,
                },
            };
            let planned = &plan[i];
            match write_one(renderer, planned, ctx, root) {
                Ok(file) => {
                    local.push(file);
                    progress();
                }
                Err(problem) => {
                    failed.store(true, Ordering::Relaxed);
                    let mut slot = first_problem.lock().expect("no panics while held");
                    // Report the earliest file in plan order, whichever worker saw it.
                    if slot.as_ref().is_none_or(|(at, _)| i < *at) {
                        *slot = Some((i, problem));
                    }
                }
            }
        }
        written
            .lock()
            .expect("no panics while held")
            .append(&mut local);
    };
    std::thread::scope(|scope| {
        for _ in 1..workers {
            scope.spawn(work);
        }
        work();
    });
    // A file that failed comes before the first one whose folder could not be made.
    if let Some((_, problem)) = first_problem
        .into_inner()
        .expect("workers joined")
        .or(folder_problem)
    {
        return Err(problem);
    }
    Ok(written.into_inner().expect("workers joined"))
}

/// Makes the folders of the planned files below `root`, each once (a folder a
/// pre-generation hook made already is kept). `None` when all were made, else the index of
/// the first file in plan order whose folder could not be, and why.
fn make_folders(plan: &[PlannedFile], root: &Root) -> Option<(usize, RenderProblem)> {
    let mut made: HashSet<&str> = HashSet::new();
    for (i, planned) in plan.iter().enumerate() {
        let path = planned.path.as_str();
        let Some(parent) = path.rfind('/').map(|end| &path[..end]) else {
            continue;
        };
        if made.contains(parent) {
            continue;
        }
        let ends = parent.match_indices('/').map(|(at, _)| at);
        for end in ends.chain(std::iter::once(parent.len())) {
            let folder = &parent[..end];
            if !made.insert(folder) {
                continue;
            }
            match root.create_dir(folder) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && root.is_dir(folder) => {}
                Err(e) => {
                    let target = root.path.join(path);
                    let message = format!("cannot create the folder of {}: {e}", target.display());
                    return Some((i, RenderProblem::Read(message)));
                }
            }
        }
    }
    None
}

/// The folder a plan is written into, opened once. On Unix every folder and file is made
/// relative to it (`mkdirat`, `openat`), so the kernel walks only the file's own path, not
/// the held staging folder's `/proc/self/fd/N` path again for each file.
struct Root<'p> {
    path: &'p Path,
    #[cfg(unix)]
    fd: std::os::fd::OwnedFd,
    /// The umask, read once per plan written (`None`: unknown, so every mode is set again).
    #[cfg(unix)]
    umask: Option<u32>,
}

impl<'p> Root<'p> {
    fn open(path: &'p Path) -> std::io::Result<Root<'p>> {
        #[cfg(unix)]
        {
            use rustix::fs::{Mode, OFlags};
            let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
            let fd = rustix::fs::open(path, flags, Mode::empty())?;
            Ok(Root {
                path,
                fd,
                umask: current_umask(),
            })
        }
        #[cfg(not(unix))]
        Ok(Root { path })
    }

    fn create_dir(&self, rel: &str) -> std::io::Result<()> {
        #[cfg(unix)]
        {
            let mode = rustix::fs::Mode::from_raw_mode(0o777);
            Ok(rustix::fs::mkdirat(&self.fd, rel, mode)?)
        }
        #[cfg(not(unix))]
        fs::create_dir(self.path.join(rel))
    }

    fn is_dir(&self, rel: &str) -> bool {
        #[cfg(unix)]
        {
            rustix::fs::statat(&self.fd, rel, rustix::fs::AtFlags::empty()).is_ok_and(|st| {
                rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::Directory
            })
        }
        #[cfg(not(unix))]
        self.path.join(rel).is_dir()
    }

    /// Creates the new file `rel` (never one that exists) with the permission bits `mode`,
    /// less those the umask takes away.
    fn create_file(&self, rel: &str, mode: u32) -> std::io::Result<fs::File> {
        #[cfg(unix)]
        {
            use rustix::fs::{Mode, OFlags};
            let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::CLOEXEC;
            Ok(fs::File::from(rustix::fs::openat(
                &self.fd,
                rel,
                flags,
                Mode::from_raw_mode(mode),
            )?))
        }
        #[cfg(not(unix))]
        {
            let _ = mode;
            OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(self.path.join(rel))
        }
    }

    /// Whether a file created with `mode` may have lost bits of it to the umask.
    #[cfg(unix)]
    fn narrows(&self, mode: u32) -> bool {
        self.umask.is_none_or(|umask| mode & umask != 0)
    }
}

/// The process's umask, read without setting it (which `umask(2)` would do, racing the
/// threads that write files): Linux shows it in `/proc/self/status` since 4.7. `None` where
/// it cannot be read.
#[cfg(unix)]
fn current_umask() -> Option<u32> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let value = status.lines().find_map(|l| l.strip_prefix("Umask:"))?;
    u32::from_str_radix(value.trim(), 8).ok()
}

fn write_one(
    renderer: &Renderer,
    planned: &PlannedFile,
    ctx: &minijinja::Value,
    root: &Root,
) -> std::result::Result<WrittenFile, RenderProblem> {
    let file = &renderer.content[planned.content];
    let bytes = renderer.render_file(file, planned.context(ctx))?;
    let io = |action: &str, e: std::io::Error| {
        let target = root.path.join(&planned.path);
        RenderProblem::Read(format!("cannot {action} {}: {e}", target.display()))
    };
    let source = &renderer.files().files[file.index];
    let default_mode = if source.executable { 0o755 } else { 0o644 };
    let mut out = root
        .create_file(&planned.path, source.mode.unwrap_or(default_mode))
        .map_err(|e| io("create", e))?;
    out.write_all(&bytes).map_err(|e| io("write", e))?;
    // The template file's own bits, exactly (the umask does not narrow them), as copier's
    // chmod and cookiecutter's copymode give them: set again when the umask took some away
    // at creation (one system call per file saved under the usual 022).
    #[cfg(unix)]
    if let Some(mode) = source.mode.filter(|&mode| root.narrows(mode)) {
        use std::os::unix::fs::PermissionsExt;
        out.set_permissions(fs::Permissions::from_mode(mode))
            .map_err(|e| io("set the mode of", e))?;
    }
    Ok(WrittenFile {
        path: planned.path.clone(),
        sha256: sha256_hex(&bytes),
        size: bytes.len() as u64,
    })
}

/// Makes the folders `folders` below `root` (copier's folders that no file ends up in),
/// never through a link: one below a link kept as a link is that link's, and left alone.
pub fn write_folders(root: &Path, folders: &[String], links: &[(String, String)]) -> Result<()> {
    let below_link = |folder: &str| {
        links.iter().any(|(link, _)| {
            folder == link
                || folder
                    .strip_prefix(link.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
        })
    };
    for folder in folders.iter().filter(|f| !below_link(f)) {
        check_no_symlink(root, Path::new(folder))?;
        let path = root.join(folder);
        fs::create_dir_all(&path).map_err(|e| Error::io("create", &path, e))?;
    }
    Ok(())
}

/// Refuses when any existing part of `target/rel` is a symlink.
pub fn check_no_symlink(target: &Path, rel: &Path) -> Result<()> {
    let mut path = target.to_path_buf();
    for part in rel.components() {
        path.push(part);
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(Error::new(format!(
                    "{} is a symlink; factory does not write through links",
                    path.display()
                ))
                .hint("remove the link (factory makes a real folder or file there), or write into a folder without links"));
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    Ok(())
}

/// Refuses when the folder `dir` or the file `dir/name` is a symlink: factory does not write
/// through links, even into files of its own outside the output (cookiecutter's replay file).
pub fn refuse_links_at(dir: &Path, name: &str) -> Result<()> {
    for path in [dir.to_path_buf(), dir.join(name)] {
        if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
            let to = std::fs::read_link(&path)
                .map(|t| format!(" (to {})", t.display()))
                .unwrap_or_default();
            return Err(Error::new(format!(
                "{} is a symlink{to}; factory does not write through links",
                path.display()
            ))
            .hint(format!(
                "remove the link {}; factory makes a real one when it writes there",
                path.display()
            )));
        }
    }
    Ok(())
}

/// Writes `bytes` to `dir/name` (making `dir` when missing), refusing links there
/// ([`refuse_links_at`]) and replacing the file whole: the bytes go to a new temporary file
/// beside it, renamed over it, so a link swapped in meanwhile is replaced, never followed.
pub fn replace_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    refuse_links_at(dir, name)?;
    fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
    let path = dir.join(name);
    let mut builder = tempfile::Builder::new();
    #[cfg(unix)]
    {
        // As a plain write makes it (the umask applies), not the temporary file's 0600.
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let mut file = builder
        .tempfile_in(dir)
        .map_err(|e| Error::io("write", &path, e))?;
    file.write_all(bytes)
        .map_err(|e| Error::io("write", &path, e))?;
    file.persist(&path)
        .map_err(|e| Error::io("write", &path, e.error))?;
    Ok(())
}

/// Writes a file the run adds itself (an answers file) at `rel` below `root`: the path is
/// checked like a rendered one, a link on the way is refused, and an existing file is not
/// written over.
pub fn write_new_file(root: &Path, rel: &str, bytes: &[u8]) -> Result<()> {
    super::paths::check_inside(rel).map_err(|m| Error::new(format!("`{rel}`: {m}")))?;
    check_no_symlink(root, Path::new(rel))?;
    let target = root.join(rel);
    if let Some(parent) = target.parent() {
        fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
    }
    let mut out = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&target)
        .map_err(|e| Error::io("create", &target, e))?;
    out.write_all(bytes)
        .map_err(|e| Error::io("write", &target, e))
}

/// Creates the link `rel` -> `target` below `root` (a link the template keeps as a link,
/// its target already checked to stay in the output folder); nothing is written through it.
pub fn write_link(root: &Path, rel: &str, target: &str) -> Result<()> {
    super::paths::check_inside(rel).map_err(|m| Error::new(format!("`{rel}`: {m}")))?;
    super::paths::check_link_inside(rel, target).map_err(Error::new)?;
    check_no_symlink(root, Path::new(rel))?;
    let at = root.join(rel);
    if let Some(parent) = at.parent() {
        fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
    }
    #[cfg(unix)]
    let made = std::os::unix::fs::symlink(target, &at);
    #[cfg(not(unix))]
    let made: std::io::Result<()> = Err(std::io::Error::other("symlinks are not supported here"));
    made.map_err(|e| Error::io("create the link", &at, e))
}

/// Creates the links a template keeps as links below `root` (a staging folder), then
/// resolves each of them again on the file system as it now is (`target`, the folder the
/// output goes into, answering for the paths the staging folder does not hold: links the
/// user has there count too), so a chain the plan could not see (a case-insensitive file
/// system) is refused before anything is placed.
pub fn write_links(root: &Path, links: &[(String, String)], target: Option<&Path>) -> Result<()> {
    for (path, to) in links {
        write_link(root, path, to)?;
    }
    let entry_at = |rel: &str| -> super::paths::Entry {
        let on_disk = |base: &Path| {
            let at = base.join(rel);
            let meta = std::fs::symlink_metadata(&at).ok()?;
            Some(if meta.file_type().is_symlink() {
                match std::fs::read_link(&at) {
                    Ok(to) => super::paths::Entry::Link(to.to_string_lossy().into_owned()),
                    // A link that cannot be read cannot be judged: treated as absolute.
                    Err(_) => super::paths::Entry::Link("/".into()),
                }
            } else {
                super::paths::Entry::Other
            })
        };
        on_disk(root)
            .or_else(|| target.and_then(on_disk))
            .unwrap_or(super::paths::Entry::Other)
    };
    for (path, to) in links {
        super::paths::resolve_link(path, to, &entry_at).map_err(|message| {
            Error::new(message).hint(
                "make the link point at a path inside the output that passes through no link leading out",
            )
        })?;
    }
    Ok(())
}
