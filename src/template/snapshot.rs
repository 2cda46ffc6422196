//! A template's files in memory, read from a folder or from the store's objects, and the
//! tree object that records a stored version's files.

use std::borrow::Cow;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::hash::{self, HashedFile, TreeHash};
use crate::tree::{Tree, TreeFile};

/// Where a stored version's bytes come from (the store's objects). Engines read template
/// files through this, never through the store's paths.
pub trait Blobs: Send + Sync + std::fmt::Debug {
    /// The bytes whose hex sha256 is `hex`, checked against it.
    fn blob(&self, hex: &str) -> Result<Vec<u8>>;
}

/// Where a file's bytes are: read when needed, so rendering a large template never holds
/// all of it in memory.
#[derive(Debug, Clone)]
enum Content {
    /// Already in memory.
    Memory(Vec<u8>),
    /// A file on disk.
    Disk(PathBuf),
    /// A stored blob: its hex sha256.
    Blob(Arc<dyn Blobs>, String),
}

/// One file of a template.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path relative to the template folder, `/`-separated.
    pub path: String,
    /// Whether the executable bit is set.
    pub executable: bool,
    /// Its permission bits (`0o777` at most), when read from a folder: copier and
    /// cookiecutter give the output file the template file's own. A stored version keeps
    /// the executable bit only (as git does), and its files are written 0755 or 0644.
    pub mode: Option<u32>,
    /// Its size in bytes.
    pub size: u64,
    content: Content,
}

impl SourceFile {
    /// A file whose bytes are in memory.
    pub fn in_memory(path: &str, bytes: Vec<u8>, executable: bool) -> SourceFile {
        SourceFile {
            path: path.to_string(),
            executable,
            mode: None,
            size: bytes.len() as u64,
            content: Content::Memory(bytes),
        }
    }

    /// The file's bytes (a store object is checked against its hash).
    pub fn read(&self) -> Result<Cow<'_, [u8]>> {
        match &self.content {
            Content::Memory(bytes) => Ok(Cow::Borrowed(bytes)),
            Content::Disk(path) => read_sized(path, self.size)
                .map(Cow::Owned)
                .map_err(|e| Error::io("read", path, e)),
            Content::Blob(blobs, hex) => blobs.blob(hex).map(Cow::Owned),
        }
    }
}

/// A file's bytes, its size known from the listing: read straight into a buffer of that size
/// and one byte more, so the second `read` that finds the end is the only other system call
/// (`fs::read` and `File::read_to_end` ask `fstat` and `lseek` first for their size hint: two
/// more per file of a large template). A file that changed size since is read whole all the
/// same.
fn read_sized(path: &Path, size: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut file = fs::File::open(path)?;
    let mut bytes = vec![0; usize::try_from(size).unwrap_or(0).saturating_add(1)];
    let mut filled = 0;
    loop {
        if filled == bytes.len() {
            bytes.resize(filled * 2, 0);
        }
        match file.read(&mut bytes[filled..]) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    bytes.truncate(filled);
    Ok(bytes)
}

/// A symlink that is not followed: it leads outside the template, into its repository, at
/// a folder, or at nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedLink {
    /// Where the link is.
    pub path: String,
    /// What it points at.
    pub target: String,
    /// Why it is not followed.
    pub why: &'static str,
}

impl std::fmt::Display for RefusedLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "symlink {} -> {} {}", self.path, self.target, self.why)
    }
}

/// A symlink of the template, as it is written (kept as a link when the template asks,
/// copier's `_preserve_symlinks`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLink {
    /// Where the link is.
    pub path: String,
    /// What it points at, as written.
    pub target: String,
}

/// A template's files.
#[derive(Debug, Clone, Default)]
pub struct TemplateFiles {
    /// Every file, sorted by path.
    pub files: Vec<SourceFile>,
    /// Links that were not followed.
    pub refused_links: Vec<RefusedLink>,
    /// Every symlink, followed or not, sorted by path.
    pub links: Vec<SourceLink>,
}

/// Whether a name is `.git` as some system reads it: any case, and on Windows with trailing
/// dots or spaces dropped.
pub fn is_git_dir_name(name: &str) -> bool {
    name.trim_end_matches(['.', ' '])
        .eq_ignore_ascii_case(".git")
}

/// A template's files ready to store.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Each file's bytes with their hex sha256.
    pub blobs: Vec<(String, Vec<u8>)>,
    /// The tree object's hex sha256.
    pub tree_hex: String,
    /// The tree object's bytes.
    pub tree_bytes: Vec<u8>,
    /// The content hash of the files.
    pub tree_hash: TreeHash,
}

