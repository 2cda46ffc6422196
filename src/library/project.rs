//! Direct dependencies, target frameworks and lock-file pins read from real project files:
//! `.csproj` (with central versions from `Directory.Packages.props`), `Cargo.toml` (with
//! workspace inheritance) and `package.json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::domain::events::{DependencyRange, LibraryUse};
use crate::error::{Error, Result};
use crate::template::ranges;

/// What a project file says about a release.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectInfo {
    /// The file read, relative to the folder given.
    pub manifest: String,
    /// The ecosystem it belongs to.
    pub ecosystem: String,
    /// Target frameworks (`net8.0`, `edition2021`, `node>=18`).
    pub target_frameworks: Vec<String>,
    /// Direct dependencies with ranges in the internal form.
    pub dependencies: Vec<DependencyRange>,
    /// Versions pinned by a lock file.
    pub locked: Vec<LibraryUse>,
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::io("read", path, e))
}

/// A JSON file, with `file:line:col` in the error.
fn read_json(path: &Path) -> Result<serde_json::Value> {
    serde_json::from_str(&read(path)?).map_err(|e| {
        Error::new(format!(
            "{}:{}:{}: not valid JSON: {e}",
            path.display(),
            e.line(),
            e.column()
        ))
    })
}

/// The first file named `name` in `dir` or a folder above it.
fn find_up(dir: &Path, name: &str) -> Option<PathBuf> {
    dir.ancestors().map(|d| d.join(name)).find(|p| p.is_file())
}

fn range(ecosystem: &str, file: &Path, package: &str, text: &str) -> Result<String> {
    ranges::parse_range_in(ecosystem, text)
        .map(|r| r.to_string())
        .map_err(|e| {
            Error::new(format!("{}: dependency {package}: {e}", file.display()))
                .hint("use a semver requirement (>=4.1, <5) or a NuGet interval ([4.1,5.0))")
        })
}

/// Reads the project in `dir`: one `.csproj`, else `Cargo.toml`, else `package.json`.
pub fn read_project(dir: &Path) -> Result<ProjectInfo> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io("read", dir, e))?;
    let mut csproj: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "csproj"))
        .collect();
    csproj.sort();
    match csproj.len() {
        1 => return read_csproj(&csproj[0]),
        0 => {}
        _ => {
            return Err(Error::usage(format!(
                "{} holds {} .csproj files",
                dir.display(),
                csproj.len()
            ))
            .hint("pass --path with the folder of one project"));
        }
    }
    if dir.join("Cargo.toml").is_file() {
        return read_cargo(&dir.join("Cargo.toml"));
    }
    if dir.join("package.json").is_file() {
        return read_package_json(&dir.join("package.json"));
    }
    Err(Error::new(format!(
        "{} has no .csproj, Cargo.toml or package.json",
        dir.display()
    ))
    .hint("pass --path with a project folder, or give dependencies with --dep NAME@RANGE"))
}

fn xml<'a>(path: &Path, text: &'a str) -> Result<roxmltree::Document<'a>> {
    roxmltree::Document::parse(text).map_err(|e| {
        let pos = e.pos();
        Error::new(format!(
            "{}:{}:{}: not valid XML: {e}",
            path.display(),
            pos.row,
            pos.col
        ))
        .hint("fix the project file; `dotnet build` reports the same problem")
    })
}

