//! Output path rules: a rendered path stays inside its target, and names that break on
//! other systems are caught early.

use std::collections::{HashMap, HashSet};

/// Paths longer than this break tools on Windows.
pub const MAX_PATH_LEN: usize = 250;

/// A file's path for a line of human text: every control character shown escaped, a
/// newline too (a copier template may name a file `a\nb` or with an escape sequence, and a
/// listing must stay one line per file and never drive the terminal).
pub fn shown(path: &str) -> std::borrow::Cow<'_, str> {
    if !path.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(path);
    }
    let mut shown = String::with_capacity(path.len() + 8);
    for c in path.chars() {
        if c.is_control() {
            shown.extend(c.escape_debug());
        } else {
            shown.push(c);
        }
    }
    std::borrow::Cow::Owned(shown)
}

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

/// [`check_inside`] for the output of a copier or cookiecutter template, which may name
/// files with control characters (a tab, a newline, a bell: the system allows all but NUL)
/// or (on Unix, where it is no separator) a backslash, as those tools write them: every
/// other rule holds, and a backslash still splits parts for the `..` rule, so `a\..\x` is
/// refused on every system. Such a name is data: factory shows it escaped wherever it
/// prints it (the content hash escapes it as `sha256sum` does; JSON and the log escape it).
pub fn check_inside_foreign(path: &str) -> Result<(), String> {
    let allowed = |c: char| (c.is_control() && c != '\0') || (cfg!(unix) && c == '\\');
    if !path.contains(allowed) {
        return check(path, true);
    }
    // Checked as a stored path (split at both separators), then for the other characters.
    check(path, false)?;
    let refused = |c: char| c == '\0' || ((c.is_control() || c == '\\') && !allowed(c));
    if let Some(c) = path.chars().find(|c| refused(*c)) {
        return Err(format!(
            "`{}` contains the character {c:?}, which is not allowed in a path",
            path.escape_debug()
        ));
    }
    Ok(())
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
    crate::domain::names::is_windows_device_name(name)
        .then(|| format!("`{name}` is a reserved device name on Windows"))
}

/// What a path of the output is, for following links through it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A link, with its target as written.
    Link(String),
    /// The path differs only in case from the link named here: on a case-insensitive file
    /// system (macOS, Windows) it is that link.
    CaseOf(String),
    /// Anything else (a folder, a file, nothing yet): a name the path goes down into.
    Other,
}

/// The longest link target Linux takes (`PATH_MAX`).
const MAX_TARGET_LEN: usize = 4096;

/// How many links one path may pass through, as Linux allows (`MAXSYMLINKS`).
const MAX_FOLLOWS: usize = 40;

/// Checks that a link at `path` (relative to the output folder) pointing at `target` stays
/// in the output folder, its target taken as written: relative, and no `..` above the root.
/// Links it passes through are judged by [`resolve_link`] with every link of the output.
pub fn check_link_inside(path: &str, target: &str) -> Result<(), String> {
    resolve_link(path, target, &|_| Entry::Other).map(|_| ())
}

