//! OCI registries as remotes of the store (issue 16, DESIGN.md section 11).
//!
//! A remote is one namespace of a registry: `oci://HOST[:PORT]/NAMESPACE`. A Published
//! template version is one OCI 1.1 image manifest (see [`artifact`]): a config blob with the
//! version's record and the events that made it, a tree layer, and one layer per file object
//! whose digest is the object's own sha256, so a push sends only the blobs the registry lacks.
//! The validation and publication events hang off the manifest as a referrer. The
//! [`client`] speaks the distribution API over HTTPS with Basic or Bearer auth; the
//! [`credentials`] are where docker, oras and helm keep them.

pub mod artifact;
pub mod client;
pub mod credentials;
pub mod index;
pub mod pull;
pub mod push;

use crate::error::{Error, Result};

/// The most a config blob or an events layer may weigh (and the index entries, together).
pub const MAX_RECORD_BYTES: u64 = 64 << 20;

/// Where a remote is: a registry host and a namespace in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteUrl {
    /// `host[:port]`.
    pub host: String,
    /// The repository prefix, without slashes at either end.
    pub namespace: String,
}

impl RemoteUrl {
    /// Parses `oci://HOST[:PORT]/NAMESPACE`. A URL with a password in it is refused without
    /// repeating the password, and the password is a secret from then on.
    pub fn parse(url: &str) -> Result<RemoteUrl> {
        crate::http::register_password(url);
        let shown = crate::http::redact_url(url);
        let bad = |why: &str| {
            Error::usage(format!("`{shown}` is not a remote: {why}")).hint(
                "write it as oci://HOST[:PORT]/NAMESPACE, e.g. oci://ghcr.io/contoso/templates",
            )
        };
        let rest = url
            .strip_prefix("oci://")
            .ok_or_else(|| bad("it does not start with oci://"))?;
        if rest.contains('@') {
            return Err(bad(
                "it holds a user name or password (use `factory login HOST` instead)",
            ));
        }
        let (host, namespace) = rest
            .split_once('/')
            .ok_or_else(|| bad("it names no namespace after the host"))?;
        let namespace = namespace.trim_matches('/');
        if host.is_empty()
            || !host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        {
            return Err(bad("the host is not a host name with an optional port"));
        }
        if namespace.is_empty() || !namespace.split('/').all(is_path_component) {
            return Err(bad(
                "the namespace must be lower-case path components (a-z, 0-9, `.`, `_`, `-`)",
            ));
        }
        Ok(RemoteUrl {
            host: host.to_string(),
            namespace: namespace.to_string(),
        })
    }

    /// The repository of a template: `NAMESPACE/<name, lower-case>`.
    pub fn repository(&self, template: &str) -> String {
        format!("{}/{}", self.namespace, template.to_ascii_lowercase())
    }

    /// The repository of the namespace's index artifact.
    pub fn index_repository(&self) -> String {
        format!("{}/{}", self.namespace, artifact::INDEX_REPOSITORY)
    }

    /// `oci://HOST/REPOSITORY@DIGEST`: how an artifact is named in events and reports.
    pub fn artifact_reference(&self, repository: &str, digest: &str) -> String {
        format!("oci://{}/{repository}@{digest}", self.host)
    }
}

impl std::fmt::Display for RemoteUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "oci://{}/{}", self.host, self.namespace)
    }
}

/// A path component of a repository name, as the distribution spec allows it:
/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
fn is_path_component(part: &str) -> bool {
    let bytes = part.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let separator = &part[start..i];
        let dashes = separator.bytes().all(|b| b == b'-');
        if !(separator == "." || separator == "_" || separator == "__" || dashes) {
            return false;
        }
    }
    true
}

/// Whether a template name can be a repository name once lower-cased.
pub fn check_repository_name(template: &str) -> Result<()> {
    let lower = template.to_ascii_lowercase();
    if lower == artifact::INDEX_REPOSITORY {
        return Err(Error::usage(format!(
            "a template named `{template}` cannot be pushed: `{}` is the repository of the remote's index",
            artifact::INDEX_REPOSITORY
        )));
    }
    if !is_path_component(&lower) {
        return Err(Error::usage(format!(
            "template `{template}` cannot be a registry repository name (`{lower}`): it must be letters and digits separated by `.`, `_` or `-`"
        ))
        .hint("register the template under a name without leading, trailing or doubled separators"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remotes_parse_as_docker_names_them() {
        let remote = RemoteUrl::parse("oci://127.0.0.1:5000/factory/templates/").unwrap();
        assert_eq!(remote.host, "127.0.0.1:5000");
        assert_eq!(remote.namespace, "factory/templates");
        assert_eq!(
            remote.repository("Acme.Orders-Api"),
            "factory/templates/acme.orders-api"
        );
        let err = RemoteUrl::parse("oci://ci:PASSWORD@host/ns").unwrap_err();
        assert!(!err.message.contains("PASSWORD"), "{}", err.message);
        assert!(
            err.message.contains("oci://ci:***@host/ns"),
            "{}",
            err.message
        );
        for bad in [
            "https://ghcr.io/x",
            "oci://ghcr.io",
            "oci://ghcr.io/",
            "oci://u:p@ghcr.io/x",
            "oci://ghcr.io/Upper",
            "oci://ghcr.io/a..b",
            "oci://ghcr.io/-a",
        ] {
            assert!(RemoteUrl::parse(bad).is_err(), "{bad}");
        }
        assert!(check_repository_name("Acme.Orders_Api").is_ok());
        assert!(check_repository_name("factory-index").is_err());
    }
}