/// Reads a `.csproj`.
pub fn read_csproj(path: &Path) -> Result<ProjectInfo> {
    let text = read(path)?;
    let doc = xml(path, &text)?;
    let mut info = ProjectInfo {
        manifest: file_name(path),
        ecosystem: "nuget".into(),
        ..ProjectInfo::default()
    };
    let mut central: Option<BTreeMap<String, String>> = None;
    for node in doc.descendants().filter(|n| n.is_element()) {
        match node.tag_name().name() {
            "TargetFramework" => info
                .target_frameworks
                .extend(node.text().map(|t| t.trim().to_string())),
            "TargetFrameworks" => info.target_frameworks.extend(
                node.text()
                    .unwrap_or_default()
                    .split(';')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_string),
            ),
            "PackageReference" => {
                let Some(package) = node.attribute("Include") else {
                    continue;
                };
                let version = node
                    .attribute("VersionOverride")
                    .or_else(|| node.attribute("Version"))
                    .map(str::to_string)
                    .or_else(|| {
                        node.children()
                            .find(|c| c.has_tag_name("Version"))
                            .and_then(|c| c.text())
                            .map(|t| t.trim().to_string())
                    });
                let version = match version {
                    Some(v) => v,
                    None => {
                        let versions = match &central {
                            Some(v) => v,
                            None => central.insert(central_versions(path)?),
                        };
                        versions.get(&package.to_ascii_lowercase()).cloned().ok_or_else(|| {
                            Error::new(format!(
                                "{}: PackageReference {package} has no version and no Directory.Packages.props names it",
                                path.display()
                            ))
                            .hint("add Version=\"…\" or a PackageVersion to Directory.Packages.props")
                        })?
                    }
                };
                info.dependencies.push(DependencyRange {
                    package_name: package.to_string(),
                    range: range("nuget", path, package, &version)?,
                });
            }
            _ => {}
        }
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let lock = dir.join("packages.lock.json");
    if lock.is_file() {
        let value = read_json(&lock)?;
        if let Some(frameworks) = value["dependencies"].as_object()
            && let Some(packages) = frameworks.values().next().and_then(|f| f.as_object())
        {
            for (name, entry) in packages {
                if let Some(resolved) = entry["resolved"].as_str() {
                    info.locked.push(LibraryUse {
                        package_name: name.clone(),
                        version: ranges::normalise(resolved)
                            .unwrap_or_else(|| resolved.to_string()),
                    });
                }
            }
        }
    }
    Ok(info)
}

