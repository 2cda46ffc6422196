//! git2 helpers: fetch a template from a repository at a ref, and commit a scaffold.

use std::path::Path;

use crate::error::{Error, Result};

/// Whether `text` names a git repository rather than a folder or a stored template.
pub fn is_git_url(text: &str) -> bool {
    let url = split_ref(text).0;
    ["file://", "https://", "http://", "ssh://", "git://"]
        .iter()
        .any(|scheme| url.starts_with(scheme))
        || (url.starts_with("git@") && url.contains(':'))
}

/// Splits `URL#REF` into the URL and the ref.
pub fn split_ref(text: &str) -> (&str, Option<&str>) {
    match text.rsplit_once('#') {
        Some((url, reference)) if !reference.is_empty() => (url, Some(reference)),
        _ => (text, None),
    }
}

/// A repository checked out into a temporary folder, and the commit it is at.
pub struct Checkout {
    /// The folder (removed on drop).
    pub dir: tempfile::TempDir,
    /// The resolved commit, 40 hex digits.
    pub commit: String,
    /// The URL without `#ref`.
    pub url: String,
}

/// Clones `URL[#REF]` and checks out the ref (a branch, tag or commit; default: the remote's
/// HEAD).
pub fn checkout(text: &str) -> Result<Checkout> {
    let (url, reference) = split_ref(text);
    let dir = tempfile::Builder::new()
        .prefix("factory-git-")
        .tempdir()
        .map_err(|e| Error::new(format!("cannot create a temporary folder: {e}")))?;
    let fail = |what: &str, e: git2::Error| {
        Error::new(format!("{what} {url}: {}", e.message())).hint(
            "check the URL and ref; this build reaches repositories over file:// and local paths",
        )
    };
    let repo = git2::Repository::clone(url, dir.path()).map_err(|e| fail("cannot clone", e))?;
    let commit = match reference {
        None => repo
            .head()
            .and_then(|h| h.peel_to_commit())
            .map_err(|e| fail("cannot read HEAD of", e))?,
        Some(reference) => {
            let object = repo
                .revparse_single(reference)
                .or_else(|_| repo.revparse_single(&format!("origin/{reference}")))
                .map_err(|_| {
                    Error::new(format!("{url} has no branch, tag or commit `{reference}`")).hint(
                        "name an existing ref after `#`, such as #main, #v1.2.0 or a commit id",
                    )
                })?;
            let commit = object
                .peel_to_commit()
                .map_err(|e| fail("cannot resolve", e))?;
            repo.checkout_tree(
                commit.as_object(),
                Some(git2::build::CheckoutBuilder::new().force()),
            )
            .map_err(|e| fail("cannot check out", e))?;
            repo.set_head_detached(commit.id())
                .map_err(|e| fail("cannot check out", e))?;
            commit
        }
    };
    Ok(Checkout {
        commit: commit.id().to_string(),
        url: url.to_string(),
        dir,
    })
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_refs() {
        assert!(is_git_url("file:///tmp/repo#v1"));
        assert!(is_git_url("https://example.com/t.git"));
        assert!(is_git_url("git@github.com:org/repo.git"));
        assert!(!is_git_url("templates/service"));
        assert!(!is_git_url("ConnectSoft.Template.Api"));
        assert_eq!(split_ref("file:///r#main"), ("file:///r", Some("main")));
        assert_eq!(split_ref("file:///r"), ("file:///r", None));
    }
}
