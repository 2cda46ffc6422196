//! The module edges point one way (DESIGN.md section 1): no cycle between the top-level
//! modules of `src/`; the engines import neither the store, the command line, the
//! application layer nor the brokers; and no engine reads the process environment (settings
//! arrive as values, resolved once in `app::settings`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The pure engines: they decide, they never reach I/O adapters.
const ENGINES: &[&str] = &[
    "domain", "template", "render", "compat", "upgrade", "library", "hash", "validate",
];
/// What an engine may not import.
const ADAPTERS: &[&str] = &["store", "cli", "app", "broker"];

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            source_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to: `src/X.rs` or `src/X/…`.
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel.components().next()?.as_os_str().to_str()?.to_string();
    let name = first.trim_end_matches(".rs").to_string();
    (!matches!(name.as_str(), "lib" | "main")).then_some(name)
}

/// Code without comments, so a doc line naming a module is not an edge.
fn code_of(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(i) if !line[..i].contains('"') => &line[..i],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every top-level module a file names through `crate::X`, including `use crate::{X, Y::…}`.
fn imports(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    found.insert(name);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

fn edges() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&src, &mut files);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let Some(module) = module_of(&src, &file) else {
            continue;
        };
        let code = code_of(&std::fs::read_to_string(&file).unwrap());
        let entry = edges.entry(module.clone()).or_default();
        for target in imports(&code) {
            if target != module && !matches!(target.as_str(), "Error" | "Result") {
                entry.insert(target);
            }
        }
    }
    edges
}

/// A cycle through `start`, if any, as the path that closes it.
fn cycle_from(start: &str, edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    let mut stack = vec![(start.to_string(), vec![start.to_string()])];
    let mut seen = BTreeSet::new();
    while let Some((node, path)) = stack.pop() {
        for next in edges.get(&node).into_iter().flatten() {
            if next == start {
                let mut closed = path.clone();
                closed.push(next.clone());
                return Some(closed);
            }
            if seen.insert(next.clone()) {
                let mut longer = path.clone();
                longer.push(next.clone());
                stack.push((next.clone(), longer));
            }
        }
    }
    None
}

