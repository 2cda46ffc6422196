//! Prefixed identifiers: a short prefix, a dash, and a lower-case UUIDv7 (time-ordered).

/// Event ids (`evt-…`), the consumers' idempotency key.
pub const EVENT: &str = "evt";
/// Command ids (`cmd-…`), the key a worker handles a command once by.
pub const COMMAND: &str = "cmd";
/// Template ids.
pub const TEMPLATE: &str = "tpl";
/// Template version ids.
pub const TEMPLATE_VERSION: &str = "tv";
/// Parameter schema ids.
pub const SCHEMA: &str = "sch";
/// Validation run ids.
pub const VALIDATION: &str = "val";
/// Publication ids.
pub const PUBLICATION: &str = "pub";
/// Template execution ids.
pub const EXECUTION: &str = "exe";
/// Scaffold output ids.
pub const SCAFFOLD_OUTPUT: &str = "out";
/// Library ids.
pub const LIBRARY: &str = "lib";
/// Library version ids.
pub const LIBRARY_VERSION: &str = "lv";
/// Dependency graph ids.
pub const GRAPH: &str = "graph";
/// Compatibility matrix ids.
pub const MATRIX: &str = "mtx";
/// Upgrade plan ids.
pub const PLAN: &str = "plan";
/// Correlation ids made up by `factory` when the caller gave none.
pub const CORRELATION: &str = "corr";

/// A new id: `prefix` + `-` + a lower-case hyphenated UUIDv7.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::now_v7().hyphenated())
}

/// A new W3C trace id: 32 lower-case hex digits, not all zero.
pub fn new_trace_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// The trace id inside a W3C `traceparent` header value (`00-<trace>-<parent>-<flags>`),
/// or `None` when the value is not a valid traceparent.
pub fn trace_id_from_traceparent(traceparent: &str) -> Option<String> {
    let mut parts = traceparent.trim().split('-');
    let version = parts.next()?;
    let trace = parts.next()?;
    let parent = parts.next()?;
    let flags = parts.next()?;
    let is_hex = |s: &str, len: usize| {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let valid = is_hex(version, 2)
        && version != "ff"
        && is_hex(trace, 32)
        && trace.bytes().any(|b| b != b'0')
        && is_hex(parent, 16)
        && is_hex(flags, 2)
        && (version != "00" || parts.next().is_none());
    valid.then(|| trace.to_string())
}

/// Whether `id` looks like `prefix-<uuid>`.
pub fn has_prefix(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|uuid| uuid::Uuid::try_parse(uuid).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_carry_their_prefix_and_a_v7_uuid() {
        let id = new_id(EVENT);
        assert!(has_prefix(&id, EVENT), "{id}");
        let uuid = uuid::Uuid::parse_str(&id[4..]).unwrap();
        assert_eq!(uuid.get_version_num(), 7);
        assert_eq!(id, id.to_lowercase());
    }

    #[test]
    fn traceparent_yields_its_trace_id() {
        assert_eq!(
            trace_id_from_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
                .as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            assert_eq!(trace_id_from_traceparent(bad), None, "{bad}");
        }
        assert_eq!(new_trace_id().len(), 32);
    }
}
