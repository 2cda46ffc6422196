//! TOML through `toml_edit`: the merge's edits are made on your document, whose untouched
//! keys, tables, comments and spacing print as they were read.

use toml_edit::{Array, ArrayOfTables, DocumentMut, InlineTable, Item, Key, Table, Value};

use super::{Child, Kind, MAX_DEPTH, Node, Op, Outcome, Side, Sides, distinct_keys, run};

/// The position a copied table is given until [`place_copied_tables`] puts it after the table
/// it follows.
const COPIED: isize = isize::MIN;

pub(super) fn merge(base: Option<&str>, ours: &str, theirs: &str) -> Option<Outcome> {
    let parse = |text: &str| text.parse::<DocumentMut>().ok();
    let base_doc = match base {
        Some(text) => Some(parse(text)?),
        None => None,
    };
    let ours_doc = parse(ours)?;
    let theirs_doc = parse(theirs)?;
    // The edits rely on toml_edit printing an untouched document byte for byte.
    if ours_doc.to_string() != ours {
        return None;
    }
    let base_tree = match &base_doc {
        Some(doc) => Some(table_tree(doc.as_table())?),
        None => None,
    };
    let ours_tree = table_tree(ours_doc.as_table())?;
    let theirs_tree = table_tree(theirs_doc.as_table())?;
    let trees = [Some(&ours_tree), Some(&theirs_tree), base_tree.as_ref()];
    if !trees.into_iter().flatten().all(distinct_keys) {
        return None;
    }
    let sides = Sides {
        base: base_tree.as_ref(),
        ours: &ours_tree,
        theirs: &theirs_tree,
    };
    let docs = Docs {
        base: base_doc.as_ref(),
        theirs: &theirs_doc,
    };
    run(
        &sides,
        |ops| apply(&sides, &docs, ours_doc.clone(), ops),
        |text| parse(text).and_then(|d| table_tree(d.as_table())),
    )
}

/// The tree of a table; `None` past [`MAX_DEPTH`] (dotted headers can nest without bound).
fn table_tree(table: &Table) -> Option<Node<()>> {
    table_at(table, 0)
}

fn table_at(table: &Table, depth: usize) -> Option<Node<()>> {
    if depth > MAX_DEPTH {
        return None;
    }
    let entries = table
        .iter()
        .map(|(k, item)| Some((k.to_string(), item_tree(item, depth + 1)?)))
        .collect::<Option<Vec<_>>>()?;
    Some(map(entries))
}

fn map(entries: Vec<(String, Node<()>)>) -> Node<()> {
    Node {
        kind: Kind::Map(entries),
        at: (),
    }
}

fn item_tree(item: &Item, depth: usize) -> Option<Node<()>> {
    Some(match item {
        Item::None => leaf("none".to_string()),
        Item::Value(v) => value_tree(v, depth)?,
        Item::Table(t) => table_at(t, depth)?,
        Item::ArrayOfTables(a) => Node {
            kind: Kind::Seq(
                a.iter()
                    .map(|t| table_at(t, depth + 1))
                    .collect::<Option<Vec<_>>>()?,
            ),
            at: (),
        },
    })
}

fn leaf(s: String) -> Node<()> {
    Node {
        kind: Kind::Leaf(s),
        at: (),
    }
}

fn value_tree(value: &Value, depth: usize) -> Option<Node<()>> {
    if depth > MAX_DEPTH {
        return None;
    }
    Some(match value {
        Value::String(s) => leaf(format!("s:{}", s.value())),
        Value::Integer(i) => leaf(format!("i:{}", i.value())),
        Value::Float(f) => leaf(format!("f:{:?}", f.value())),
        Value::Boolean(b) => leaf(format!("b:{}", b.value())),
        Value::Datetime(d) => leaf(format!("d:{}", d.value())),
        Value::Array(a) => Node {
            kind: Kind::Seq(
                a.iter()
                    .map(|v| value_tree(v, depth + 1))
                    .collect::<Option<Vec<_>>>()?,
            ),
            at: (),
        },
        Value::InlineTable(t) => map(t
            .iter()
            .map(|(k, v)| Some((k.to_string(), value_tree(v, depth + 1)?)))
            .collect::<Option<Vec<_>>>()?),
    })
}

struct Docs<'a> {
    base: Option<&'a DocumentMut>,
    theirs: &'a DocumentMut,
}

