//! Structure-aware 3-way merge of TOML, YAML and JSON files.
//!
//! Each side is parsed into a tree of maps, lists and scalars. The merge walks the three trees
//! and decides per key and per list entry: keys and entries added on different sides are all
//! kept, a value changed on one side only takes that change, and a value changed differently
//! on both sides (or removed on one and changed on the other) is a conflict on that key only.
//! The decisions are a list of edits to *your* file ([`Op`]), carried out on its text (YAML,
//! JSON: at the byte spans of the nodes they touch) or on its `toml_edit` document, so every
//! byte neither side touched is kept: comments, key order, quoting, indentation.
//!
//! The result is parsed again and compared with the tree the decisions describe; anything the
//! merge cannot carry out faithfully (an anchor, a reindented block, a file that does not
//! parse) makes it step aside (`None`) and the caller merges by lines as before.

mod json;
mod text;
mod toml;
mod yaml;

use std::collections::HashMap;
use std::ops::Range;

/// The files merged by structure, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// `*.toml`.
    Toml,
    /// `*.yaml`, `*.yml`.
    Yaml,
    /// `*.json`.
    Json,
}

impl Format {
    /// The format a path's extension names, if it is merged by structure.
    pub(crate) fn of(path: &str) -> Option<Format> {
        let name = path.rsplit('/').next().unwrap_or(path);
        let (_, ext) = name.rsplit_once('.')?;
        match ext.to_ascii_lowercase().as_str() {
            "toml" => Some(Format::Toml),
            "yaml" | "yml" => Some(Format::Yaml),
            "json" => Some(Format::Json),
            _ => None,
        }
    }

    /// Its name in messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Format::Toml => "TOML",
            Format::Yaml => "YAML",
            Format::Json => "JSON",
        }
    }

    /// Why `text` is not a valid document of this format (`None` when it is).
    pub(crate) fn problem(self, text: &str) -> Option<String> {
        match self {
            Format::Toml => text
                .parse::<toml_edit::DocumentMut>()
                .err()
                .map(|e| e.to_string().lines().next().unwrap_or_default().to_string()),
            Format::Json => serde_json::from_str::<serde_json::Value>(text)
                .err()
                .map(|e| e.to_string()),
            Format::Yaml => yaml::problem(text),
        }
    }
}

/// What the structured merge decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Merged without conflicts; the text parses.
    Clean(String),
    /// Conflicts on the keys named in `at` (dotted paths, `[i]` for list entries). The file is
    /// given resolved three ways: every conflict as the base had it, as you have it and as the
    /// template has it; all other changes are merged in each, so the three differ only where
    /// the conflicts are, and a line merge of them puts the markers around those lines only.
    Conflict {
        /// The conflicting keys.
        at: Vec<String>,
        /// Conflicts as the base had them.
        base: String,
        /// Conflicts as you have them.
        ours: String,
        /// Conflicts as the template has them.
        theirs: String,
    },
}

/// Larger files merge by lines: the structured merge compares subtrees, and bounding the input
/// bounds its time.
const MAX_BYTES: usize = 1 << 20;

/// Nesting deeper than this merges by lines (the parsers recurse).
pub(super) const MAX_DEPTH: usize = 128;

/// Merges `base` (absent when both sides added the file), `ours` and `theirs` by structure;
/// `None` when the structured merge cannot decide (a side does not parse, uses something the
/// merge does not edit, or the edited text would not read back as decided).
pub(crate) fn merge(
    format: Format,
    base: Option<&str>,
    ours: &str,
    theirs: &str,
) -> Option<Outcome> {
    let texts = [base.unwrap_or_default(), ours, theirs];
    if texts.iter().any(|t| t.len() > MAX_BYTES) {
        return None;
    }
    // Line ends that differ between the sides would mix in the edited text.
    let crlf = |t: &str| t.contains("\r\n");
    if texts.iter().any(|t| !t.is_empty() && crlf(t) != crlf(ours)) {
        return None;
    }
    match format {
        Format::Toml => toml::merge(base, ours, theirs),
        Format::Yaml => text::merge(&yaml::Yaml, base, ours, theirs),
        Format::Json => text::merge(&json::Json, base, ours, theirs),
    }
}

