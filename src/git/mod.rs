//! git: template repositories fetched where they live (through the user's `git`, into a
//! clone cache), and a scaffold committed to a repository (libgit2).

pub mod fetch;
pub mod url;

pub use url::{is_git_url, split_ref};

use std::path::Path;

use crate::error::{Error, Result};

/// Commits everything in `dir` (initialising a repository when there is none); returns the
/// commit id.
pub fn commit_all(dir: &Path, message: &str) -> Result<String> {
    let fail = |e: git2::Error| Error::new(format!("git in {}: {}", dir.display(), e.message()));
    let repo = match git2::Repository::open(dir) {
        Ok(repo) => repo,
        Err(_) => git2::Repository::init(dir).map_err(fail)?,
    };
    let mut index = repo.index().map_err(fail)?;
    index
        .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
        .map_err(fail)?;
    index.write().map_err(fail)?;
    let tree = repo
        .find_tree(index.write_tree().map_err(fail)?)
        .map_err(fail)?;
    let signature = repo
        .signature()
        .or_else(|_| git2::Signature::now("factory", "factory@localhost"))
        .map_err(fail)?;
    let parents: Vec<git2::Commit> = repo
        .head()
        .ok()
        .and_then(|h| h.peel_to_commit().ok())
        .into_iter()
        .collect();
    let parents: Vec<&git2::Commit> = parents.iter().collect();
    let id = repo
        .commit(
            Some("HEAD"),
            &signature,
            &signature,
            message,
            &tree,
            &parents,
        )
        .map_err(fail)?;
    Ok(id.to_string())
}
