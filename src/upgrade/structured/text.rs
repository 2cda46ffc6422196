//! Carrying the merge's edits out on the text of a YAML or JSON file: each edit replaces,
//! removes or inserts the bytes of one node (an entry with its key, a list item with its
//! dash), so the rest of the file keeps its bytes.

use std::ops::Range;

use super::{Child, Kind, Node, Op, Outcome, Side, Sides, distinct_keys, run};

/// Where a node is written.
#[derive(Debug, Clone)]
pub(super) struct Span {
    /// The value's bytes (a block scalar's up to its last character that is not white space).
    pub(super) value: Range<usize>,
    /// The node as its parent's child: from its key (or its list dash) to the end of the value.
    pub(super) entry: Range<usize>,
    /// How it is written.
    pub(super) style: Style,
}

/// How a node is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Style {
    /// `{…}` / `[…]` with commas (all of JSON, YAML's flow style).
    Flow,
    /// YAML's block style: one child per line (or lines), indented.
    Block,
    /// A scalar on its line (plain or quoted).
    Inline,
    /// A YAML block scalar (`|`, `>`).
    BlockScalar,
}

/// A format whose files are edited as text.
pub(super) trait TextFormat {
    /// The tree of a document with the spans of its nodes; `None` when it does not parse or
    /// uses something the merge does not edit.
    fn parse(&self, text: &str) -> Option<Node<Span>>;

    /// Whether text copied into your file takes your file's indentation step (JSON: white
    /// space only; YAML's block scalars would change).
    fn scales_indentation(&self) -> bool;
}

/// The structured merge of a text format.
pub(super) fn merge(
    format: &dyn TextFormat,
    base: Option<&str>,
    ours: &str,
    theirs: &str,
) -> Option<Outcome> {
    let base_tree = match base {
        Some(text) => Some(format.parse(text)?),
        None => None,
    };
    let ours_tree = format.parse(ours)?;
    let theirs_tree = format.parse(theirs)?;
    let trees = [Some(&ours_tree), Some(&theirs_tree), base_tree.as_ref()];
    if !trees.into_iter().flatten().all(distinct_keys) {
        return None;
    }
    let sides = Sides {
        base: base_tree.as_ref(),
        ours: &ours_tree,
        theirs: &theirs_tree,
    };
    let base = base.unwrap_or_default();
    let unit = |text: &str| {
        format
            .scales_indentation()
            .then(|| indent_unit(text))
            .flatten()
    };
    let texts = Texts {
        base,
        ours,
        theirs,
        units: [unit(base), unit(ours), unit(theirs)],
    };
    run(
        &sides,
        |ops| apply(&sides, &texts, ops),
        |text| format.parse(text),
    )
}

struct Texts<'a> {
    base: &'a str,
    ours: &'a str,
    theirs: &'a str,
    /// The indentation steps of base, yours and theirs, where text copied from one side to
    /// yours is scaled to your step.
    units: [Option<usize>; 3],
}

impl Texts<'_> {
    fn of(&self, side: Side) -> &str {
        match side {
            Side::Base => self.base,
            Side::Theirs => self.theirs,
        }
    }

    /// The steps to scale text copied from `side` by: (its step, yours).
    fn scale(&self, side: Side) -> Option<(usize, usize)> {
        let from = match side {
            Side::Base => self.units[0],
            Side::Theirs => self.units[2],
        };
        Some((from?, self.units[1]?))
    }
}

/// A replacement of `range` of your text.
struct Edit {
    range: Range<usize>,
    text: String,
}

fn apply(sides: &Sides<'_, Span>, texts: &Texts<'_>, ops: &[Op]) -> Option<String> {
    let mut edits = Vec::new();
    for op in ops {
        match op {
            Op::Replace { at, from } => edits.push(replace(sides, texts, at, from)?),
            Op::Children { at, list } => edits.extend(children(sides, texts, at, list)?),
        }
    }
    // Stable: insertions at one place stay in the order the ops made them (a nested entry
    // before its parent's next sibling).
    edits.sort_by_key(|e| (e.range.start, e.range.end));
    let mut out = String::with_capacity(texts.ours.len());
    let mut cursor = 0;
    for edit in edits {
        if edit.range.start < cursor {
            return None;
        }
        out.push_str(&texts.ours[cursor..edit.range.start]);
        out.push_str(&edit.text);
        cursor = edit.range.end;
    }
    out.push_str(&texts.ours[cursor..]);
    Some(out)
}