#[test]
fn the_import_scanner_sees_grouped_and_plain_imports() {
    let code = code_of(
        "use crate::{store::Store, render};\n// crate::cli in a comment\nfn f() { crate::app::x(); }",
    );
    let found = imports(&code);
    assert_eq!(
        found,
        ["app", "render", "store"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    );
    let mut looped = BTreeMap::new();
    looped.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    looped.insert("b".to_string(), BTreeSet::from(["a".to_string()]));
    assert!(cycle_from("a", &looped).is_some());
}

#[test]
fn no_cycle_between_top_level_modules() {
    let edges = edges();
    let cycles: Vec<String> = edges
        .keys()
        .filter_map(|m| cycle_from(m, &edges))
        .map(|path| path.join(" -> "))
        .collect();
    assert!(cycles.is_empty(), "module cycles:\n{}", cycles.join("\n"));
}

#[test]
fn engines_import_no_adapter() {
    let edges = edges();
    let mut wrong = Vec::new();
    for engine in ENGINES {
        for target in edges.get(*engine).into_iter().flatten() {
            if ADAPTERS.contains(&target.as_str()) {
                wrong.push(format!("{engine} -> {target}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "engines reaching adapters:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn engines_read_no_environment() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&src, &mut files);
    let mut wrong = Vec::new();
    for file in files {
        let Some(module) = module_of(&src, &file) else {
            continue;
        };
        if !ENGINES.contains(&module.as_str()) {
            continue;
        }
        let code = code_of(&std::fs::read_to_string(&file).unwrap());
        for needle in ["env::var", "env::vars", "env::var_os", "env::current_dir"] {
            if code.contains(needle) {
                wrong.push(format!("{}: {needle}", file.display()));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "engines reading the environment:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_command_line_stays_thin() {
    let cli = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/cli");
    let mut files = Vec::new();
    source_files(&cli, &mut files);
    let mut wrong = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        if lines.len() > 300 {
            wrong.push(format!("{}: {} lines", file.display(), lines.len()));
        }
        let mut i = 0;
        while i < lines.len() {
            let line = lines[i];
            let indent = line.len() - line.trim_start().len();
            let head = line.trim_start();
            let is_fn = ["fn ", "pub fn ", "pub(crate) fn ", "pub(super) fn "]
                .iter()
                .any(|p| head.starts_with(p));
            if is_fn && !head.ends_with(';') {
                let close = format!("{}}}", " ".repeat(indent));
                let end = (i + 1..lines.len())
                    .find(|&j| lines[j] == close)
                    .unwrap_or(i);
                if end - i + 1 > 60 {
                    wrong.push(format!(
                        "{}:{}: a function of {} lines",
                        file.display(),
                        i + 1,
                        end - i + 1
                    ));
                }
                i = end;
            }
            i += 1;
        }
    }
    assert!(
        wrong.is_empty(),
        "src/cli/ maps arguments and prints; move logic to app/:\n{}",
        wrong.join("\n")
    );
}

/// The platform commands: each is one request type, the wire contract and the use case's
/// input at once (issue 22).
const COMMANDS: &[&str] = &[
    "RegisterTemplate",
    "CreateTemplateVersion",
    "PublishTemplate",
    "ValidateTemplate",
    "GenerateScaffold",
    "EvaluateCompatibility",
    "PlanTemplateUpgrade",
    "RegisterLibrary",
    "CreateLibraryVersion",
    "ScanDependencies",
    "PublishPackage",
    "AdvisePackageUpgrade",
];

#[test]
fn each_command_is_defined_once() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&src, &mut files);
    let mut definitions: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for file in &files {
        let code = code_of(&std::fs::read_to_string(file).unwrap());
        for name in COMMANDS {
            for kind in ["struct", "enum"] {
                for line in code.lines() {
                    let line = line.trim_start();
                    let declared = ["pub ", "pub(crate) ", "pub(super) ", ""]
                        .iter()
                        .any(|vis| line.starts_with(&format!("{vis}{kind} {name} ")));
                    if declared {
                        definitions
                            .entry(name)
                            .or_default()
                            .push(file.strip_prefix(&src).unwrap().display().to_string());
                    }
                }
            }
        }
    }
    for name in COMMANDS {
        let found = definitions.get(name).cloned().unwrap_or_default();
        assert_eq!(found.len(), 1, "{name} is defined in {found:?}");
        assert!(
            found[0].starts_with("app/"),
            "{name} is defined in {found:?}"
        );
    }
}

/// The code of every source file below `src/DIR`, with its path relative to `src/`.
fn code_below(dir: &str) -> Vec<(PathBuf, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&src.join(dir), &mut files);
    files
        .iter()
        .map(|f| {
            let code = code_of(&std::fs::read_to_string(f).unwrap());
            (f.strip_prefix(&src).unwrap().to_path_buf(), code)
        })
        .collect()
}

/// `FILE uses WORD` for each file below `src/DIR` (but those `allowed`) whose code holds a
/// forbidden word.
fn uses(dir: &str, allowed: impl Fn(&Path) -> bool, forbidden: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for (file, code) in code_below(dir) {
        for word in forbidden {
            if !allowed(&file) && code.contains(word) {
                found.push(format!("{} uses {word}", file.display()));
            }
        }
    }
    found
}

#[test]
fn the_application_layer_holds_no_transport() {
    let found = uses(
        "app",
        |_| false,
        &["lapin", "reqwest", "tokio::runtime::Builder"],
    );
    assert!(found.is_empty(), "{found:#?}");
}

/// The store owns its log: only `src/store/` (and the line format, `src/events/log.rs`)
/// names the file or opens a `LogReader`; everything else reads through the store's reader,
/// so one rule decides what a line that does not parse means.
#[test]
fn no_module_but_the_store_opens_the_log() {
    let owns = |file: &Path| file.starts_with("store") || file == Path::new("events/log.rs");
    let found = uses("", owns, &["events.jsonl", "LogReader"]);
    assert!(found.is_empty(), "{found:#?}");
}

/// `--json` documents are report types that derive `Serialize`, so a renamed field is a
/// compile error or a snapshot diff, not an empty string. SARIF's shape is the standard's.
#[test]
fn json_reports_are_types_not_literals() {
    let found = uses("cli", |f| f == Path::new("cli/sarif.rs"), &["json!"]);
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn one_async_runtime_is_built() {
    let found = uses(
        "",
        |f| f == Path::new("runtime.rs"),
        &["tokio::runtime::Builder"],
    );
    assert!(found.is_empty(), "runtimes are built in {found:?}");
}

/// Issue 22: a use case reads as named phases, none longer than 80 lines.
#[test]
fn no_use_case_function_is_longer_than_80_lines() {
    let app = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/app");
    let mut files = Vec::new();
    source_files(&app, &mut files);
    let mut long = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let mut i = 0;
        while i < lines.len() {
            let line = lines[i];
            let indent = line.len() - line.trim_start().len();
            let head = line.trim_start();
            let is_fn = ["fn ", "pub fn ", "pub(crate) fn ", "pub(super) fn "]
                .iter()
                .any(|p| head.starts_with(p));
            if is_fn && !head.ends_with(';') {
                let close = format!("{}}}", " ".repeat(indent));
                let end = (i + 1..lines.len())
                    .find(|&j| lines[j] == close)
                    .unwrap_or(lines.len() - 1);
                let length = end - i + 1;
                if length > 80 {
                    long.push(format!("{}:{} {length} lines", file.display(), i + 1));
                }
                i = end;
            }
            i += 1;
        }
    }
    assert!(long.is_empty(), "split these into phases: {long:#?}");
}