/// A parsed document node, with what its format needs to edit it (`A`).
#[derive(Debug, Clone)]
pub(super) struct Node<A> {
    /// The data.
    pub(super) kind: Kind<A>,
    /// Where it is written (for text formats: byte spans).
    pub(super) at: A,
}

/// A node's data.
#[derive(Debug, Clone)]
pub(super) enum Kind<A> {
    /// Keys in written order.
    Map(Vec<(String, Node<A>)>),
    /// Entries in order.
    Seq(Vec<Node<A>>),
    /// A scalar, as a canonical string that names its type (`s:text`, `i:1`, …).
    Leaf(String),
}

impl<A> Node<A> {
    /// The children (map values or list entries), in order.
    pub(super) fn children(&self) -> Vec<&Node<A>> {
        match &self.kind {
            Kind::Map(entries) => entries.iter().map(|(_, n)| n).collect(),
            Kind::Seq(items) => items.iter().collect(),
            Kind::Leaf(_) => Vec::new(),
        }
    }

    /// The node at `path` (child indices from here).
    pub(super) fn at_path(&self, path: &[usize]) -> Option<&Node<A>> {
        let mut node = self;
        for &i in path {
            node = *node.children().get(i)?;
        }
        Some(node)
    }

    /// The key of the child at `i`, for a map.
    pub(super) fn key(&self, i: usize) -> Option<&str> {
        match &self.kind {
            Kind::Map(entries) => entries.get(i).map(|(k, _)| k.as_str()),
            _ => None,
        }
    }

    /// The data alone.
    pub(super) fn data(&self) -> Node<()> {
        let kind = match &self.kind {
            Kind::Map(entries) => {
                Kind::Map(entries.iter().map(|(k, n)| (k.clone(), n.data())).collect())
            }
            Kind::Seq(items) => Kind::Seq(items.iter().map(Node::data).collect()),
            Kind::Leaf(s) => Kind::Leaf(s.clone()),
        };
        Node { kind, at: () }
    }

    /// A map's keys and their indices (empty for anything else).
    fn index(&self) -> HashMap<&str, usize> {
        match &self.kind {
            Kind::Map(entries) => entries
                .iter()
                .enumerate()
                .map(|(i, (k, _))| (k.as_str(), i))
                .collect(),
            _ => HashMap::new(),
        }
    }

    fn canonical(&self, out: &mut String) {
        match &self.kind {
            Kind::Leaf(s) => {
                out.push_str(&format!("L{}:", s.len()));
                out.push_str(s);
            }
            Kind::Seq(items) => {
                out.push('[');
                for item in items {
                    item.canonical(out);
                    out.push(',');
                }
                out.push(']');
            }
            Kind::Map(entries) => {
                let mut sorted: Vec<&(String, Node<A>)> = entries.iter().collect();
                sorted.sort_by(|a, b| a.0.cmp(&b.0));
                out.push('{');
                for (k, n) in sorted {
                    out.push_str(&format!("K{}:{k}", k.len()));
                    n.canonical(out);
                    out.push(',');
                }
                out.push('}');
            }
        }
    }
}

/// Whether two nodes hold the same data (key order does not matter: no format gives it a
/// meaning).
pub(super) fn same<A, B>(a: &Node<A>, b: &Node<B>) -> bool {
    match (&a.kind, &b.kind) {
        (Kind::Leaf(x), Kind::Leaf(y)) => x == y,
        (Kind::Seq(x), Kind::Seq(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Kind::Map(x), Kind::Map(y)) => {
            let index: HashMap<&str, &Node<B>> = y.iter().map(|(k, w)| (k.as_str(), w)).collect();
            // Equal sizes and every key found: the same keys, as keys are distinct.
            x.len() == y.len()
                && index.len() == y.len()
                && x.iter()
                    .all(|(k, v)| index.get(k.as_str()).is_some_and(|w| same(v, w)))
        }
        _ => false,
    }
}

/// Whether every map in the tree has distinct keys (a document with a repeated key is left
/// to the line merge).
pub(super) fn distinct_keys<A>(node: &Node<A>) -> bool {
    match &node.kind {
        Kind::Map(entries) => {
            let mut keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
            keys.sort_unstable();
            keys.windows(2).all(|w| w[0] != w[1]) && entries.iter().all(|(_, n)| distinct_keys(n))
        }
        Kind::Seq(items) => items.iter().all(distinct_keys),
        Kind::Leaf(_) => true,
    }
}

/// Where a copied node comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    /// The base (a conflict resolved as the base had it).
    Base,
    /// The template's new version.
    Theirs,
}