/// One step down a document.
enum Step {
    Key(String),
    Index(usize),
}

/// The steps to `path` in `tree`.
fn steps(tree: &Node<()>, path: &[usize]) -> Option<Vec<Step>> {
    let mut node = tree;
    let mut out = Vec::new();
    for &i in path {
        out.push(match &node.kind {
            Kind::Map(entries) => Step::Key(entries.get(i)?.0.clone()),
            _ => Step::Index(i),
        });
        node = *node.children().get(i)?;
    }
    Some(out)
}

/// A place in a document being edited.
enum Slot<'a> {
    Item(&'a mut Item),
    Value(&'a mut Value),
    Table(&'a mut Table),
}

fn descend<'a>(slot: Slot<'a>, step: &Step) -> Option<Slot<'a>> {
    match (slot, step) {
        (Slot::Item(Item::Table(t)) | Slot::Table(t), Step::Key(k)) => t.get_mut(k).map(Slot::Item),
        (Slot::Item(Item::ArrayOfTables(a)), Step::Index(i)) => a.get_mut(*i).map(Slot::Table),
        (Slot::Item(Item::Value(v)) | Slot::Value(v), step) => match (v, step) {
            (Value::InlineTable(t), Step::Key(k)) => t.get_mut(k).map(Slot::Value),
            (Value::Array(a), Step::Index(i)) => a.get_mut(*i).map(Slot::Value),
            _ => None,
        },
        _ => None,
    }
}

/// A place in a document being read.
#[derive(Clone, Copy)]
enum Ref<'a> {
    Item(&'a Item),
    Value(&'a Value),
    Table(&'a Table),
}

fn read<'a>(slot: Ref<'a>, step: &Step) -> Option<Ref<'a>> {
    match (slot, step) {
        (Ref::Item(Item::Table(t)) | Ref::Table(t), Step::Key(k)) => t.get(k).map(Ref::Item),
        (Ref::Item(Item::ArrayOfTables(a)), Step::Index(i)) => a.get(*i).map(Ref::Table),
        (Ref::Item(Item::Value(v)) | Ref::Value(v), step) => match (v, step) {
            (Value::InlineTable(t), Step::Key(k)) => t.get(k).map(Ref::Value),
            (Value::Array(a), Step::Index(i)) => a.get(*i).map(Ref::Value),
            _ => None,
        },
        _ => None,
    }
}

fn apply(
    sides: &Sides<'_, ()>,
    docs: &Docs<'_>,
    mut doc: DocumentMut,
    ops: &[Op],
) -> Option<String> {
    for op in ops {
        match op {
            Op::Replace { at, from } => {
                let source = source(sides, docs, from.0, &from.1)?;
                replace(slot(&mut doc, &steps(sides.ours, at)?)?, source)?;
            }
            Op::Children { at, list } => {
                let mut children = Vec::new();
                let target = slot(&mut doc, &steps(sides.ours, at)?)?;
                for child in list {
                    children.push(match child {
                        Child::Keep(i) => Entry::Keep(*i),
                        Child::Copy(side, path) => {
                            Entry::Copy(Box::new(copied_child(sides, docs, *side, path)?))
                        }
                    });
                }
                set_children(target, children)?;
            }
        }
    }
    place_copied_tables(doc.as_table_mut(), &mut 0);
    Some(doc.to_string())
}

fn slot<'a>(doc: &'a mut DocumentMut, steps: &[Step]) -> Option<Slot<'a>> {
    let mut slot = Slot::Table(doc.as_table_mut());
    for step in steps {
        slot = descend(slot, step)?;
    }
    Some(slot)
}

fn source<'a>(
    sides: &Sides<'_, ()>,
    docs: &Docs<'a>,
    side: Side,
    path: &[usize],
) -> Option<Ref<'a>> {
    let (doc, tree) = match side {
        Side::Base => (docs.base?, sides.base?),
        Side::Theirs => (docs.theirs, sides.theirs),
    };
    let mut at = Ref::Table(doc.as_table());
    for step in steps(tree, path)? {
        at = read(at, &step)?;
    }
    Some(at)
}

/// A child copied from another side: a table's entry (with its key's formatting), or a list's
/// value or table.
enum Owned {
    Entry(Key, Item),
    Value(Value),
    Table(Table),
}

enum Entry {
    Keep(usize),
    Copy(Box<Owned>),
}

