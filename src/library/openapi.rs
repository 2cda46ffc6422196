//! OpenAPI 3.x documents: enough to catalog an API client (its title and operation count).

use serde_json::Value;

use crate::error::{Error, Result};
use crate::template::yaml;

/// The HTTP methods that make an operation in a path item.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// What a client catalog needs from a spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    /// `info.title`.
    pub title: String,
    /// The OpenAPI version it declares.
    pub version: String,
    /// How many operations its paths define.
    pub operation_count: u64,
}

/// Reads an OpenAPI 3.x document (YAML or JSON); anything else is a clear error.
pub fn read(text: &str, origin: &str) -> Result<Spec> {
    let doc: Value = yaml::from_str(text, origin)?;
    let declared = doc.get("openapi").and_then(Value::as_str);
    let Some(version) = declared.filter(|v| v.starts_with("3.")) else {
        let what = match (declared, doc.get("swagger").and_then(Value::as_str)) {
            (Some(v), _) => format!("it declares openapi {v}"),
            (None, Some(v)) => format!("it is a Swagger {v} document"),
            (None, None) => "it has no `openapi` field".to_string(),
        };
        return Err(
            Error::usage(format!("{origin} is not an OpenAPI 3.x document: {what}")).hint(
                "convert it to OpenAPI 3 (for example with swagger2openapi) or pass the 3.x spec",
            ),
        );
    };
    let operation_count = doc
        .get("paths")
        .and_then(Value::as_object)
        .map(|paths| {
            paths
                .values()
                .filter_map(Value::as_object)
                .map(|item| {
                    item.keys()
                        .filter(|k| METHODS.contains(&k.as_str()))
                        .count() as u64
                })
                .sum()
        })
        .unwrap_or(0);
    Ok(Spec {
        title: doc["info"]["title"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        version: version.to_string(),
        operation_count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_operations_and_refuses_swagger_2() {
        let spec = read(
            "openapi: 3.0.3\ninfo: {title: Reservations, version: '1'}\npaths:\n  /r:\n    get: {}\n    post: {}\n    parameters: []\n  /r/{id}:\n    get: {}\n",
            "spec.yaml",
        )
        .unwrap();
        assert_eq!(spec.operation_count, 3);
        assert_eq!(spec.title, "Reservations");
        let err = read(r#"{"swagger": "2.0", "paths": {}}"#, "old.json").unwrap_err();
        assert!(err.message.contains("Swagger 2.0"), "{}", err.message);
    }
}
