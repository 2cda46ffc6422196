//! The answers as a dictionary templates can change: Jinja2's dicts are Python dicts, and
//! popular cookiecutter templates normalise their answers in a hook with
//! `{{ cookiecutter.update({"slug": cookiecutter.slug|trim}) }}` (which prints `None`); every
//! later read in the run sees the change. minijinja's maps are immutable, so the context's
//! dictionary is this object instead.

use std::sync::{Arc, Mutex};

use indexmap::IndexMap;
use minijinja::value::{Enumerator, Object, ObjectRepr, Value};
use minijinja::{Error, ErrorKind, State};

/// A mutable, ordered dictionary of answers.
#[derive(Debug, Default)]
pub struct MutableMap(Mutex<IndexMap<String, Value>>);

impl MutableMap {
    /// The map as a template value.
    pub fn value(entries: impl IntoIterator<Item = (String, Value)>) -> Value {
        Value::from_object(MutableMap(Mutex::new(entries.into_iter().collect())))
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, IndexMap<String, Value>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Object for MutableMap {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.entries().get(key.as_str()?).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let keys: Vec<Value> = self
            .entries()
            .keys()
            .map(|k| Value::from(k.as_str()))
            .collect();
        Enumerator::Values(keys)
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.entries().len())
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            // dict.update(other): Python's, returning None.
            "update" => {
                let [other] = args else {
                    return Err(Error::new(
                        ErrorKind::InvalidOperation,
                        "update takes one dictionary",
                    ));
                };
                let mut pairs = Vec::new();
                for key in other.try_iter()? {
                    let value = other.get_item(&key)?;
                    pairs.push((key.to_string(), value));
                }
                self.entries().extend(pairs);
                Ok(Value::from(()))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}