fn copied_child(
    sides: &Sides<'_, ()>,
    docs: &Docs<'_>,
    side: Side,
    path: &[usize],
) -> Option<Owned> {
    let (last, parent_path) = path.split_last()?;
    let parent = source(sides, docs, side, parent_path)?;
    let tree = match side {
        Side::Base => sides.base?,
        Side::Theirs => sides.theirs,
    };
    let key = tree.at_path(parent_path)?.key(*last).map(str::to_string);
    let mut owned = match (parent, key) {
        (Ref::Item(Item::Table(t)) | Ref::Table(t), Some(key)) => {
            let (k, item) = t.get_key_value(&key)?;
            Owned::Entry(k.clone(), item.clone())
        }
        (
            Ref::Item(Item::Value(Value::InlineTable(t))) | Ref::Value(Value::InlineTable(t)),
            Some(key),
        ) => {
            let (k, item) = t.get_key_value(&key)?;
            Owned::Entry(k.clone(), item.clone())
        }
        (Ref::Item(Item::Value(Value::Array(a))) | Ref::Value(Value::Array(a)), None) => {
            Owned::Value(a.get(*last)?.clone())
        }
        (Ref::Item(Item::ArrayOfTables(a)), None) => Owned::Table(a.get(*last)?.clone()),
        _ => return None,
    };
    match &mut owned {
        Owned::Entry(_, item) => mark_copied(item),
        Owned::Table(t) => mark_table(t),
        Owned::Value(_) => {}
    }
    Some(owned)
}

/// Marks the tables inside a copied item, for [`place_copied_tables`].
fn mark_copied(item: &mut Item) {
    match item {
        Item::Table(t) => mark_table(t),
        Item::ArrayOfTables(a) => a.iter_mut().for_each(mark_table),
        _ => {}
    }
}

fn mark_table(table: &mut Table) {
    table.set_position(COPIED);
    for (_, item) in table.iter_mut() {
        mark_copied(item);
    }
}

/// toml_edit prints tables in the order of their positions in the file read, a table without
/// one after the table before it. A copied table takes the position of the table printed just
/// before it (its neighbour in your document), so it prints right after that table.
fn place_copied_tables(table: &mut Table, last: &mut isize) {
    if !table.is_dotted() {
        match table.position() {
            Some(COPIED) => table.set_position(*last),
            Some(p) => *last = p,
            None => {}
        }
    }
    for (_, item) in table.iter_mut() {
        match item {
            Item::Table(t) => place_copied_tables(t, last),
            Item::ArrayOfTables(a) => a.iter_mut().for_each(|t| place_copied_tables(t, last)),
            _ => {}
        }
    }
}

fn is_scalar(value: &Value) -> bool {
    !matches!(value, Value::Array(_) | Value::InlineTable(_))
}

/// Your node in `slot` becomes `source`.
fn replace(slot: Slot<'_>, source: Ref<'_>) -> Option<()> {
    match slot {
        Slot::Item(item) => {
            let mut new = match source {
                Ref::Item(i) => i.clone(),
                Ref::Value(v) => Item::Value(v.clone()),
                Ref::Table(t) => Item::Table(t.clone()),
            };
            mark_copied(&mut new);
            match (&*item, &mut new) {
                // A scalar keeps your spacing and end-of-line comment.
                (Item::Value(old), Item::Value(value)) if is_scalar(old) && is_scalar(value) => {
                    *value.decor_mut() = old.decor().clone();
                }
                // A table keeps its place in your file.
                (Item::Table(old), Item::Table(table)) => {
                    if let Some(p) = old.position() {
                        table.set_position(p);
                    }
                }
                _ => {}
            }
            *item = new;
        }
        Slot::Value(value) => {
            let mut new = match source {
                Ref::Value(v) | Ref::Item(Item::Value(v)) => v.clone(),
                _ => return None,
            };
            *new.decor_mut() = value.decor().clone();
            *value = new;
        }
        Slot::Table(table) => {
            let mut new = match source {
                Ref::Table(t) | Ref::Item(Item::Table(t)) => t.clone(),
                _ => return None,
            };
            mark_table(&mut new);
            if let Some(p) = table.position() {
                new.set_position(p);
            }
            *table = new;
        }
    }
    Some(())
}