impl TemplateFiles {
    /// Reads every file below `dir` (skipping `.git/`). Symlinks to files and folders inside
    /// `dir` are read through, as copier reads them (a folder's files listed below the
    /// link's name); others are listed in `refused_links`.
    pub fn load_dir(dir: &Path) -> Result<TemplateFiles> {
        let root = fs::canonicalize(dir).map_err(|e| Error::io("open template folder", dir, e))?;
        let mut out = TemplateFiles::default();
        out.load_below(dir, &root, &mut vec![root.clone()], "")?;
        out.files
            .sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
        out.links
            .sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
        Ok(out)
    }

    /// Reads the files of the last of `walking` (a real folder inside `root`; the others are
    /// the folders whose links led to it) as the template's files below `base` (`""` for
    /// the root, else a link's path and `/`).
    fn load_below(
        &mut self,
        dir: &Path,
        root: &Path,
        walking: &mut Vec<std::path::PathBuf>,
        base: &str,
    ) -> Result<()> {
        let folder = walking.last().expect("a folder to walk").clone();
        let walker = walkdir::WalkDir::new(&folder)
            .follow_links(false)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| e.file_name() != ".git");
        for entry in walker {
            let entry =
                entry.map_err(|e| Error::new(format!("cannot read {}: {e}", dir.display())))?;
            let file_type = entry.file_type();
            if file_type.is_dir() {
                continue;
            }
            let path = format!(
                "{base}{}",
                hash::relative_slash_path(&folder, entry.path())?
            );
            let real = if file_type.is_symlink() {
                let target = fs::read_link(entry.path())
                    .map(|t| t.display().to_string())
                    .unwrap_or_default();
                self.links.push(SourceLink {
                    path: path.clone(),
                    target: target.clone(),
                });
                // Inside the template, through any number of hops, and never into its own
                // repository (a remote URL with a token lives in .git/config).
                let followed = match fs::canonicalize(entry.path()) {
                    Ok(real) if !real.starts_with(root) => Err("points outside the template"),
                    Ok(real)
                        if real.strip_prefix(root).is_ok_and(|rel| {
                            rel.components()
                                .any(|c| is_git_dir_name(&c.as_os_str().to_string_lossy()))
                        }) =>
                    {
                        Err("points into the template's own repository (.git)")
                    }
                    // A folder is read through unless it holds the link, or a folder being
                    // read through already (a loop copier would walk until the path is too
                    // long).
                    Ok(real) if real.is_dir() => {
                        let at = entry
                            .path()
                            .parent()
                            .and_then(|p| fs::canonicalize(p).ok())
                            .unwrap_or_default();
                        if at.starts_with(&real) || walking.iter().any(|w| w.starts_with(&real)) {
                            Err("points at a folder that holds it, a loop")
                        } else {
                            walking.push(real);
                            let read = self.load_below(dir, root, walking, &format!("{path}/"));
                            walking.pop();
                            read?;
                            continue;
                        }
                    }
                    Ok(real) if !real.is_file() => {
                        Err("points at something that is not a file or a folder")
                    }
                    Ok(real) => Ok(real),
                    // A link to a file the template renders (`run -> make.py` beside
                    // `make.py.jinja`) is kept as a link with copier's `_preserve_symlinks`.
                    Err(_) if !lexically_inside(entry.path(), &target, root) => {
                        Err("points outside the template")
                    }
                    Err(_) => Err(
                        "points at nothing in the template: copier copies what links point at unless `_preserve_symlinks: true` keeps them as links",
                    ),
                };
                match followed {
                    Ok(real) => real,
                    Err(why) => {
                        self.refused_links.push(RefusedLink { path, target, why });
                        continue;
                    }
                }
            } else if file_type.is_file() {
                entry.path().to_path_buf()
            } else {
                continue;
            };
            let meta = fs::metadata(&real).map_err(|e| Error::io("read", &real, e))?;
            self.files.push(SourceFile {
                path,
                executable: is_executable(&meta),
                mode: permission_bits(&meta),
                size: meta.len(),
                content: Content::Disk(real),
            });
        }
        Ok(())
    }

    /// Reads a stored version's files from its tree object.
    pub fn from_tree(blobs: &Arc<dyn Blobs>, tree_ref: &str) -> Result<TemplateFiles> {
        let hex = tree_ref.strip_prefix("sha256:").unwrap_or(tree_ref);
        let tree = Tree::from_bytes(&blobs.blob(hex)?)?;
        let mut out = TemplateFiles {
            links: tree
                .links
                .iter()
                .map(|l| SourceLink {
                    path: l.path.clone(),
                    target: l.target.clone(),
                })
                .collect(),
            ..TemplateFiles::default()
        };
        for file in tree.files {
            let hex = file.blob.trim_start_matches("sha256:").to_string();
            if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(Error::new(format!(
                    "tree {tree_ref} names a bad object `{}`",
                    file.blob
                )));
            }
            out.files.push(SourceFile {
                path: file.path,
                executable: file.executable,
                mode: None,
                size: file.size,
                content: Content::Blob(Arc::clone(blobs), hex),
            });
        }
        out.files
            .sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
        Ok(out)
    }

    /// The file at `path`, if any.
    pub fn get(&self, path: &str) -> Option<&SourceFile> {
        self.files
            .binary_search_by(|f| f.path.as_bytes().cmp(path.as_bytes()))
            .ok()
            .map(|i| &self.files[i])
    }

    /// Total size in bytes.
    pub fn byte_count(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }

    /// The content hash of the files (DESIGN.md section 6).
    pub fn content_hash(&self) -> Result<String> {
        let mut hashed = Vec::with_capacity(self.files.len());
        for file in &self.files {
            hashed.push(HashedFile {
                path: file.path.clone(),
                sha256: hash::sha256_hex(&file.read()?),
            });
        }
        Ok(hash::tree_hash(&mut hashed).content_hash)
    }

    /// What storing these files takes: their blobs, the tree object and the content hash.
    pub fn snapshot(&self) -> Result<Snapshot> {
        let mut blobs = Vec::with_capacity(self.files.len() + 1);
        let mut hashed = Vec::with_capacity(self.files.len());
        let mut tree = Tree {
            files: Vec::with_capacity(self.files.len()),
            links: self
                .links
                .iter()
                .map(|l| crate::tree::TreeLink {
                    path: l.path.clone(),
                    target: l.target.clone(),
                })
                .collect(),
        };
        for file in &self.files {
            let bytes = file.read()?.into_owned();
            let hex = hash::sha256_hex(&bytes);
            tree.files.push(TreeFile {
                path: file.path.clone(),
                blob: format!("sha256:{hex}"),
                size: bytes.len() as u64,
                executable: file.executable,
            });
            hashed.push(HashedFile {
                path: file.path.clone(),
                sha256: hex.clone(),
            });
            blobs.push((hex, bytes));
        }
        let tree_bytes = serde_json::to_vec(&tree).expect("trees serialize");
        let tree_hex = hash::sha256_hex(&tree_bytes);
        Ok(Snapshot {
            blobs,
            tree_hex,
            tree_bytes,
            tree_hash: hash::tree_hash(&mut hashed),
        })
    }
}