/// Where the link at `path` pointing at `target` leads inside the output folder, resolved as
/// the system resolves it: every link on the way (`entry_at` says what each path is) is
/// followed, so a `..` after a link climbs from where that link leads, not from its name.
/// Refuses a target that is absolute, names a `.git` folder, or leads out of the output
/// folder at any step; a chain of more than 40 links (a loop) is refused too. Names that do
/// not exist yet are taken as folders, the strictest reading. The last name is not followed:
/// a link to a link is judged by that link's own check.
pub fn resolve_link(
    path: &str,
    target: &str,
    entry_at: &dyn Fn(&str) -> Entry,
) -> Result<String, String> {
    let refuse = |why: String| Err(format!("the link `{path}` -> `{target}` {why}"));
    if let Some(why) = textual_problem(target) {
        return refuse(why.to_string());
    }
    // Where the walk is (the link's folder to start with), and the parts still to walk in
    // reverse order (the next one last): a followed link's target is spliced in front.
    let mut at: Vec<String> = path.split('/').map(str::to_string).collect();
    at.pop();
    let mut pending: Vec<String> = target.split('/').rev().map(str::to_string).collect();
    // How many of them are names or `..` (not empty or `.`): none left means the end.
    let counts = |p: &String| !p.is_empty() && p != ".";
    let mut significant = pending.iter().filter(|p| counts(p)).count();
    // The links followed (each named once, for the message), and how many times.
    let mut through: Vec<String> = Vec::new();
    let mut follows = 0;
    while let Some(part) = pending.pop() {
        if counts(&part) {
            significant -= 1;
        }
        match part.as_str() {
            "" | "." => {}
            ".." => {
                if at.pop().is_none() {
                    let via = if through.is_empty() {
                        String::new()
                    } else {
                        format!(" (through {})", through.join(", "))
                    };
                    return refuse(format!("leads out of the output folder{via}"));
                }
            }
            _ => {
                at.push(part);
                // The last name is where the link ends: not followed (see above).
                if significant == 0 {
                    break;
                }
                let joined = at.join("/");
                match entry_at(&joined) {
                    Entry::Other => {}
                    Entry::CaseOf(link) => {
                        return refuse(format!(
                            "passes through `{joined}`, which is the link `{link}` on a case-insensitive file system"
                        ));
                    }
                    Entry::Link(next) => {
                        if follows == MAX_FOLLOWS {
                            return refuse(format!(
                                "passes through more than {MAX_FOLLOWS} links (a loop?)"
                            ));
                        }
                        if let Some(why) = textual_problem(&next) {
                            return refuse(format!(
                                "passes through the link `{joined}` -> `{next}`, which {why}"
                            ));
                        }
                        at.pop();
                        let parts: Vec<String> = next.split('/').map(str::to_string).collect();
                        significant += parts.iter().filter(|p| counts(p)).count();
                        pending.extend(parts.into_iter().rev());
                        follows += 1;
                        let step = format!("`{joined}` -> `{next}`");
                        if !through.contains(&step) {
                            through.push(step);
                        }
                    }
                }
            }
        }
    }
    Ok(at.join("/"))
}

/// What is wrong with a link target whatever the links around it: empty, absolute, or
/// naming a git repository's own folder.
fn textual_problem(target: &str) -> Option<&'static str> {
    if target.is_empty() {
        return Some("points at nothing");
    }
    if target.len() > MAX_TARGET_LEN {
        return Some("is longer than any system takes (4096 bytes)");
    }
    if target.starts_with('/')
        || target.contains('\\')
        || (target.len() >= 2 && target.as_bytes()[1] == b':')
    {
        return Some("is absolute: links stay inside the output folder");
    }
    if target.split('/').any(is_git_dir_name) {
        return Some("points into a git repository's own folder");
    }
    None
}

/// Checks every link the output will hold, together: each link resolved through the others
/// ([`resolve_link`]) must stay in the output folder, and no link may sit where a folder of
/// the output is (`folders`: every folder a file of the output is in), or below another
/// link, since nothing is written through links. `links` are (path, target) pairs; the
/// problems come back one per refused link, in the order given.
pub fn check_links<'a>(
    links: &[(String, String)],
    folders: impl IntoIterator<Item = &'a str>,
) -> Vec<(usize, String)> {
    let by_path: HashMap<&str, &str> = links
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let by_lower: HashMap<String, &str> = links
        .iter()
        .map(|(p, _)| (p.to_lowercase(), p.as_str()))
        .collect();
    let entry_at = |path: &str| -> Entry {
        if let Some(target) = by_path.get(path) {
            return Entry::Link((*target).to_string());
        }
        match by_lower.get(&path.to_lowercase()) {
            Some(link) => Entry::CaseOf((*link).to_string()),
            None => Entry::Other,
        }
    };
    let folders: HashSet<&str> = folders.into_iter().collect();
    let mut problems = Vec::new();
    for (i, (path, target)) in links.iter().enumerate() {
        if folders.contains(path.as_str()) {
            problems.push((
                i,
                format!("the link `{path}` -> `{target}` is also a folder the template writes files into"),
            ));
            continue;
        }
        let above = path
            .match_indices('/')
            .map(|(at, _)| &path[..at])
            .find(|folder| !matches!(entry_at(folder), Entry::Other));
        if let Some(folder) = above {
            problems.push((
                i,
                format!("the link `{path}` -> `{target}` is inside the link `{folder}`: factory does not write through links"),
            ));
            continue;
        }
        if let Err(message) = resolve_link(path, target, &entry_at) {
            problems.push((i, message));
        }
    }
    problems
}

