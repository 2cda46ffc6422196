//! Dependency graphs: direct dependencies of a library version, transitive ones through the
//! library versions registered in the store, lock-file pins, cycles, conflicts (requirements
//! no single version satisfies, each explained) and advisories.

use std::collections::{BTreeMap, HashMap, VecDeque};

use semver::{Version, VersionReq};
use serde::Serialize;

use super::advisories::{Advisory, AdvisoryMatch};
use super::resolve::{requirement, settle};
use crate::domain::events::DependencyRange;
use crate::domain::state::{Library, LibraryVersion, State};
use crate::error::Result;

/// A package at a version (or, for one the store does not know and no lock pins, a range).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Node {
    /// The package.
    pub package_name: String,
    /// The resolved version, when known.
    pub version: Option<String>,
    /// The range asked for, when no version is known.
    pub range: Option<String>,
    /// Whether the store has the library.
    pub registered: bool,
    /// Whether a lock file chose the version.
    pub pinned: bool,
}

impl Node {
    /// `Package@1.2.3` or `Package (>=1)`.
    pub fn label(&self) -> String {
        match (&self.version, &self.range) {
            (Some(v), _) => format!("{}@{v}", self.package_name),
            (None, Some(r)) => format!("{} ({r})", self.package_name),
            (None, None) => self.package_name.clone(),
        }
    }
}

/// A dependency edge with the range that asked for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edge {
    /// Index of the requirer.
    pub from: usize,
    /// Index of the dependency.
    pub to: usize,
    /// The range.
    pub range: String,
}

/// One requirer's range on a package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Requirement {
    /// `Package@version` of the requirer.
    pub by: String,
    /// The range it asks for.
    pub range: String,
}

/// Requirements on one package that no single version satisfies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Conflict {
    /// The package.
    pub package_name: String,
    /// Who asks for what.
    pub requirements: Vec<Requirement>,
    /// A sentence a person can follow.
    pub explanation: String,
}

/// A resolved graph and what was found in it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Graph {
    /// Nodes; the first is the root.
    pub nodes: Vec<Node>,
    /// Edges.
    pub edges: Vec<Edge>,
    /// Conflicts.
    pub conflicts: Vec<Conflict>,
    /// Cycles, each as labels from a node back to itself.
    pub cycles: Vec<Vec<String>>,
    /// Matching advisories.
    pub advisories: Vec<AdvisoryMatch>,
    /// Advisories whose affected versions overlap a dependency's range when the ecosystem
    /// does not determine the version from the range (and no lock file does).
    pub possibly_affected: Vec<AdvisoryMatch>,
}

struct Known<'s> {
    library: &'s Library,
    /// Versions, highest first.
    versions: Vec<(Version, &'s LibraryVersion)>,
}

