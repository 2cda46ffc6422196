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
            // `gh:org/repo.git` names `org/repo.git`, as copier reads it (cookiecutter makes
            // `repo.git.git` of it, which no host serves).
            let rest = match template.ends_with("{0}.git") {
                true => rest.strip_suffix(".git").unwrap_or(rest),
                false => rest,
            };
            template.replace("{0}", rest)
        } else {
            format!("{template}{rest}")
        })
    }
}

/// Whether `text` (without `#REF`) names a git repository in one of git's URL forms. Text
/// starting with `-` never does: git would read it as an option (`--upload-pack=…@h:x`).
pub fn is_git_url(text: &str) -> bool {
    if text.starts_with('-') {
        return false;
    }
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

/// The URL without a password or token: what events, scaffold.yaml, messages and the cache
/// key see. An ssh URL keeps its user (`ssh://git@host/…`, as scp-like `git@host:…` does):
/// it is the account ssh logs in as, no secret, and the URL does not work without it.
pub fn without_credentials(url: &str) -> String {
    if let Some(user) = ssh_user(url) {
        let (scheme, rest) = url.split_once("://").expect("an ssh URL has a scheme");
        let authority = rest.split('/').next().unwrap_or(rest);
        let host = authority
            .rsplit_once('@')
            .map_or(authority, |(_, host)| host);
        return format!("{scheme}://{user}@{host}{}", &rest[authority.len()..]);
    }
    crate::http::without_userinfo(url)
}

/// Whether the URL goes over ssh (`ssh://`, and the `git+ssh://` spellings git takes).
pub fn is_ssh(url: &str) -> bool {
    ["ssh://", "git+ssh://", "ssh+git://"]
        .iter()
        .any(|scheme| url.starts_with(scheme))
}

/// The user of an `ssh://user[:password]@host/…` URL (a name, not a secret).
pub fn ssh_user(url: &str) -> Option<&str> {
    if !is_ssh(url) {
        return None;
    }
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split('/').next()?;
    let (userinfo, _) = authority.rsplit_once('@')?;
    Some(userinfo.split_once(':').map_or(userinfo, |(user, _)| user))
}

/// Refuses a URL git would read as an option, or whose host it would: one starting with `-`
/// (`--upload-pack=…`, `-oProxyCommand=…@h:x`), or naming a host that does. git is also
/// given `--` before every URL, so this is the message, not the only guard.
pub fn check_not_an_option(url: &str) -> Result<()> {
    let host_is_option = host_of(url).is_some_and(|h| h.starts_with('-'));
    if url.starts_with('-') || host_is_option {
        return Err(Error::usage(format!(
            "`{}` is not a repository URL: git would read it as an option",
            without_credentials(url)
        ))
        .hint(
            "name the repository as https://, ssh://, git:// or file:// URL, or as user@host:path",
        ));
    }
    Ok(())
}

/// Replaces every credential-bearing form of `url` in `text` with the URL without them
/// (git repeats the URL it was given in its messages).
pub fn scrub(text: &str, url: &str) -> String {
    let clean = without_credentials(url);
    let mut out = text.replace(url, &clean);
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((userinfo, _)) = rest.split('/').next().and_then(|a| a.rsplit_once('@'))
    {
        // An ssh user stays (it is the account); anything else in the user part goes.
        let kept = ssh_user(url)
            .map(|user| format!("{user}@"))
            .unwrap_or_default();
        out = out.replace(
            &format!("{scheme}://{userinfo}@"),
            &format!("{scheme}://{kept}"),
        );
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
    // copier's `git+URL`: whatever follows is a repository URL (`git+https://…`).
    if let Some(url) = text.strip_prefix("git+") {
        check_not_an_option(url)?;
        if !is_git_url(url) {
            return Err(Error::usage(format!(
                "`{}` names no repository URL after `git+`",
                without_credentials(text)
            ))
            .hint("write git+ before an https://, ssh://, git:// or file:// URL, or name the folder without it"));
        }
        return Ok(Some(url.to_string()));
    }
    if text.starts_with('-') {
        check_not_an_option(text)?;
    }
    if is_git_url(text) {
        check_not_an_option(text)?;
        return Ok(Some(text.to_string()));
    }
    match abbreviations.expand(text) {
        Some(url) if is_git_url(&url) => check_not_an_option(&url).map(|()| Some(url)),
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
        // What git would read as an option is no URL.
        for option in [
            "--receive-pack=touch x@h:x",
            "-oProxyCommand=id@h:x",
            "--upload-pack=id",
        ] {
            assert!(!is_git_url(option), "{option}");
            assert!(
                resolve(option, &Abbreviations::default()).is_err(),
                "{option}"
            );
        }
        // copier's `git+URL`; what follows `git+` is checked as any URL is.
        assert_eq!(
            resolve("git+https://example.com/t", &Abbreviations::default()).unwrap(),
            Some("https://example.com/t".to_string())
        );
        for bad in ["git+--upload-pack=touch x", "git+templates/t"] {
            assert!(resolve(bad, &Abbreviations::default()).is_err(), "{bad}");
        }
        assert!(check_not_an_option("ssh://-oProxyCommand=id/r").is_err());
        assert!(check_not_an_option("git@-oProxyCommand=id:r").is_err());
        assert!(check_not_an_option("ssh://git@h/r").is_ok());
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
        assert_eq!(
            Abbreviations::default().expand("gh:o/r.git").as_deref(),
            Some("https://github.com/o/r.git")
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
        // An ssh user is the account, not a secret: kept; its password is not.
        assert_eq!(
            without_credentials("ssh://git@h:22/o/r.git"),
            "ssh://git@h:22/o/r.git"
        );
        assert_eq!(
            without_credentials("ssh://git:pw@h/o/r.git"),
            "ssh://git@h/o/r.git"
        );
        assert_eq!(ssh_user("ssh://git:pw@h/r"), Some("git"));
        assert_eq!(ssh_user("https://git@h/r"), None);
        assert_eq!(host_of("git@github.com:o/r").as_deref(), Some("github.com"));
    }
}