fn parent_style(tree: &Node<Span>, path: &[usize]) -> Option<Style> {
    let (_, parent) = path.split_last()?;
    Some(tree.at_path(parent)?.at.style)
}

fn is_block(node: &Node<Span>) -> bool {
    matches!(node.at.style, Style::Block | Style::BlockScalar)
}

/// Your node at `at` becomes the node at `from`.
fn replace(
    sides: &Sides<'_, Span>,
    texts: &Texts<'_>,
    at: &[usize],
    from: &(Side, Vec<usize>),
) -> Option<Edit> {
    let ours = sides.ours.at_path(at)?;
    let source = sides.source(from.0, &from.1)?;
    let src = texts.of(from.0);
    let tree = match from.0 {
        Side::Base => sides.base?,
        Side::Theirs => sides.theirs,
    };
    let in_block = parent_style(sides.ours, at) == Some(Style::Block);
    if in_block && (is_block(ours) || is_block(source)) {
        // A block value is written on the lines below its key: the whole entry is replaced.
        if parent_style(tree, &from.1) != Some(Style::Block) {
            return None;
        }
        let text = reindent(
            &src[source.at.entry.clone()],
            column(src, source.at.entry.start),
            column(texts.ours, ours.at.entry.start),
            texts.scale(from.0),
        )?;
        return Some(Edit {
            range: ours.at.entry.clone(),
            text,
        });
    }
    if is_block(ours) != is_block(source) && !at.is_empty() {
        return None;
    }
    let mut text = reindent(
        &src[source.at.value.clone()],
        line_indent(src, source.at.value.start),
        line_indent(texts.ours, ours.at.value.start),
        texts.scale(from.0),
    )?;
    if ours.at.value.is_empty() {
        // An empty value (`key:`) gets a space before the one it becomes.
        text.insert(0, ' ');
    }
    Some(Edit {
        range: ours.at.value.clone(),
        text,
    })
}

/// Your container at `at` gets the children `list`.
fn children(
    sides: &Sides<'_, Span>,
    texts: &Texts<'_>,
    at: &[usize],
    list: &[Child],
) -> Option<Vec<Edit>> {
    let container = sides.ours.at_path(at)?;
    let items: Vec<&Node<Span>> = container.children();
    let kept: Vec<usize> = list
        .iter()
        .filter_map(|c| match c {
            Child::Keep(i) => Some(*i),
            Child::Copy(..) => None,
        })
        .collect();
    if kept.windows(2).any(|w| w[0] >= w[1]) || kept.iter().any(|i| *i >= items.len()) {
        return None;
    }
    // Children copied from another side, grouped by the kept child they follow.
    let mut groups: Vec<Group<'_>> = Vec::new();
    let mut anchor = None;
    for child in list {
        match child {
            Child::Keep(i) => anchor = Some(*i),
            Child::Copy(side, path) => match groups.last_mut() {
                Some((a, copies)) if *a == anchor => copies.push((*side, path)),
                _ => groups.push((anchor, vec![(*side, path)])),
            },
        }
    }
    // Runs of removed children.
    let mut runs: Vec<Range<usize>> = Vec::new();
    let mut i = 0;
    while i < items.len() {
        if kept.contains(&i) {
            i += 1;
            continue;
        }
        let start = i;
        while i < items.len() && !kept.contains(&i) {
            i += 1;
        }
        runs.push(start..i);
    }
    match container.at.style {
        Style::Flow => flow_children(sides, texts, container, &items, &runs, &groups),
        Style::Block => block_children(sides, texts, &items, &runs, &groups),
        Style::Inline | Style::BlockScalar => None,
    }
}

