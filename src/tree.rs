//! The tree object: the listing of a stored version's files (path, blob, size, mode), which
//! the store keeps as an object and the engines, the store check and (later) registries read.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// One entry of a tree object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeFile {
    /// Relative path.
    pub path: String,
    /// `sha256:<hex>` of its bytes.
    pub blob: String,
    /// Its size.
    pub size: u64,
    /// Whether it is executable.
    pub executable: bool,
}

/// A symlink of a stored version: where it is and what it points at, as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeLink {
    /// Relative path.
    pub path: String,
    /// The link's target text.
    pub target: String,
}

/// The object that lists a stored version's files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tree {
    /// Files sorted by path.
    pub files: Vec<TreeFile>,
    /// Symlinks, for templates that keep links as links (copier's `_preserve_symlinks`);
    /// absent when there are none, so a tree without links is the bytes it always was.
    /// The content hash covers regular files only, as it always has.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<TreeLink>,
}

impl Tree {
    /// Parses a tree object.
    pub fn from_bytes(bytes: &[u8]) -> Result<Tree> {
        serde_json::from_slice(bytes)
            .map_err(|e| Error::new(format!("a tree object is unreadable: {e}")))
    }
}