/// Resolves the graph of `root` at `version` over the libraries in `state`.
pub fn resolve(
    state: &State,
    root: &Library,
    version: &LibraryVersion,
    advisories: &[Advisory],
) -> Result<Graph> {
    let mut known: HashMap<String, Known> = HashMap::with_capacity(state.libraries.len());
    for library in state.libraries.values() {
        let mut versions: Vec<(Version, &LibraryVersion)> = library
            .versions
            .iter()
            .filter_map(|v| Some((Version::parse(&v.version).ok()?, v)))
            .collect();
        versions.sort_by(|a, b| b.0.cmp(&a.0));
        known.insert(
            library.package_name.to_ascii_lowercase(),
            Known { library, versions },
        );
    }
    let pins: HashMap<String, &str> = version
        .locked
        .iter()
        .map(|l| (l.package_name.to_ascii_lowercase(), l.version.as_str()))
        .collect();
    // Choose, repeat with the choices, until they settle: a requirement added by a newly
    // chosen version can change what the other requirers must share.
    let mut graph = Graph::default();
    settle(|chosen: &HashMap<String, Version>| {
        let (next, requirements) = walk(root, version, &known, &pins, chosen, &mut graph)?;
        let mut settled: HashMap<String, Version> = HashMap::new();
        graph.conflicts.clear();
        for (package, reqs) in &requirements {
            match known.get(package) {
                Some(k) => match k
                    .versions
                    .iter()
                    .find(|(v, _)| reqs.iter().all(|(_, _, r)| r.matches(v)))
                {
                    Some((v, _)) => {
                        settled.insert(package.clone(), v.clone());
                    }
                    None => graph
                        .conflicts
                        .push(conflict(&k.library.package_name, reqs, Some(k))),
                },
                None if reqs.len() > 1 => {
                    // Without the list of versions, try the versions the ranges themselves name.
                    let mut candidates: Vec<Version> = reqs
                        .iter()
                        .flat_map(|(_, _, r)| {
                            r.comparators.iter().map(|c| {
                                Version::new(c.major, c.minor.unwrap_or(0), c.patch.unwrap_or(0))
                            })
                        })
                        .collect();
                    candidates.extend(pins.get(package).and_then(|p| Version::parse(p).ok()));
                    if !candidates
                        .iter()
                        .any(|v| reqs.iter().all(|(_, _, r)| r.matches(v)))
                    {
                        graph.conflicts.push(conflict(
                            &next
                                .get(package)
                                .cloned()
                                .unwrap_or_else(|| package.clone()),
                            reqs,
                            None,
                        ));
                    }
                }
                None => {}
            }
        }
        Ok(settled)
    })?;
    graph.cycles = cycles(&graph);
    for node in &graph.nodes {
        let ecosystem = known
            .get(&node.package_name.to_ascii_lowercase())
            .map_or(root.ecosystem.as_str(), |k| k.library.ecosystem.as_str());
        let version = node.version.clone().or_else(|| {
            node.range
                .as_deref()
                .filter(|_| !node.registered)
                .and_then(|r| determined_version(ecosystem, r))
        });
        match (version, &node.range) {
            (Some(v), _) => {
                for advisory in advisories
                    .iter()
                    .filter(|a| a.affects(ecosystem, &node.package_name, &v))
                {
                    graph
                        .advisories
                        .push(advisory.report(&node.package_name, &v));
                }
            }
            (None, Some(range)) => {
                let Ok(req) = semver::VersionReq::parse(range) else {
                    continue;
                };
                for advisory in advisories
                    .iter()
                    .filter(|a| a.may_affect(ecosystem, &node.package_name, &req))
                {
                    graph
                        .possibly_affected
                        .push(advisory.report(&node.package_name, range));
                }
            }
            (None, None) => {}
        }
    }
    Ok(graph)
}

/// The version a package manager takes for `range` when the range alone decides it: NuGet
/// takes the lowest applicable version, the range's inclusive lower bound (`[8.0.3, )`, a bare
/// `8.0.3`). Cargo and npm take the newest the registry has, which the range does not say.
fn determined_version(ecosystem: &str, range: &str) -> Option<String> {
    if ecosystem != "nuget" {
        return None;
    }
    let req = semver::VersionReq::parse(range).ok()?;
    req.comparators
        .iter()
        .find(|c| matches!(c.op, semver::Op::GreaterEq | semver::Op::Exact))
        .map(|c| {
            format!(
                "{}.{}.{}",
                c.major,
                c.minor.unwrap_or(0),
                c.patch.unwrap_or(0)
            )
        })
}

type Requirements = BTreeMap<String, Vec<(String, String, VersionReq)>>;