/// Child indices from the root.
pub(super) type Path = Vec<usize>;

/// One child of a container after an edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Child {
    /// Your child at this index, kept.
    Keep(usize),
    /// A child copied from another side (its path there).
    Copy(Side, Path),
}

/// An edit to your document. Ops come children first: a container's own [`Op::Children`]
/// follows every op inside it, so paths (your indices) stay valid while they are applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Op {
    /// Your node at `at` becomes the node at `from`.
    Replace {
        /// Your node.
        at: Path,
        /// The node it becomes.
        from: (Side, Path),
    },
    /// Your container at `at` gets these children, in this order (added and removed ones).
    Children {
        /// Your container.
        at: Path,
        /// Its children after the edit; kept indices increase.
        list: Vec<Child>,
    },
}

/// How the conflicts are resolved in one run of the merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Resolve {
    /// As the base had it.
    Base,
    /// As you have it.
    Ours,
    /// As the template has it.
    Theirs,
}

/// The three parsed sides.
pub(super) struct Sides<'a, A> {
    /// The base; `None` when the file is new on both sides.
    pub(super) base: Option<&'a Node<A>>,
    /// Yours.
    pub(super) ours: &'a Node<A>,
    /// The template's.
    pub(super) theirs: &'a Node<A>,
}

impl<'a, A> Sides<'a, A> {
    /// The node at `path` on `side`.
    pub(super) fn source(&self, side: Side, path: &[usize]) -> Option<&'a Node<A>> {
        match side {
            Side::Base => self.base?.at_path(path),
            Side::Theirs => self.theirs.at_path(path),
        }
    }
}

/// The decisions of one run: the edits and the conflicting keys.
pub(super) struct Decided {
    /// The edits to your document.
    pub(super) ops: Vec<Op>,
    /// The keys in conflict (dotted paths).
    pub(super) conflicts: Vec<String>,
}

/// Decides the merge, with conflicts resolved as `resolve` says; `None` when a list's diff
/// does not line up (the merge then steps aside rather than guess).
pub(super) fn decide<A>(sides: &Sides<'_, A>, resolve: Resolve) -> Option<Decided> {
    let mut merger = Merger {
        resolve,
        ops: Vec::new(),
        conflicts: Vec::new(),
        broken: false,
    };
    let at = |node, path: Path| At { node, path };
    merger.node(
        "",
        sides.base.map(|b| at(b, Vec::new())),
        at(sides.ours, Vec::new()),
        at(sides.theirs, Vec::new()),
    );
    (!merger.broken).then_some(Decided {
        ops: merger.ops,
        conflicts: merger.conflicts,
    })
}

/// A node and its path.
struct At<'a, A> {
    node: &'a Node<A>,
    path: Path,
}

impl<'a, A> At<'a, A> {
    fn child(&self, i: usize) -> At<'a, A> {
        let mut path = self.path.clone();
        path.push(i);
        At {
            node: self.node.children()[i],
            path,
        }
    }
}

struct Merger {
    resolve: Resolve,
    ops: Vec<Op>,
    conflicts: Vec<String>,
    broken: bool,
}

fn join(name: &str, key: &str) -> String {
    if name.is_empty() {
        key.to_string()
    } else {
        format!("{name}.{key}")
    }
}