#[cfg(unix)]
fn is_executable(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_meta: &fs::Metadata) -> bool {
    false
}

/// The read, write and execute bits of a file: never set-user-id, set-group-id or sticky,
/// which a template has no business giving the files it writes.
#[cfg(unix)]
fn permission_bits(meta: &fs::Metadata) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    Some(meta.permissions().mode() & 0o777)
}

#[cfg(not(unix))]
fn permission_bits(_meta: &fs::Metadata) -> Option<u32> {
    None
}

/// Whether a link at `link` to `target` (which does not exist) would land inside `root`,
/// read without following it: `..` undoes the folder before it.
fn lexically_inside(link: &Path, target: &str, root: &Path) -> bool {
    let root = fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    link.parent()
        .map(|p| fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf()))
        .is_some_and(|p| lexical(&p.join(target)).starts_with(&root))
}

fn lexical(path: &Path) -> PathBuf {
    let mut at: Vec<std::path::Component> = Vec::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                at.pop();
            }
            std::path::Component::CurDir => {}
            other => at.push(other),
        }
    }
    at.iter().collect()
}

#[cfg(test)]
mod tests {
    use super::read_sized;

    #[test]
    fn a_file_is_read_whole_whatever_size_the_listing_gave() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let text = b"0123456789".repeat(1000);
        std::fs::write(&path, &text).unwrap();
        for listed in [0, 1, 9_999, 10_000, 10_001, 50_000] {
            assert_eq!(read_sized(&path, listed).unwrap(), text, "listed {listed}");
        }
        std::fs::write(&path, b"").unwrap();
        assert!(read_sized(&path, 10).unwrap().is_empty());
    }
}