fn copied<'a>(
    sides: &Sides<'a, Span>,
    side: Side,
    path: &[usize],
) -> Option<(&'a Node<Span>, Style)> {
    let tree = match side {
        Side::Base => sides.base?,
        Side::Theirs => sides.theirs,
    };
    Some((tree.at_path(path)?, parent_style(tree, path)?))
}

/// Copied children after the kept child they follow (`None`: first), with their source paths.
type Group<'p> = (Option<usize>, Vec<(Side, &'p [usize])>);
type Groups<'p> = [Group<'p>];

fn flow_children(
    sides: &Sides<'_, Span>,
    texts: &Texts<'_>,
    container: &Node<Span>,
    items: &[&Node<Span>],
    runs: &[Range<usize>],
    groups: &Groups<'_>,
) -> Option<Vec<Edit>> {
    let text = texts.ours;
    let (first, second) = (items.first()?, items.get(1));
    // The white space your file puts after a comma.
    let sep = match second {
        Some(second) => {
            let between = &text[first.at.entry.end..second.at.entry.start];
            let comma = between.find(',')?;
            let after = &between[comma + 1..];
            (between[..comma].trim().is_empty() && after.trim().is_empty()).then_some(after)?
        }
        None => {
            let inside = &text[container.at.value.start + 1..first.at.entry.start];
            if !inside.trim().is_empty() {
                return None;
            }
            if inside.is_empty() { " " } else { inside }
        }
    };
    let mut edits = Vec::new();
    for run in runs {
        let range = if run.end < items.len() {
            items[run.start].at.entry.start..items[run.end].at.entry.start
        } else if run.start > 0 {
            items[run.start - 1].at.entry.end..items[run.end - 1].at.entry.end
        } else {
            if !groups.is_empty() {
                return None;
            }
            container.at.value.start + 1..container.at.value.end - 1
        };
        edits.push(Edit {
            range,
            text: String::new(),
        });
    }
    let indent = line_indent(text, first.at.entry.start);
    for (anchor, copies) in groups {
        let mut pieces = Vec::new();
        for (side, path) in copies {
            let (node, style) = copied(sides, *side, path)?;
            if style != Style::Flow {
                return None;
            }
            let src = texts.of(*side);
            pieces.push(reindent(
                &src[node.at.entry.clone()],
                line_indent(src, node.at.entry.start),
                indent,
                texts.scale(*side),
            )?);
        }
        let edit = match anchor {
            Some(a) => {
                let at = items[*a].at.entry.end;
                Edit {
                    range: at..at,
                    text: pieces.iter().map(|p| format!(",{sep}{p}")).collect(),
                }
            }
            None => {
                let at = first.at.entry.start;
                Edit {
                    range: at..at,
                    text: pieces.iter().map(|p| format!("{p},{sep}")).collect(),
                }
            }
        };
        edits.push(edit);
    }
    Some(edits)
}

fn block_children(
    sides: &Sides<'_, Span>,
    texts: &Texts<'_>,
    items: &[&Node<Span>],
    runs: &[Range<usize>],
    groups: &Groups<'_>,
) -> Option<Vec<Edit>> {
    let text = texts.ours;
    let first = items.first()?;
    let column_of_children = column(text, first.at.entry.start);
    // Children one after another on their own lines.
    for pair in items.windows(2) {
        if line_end(text, pair[0].at.entry.end) > pair[1].at.entry.start {
            return None;
        }
    }
    let mut edits = Vec::new();
    for run in runs {
        let start = lines_start(text, items[run.start])?;
        let end = line_end(text, items[run.end - 1].at.entry.end);
        if !items[run.clone()].iter().all(|n| anchored(text, n)) {
            return None;
        }
        edits.push(Edit {
            range: start..end,
            text: String::new(),
        });
    }
    for (anchor, copies) in groups {
        let mut inserted = String::new();
        for (side, path) in copies {
            let (node, style) = copied(sides, *side, path)?;
            if style != Style::Block {
                return None;
            }
            inserted.push_str(&block_child_text(
                texts.of(*side),
                node,
                column_of_children,
            )?);
        }
        let at = match anchor {
            Some(a) => line_end(text, items[*a].at.entry.end),
            None => lines_start(text, first)?,
        };
        if at == text.len() && !text.is_empty() && !text.ends_with('\n') {
            inserted.insert(0, '\n');
        }
        edits.push(Edit {
            range: at..at,
            text: inserted,
        });
    }
    Some(edits)
}

