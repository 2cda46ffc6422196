//! Where a template repository is: the URL forms git users type (`https://`, `http://`,
//! `ssh://`, scp-like `git@host:owner/repo`, `git://`, `file://`), the hosting shortcuts
//! cookiecutter and copier users type (`gh:`, `gl:`, `bb:`, and abbreviations of their own),
//! and the same URL with its credentials removed for everything that records or prints it.

use std::collections::BTreeMap;

use crate::error::{Error, Result};

/// The abbreviations every user has, as cookiecutter and copier define them.
pub const BUILT_IN: &[(&str, &str)] = &[
    ("gh", "https://github.com/{0}.git"),
    ("gl", "https://gitlab.com/{0}.git"),
    ("bb", "https://bitbucket.org/{0}"),
];

/// Abbreviations: the built-in ones, then the user's (which win).
#[derive(Debug, Clone, Default)]
pub struct Abbreviations {
    user: BTreeMap<String, String>,
}

impl Abbreviations {
    /// The built-in abbreviations and the user's own (`name: https://host/{0}.git`).
    pub fn new(user: BTreeMap<String, String>) -> Abbreviations {
        Abbreviations { user }
    }

    /// The expansion of `prefix`, if it is an abbreviation.
    fn get(&self, prefix: &str) -> Option<&str> {
        self.user.get(prefix).map(String::as_str).or_else(|| {
            BUILT_IN
                .iter()
                .find(|(name, _)| *name == prefix)
                .map(|(_, url)| *url)
        })
    }

    /// `NAME:rest` expanded (`{0}` stands for the rest, as in cookiecutter), or `None` when
    /// `text` does not start with a known abbreviation.
    pub fn expand(&self, text: &str) -> Option<String> {
        let (prefix, rest) = text.split_once(':')?;
        if rest.starts_with("//") || prefix.contains('@') || prefix.contains('/') {
            return None;
        }
        let template = self.get(prefix)?;
        Some(if template.contains("{0}") {
            template.replace("{0}", rest)
        } else {
            format!("{template}{rest}")
        })
    }
}

/// Whether `text` (without `#REF`) names a git repository in one of git's URL forms.
pub fn is_git_url(text: &str) -> bool {
    ["file://", "https://", "http://", "ssh://", "git://"]
        .iter()
        .any(|scheme| text.starts_with(scheme))
        || is_scp_like(text)
}

/// `user@host:path`: scp-like syntax, as git reads it (no `://`, a `:` before any `/`).
fn is_scp_like(text: &str) -> bool {
    match text.split_once(':') {
        Some((host, path)) => {
            host.contains('@') && !host.contains('/') && !path.is_empty() && !text.contains("://")
        }
        None => false,
    }
}

/// Splits `URL#REF` into the URL and the ref.
pub fn split_ref(text: &str) -> (&str, Option<&str>) {
    match text.rsplit_once('#') {
        Some((url, reference)) if !reference.is_empty() => (url, Some(reference)),
        _ => (text, None),
    }
}

/// The URL without a user name, password or token: what events, scaffold.yaml, messages
/// and the cache key see. scp-like URLs keep their user (`git@`), which is no secret.
pub fn without_credentials(url: &str) -> String {
    crate::http::without_userinfo(url)
}

/// Replaces every credential-bearing form of `url` in `text` with the URL without them
/// (git repeats the URL it was given in its messages).
pub fn scrub(text: &str, url: &str) -> String {
    let clean = without_credentials(url);
    let mut out = text.replace(url, &clean);
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((userinfo, _)) = rest.split('/').next().and_then(|a| a.rsplit_once('@'))
    {
        out = out.replace(&format!("{scheme}://{userinfo}@"), &format!("{scheme}://"));
        if let Some((_, secret)) = userinfo.split_once(':')
            && !secret.is_empty()
        {
            out = out.replace(secret, "***");
        }
    }
    out
}

/// The host a URL points at, for messages and token lookup.
pub fn host_of(url: &str) -> Option<String> {
    if let Some((_, rest)) = url.split_once("://") {
        let authority = rest.split('/').next()?;
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        return Some(host.to_string());
    }
    if is_scp_like(url) {
        let (userhost, _) = url.split_once(':')?;
        return Some(
            userhost
                .rsplit_once('@')
                .map_or(userhost, |(_, h)| h)
                .to_string(),
        );
    }
    None
}

/// Resolves what the user typed into a git URL: an abbreviation expanded, a git URL as it
/// is; `None` for anything else (a folder or a stored template).
pub fn resolve(text: &str, abbreviations: &Abbreviations) -> Result<Option<String>> {
    if is_git_url(text) {
        return Ok(Some(text.to_string()));
    }
    match abbreviations.expand(text) {
        Some(url) if is_git_url(&url) => Ok(Some(url)),
        Some(url) => Err(Error::usage(format!(
            "the abbreviation in `{text}` expands to `{url}`, which is not a git URL"
        ))
        .hint("abbreviations in config.yaml expand to https://, ssh:// or git@host: URLs with {0} for the rest")),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_urls_in_every_form() {
        for url in [
            "file:///tmp/repo",
            "https://example.com/t.git",
            "http://127.0.0.1:8080/t.git",
            "ssh://git@127.0.0.1:2222/srv/t.git",
            "git://127.0.0.1/t.git",
            "git@github.com:org/repo.git",
        ] {
            assert!(is_git_url(url), "{url}");
        }
        for text in [
            "templates/service",
            "ConnectSoft.Template.Api",
            "C:/x",
            "gh:org/repo",
        ] {
            assert!(!is_git_url(text), "{text}");
        }
        assert_eq!(split_ref("file:///r#main"), ("file:///r", Some("main")));
        assert_eq!(split_ref("file:///r"), ("file:///r", None));
    }

    #[test]
    fn abbreviations_expand_built_in_and_user_ones() {
        let mut user = BTreeMap::new();
        user.insert("corp".to_string(), "https://git.corp/{0}.git".to_string());
        user.insert("gh".to_string(), "https://mirror/{0}".to_string());
        let abbreviations = Abbreviations::new(user);
        assert_eq!(
            abbreviations.expand("gl:o/r").as_deref(),
            Some("https://gitlab.com/o/r.git")
        );
        assert_eq!(
            abbreviations.expand("corp:team/api").as_deref(),
            Some("https://git.corp/team/api.git")
        );
        assert_eq!(
            abbreviations.expand("gh:o/r").as_deref(),
            Some("https://mirror/o/r")
        );
        assert_eq!(abbreviations.expand("git@host:o/r"), None);
        assert_eq!(abbreviations.expand("https://x/y"), None);
        assert_eq!(Abbreviations::default().expand("nope:o/r"), None);
    }

    #[test]
    fn credentials_never_survive() {
        let url = "https://user:s3cret@127.0.0.1:8443/t.git";
        assert_eq!(without_credentials(url), "https://127.0.0.1:8443/t.git");
        assert_eq!(
            without_credentials("https://token@h/t.git"),
            "https://h/t.git"
        );
        assert_eq!(
            without_credentials("git@github.com:o/r.git"),
            "git@github.com:o/r.git"
        );
        let message = format!("fatal: unable to access '{url}/': s3cret failed");
        let scrubbed = scrub(&message, url);
        assert!(
            !scrubbed.contains("s3cret") && !scrubbed.contains("user:"),
            "{scrubbed}"
        );
        assert_eq!(host_of(url).as_deref(), Some("127.0.0.1:8443"));
        assert_eq!(host_of("git@github.com:o/r").as_deref(), Some("github.com"));
    }
}
