//! Output path rules: a rendered path stays inside its target, and names that break on
//! other systems are caught early.

/// Paths longer than this break tools on Windows.
pub const MAX_PATH_LEN: usize = 250;

/// Refuses a relative output path that could leave the target folder or is not a plain
/// name: absolute paths, drive letters, `..` and `.` parts, empty parts, backslashes, NUL
/// and other control characters.
pub fn check_inside(path: &str) -> Result<(), String> {
    check(path, true)
}

/// Refuses a path a stored tree (or one pulled from a registry) may not hold: one that
/// could leave the folder it is written to on any system (absolute, a drive letter, `..`,
/// with `\` read as a separator too, as Windows reads it) or that names a git repository's
/// own folder. Looser than [`check_inside`] only in what cannot escape: a stored name may
/// hold a backslash or a newline (the content hash escapes them as `sha256sum` does).
pub fn check_stored(path: &str) -> Result<(), String> {
    check(path, false)
}

fn check(path: &str, output: bool) -> Result<(), String> {
    if path.is_empty() {
        return Err("the path is empty".into());
    }
    // A stored name may hold a newline: shown escaped, so that a message stays one line.
    let shown = if output {
        path.to_string()
    } else {
        path.escape_debug().to_string()
    };
    if path.starts_with('/') || (!output && path.starts_with('\\')) {
        return Err(format!("`{shown}` is an absolute path"));
    }
    if path.len() >= 2 && path.as_bytes()[1] == b':' && path.as_bytes()[0].is_ascii_alphabetic() {
        return Err(format!("`{shown}` starts with a drive letter"));
    }
    let refused = |c: char| c == '\0' || (output && (c.is_control() || c == '\\'));
    if let Some(c) = path.chars().find(|c| refused(*c)) {
        return Err(format!(
            "`{}` contains the character {c:?}, which is not allowed in a path",
            path.escape_debug()
        ));
    }
    // An output path holds no backslash by now; a stored one is split at both separators.
    for part in path.split(['/', '\\']) {
        if is_git_dir_name(part) {
            return Err(format!(
                "`{shown}` names `{part}`, a git repository's own folder: a template may not plant one"
            ));
        }
        match part {
            "" => {
                return Err(format!("`{shown}` has an empty folder name"));
            }
            "." | ".." => {
                return Err(format!(
                    "`{shown}` contains `{part}`, which would leave or alias the target folder"
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

/// What is wrong with the paths of a stored tree (its files' and its links'), one sentence
/// each: the store check lists them all, a pull refuses a tree with any.
pub fn tree_problems(tree: &crate::tree::Tree) -> Vec<String> {
    let files = tree.files.iter().map(|f| f.path.as_str());
    let links = tree.links.iter().map(|l| l.path.as_str());
    files
        .chain(links)
        .filter_map(|path| check_stored(path).err())
        .collect()
}

pub use crate::template::snapshot::is_git_dir_name;

/// Why a file or folder name cannot exist on Windows, if it cannot.
pub fn windows_problem(name: &str) -> Option<String> {
    if let Some(c) = name.chars().find(|c| "<>:\"|?*".contains(*c)) {
        return Some(format!(
            "`{name}` contains `{c}`, which Windows does not allow"
        ));
    }
    if name.ends_with('.') || name.ends_with(' ') {
        return Some(format!(
            "`{name}` ends with a dot or a space, which Windows drops"
        ));
    }
    let stem = name
        .split('.')
        .next()
        .unwrap_or(name)
        .trim_end()
        .to_ascii_uppercase();
    let reserved = matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || ((stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.len() == 4
            && stem.as_bytes()[3].is_ascii_digit()
            && stem.as_bytes()[3] != b'0');
    reserved.then(|| format!("`{name}` is a reserved device name on Windows"))
}

/// Checks that a link at `path` (relative to the output folder) pointing at `target` stays
/// in the output folder: a relative target whose `..` never climb above the folder's root.
/// (Following it later must not lead out, and factory never writes through it.)
pub fn check_link_inside(path: &str, target: &str) -> Result<(), String> {
    let refuse = |why: &str| Err(format!("the link `{path}` -> `{target}` {why}"));
    if target.is_empty() {
        return refuse("points at nothing");
    }
    if target.starts_with('/')
        || target.contains('\\')
        || (target.len() >= 2 && target.as_bytes()[1] == b':')
    {
        return refuse("is absolute: links stay inside the output folder");
    }
    let mut depth: i64 = path.matches('/').count() as i64;
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => depth -= 1,
            other if is_git_dir_name(other) => {
                return refuse("points into a git repository's own folder");
            }
            _ => depth += 1,
        }
        if depth < 0 {
            return refuse("leads out of the output folder");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_refused() {
        for bad in [
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a//b",
            "./a",
            "C:x",
            "a\\b",
            "a\0b",
            "",
            ".git",
            ".git/config",
            "src/.GIT/HEAD",
            ".git. .",
        ] {
            assert!(check_inside(bad).is_err(), "{bad:?}");
        }
        for good in [
            "a",
            "src/Main.cs",
            ".gitignore",
            "a..b/c",
            ".github/ci.yml",
            "x.git",
        ] {
            assert!(check_inside(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn stored_paths_may_not_escape_either() {
        for bad in [
            "/etc/passwd",
            "\\\\server\\x",
            "../x",
            "a/../../x",
            "a\\..\\..\\x",
            "C:x",
            ".git/hooks/post-checkout",
            "src/.Git/config",
            "a\\.git\\config",
            "a\0b",
            "",
            "a//b",
        ] {
            assert!(check_stored(bad).is_err(), "{bad:?}");
        }
        for good in [
            "a",
            "src/Main.cs",
            "odd\\name.txt",
            "two\nlines",
            ".gitignore",
        ] {
            assert!(check_stored(good).is_ok(), "{good:?}");
            assert_eq!(check_inside(good).is_ok(), !good.contains(['\\', '\n']));
        }
    }

    #[test]
    fn windows_names() {
        for bad in ["a:b", "x|y", "CON", "con.txt", "LPT1", "name.", "name "] {
            assert!(windows_problem(bad).is_some(), "{bad}");
        }
        for good in ["CONFIG", "COM0", "console.txt", "a.b"] {
            assert!(windows_problem(good).is_none(), "{good}");
        }
    }

    #[test]
    fn kept_links_stay_in_the_output_folder() {
        assert!(check_link_inside("run", "make.py").is_ok());
        assert!(check_link_inside("docs/x", "../make.py").is_ok());
        assert!(check_link_inside("run", "../make.py").is_err());
        assert!(check_link_inside("a/b", "../../x").is_err());
        assert!(check_link_inside("run", "/etc/passwd").is_err());
        assert!(check_link_inside("run", "sub/../../x").is_err());
        assert!(check_link_inside("run", ".git/config").is_err());
    }
}