impl Merger {
    /// Merges one node present on your side and the template's; `false` when it is to be
    /// dropped (a conflict resolved as the base, which did not have it).
    fn node<A>(&mut self, name: &str, b: Option<At<A>>, o: At<A>, t: At<A>) -> bool {
        if same(o.node, t.node) || b.as_ref().is_some_and(|b| same(b.node, t.node)) {
            return true;
        }
        let base_kind_fits =
            |want: fn(&Kind<A>) -> bool| b.as_ref().is_none_or(|b| want(&b.node.kind));
        match (&o.node.kind, &t.node.kind) {
            (Kind::Map(_), Kind::Map(_)) if base_kind_fits(|k| matches!(k, Kind::Map(_))) => {
                self.map(name, b, o, t);
                return true;
            }
            (Kind::Seq(_), Kind::Seq(_)) if base_kind_fits(|k| matches!(k, Kind::Seq(_))) => {
                self.seq(name, b, o, t);
                return true;
            }
            _ => {}
        }
        if b.as_ref().is_some_and(|b| same(b.node, o.node)) {
            self.ops.push(Op::Replace {
                at: o.path,
                from: (Side::Theirs, t.path),
            });
            return true;
        }
        self.conflicts.push(name.to_string());
        match self.resolve {
            Resolve::Ours => true,
            Resolve::Theirs => {
                self.ops.push(Op::Replace {
                    at: o.path,
                    from: (Side::Theirs, t.path),
                });
                true
            }
            Resolve::Base => match b {
                Some(b) => {
                    self.ops.push(Op::Replace {
                        at: o.path,
                        from: (Side::Base, b.path),
                    });
                    true
                }
                None => false,
            },
        }
    }

    fn map<A>(&mut self, name: &str, b: Option<At<A>>, o: At<A>, t: At<A>) {
        let (Kind::Map(ours), Kind::Map(theirs)) = (&o.node.kind, &t.node.kind) else {
            return;
        };
        let (base_index, ours_index, theirs_index) = (
            b.as_ref().map(|b| b.node.index()).unwrap_or_default(),
            o.node.index(),
            t.node.index(),
        );
        let base_map = match b.as_ref().map(|b| &b.node.kind) {
            Some(Kind::Map(entries)) => entries.as_slice(),
            _ => &[],
        };
        let base_get = |key: &str| base_index.get(key).map(|&i| (i, &base_map[i].1));
        let mut keep = vec![true; ours.len()];
        for (i, (key, on)) in ours.iter().enumerate() {
            let here = join(name, key);
            match (base_get(key), theirs_index.get(key.as_str())) {
                (bk, Some(&ti)) => {
                    let bk = bk.map(|(bi, _)| b.as_ref().expect("found in the base").child(bi));
                    keep[i] = self.node(&here, bk, o.child(i), t.child(ti));
                }
                (Some((bi, bn)), None) => {
                    if same(bn, on) {
                        // The template removed it and you did not change it.
                        keep[i] = false;
                    } else {
                        self.conflicts.push(here);
                        match self.resolve {
                            Resolve::Ours => {}
                            Resolve::Theirs => keep[i] = false,
                            Resolve::Base => self.ops.push(Op::Replace {
                                at: o.child(i).path,
                                from: (Side::Base, b.as_ref().expect("found").child(bi).path),
                            }),
                        }
                    }
                }
                // Yours alone.
                (None, None) => {}
            }
        }
        // Keys only the template has: added after the key that precedes them there.
        let mut inserts: Vec<(Option<usize>, Child)> = Vec::new();
        let mut anchor = None;
        for (ti, (key, tn)) in theirs.iter().enumerate() {
            if let Some(&oi) = ours_index.get(key.as_str()) {
                anchor = Some(oi);
                continue;
            }
            match base_get(key) {
                None => inserts.push((anchor, Child::Copy(Side::Theirs, t.child(ti).path))),
                // You removed it; the template left it alone.
                Some((_, bn)) if same(bn, tn) => {}
                Some((bi, _)) => {
                    self.conflicts.push(join(name, key));
                    match self.resolve {
                        Resolve::Ours => {}
                        Resolve::Theirs => {
                            inserts.push((anchor, Child::Copy(Side::Theirs, t.child(ti).path)))
                        }
                        Resolve::Base => inserts.push((
                            anchor,
                            Child::Copy(Side::Base, b.as_ref().expect("found").child(bi).path),
                        )),
                    }
                }
            }
        }
        if inserts.is_empty() && keep.iter().all(|k| *k) {
            return;
        }
        // Keys you added right after the anchor stay next to it: yours, then the template's
        // (as for list entries).
        let yours_alone: Vec<bool> = ours
            .iter()
            .map(|(key, _)| base_get(key).is_none() && !theirs_index.contains_key(key.as_str()))
            .collect();
        let past_yours = |mut anchor: Option<usize>| {
            while let Some(next) = anchor.map_or(Some(0), |a| a.checked_add(1))
                && yours_alone.get(next) == Some(&true)
            {
                anchor = Some(next);
            }
            anchor
        };
        let inserts: Vec<(Option<usize>, Child)> = inserts
            .into_iter()
            .map(|(a, c)| (past_yours(a), c))
            .collect();
        let mut list = Vec::new();
        let take = |list: &mut Vec<Child>, at: Option<usize>| {
            list.extend(
                inserts
                    .iter()
                    .filter(|(a, _)| *a == at)
                    .map(|(_, c)| c.clone()),
            )
        };
        take(&mut list, None);
        for (i, kept) in keep.iter().enumerate() {
            if *kept {
                list.push(Child::Keep(i));
            }
            take(&mut list, Some(i));
        }
        self.ops.push(Op::Children { at: o.path, list });
    }

