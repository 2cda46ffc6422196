//! Content-addressed objects: `objects/ab/cdef…` holds the bytes whose sha256 is `abcdef…`.
//! Written to a temporary file, flushed, then renamed, so an object is whole or absent.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::hash::sha256_hex;

/// The `sha256:` prefix of object references.
pub const PREFIX: &str = "sha256:";

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
        let path = self.path_of(hex);
        // An object already there is trusted only if it still hashes to its name; a corrupt
        // one is written again rather than reused.
        if path.exists() && crate::hash::sha256_file(&path).is_ok_and(|actual| actual == hex) {
            return Ok(());
        }
        let parent = path.parent().expect("object paths have a parent");
        fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
        let tmp = parent.join(format!(".tmp-{}-{}", std::process::id(), &hex[2..18]));
        let result = (|| {
            let mut file = fs::File::create(&tmp)?;
            file.write_all(bytes)?;
            file.sync_data()?;
            fs::rename(&tmp, &path)
        })();
        result.map_err(|e| {
            let _ = fs::remove_file(&tmp);
            Error::io("write object", &path, e)
        })
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
