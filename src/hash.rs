//! The tree hash of DESIGN.md section 6, a public contract.
//!
//! `contentHash` = `sha256:` + hex sha256 of the manifest, where the manifest is the text
//! `sha256sum` prints for every regular file (`<hex>  <path>\n`), sorted by path bytewise,
//! paths relative with `/`, the output's own `.factory/` folder left out.

use std::fs;
use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// The folder inside a generated project that holds its provenance; never hashed.
pub const PROVENANCE_DIR: &str = ".factory";

/// Hex sha256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Hex sha256 of a file's bytes, streamed through a fixed buffer.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file = fs::File::open(path).map_err(|e| Error::io("read", path, e))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let n = file
            .read(&mut buffer)
            .map_err(|e| Error::io("read", path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// One regular file of a tree: its relative `/` path and the hex sha256 of its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashedFile {
    /// Relative path with `/` separators.
    pub path: String,
    /// Hex sha256 of the file's bytes.
    pub sha256: String,
}

/// A tree's manifest and the content hash derived from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeHash {
    /// The `sha256sum`-format manifest text.
    pub manifest: String,
    /// `sha256:` + hex sha256 of `manifest`.
    pub content_hash: String,
    /// How many files the manifest lists.
    pub file_count: usize,
}

/// Builds the manifest of `files` (in any order) and its content hash.
pub fn tree_hash(files: &mut [HashedFile]) -> TreeHash {
    files.sort_unstable_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    let mut manifest = String::with_capacity(files.len() * 100);
    for file in files.iter() {
        push_manifest_line(&mut manifest, &file.sha256, &file.path);
    }
    TreeHash {
        content_hash: format!("sha256:{}", sha256_hex(manifest.as_bytes())),
        manifest,
        file_count: files.len(),
    }
}

/// Appends one line as GNU `sha256sum` prints it, escaping `\` and newlines in the name the
/// way coreutils does (a leading `\` marks an escaped line).
fn push_manifest_line(out: &mut String, sha256: &str, path: &str) {
    if path.contains(['\\', '\n', '\r']) {
        out.push('\\');
        out.push_str(sha256);
        out.push_str("  ");
        for c in path.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                c => out.push(c),
            }
        }
    } else {
        out.push_str(sha256);
        out.push_str("  ");
        out.push_str(path);
    }
    out.push('\n');
}

/// Hashes every regular file below `dir` (symlinks are not followed and not listed),
/// leaving out the top-level `.factory/` folder.
pub fn hash_dir(dir: &Path) -> Result<TreeHash> {
    let meta = fs::metadata(dir).map_err(|e| Error::io("read", dir, e))?;
    if !meta.is_dir() {
        return Err(
            Error::usage(format!("{} is not a directory", dir.display()))
                .hint("`factory hash` takes the folder whose files you want hashed"),
        );
    }
    let mut files: Vec<HashedFile> = list_files(dir)?.into_iter().map(|(f, _)| f).collect();
    Ok(tree_hash(&mut files))
}

/// Every regular file below `dir` with its hash and size (symlinks are not followed and not
/// listed), leaving out the top-level `.factory/` folder: what [`hash_dir`] hashes.
pub fn list_files(dir: &Path) -> Result<Vec<(HashedFile, u64)>> {
    let mut files = Vec::new();
    let walker = walkdir::WalkDir::new(dir)
        .follow_links(false)
        .into_iter()
        .filter_entry(|entry| !(entry.depth() == 1 && entry.file_name() == PROVENANCE_DIR));
    for entry in walker {
        let entry = entry.map_err(|e| Error::new(format!("cannot walk {}: {e}", dir.display())))?;
        if !entry.file_type().is_file() {
            continue;
        }
        let size = entry
            .metadata()
            .map_err(|e| Error::new(format!("cannot read {}: {e}", entry.path().display())))?
            .len();
        let path = relative_slash_path(dir, entry.path())?;
        files.push((
            HashedFile {
                sha256: sha256_file(entry.path())?,
                path,
            },
            size,
        ));
    }
    Ok(files)
}

/// The links below `dir` (`.factory/` aside), path with `/` separators and where each
/// points, as [`list_files`] leaves them out.
pub fn list_links(dir: &Path) -> Result<Vec<(String, String)>> {
    let mut links = Vec::new();
    // Below the root: `dir` itself may be reached through a link (a folder held open).
    let walker = walkdir::WalkDir::new(dir)
        .min_depth(1)
        .follow_links(false)
        .into_iter()
        .filter_entry(|entry| !(entry.depth() == 1 && entry.file_name() == PROVENANCE_DIR));
    for entry in walker {
        let entry = entry.map_err(|e| Error::new(format!("cannot walk {}: {e}", dir.display())))?;
        if !entry.path_is_symlink() {
            continue;
        }
        let to = std::fs::read_link(entry.path())
            .map_err(|e| Error::new(format!("cannot read {}: {e}", entry.path().display())))?;
        links.push((
            relative_slash_path(dir, entry.path())?,
            to.to_string_lossy().into_owned(),
        ));
    }
    Ok(links)
}

/// `path` relative to `base`, with `/` separators; non-UTF-8 names are refused.
pub fn relative_slash_path(base: &Path, path: &Path) -> Result<String> {
    let rel = path.strip_prefix(base).unwrap_or(path);
    let mut out = String::new();
    for (i, part) in rel.components().enumerate() {
        if i > 0 {
            out.push('/');
        }
        let part = part.as_os_str().to_str().ok_or_else(|| {
            Error::new(format!("{} has a name that is not UTF-8", path.display()))
                .hint("rename the file: factory paths must be valid UTF-8")
        })?;
        out.push_str(part);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_is_sorted_bytewise_in_sha256sum_format() {
        let mut files = vec![
            HashedFile {
                path: "b.txt".into(),
                sha256: sha256_hex(b"b"),
            },
            HashedFile {
                path: "B.txt".into(),
                sha256: sha256_hex(b"B"),
            },
            HashedFile {
                path: "a/z.txt".into(),
                sha256: sha256_hex(b""),
            },
        ];
        let tree = tree_hash(&mut files);
        let lines: Vec<&str> = tree.manifest.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].ends_with("  B.txt"));
        assert!(lines[1].ends_with("  a/z.txt"));
        assert!(lines[2].ends_with("  b.txt"));
        assert_eq!(
            lines[1],
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  a/z.txt"
        );
        assert_eq!(
            tree.content_hash,
            format!("sha256:{}", sha256_hex(tree.manifest.as_bytes()))
        );
    }

    #[test]
    fn names_with_backslash_or_newline_are_escaped_like_coreutils() {
        let mut out = String::new();
        push_manifest_line(&mut out, "00", "a\\b\nc");
        assert_eq!(out, "\\00  a\\\\b\\nc\n");
    }
}