/// Your container in `slot` gets `children`.
fn set_children(slot: Slot<'_>, children: Vec<Entry>) -> Option<()> {
    match slot {
        Slot::Item(Item::Table(t)) | Slot::Table(t) => table_children(t, children),
        Slot::Item(Item::Value(Value::InlineTable(t))) | Slot::Value(Value::InlineTable(t)) => {
            inline_children(t, children)
        }
        Slot::Item(Item::Value(Value::Array(a))) | Slot::Value(Value::Array(a)) => {
            array_children(a, children)
        }
        Slot::Item(Item::ArrayOfTables(a)) => tables_children(a, children),
        _ => None,
    }
}

fn table_children(table: &mut Table, children: Vec<Entry>) -> Option<()> {
    let keys: Vec<String> = table.iter().map(|(k, _)| k.to_string()).collect();
    let mut old: Vec<Option<(Key, Item)>> = keys.iter().map(|k| table.remove_entry(k)).collect();
    for child in children {
        let (key, item) = match child {
            Entry::Keep(i) => old.get_mut(i)?.take()?,
            Entry::Copy(owned) => match *owned {
                Owned::Entry(key, item) => (key, item),
                _ => return None,
            },
        };
        table.insert_formatted(&key, item);
    }
    Some(())
}

fn inline_children(table: &mut InlineTable, children: Vec<Entry>) -> Option<()> {
    let keys: Vec<String> = table.iter().map(|(k, _)| k.to_string()).collect();
    let mut old: Vec<Option<(Key, Value)>> = keys.iter().map(|k| table.remove_entry(k)).collect();
    for child in children {
        let (key, value) = match child {
            Entry::Keep(i) => old.get_mut(i)?.take()?,
            Entry::Copy(owned) => match *owned {
                Owned::Entry(key, Item::Value(value)) => (key, value),
                _ => return None,
            },
        };
        table.insert_formatted(&key, value);
    }
    Some(())
}

fn array_children(array: &mut Array, children: Vec<Entry>) -> Option<()> {
    let old: Vec<Value> = array.iter().cloned().collect();
    // The spacing your list puts before an item that is not the first, for copied items.
    let between = (old.len() >= 2)
        .then(|| old[1].decor().prefix().cloned())
        .flatten();
    let mut new: Vec<(Option<usize>, Value)> = Vec::new();
    for child in children {
        new.push(match child {
            Entry::Keep(i) => (Some(i), old.get(i)?.clone()),
            Entry::Copy(owned) => match *owned {
                Owned::Value(mut value) => {
                    if let Some(prefix) = &between {
                        value.decor_mut().set_prefix(prefix.clone());
                        value.decor_mut().set_suffix("");
                    }
                    (None, value)
                }
                Owned::Entry(_, Item::Value(value)) => (None, value),
                _ => return None,
            },
        });
    }
    // The first and last items keep the list's own edges (`[ ` … ` ]`).
    if let (Some(first), Some(old_first)) = (new.first_mut(), old.first())
        && first.0 != Some(0)
        && let Some(prefix) = old_first.decor().prefix()
    {
        first.1.decor_mut().set_prefix(prefix.clone());
    }
    for value in new.iter_mut().skip(1) {
        if value.0 == Some(0) {
            let prefix = between.clone().unwrap_or_else(|| " ".into());
            value.1.decor_mut().set_prefix(prefix);
        }
    }
    let last_old = old.len().checked_sub(1);
    let count = new.len();
    if let Some(last) = last_old {
        let suffix = old[last].decor().suffix().cloned();
        for (i, value) in new.iter_mut().enumerate() {
            if i + 1 == count {
                if let Some(suffix) = &suffix {
                    value.1.decor_mut().set_suffix(suffix.clone());
                }
            } else if value.0 == Some(last) {
                value.1.decor_mut().set_suffix("");
            }
        }
    }
    array.clear();
    for (_, value) in new {
        array.push_formatted(value);
    }
    Some(())
}

fn tables_children(array: &mut ArrayOfTables, children: Vec<Entry>) -> Option<()> {
    let old: Vec<Table> = array.iter().cloned().collect();
    let mut new = Vec::new();
    for child in children {
        new.push(match child {
            Entry::Keep(i) => old.get(i)?.clone(),
            Entry::Copy(owned) => match *owned {
                Owned::Table(table) => table,
                _ => return None,
            },
        });
    }
    array.clear();
    for table in new {
        array.push(table);
    }
    Some(())
}