    fn seq<A>(&mut self, name: &str, b: Option<At<A>>, o: At<A>, t: At<A>) {
        let base_items = b.as_ref().map_or(Vec::new(), |b| b.node.children());
        let (ours, theirs) = (o.node.children(), t.node.children());
        // Entries compared by their data: ids shared by equal entries.
        let mut ids: HashMap<String, u32> = HashMap::new();
        let mut id_of = |n: &Node<A>| {
            let mut s = String::new();
            n.canonical(&mut s);
            let next = ids.len() as u32;
            *ids.entry(s).or_insert(next)
        };
        let bid: Vec<u32> = base_items.iter().map(|n| id_of(n)).collect();
        let oid: Vec<u32> = ours.iter().map(|n| id_of(n)).collect();
        let tid: Vec<u32> = theirs.iter().map(|n| id_of(n)).collect();
        let oh = hunks(&bid, &oid);
        let th = hunks(&bid, &tid);
        let mut list: Vec<Child> = Vec::new();
        let mut cursor = 0;
        let copy = |path: &Path, side: Side, i: usize| {
            let mut p = path.clone();
            p.push(i);
            Child::Copy(side, p)
        };
        for region in regions(&oh, &th) {
            let (Some(ours_range), Some(theirs_range)) = (
                side_range(&oh, &region, true),
                side_range(&th, &region, false),
            ) else {
                self.broken = true;
                return;
            };
            if ours_range.start < cursor
                || ours_range.end > ours.len()
                || theirs_range.end > theirs.len()
            {
                self.broken = true;
                return;
            }
            list.extend((cursor..ours_range.start).map(Child::Keep));
            cursor = ours_range.end;
            let (in_ours, in_theirs) = (
                oh.iter().any(|h| region.has(h, true)),
                th.iter().any(|h| region.has(h, false)),
            );
            let kept = |list: &mut Vec<Child>| list.extend(ours_range.clone().map(Child::Keep));
            if !in_theirs || (in_ours && oid[ours_range.clone()] == tid[theirs_range.clone()]) {
                kept(&mut list);
                continue;
            }
            let base_range = region.base.clone();
            if in_ours && base_range.is_empty() {
                // Entries added at the same place on both sides: yours, then the template's
                // that you do not have.
                kept(&mut list);
                for i in theirs_range.clone() {
                    if !oid[ours_range.clone()].contains(&tid[i]) {
                        list.push(copy(&t.path, Side::Theirs, i));
                    }
                }
                continue;
            }
            let pairwise = !base_range.is_empty()
                && base_range.len() == ours_range.len()
                && base_range.len() == theirs_range.len()
                && base_range
                    .clone()
                    .zip(ours_range.clone())
                    .zip(theirs_range.clone())
                    .all(|((bi, oi), ti)| {
                        let (bk, ok, tk) = (&base_items[bi].kind, &ours[oi].kind, &theirs[ti].kind);
                        matches!((bk, ok, tk), (Kind::Map(_), Kind::Map(_), Kind::Map(_)))
                            || matches!((bk, ok, tk), (Kind::Seq(_), Kind::Seq(_), Kind::Seq(_)))
                    });
            if pairwise {
                // The same entries changed (on one side or both): merged entry by entry, so
                // what neither side changed in them keeps its bytes.
                let b = b.as_ref().expect("a base range that is not empty");
                for ((bi, oi), ti) in base_range.zip(ours_range.clone()).zip(theirs_range) {
                    let here = format!("{name}[{oi}]");
                    if self.node(&here, Some(b.child(bi)), o.child(oi), t.child(ti)) {
                        list.push(Child::Keep(oi));
                    }
                }
                continue;
            }
            if !in_ours {
                list.extend(theirs_range.clone().map(|i| copy(&t.path, Side::Theirs, i)));
                continue;
            }
            self.conflicts.push(format!("{name}[{}]", ours_range.start));
            match self.resolve {
                Resolve::Ours => kept(&mut list),
                Resolve::Theirs => {
                    list.extend(theirs_range.map(|i| copy(&t.path, Side::Theirs, i)))
                }
                Resolve::Base => {
                    let bp = &b.as_ref().expect("a base range that is not empty").path;
                    list.extend(base_range.map(|i| copy(bp, Side::Base, i)))
                }
            }
        }
        list.extend((cursor..ours.len()).map(Child::Keep));
        let unchanged =
            list.len() == ours.len() && list.iter().enumerate().all(|(i, c)| *c == Child::Keep(i));
        if !unchanged {
            self.ops.push(Op::Children { at: o.path, list });
        }
    }
}