/// Every folder the files at `paths` are in (`a/b/c` is in `a` and `a/b`).
pub fn folders_of<'a>(paths: impl IntoIterator<Item = &'a str>) -> HashSet<&'a str> {
    let mut folders = HashSet::new();
    for path in paths {
        for (at, _) in path.match_indices('/') {
            folders.insert(&path[..at]);
        }
    }
    folders
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
        // copier's and cookiecutter's output may hold control characters (not NUL) or a
        // backslash.
        assert!(check_inside_foreign("a\tb/c\\d.txt").is_ok() == cfg!(unix));
        assert!(check_inside_foreign("\u{7}\u{c}\n\t\u{b}x\u{1b}[2J").is_ok());
        for bad in [
            "a\\..\\x",
            "..\\x",
            "/x\tb",
            "a\0b\t",
            "a//b\t",
            "a\n/../../x",
        ] {
            assert!(check_inside_foreign(bad).is_err(), "{bad:?}");
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

    fn links(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(p, t)| (p.to_string(), t.to_string()))
            .collect()
    }

    #[test]
    fn chained_links_are_resolved_through_each_other() {
        // The issue's two reproductions: each target alone stays in, chained they lead out.
        let deep = format!("{}{}etc", "r/".repeat(12), "../".repeat(12));
        let problems = check_links(&links(&[("r", "."), ("x", &deep)]), []);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].0, 1);
        assert!(
            problems[0]
                .1
                .contains("leads out of the output folder (through `r` -> `.`"),
            "{}",
            problems[0].1
        );
        let problems = check_links(&links(&[("sub/x", "y/../.."), ("sub/y", ".")]), []);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].1.starts_with("the link `sub/x`"),
            "{problems:?}"
        );
        // Links through links that stay inside are kept, and a link to a link is fine.
        assert!(
            check_links(
                &links(&[
                    ("docs", "src"),
                    ("x", "docs/../docs/a"),
                    ("y", "x"),
                    ("src/up", ".."),
                    ("z", "src/up/src/up/docs"),
                ]),
                ["src"]
            )
            .is_empty()
        );
        // A name that is a link only on a case-insensitive file system is refused.
        let problems = check_links(&links(&[("R", "."), ("x", "r/..")]), []);
        assert!(problems[0].1.contains("case-insensitive"), "{problems:?}");
        // A loop, a link below a link, a link where a folder is.
        let problems = check_links(&links(&[("a", "b/x"), ("b", "a/x")]), []);
        assert!(problems[0].1.contains("a loop?"), "{problems:?}");
        let problems = check_links(&links(&[("s", "."), ("s/t", "u")]), []);
        assert!(
            problems[0].1.contains("inside the link `s`"),
            "{problems:?}"
        );
        let problems = check_links(&links(&[("s", ".")]), ["s"]);
        assert!(problems[0].1.contains("also a folder"), "{problems:?}");
        // An absolute link on the way.
        let problems = check_links(&links(&[("a", "/etc"), ("b", "a/passwd")]), []);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[1]
                .1
                .contains("passes through the link `a` -> `/etc`")
        );
    }
}
