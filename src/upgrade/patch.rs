//! copier's update of one file changed on both sides, through the user's `git` as copier
//! runs it: your changes (the old version's render → the project) as `git diff` writes them,
//! then `git apply --reject` of that patch onto the new version's render. What applies is
//! the result; the hunks that do not are what copier writes to `FILE.rej` (or, inline, the
//! file is merged by `git merge-file` instead).

use std::path::Path;
use std::process::{Command, Stdio};

use super::merge::{Applied, Patcher};

/// [`Patcher`] through the `git` on PATH.
pub struct GitPatcher {
    /// Lines of context around each hunk of your change (copier's `--context-lines`, 3).
    pub context_lines: u32,
}

impl Default for GitPatcher {
    fn default() -> Self {
        GitPatcher { context_lines: 3 }
    }
}

impl Patcher for GitPatcher {
    fn apply_yours(&self, path: &str, base: &[u8], ours: &[u8], theirs: &[u8]) -> Option<Applied> {
        apply_yours(path, base, ours, theirs, self.context_lines).ok()
    }
}

/// Your change to `path` (`base` → `ours`) applied to `theirs` as copier applies it; `Err`
/// when git cannot be run (the caller merges by itself then).
fn apply_yours(
    path: &str,
    base: &[u8],
    ours: &[u8],
    theirs: &[u8],
    context_lines: u32,
) -> std::io::Result<Applied> {
    let scratch = tempfile::Builder::new()
        .prefix("factory-patch-")
        .tempdir()?;
    let root = scratch.path();
    for (side, bytes) in [("old", base), ("ours", ours), ("new", theirs)] {
        let file = root.join(side).join(path);
        std::fs::create_dir_all(file.parent().unwrap_or(root))?;
        std::fs::write(&file, bytes)?;
    }
    // copier diffs with its context lines and hunks fused only across fewer unchanged lines
    // than twice that (`--inter-hunk-context=-1`).
    let unified = format!("--unified={context_lines}");
    let diff = git(root, root)
        .args([
            "diff",
            "--no-index",
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",
            unified.as_str(),
            "--inter-hunk-context=-1",
            "--src-prefix=a/",
            "--dst-prefix=b/",
            "--",
        ])
        .arg(Path::new("old").join(path))
        .arg(Path::new("ours").join(path))
        .output()?;
    // 0: no difference; 1: a patch.
    match diff.status.code() {
        Some(0) => {
            return Ok(Applied {
                bytes: theirs.to_vec(),
                rejected: None,
            });
        }
        Some(1) => {}
        _ => return Err(failed("git diff", &diff.stderr)),
    }
    let new = root.join("new");
    let mut apply = git(root, &new)
        .args(["apply", "--reject", "-p2", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    {
        use std::io::Write;
        let mut stdin = apply.stdin.take().expect("piped");
        stdin.write_all(&diff.stdout)?;
    }
    let applied = apply.wait_with_output()?;
    let rej = new.join(format!("{path}.rej"));
    let rejected = match std::fs::read(&rej) {
        Ok(bytes) => Some(bytes),
        Err(_) if applied.status.success() => None,
        Err(_) => return Err(failed("git apply", &applied.stderr)),
    };
    Ok(Applied {
        bytes: std::fs::read(new.join(path))?,
        rejected,
    })
}

/// `git` in `dir`, kept inside `scratch` (no repository above it is found) and blind to the
/// user's diff settings that change the patch's form.
fn git(scratch: &Path, dir: &Path) -> Command {
    let mut command = Command::new("git");
    command
        .current_dir(dir)
        .env(
            "GIT_CEILING_DIRECTORIES",
            scratch.parent().unwrap_or(scratch),
        )
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .args([
            "-c",
            "diff.noprefix=false",
            "-c",
            "diff.mnemonicPrefix=false",
            "-c",
            "core.quotePath=true",
        ])
        .stdin(Stdio::null());
    command
}

fn failed(what: &str, stderr: &[u8]) -> std::io::Error {
    std::io::Error::other(format!(
        "{what}: {}",
        String::from_utf8_lossy(stderr).trim()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applied(base: &str, ours: &str, theirs: &str) -> (String, Option<String>) {
        let a = apply_yours(
            "dir/f.txt",
            base.as_bytes(),
            ours.as_bytes(),
            theirs.as_bytes(),
            3,
        )
        .expect("git runs");
        (
            String::from_utf8(a.bytes).unwrap(),
            a.rejected.map(|r| String::from_utf8(r).unwrap()),
        )
    }

    #[test]
    fn your_change_lands_on_the_new_version_or_is_rejected_as_copier_rejects_it() {
        let base = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n";
        // Far apart: applied.
        let (bytes, rej) = applied(
            base,
            "a\nb\nc\nd\ne\nf\ng\nh\ni\nJ\n",
            "A\nb\nc\nd\ne\nf\ng\nh\ni\nj\n",
        );
        assert_eq!(
            (bytes.as_str(), rej),
            ("A\nb\nc\nd\ne\nf\ng\nh\ni\nJ\n", None)
        );
        // Within the three lines of context: rejected, the new version kept.
        let (bytes, rej) = applied(
            base,
            "a\nb\nc\nD\ne\nf\ng\nh\ni\nj\n",
            "a\nB\nc\nd\ne\nf\ng\nh\ni\nj\n",
        );
        assert_eq!(bytes, "a\nB\nc\nd\ne\nf\ng\nh\ni\nj\n");
        assert_eq!(
            rej.unwrap(),
            "diff a/dir/f.txt b/dir/f.txt\t(rejected hunks)\n@@ -1,7 +1,7 @@\n a\n b\n c\n-d\n+D\n e\n f\n g\n"
        );
    }
}