/// One breadth-first walk from the root with the current choices; returns the display names
/// of packages and every requirement seen.
fn walk(
    root: &Library,
    version: &LibraryVersion,
    known: &HashMap<String, Known>,
    pins: &HashMap<String, &str>,
    chosen: &HashMap<String, Version>,
    graph: &mut Graph,
) -> Result<(HashMap<String, String>, Requirements)> {
    graph.nodes.clear();
    graph.edges.clear();
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    let mut names: HashMap<String, String> = HashMap::new();
    let mut requirements: Requirements = BTreeMap::new();
    graph.nodes.push(Node {
        package_name: root.package_name.clone(),
        version: Some(version.version.clone()),
        range: None,
        registered: true,
        pinned: false,
    });
    index.insert(
        (
            root.package_name.to_ascii_lowercase(),
            version.version.clone(),
        ),
        0,
    );
    let mut queue: VecDeque<(usize, &[DependencyRange])> =
        VecDeque::from([(0, version.dependencies.as_slice())]);
    while let Some((from, dependencies)) = queue.pop_front() {
        let requirer = graph.nodes[from].label();
        for dep in dependencies {
            let key = dep.package_name.to_ascii_lowercase();
            names
                .entry(key.clone())
                .or_insert_with(|| dep.package_name.clone());
            let req = requirement(&dep.range, &format!("{requirer} -> {}", dep.package_name))?;
            requirements.entry(key.clone()).or_default().push((
                requirer.clone(),
                dep.range.clone(),
                req.clone(),
            ));
            let pin = if from == 0 {
                pins.get(&key).copied()
            } else {
                None
            };
            let (node, next) = match known.get(&key) {
                Some(k) => {
                    let pick = pin
                        .and_then(|p| k.versions.iter().find(|(v, _)| v.to_string() == p))
                        .or_else(|| {
                            chosen
                                .get(&key)
                                .and_then(|c| k.versions.iter().find(|(v, _)| v == c))
                                .filter(|(v, _)| req.matches(v))
                        })
                        .or_else(|| k.versions.iter().find(|(v, _)| req.matches(v)));
                    match pick {
                        Some((v, lv)) => (
                            Node {
                                package_name: k.library.package_name.clone(),
                                version: Some(v.to_string()),
                                range: None,
                                registered: true,
                                pinned: pin.is_some(),
                            },
                            Some(lv.dependencies.as_slice()),
                        ),
                        None => (
                            Node {
                                package_name: k.library.package_name.clone(),
                                version: None,
                                range: Some(dep.range.clone()),
                                registered: true,
                                pinned: false,
                            },
                            None,
                        ),
                    }
                }
                None => (
                    Node {
                        package_name: dep.package_name.clone(),
                        version: pin.map(str::to_string),
                        range: pin.is_none().then(|| dep.range.clone()),
                        registered: false,
                        pinned: pin.is_some(),
                    },
                    None,
                ),
            };
            let node_key = (
                key,
                node.version
                    .clone()
                    .or(node.range.clone())
                    .unwrap_or_default(),
            );
            let to = match index.get(&node_key) {
                Some(&i) => i,
                None => {
                    graph.nodes.push(node);
                    let i = graph.nodes.len() - 1;
                    index.insert(node_key, i);
                    if let Some(deps) = next {
                        queue.push_back((i, deps));
                    }
                    i
                }
            };
            graph.edges.push(Edge {
                from,
                to,
                range: dep.range.clone(),
            });
        }
    }
    Ok((names, requirements))
}

fn conflict(
    package: &str,
    reqs: &[(String, String, VersionReq)],
    known: Option<&Known>,
) -> Conflict {
    let asked: Vec<String> = reqs
        .iter()
        .map(|(by, range, _)| format!("{by} requires {package} {range}"))
        .collect();
    let explanation = match known {
        Some(k) => {
            let registered: Vec<String> = k
                .versions
                .iter()
                .rev()
                .map(|(v, _)| v.to_string())
                .collect();
            let listed = if registered.is_empty() {
                "none".to_string()
            } else {
                registered.join(", ")
            };
            if reqs.len() == 1 {
                format!(
                    "{}, but no registered version satisfies it (registered: {listed})",
                    asked[0]
                )
            } else {
                format!(
                    "{}; no registered version of {package} satisfies all of them (registered: {listed})",
                    asked.join("; ")
                )
            }
        }
        None => format!("{}; no version can satisfy all of them", asked.join("; ")),
    };
    Conflict {
        package_name: package.to_string(),
        requirements: reqs
            .iter()
            .map(|(by, range, _)| Requirement {
                by: by.clone(),
                range: range.clone(),
            })
            .collect(),
        explanation,
    }
}