/// A change of one side against the base: `base` replaced by `side`.
#[derive(Debug, Clone)]
struct Hunk {
    base: Range<usize>,
    side: Range<usize>,
}

fn hunks(base: &[u32], side: &[u32]) -> Vec<Hunk> {
    use similar::DiffOp;
    // A deadline keeps a pathological list bounded in time; the diff is then coarser.
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(500);
    similar::capture_diff_slices_deadline(similar::Algorithm::Myers, base, side, Some(deadline))
        .into_iter()
        .filter_map(|op| match op {
            DiffOp::Equal { .. } => None,
            DiffOp::Delete {
                old_index,
                old_len,
                new_index,
            } => Some(Hunk {
                base: old_index..old_index + old_len,
                side: new_index..new_index,
            }),
            DiffOp::Insert {
                old_index,
                new_index,
                new_len,
            } => Some(Hunk {
                base: old_index..old_index,
                side: new_index..new_index + new_len,
            }),
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => Some(Hunk {
                base: old_index..old_index + old_len,
                side: new_index..new_index + new_len,
            }),
        })
        .collect()
}

/// A stretch of the base changed by one side or both.
struct Region {
    base: Range<usize>,
    /// (is yours, hunk base range) of the hunks in it.
    members: Vec<(bool, Range<usize>)>,
}

impl Region {
    fn has(&self, h: &Hunk, ours: bool) -> bool {
        self.members.iter().any(|(o, r)| *o == ours && *r == h.base)
    }
}

/// Groups the hunks of both sides into regions: hunks that touch the same base entries, or
/// insert at the same place, are one region. An insertion next to a changed entry is not an
/// overlap (entries are whole).
fn regions(ours: &[Hunk], theirs: &[Hunk]) -> Vec<Region> {
    let mut all: Vec<(bool, Range<usize>)> = ours
        .iter()
        .map(|h| (true, h.base.clone()))
        .chain(theirs.iter().map(|h| (false, h.base.clone())))
        .collect();
    all.sort_by_key(|(_, r)| (r.start, r.end));
    let mut out: Vec<Region> = Vec::new();
    for (side, r) in all {
        if let Some(last) = out.last_mut() {
            let l = &last.base;
            let overlaps = if r.is_empty() {
                (l.is_empty() && r.start == l.start) || (l.start < r.start && r.start < l.end)
            } else {
                !l.is_empty() && r.start < l.end
            };
            if overlaps {
                last.base = l.start.min(r.start)..l.end.max(r.end);
                last.members.push((side, r));
                continue;
            }
        }
        out.push(Region {
            base: r.clone(),
            members: vec![(side, r)],
        });
    }
    out
}