/// A block child's lines (with the comment lines just above it) from `src`, indented to
/// `column`, ending with a line break.
fn block_child_text(src: &str, node: &Node<Span>, column_to: usize) -> Option<String> {
    let from = column(src, node.at.entry.start);
    let end = line_end(src, node.at.entry.end);
    let mut text = if anchored(src, node) {
        let start = lines_start(src, node)?;
        shift_lines(&src[start..end], from, column_to, true, None)?
    } else {
        // The first key of a mapping that is a list item (`- name: x`): written from its key.
        let rest = shift_lines(&src[node.at.entry.start..end], from, column_to, false, None)?;
        format!("{}{rest}", " ".repeat(column_to))
    };
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Some(text)
}

/// Whether only spaces precede a node's entry on its line.
fn anchored(text: &str, node: &Node<Span>) -> bool {
    let start = node.at.entry.start;
    text[line_start(text, start)..start]
        .bytes()
        .all(|b| b == b' ')
}

/// Where a block child's lines start: its line, or the comment lines just above it.
fn lines_start(text: &str, node: &Node<Span>) -> Option<usize> {
    if !anchored(text, node) {
        return None;
    }
    let mut start = line_start(text, node.at.entry.start);
    while start > 0 {
        let previous = line_start(text, start - 1);
        if text[previous..start].trim_start().starts_with('#') {
            start = previous;
        } else {
            break;
        }
    }
    Some(start)
}

fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |i| i + 1)
}

/// The end of the line holding the byte before `end` (after its line break).
fn line_end(text: &str, end: usize) -> usize {
    text[end..].find('\n').map_or(text.len(), |i| end + i + 1)
}

fn column(text: &str, at: usize) -> usize {
    at - line_start(text, at)
}

fn line_indent(text: &str, at: usize) -> usize {
    let start = line_start(text, at);
    text[start..].bytes().take_while(|b| *b == b' ').count()
}

/// Moves the lines after the first from indentation `from` to `to`, scaled from one
/// indentation step to another with `units`.
fn reindent(text: &str, from: usize, to: usize, units: Option<(usize, usize)>) -> Option<String> {
    shift_lines(text, from, to, false, units)
}

/// Moves lines (the first one too, with `first`) from indentation `from` to `to`: what they
/// are indented beyond `from` is kept, or scaled from one step to another (`units`). Lines
/// with only white space stay as they are. `None` when a line has too little indentation to
/// move left.
fn shift_lines(
    text: &str,
    from: usize,
    to: usize,
    first: bool,
    units: Option<(usize, usize)>,
) -> Option<String> {
    let units = units.filter(|(a, b)| a != b && *a > 0);
    if from == to && units.is_none() {
        return Some(text.to_string());
    }
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if (i == 0 && !first) || line.trim().is_empty() {
            out.push_str(line);
            continue;
        }
        let indent = line.bytes().take_while(|b| *b == b' ').count();
        let beyond = indent.checked_sub(from)?;
        let beyond = match units {
            Some((a, b)) if beyond % a == 0 => beyond / a * b,
            _ => beyond,
        };
        out.push_str(&" ".repeat(to + beyond));
        out.push_str(&line[indent..]);
    }
    Some(out)
}

/// A file's indentation step: its smallest indentation.
fn indent_unit(text: &str) -> Option<usize> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.bytes().take_while(|b| *b == b' ').count())
        .filter(|n| *n > 0)
        .min()
}

/// The kind of a node, for builders.
pub(super) fn leaf(canonical: String, span: Range<usize>, style: Style) -> Node<Span> {
    Node {
        kind: Kind::Leaf(canonical),
        at: Span {
            value: span.clone(),
            entry: span,
            style,
        },
    }
}