/// Cycles found by a depth-first walk (each reported once, from where it was entered).
fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    let mut adjacency: Vec<Vec<usize>> = vec![Vec::new(); graph.nodes.len()];
    for edge in &graph.edges {
        adjacency[edge.from].push(edge.to);
    }
    let mut state = vec![0u8; graph.nodes.len()]; // 0 new, 1 on the path, 2 done
    let mut found = Vec::new();
    for start in 0..graph.nodes.len() {
        if state[start] != 0 {
            continue;
        }
        let mut path: Vec<usize> = vec![start];
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        state[start] = 1;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&to) = adjacency[node].get(*next) {
                *next += 1;
                match state[to] {
                    0 => {
                        state[to] = 1;
                        path.push(to);
                        stack.push((to, 0));
                    }
                    1 => {
                        let at = path.iter().position(|&n| n == to).expect("on the path");
                        let mut cycle: Vec<String> =
                            path[at..].iter().map(|&n| graph.nodes[n].label()).collect();
                        cycle.push(graph.nodes[to].label());
                        found.push(cycle);
                    }
                    _ => {}
                }
            } else {
                state[node] = 2;
                path.pop();
                stack.pop();
            }
        }
    }
    found
}

/// The graph as an indented tree from the root; nodes seen before are marked, not repeated.
pub fn tree(graph: &Graph) -> String {
    let mut children: Vec<Vec<(usize, &str)>> = vec![Vec::new(); graph.nodes.len()];
    for edge in &graph.edges {
        children[edge.from].push((edge.to, edge.range.as_str()));
    }
    let mut out = String::new();
    let mut seen = vec![false; graph.nodes.len()];
    let mut stack: Vec<(usize, usize, Option<&str>)> = vec![(0, 0, None)];
    while let Some((node, depth, range)) = stack.pop() {
        let n = &graph.nodes[node];
        out.push_str(&"  ".repeat(depth));
        out.push_str(&n.label());
        if let Some(range) = range.filter(|_| n.version.is_some()) {
            out.push_str(&format!("  ({range})"));
        }
        if n.pinned {
            out.push_str("  [locked]");
        }
        if !n.registered {
            out.push_str("  [external]");
        }
        if seen[node] && !children[node].is_empty() {
            out.push_str("  (see above)\n");
            continue;
        }
        out.push('\n');
        seen[node] = true;
        for &(child, range) in children[node].iter().rev() {
            stack.push((child, depth + 1, Some(range)));
        }
    }
    out
}

/// The graph in Graphviz's dot language; conflicting packages in red.
pub fn dot(graph: &Graph) -> String {
    let quote = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let mut out = String::from("digraph dependencies {\n  rankdir=LR;\n  node [shape=box];\n");
    for (i, node) in graph.nodes.iter().enumerate() {
        let conflicted = graph
            .conflicts
            .iter()
            .any(|c| c.package_name.eq_ignore_ascii_case(&node.package_name));
        let style = if conflicted {
            ", color=red"
        } else if !node.registered {
            ", style=dashed"
        } else {
            ""
        };
        out.push_str(&format!(
            "  n{i} [label=\"{}\"{style}];\n",
            quote(&node.label())
        ));
    }
    for edge in &graph.edges {
        out.push_str(&format!(
            "  n{} -> n{} [label=\"{}\"];\n",
            edge.from,
            edge.to,
            quote(&edge.range)
        ));
    }
    out.push_str("}\n");
    out
}