/// The entries of one side that a region covers.
fn side_range(hunks: &[Hunk], region: &Region, ours: bool) -> Option<Range<usize>> {
    let inside: Vec<&Hunk> = hunks.iter().filter(|h| region.has(h, ours)).collect();
    match (inside.first(), inside.last()) {
        (Some(first), Some(last)) => {
            let before = first.base.start.checked_sub(region.base.start)?;
            let after = region.base.end.checked_sub(last.base.end)?;
            Some(first.side.start.checked_sub(before)?..last.side.end + after)
        }
        _ => {
            let shift: isize = hunks
                .iter()
                .filter(|h| h.base.end <= region.base.start)
                .map(|h| h.side.len() as isize - h.base.len() as isize)
                .sum();
            let start = usize::try_from(region.base.start as isize + shift).ok()?;
            Some(start..start + region.base.len())
        }
    }
}

/// Applies `ops` to the data of your tree: the tree the edited text must read back as.
pub(super) fn expected<A>(sides: &Sides<'_, A>, ops: &[Op]) -> Option<Node<()>> {
    let mut tree = sides.ours.data();
    for op in ops {
        match op {
            Op::Replace { at, from } => {
                let source = sides.source(from.0, &from.1)?.data();
                *node_mut(&mut tree, at)? = source;
            }
            Op::Children { at, list } => {
                let node = node_mut(&mut tree, at)?;
                let mut new_map = Vec::new();
                let mut new_seq = Vec::new();
                for child in list {
                    match (&node.kind, child) {
                        (Kind::Map(entries), Child::Keep(i)) => {
                            new_map.push(entries.get(*i)?.clone())
                        }
                        (Kind::Seq(items), Child::Keep(i)) => new_seq.push(items.get(*i)?.clone()),
                        (Kind::Map(_), Child::Copy(side, path)) => {
                            let (last, parent) = path.split_last()?;
                            let parent = sides.source(*side, parent)?;
                            new_map.push((
                                parent.key(*last)?.to_string(),
                                parent.children().get(*last)?.data(),
                            ));
                        }
                        (Kind::Seq(_), Child::Copy(side, path)) => {
                            new_seq.push(sides.source(*side, path)?.data())
                        }
                        (Kind::Leaf(_), _) => return None,
                    }
                }
                node.kind = match node.kind {
                    Kind::Map(_) => Kind::Map(new_map),
                    _ => Kind::Seq(new_seq),
                };
            }
        }
    }
    Some(tree)
}

fn node_mut<'a>(tree: &'a mut Node<()>, path: &[usize]) -> Option<&'a mut Node<()>> {
    let mut node = tree;
    for &i in path {
        node = match &mut node.kind {
            Kind::Map(entries) => &mut entries.get_mut(i)?.1,
            Kind::Seq(items) => items.get_mut(i)?,
            Kind::Leaf(_) => return None,
        };
    }
    Some(node)
}

/// Runs the merge for a format: `apply` carries a run's ops out on your document and returns
/// the text, `parse` reads a text back. Each resolution's text must read back as its decisions
/// describe, or the merge steps aside.
pub(super) fn run<A>(
    sides: &Sides<'_, A>,
    apply: impl Fn(&[Op]) -> Option<String>,
    parse: impl Fn(&str) -> Option<Node<A>>,
) -> Option<Outcome> {
    let resolved = |resolve| -> Option<(String, Vec<String>)> {
        let decided = decide(sides, resolve)?;
        let want = expected(sides, &decided.ops)?;
        let text = apply(&decided.ops)?;
        let got = parse(&text)?;
        (distinct_keys(&got) && same(&got, &want)).then_some((text, decided.conflicts))
    };
    let (ours, conflicts) = resolved(Resolve::Ours)?;
    if conflicts.is_empty() {
        return Some(Outcome::Clean(ours));
    }
    let (theirs, _) = resolved(Resolve::Theirs)?;
    let (base, _) = resolved(Resolve::Base)?;
    Some(Outcome::Conflict {
        at: conflicts,
        base,
        ours,
        theirs,
    })
}

#[cfg(test)]
mod tests;
