//! The automatic push store.yaml may ask for after every command that wrote events.

use crate::broker::{self, Target};
use crate::store::Store;

/// Pushes to every `push.targets` entry when `push.auto` is on; returns a warning per
/// failure. A failed automatic push never fails the command: the events stay pending.
pub fn auto_push(store: &Store) -> Vec<String> {
    let push = &store.config().push;
    if !push.auto {
        return Vec::new();
    }
    let mut warnings = Vec::new();
    for text in &push.targets {
        let options = broker::push::Options {
            require_route: push.require_route,
            policy: broker::retry::Policy {
                max_retries: 2,
                deadline: std::time::Duration::from_secs(10),
                ..Default::default()
            },
            ..Default::default()
        };
        let result = Target::parse(text).and_then(|target| {
            broker::push::push(store, &target, options, |name| push.connection_string(name))
        });
        if let Err(e) = result {
            warnings.push(format!(
                "automatic push failed; the events stay pending for `factory events push`: {}",
                e.message
            ));
        }
    }
    warnings
}
