//! Content-addressed objects: `objects/ab/cdef…` holds the bytes whose sha256 is `abcdef…`.
//! Written to a temporary file, flushed, then renamed, so an object is whole or absent.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::hash::sha256_hex;

/// The `sha256:` prefix of object references.
pub const PREFIX: &str = "sha256:";

/// Flushes a written file to the disk (opened for writing: Windows flushes only those).
fn flush(path: &Path) -> std::io::Result<()> {
    fs::OpenOptions::new().write(true).open(path)?.sync_data()
}

/// The objects folder of a store.
#[derive(Debug, Clone)]
pub struct Objects {
    dir: PathBuf,
}

impl Objects {
    /// The objects below `dir`.
    pub fn new(dir: PathBuf) -> Self {
        Objects { dir }
    }

    /// The file that holds the object with this hex digest.
    pub fn path_of(&self, hex: &str) -> PathBuf {
        self.dir.join(&hex[..2]).join(&hex[2..])
    }

    /// Stores `bytes` whose hex sha256 is `hex` (already computed by the caller), unless an
    /// object with that hash exists.
    pub fn put_hashed(&self, hex: &str, bytes: &[u8]) -> Result<()> {
        match self.write_unflushed(hex, bytes)? {
            None => Ok(()),
            Some(tmp) => {
                let path = self.path_of(hex);
                flush(&tmp)
                    .and_then(|()| fs::rename(&tmp, &path))
                    .map_err(|e| {
                        let _ = fs::remove_file(&tmp);
                        Error::io("write object", &path, e)
                    })
            }
        }
    }

    /// Stores several objects (hex digest, bytes): each written to its temporary file,
    /// then flushed and renamed into place by several threads at once. A flush waits for
    /// the disk (12 ms apiece on a busy one: 12 s for the thousand files of a pulled
    /// version, one after another); flushes in flight together are committed together.
    pub fn put_many(&self, objects: &[(String, Vec<u8>)]) -> Result<()> {
        const FLUSHERS: usize = 16;
        let mut pending = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (hex, bytes) in objects {
            if !seen.insert(hex) {
                continue;
            }
            if let Some(tmp) = self.write_unflushed(hex, bytes)? {
                pending.push((tmp, self.path_of(hex)));
            }
        }
        let chunk = pending.len().div_ceil(FLUSHERS).max(1);
        let failed: Vec<Error> = std::thread::scope(|scope| {
            let handles: Vec<_> = pending
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || {
                        for (tmp, path) in part {
                            let done = flush(tmp).and_then(|()| fs::rename(tmp, path));
                            if let Err(e) = done {
                                return Err(Error::io("write object", path, e));
                            }
                        }
                        Ok(())
                    })
                })
                .collect();
            handles
                .into_iter()
                .filter_map(|h| h.join().expect("a flushing thread ends").err())
                .collect()
        });
        if let Some(e) = failed.into_iter().next() {
            for (tmp, _) in &pending {
                let _ = fs::remove_file(tmp);
            }
            return Err(e);
        }
        Ok(())
    }

    /// Writes an object to its temporary file, unflushed; `None` when a sound one is there.
    fn write_unflushed(&self, hex: &str, bytes: &[u8]) -> Result<Option<PathBuf>> {
        let path = self.path_of(hex);
        if path.exists() && crate::hash::sha256_file(&path).is_ok_and(|actual| actual == hex) {
            return Ok(None);
        }
        let parent = path.parent().expect("object paths have a parent");
        fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
        let tmp = parent.join(format!(".tmp-{}-{}", std::process::id(), &hex[2..18]));
        fs::File::create(&tmp)
            .and_then(|mut file| file.write_all(bytes))
            .map_err(|e| {
                let _ = fs::remove_file(&tmp);
                Error::io("write object", &path, e)
            })?;
        Ok(Some(tmp))
    }

    /// Stores `bytes`; returns its reference `sha256:<hex>`.
    pub fn put(&self, bytes: &[u8]) -> Result<String> {
        let hex = sha256_hex(bytes);
        self.put_hashed(&hex, bytes)?;
        Ok(format!("{PREFIX}{hex}"))
    }

    /// Reads an object by reference (`sha256:<hex>` or bare hex) and checks its hash.
    pub fn get(&self, reference: &str) -> Result<Vec<u8>> {
        let hex = reference.strip_prefix(PREFIX).unwrap_or(reference);
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::new(format!(
                "`{reference}` is not an object reference"
            )));
        }
        let path = self.path_of(hex);
        let bytes = fs::read(&path).map_err(|e| {
            Error::io("read object", &path, e)
                .hint("the store is missing data; run `factory store check`")
        })?;
        if sha256_hex(&bytes) != hex {
            return Err(Error::new(format!(
                "object {} is corrupt: its bytes no longer hash to its name",
                path.display()
            ))
            .hint("run `factory store check`; restore the object from a backup or re-create the version"));
        }
        Ok(bytes)
    }

    /// Every object file: `(hex named by the path, path)`.
    pub fn list(&self) -> Result<Vec<(String, PathBuf)>> {
        let mut out = Vec::new();
        if !self.dir.exists() {
            return Ok(out);
        }
        for entry in walkdir::WalkDir::new(&self.dir).min_depth(2).max_depth(2) {
            let entry = entry.map_err(|e| Error::new(format!("cannot walk objects: {e}")))?;
            if !entry.file_type().is_file() {
                continue;
            }
            let name = entry.file_name().to_string_lossy();
            if name.starts_with(".tmp-") {
                continue;
            }
            let prefix = entry
                .path()
                .parent()
                .and_then(Path::file_name)
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default();
            out.push((format!("{prefix}{name}"), entry.into_path()));
        }
        Ok(out)
    }
}

impl crate::template::snapshot::Blobs for Objects {
    fn blob(&self, hex: &str) -> Result<Vec<u8>> {
        self.get(hex)
    }
}