/// `Directory.Packages.props` above a project: package (lower case) → version.
fn central_versions(project: &Path) -> Result<BTreeMap<String, String>> {
    let dir = project.parent().unwrap_or(Path::new("."));
    let Some(props) = find_up(dir, "Directory.Packages.props") else {
        return Ok(BTreeMap::new());
    };
    let text = read(&props)?;
    let doc = xml(&props, &text)?;
    Ok(doc
        .descendants()
        .filter(|n| n.has_tag_name("PackageVersion"))
        .filter_map(|n| {
            Some((
                n.attribute("Include")?.to_ascii_lowercase(),
                n.attribute("Version")?.to_string(),
            ))
        })
        .collect())
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn toml_table(path: &Path) -> Result<toml::Table> {
    let text = read(path)?;
    text.parse::<toml::Table>().map_err(|e| {
        let (line, col) = e
            .span()
            .map(|s| {
                let before = &text[..s.start.min(text.len())];
                (
                    before.matches('\n').count() + 1,
                    before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1,
                )
            })
            .unwrap_or((0, 0));
        Error::new(format!(
            "{}:{line}:{col}: not valid TOML: {}",
            path.display(),
            e.message()
        ))
    })
}

/// Reads a `Cargo.toml`, resolving `workspace = true` from the workspace root above it.
pub fn read_cargo(path: &Path) -> Result<ProjectInfo> {
    let table = toml_table(path)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let workspace = dir
        .parent()
        .and_then(|p| find_up(p, "Cargo.toml"))
        .map(|root| toml_table(&root).map(|t| (root, t)))
        .transpose()?;
    let workspace_dep = |name: &str| -> Option<toml::Value> {
        workspace
            .as_ref()
            .and_then(|(_, t)| t.get("workspace")?.get("dependencies")?.get(name).cloned())
    };
    let mut info = ProjectInfo {
        manifest: file_name(path),
        ecosystem: "cargo".into(),
        ..ProjectInfo::default()
    };
    if let Some(package) = table.get("package") {
        let inherited = |key: &str| {
            workspace.as_ref().and_then(|(_, t)| {
                t.get("workspace")?
                    .get("package")?
                    .get(key)?
                    .as_str()
                    .map(str::to_string)
            })
        };
        let field = |key: &str| match package.get(key) {
            Some(toml::Value::String(s)) => Some(s.clone()),
            Some(toml::Value::Table(t))
                if t.get("workspace").and_then(|w| w.as_bool()) == Some(true) =>
            {
                inherited(key)
            }
            _ => None,
        };
        if let Some(rust) = field("rust-version") {
            info.target_frameworks.push(format!("rust{rust}"));
        } else if let Some(edition) = field("edition") {
            info.target_frameworks.push(format!("edition{edition}"));
        }
    }
    let mut names = Vec::new();
    if let Some(deps) = table.get("dependencies").and_then(|d| d.as_table()) {
        for (name, spec) in deps {
            let mut spec = spec.clone();
            if spec.get("workspace").and_then(|w| w.as_bool()) == Some(true) {
                spec = workspace_dep(name).ok_or_else(|| {
                    Error::new(format!(
                        "{}: {name} says workspace = true but the workspace has no such dependency",
                        path.display()
                    ))
                })?;
            }
            let (package, version) = match &spec {
                toml::Value::String(v) => (name.clone(), v.clone()),
                toml::Value::Table(t) => (
                    t.get("package")
                        .and_then(|p| p.as_str())
                        .unwrap_or(name)
                        .to_string(),
                    t.get("version")
                        .and_then(|v| v.as_str())
                        .unwrap_or("*")
                        .to_string(),
                ),
                _ => {
                    return Err(Error::new(format!(
                        "{}: dependency {name} is neither a version nor a table",
                        path.display()
                    )));
                }
            };
            info.dependencies.push(DependencyRange {
                range: range("cargo", path, &package, &version)?,
                package_name: package.clone(),
            });
            names.push(package);
        }
    }
    let lock = dir
        .join("Cargo.lock")
        .is_file()
        .then(|| dir.join("Cargo.lock"))
        .or_else(|| {
            workspace
                .as_ref()
                .map(|(root, _)| root.with_file_name("Cargo.lock"))
                .filter(|p| p.is_file())
        });
    if let Some(lock) = lock {
        let table = toml_table(&lock)?;
        for package in table
            .get("package")
            .and_then(|p| p.as_array())
            .into_iter()
            .flatten()
        {
            let (Some(name), Some(version)) = (
                package.get("name").and_then(|n| n.as_str()),
                package.get("version").and_then(|v| v.as_str()),
            ) else {
                continue;
            };
            if names.iter().any(|n| n == name) {
                info.locked.push(LibraryUse {
                    package_name: name.to_string(),
                    version: version.to_string(),
                });
            }
        }
    }
    Ok(info)
}

/// Reads a `package.json` (dependencies only: dev dependencies do not ship).
pub fn read_package_json(path: &Path) -> Result<ProjectInfo> {
    let value = read_json(path)?;
    let mut info = ProjectInfo {
        manifest: file_name(path),
        ecosystem: "npm".into(),
        ..ProjectInfo::default()
    };
    if let Some(node) = value["engines"]["node"].as_str() {
        info.target_frameworks
            .push(format!("node{}", node.replace(' ', "")));
    }
    let mut names = Vec::new();
    for (name, version) in value["dependencies"].as_object().into_iter().flatten() {
        let version = version.as_str().unwrap_or("*");
        info.dependencies.push(DependencyRange {
            package_name: name.clone(),
            range: range("npm", path, name, version)?,
        });
        names.push(name.clone());
    }
    let lock = path.with_file_name("package-lock.json");
    if lock.is_file() {
        let value = read_json(&lock)?;
        for name in &names {
            let version = value["packages"][format!("node_modules/{name}")]["version"]
                .as_str()
                .or_else(|| value["dependencies"][name]["version"].as_str());
            if let Some(version) = version {
                info.locked.push(LibraryUse {
                    package_name: name.clone(),
                    version: version.to_string(),
                });
            }
        }
    }
    Ok(info)
}
