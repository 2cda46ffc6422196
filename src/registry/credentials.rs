//! Registry credentials where docker, oras and helm keep them: the environment for CI
//! (`FACTORY_REGISTRY_USERNAME` / `FACTORY_REGISTRY_PASSWORD`), then the docker config
//! (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`): a `credHelpers` entry for
//! the host, else the `credsStore` helper, else `auths`. Helpers are the
//! `docker-credential-NAME` programs of the docker credential-helper protocol (`get`,
//! `store`, `erase` with JSON on stdin and stdout). Every secret read is registered with
//! [`crate::secrets`] before anything can print it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine;
use serde_json::{Map, Value, json};

use crate::error::{Error, Result};

/// The environment variables CI sets.
pub const USERNAME_ENV: &str = "FACTORY_REGISTRY_USERNAME";
/// The password or token of [`USERNAME_ENV`].
pub const PASSWORD_ENV: &str = "FACTORY_REGISTRY_PASSWORD";

/// A user name and its secret, and where they came from (for error messages).
#[derive(Clone)]
pub struct Credential {
    /// The user name.
    pub username: String,
    /// The password or token.
    pub secret: String,
    /// Where it was found: `FACTORY_REGISTRY_USERNAME/…`, `~/.docker/config.json`, a helper.
    pub source: String,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credential({} from {})", self.username, self.source)
    }
}

/// The docker config file: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
pub fn config_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|home| PathBuf::from(home).join(".docker").join("config.json"))
}

fn read_config(path: &Path) -> Result<Map<String, Value>> {
    match std::fs::read(path) {
        Ok(bytes) => match serde_json::from_slice(&bytes) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(
                Error::new(format!("{} is not a JSON object", path.display()))
                    .hint("fix or move aside the docker config file"),
            ),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Map::new()),
        Err(e) => Err(Error::io("read", path, e)),
    }
}

/// How docker names a registry in `auths`: keys may carry a scheme or a path
/// (`https://index.docker.io/v1/`); the host is what counts.
fn key_host(key: &str) -> &str {
    let key = key.split_once("://").map_or(key, |(_, rest)| rest);
    key.split('/').next().unwrap_or(key)
}

/// The helper that keeps `host`'s credentials, if the config names one.
fn helper_for(config: &Map<String, Value>, host: &str) -> Option<String> {
    config
        .get("credHelpers")
        .and_then(Value::as_object)
        .and_then(|helpers| {
            helpers
                .iter()
                .find(|(key, _)| key_host(key) == host)
                .and_then(|(_, v)| v.as_str())
        })
        .or_else(|| config.get("credsStore").and_then(Value::as_str))
        .filter(|name| !name.is_empty())
        .map(str::to_string)
}

/// The credential for `host`, or `None` (anonymous); `tried` lists the sources looked at.
pub fn find(host: &str, tried: &mut Vec<String>) -> Result<Option<Credential>> {
    tried.push(format!("{USERNAME_ENV}/{PASSWORD_ENV}"));
    let env = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
    if let (Some(username), Some(secret)) = (env(USERNAME_ENV), env(PASSWORD_ENV)) {
        return Ok(found(
            username,
            secret,
            format!("{USERNAME_ENV}/{PASSWORD_ENV}"),
        ));
    }
    let Some(path) = config_path() else {
        return Ok(None);
    };
    let config = read_config(&path)?;
    if let Some(helper) = helper_for(&config, host) {
        tried.push(format!("docker-credential-{helper}"));
        return helper_get(&helper, host);
    }
    tried.push(path.display().to_string());
    let Some(entry) = config
        .get("auths")
        .and_then(Value::as_object)
        .and_then(|auths| auths.iter().find(|(key, _)| key_host(key) == host))
        .map(|(_, entry)| entry)
    else {
        return Ok(None);
    };
    let (username, secret) = if let Some(auth) = entry.get("auth").and_then(Value::as_str) {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .and_then(|text| {
                text.split_once(':')
                    .map(|(u, p)| (u.to_string(), p.to_string()))
            })
            .ok_or_else(|| {
                Error::new(format!(
                    "the `auths` entry for {host} in {} is not base64 of USER:PASSWORD",
                    path.display()
                ))
                .hint(format!("run `factory login {host}` again"))
            })?;
        crate::secrets::register(auth.trim());
        decoded
    } else {
        let field = |name| {
            entry
                .get(name)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        (field("username"), field("password"))
    };
    Ok(found(username, secret, path.display().to_string()))
}

/// A credential found in `source`, its secret registered; none when the secret is empty.
fn found(username: String, secret: String, source: String) -> Option<Credential> {
    if secret.is_empty() {
        return None;
    }
    crate::secrets::register(&secret);
    Some(Credential {
        username,
        secret,
        source,
    })
}

fn run_helper(helper: &str, action: &str, input: &[u8]) -> Result<std::process::Output> {
    let program = format!("docker-credential-{helper}");
    let mut child = Command::new(&program)
        .arg(action)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            Error::new(format!("cannot run the credential helper {program}: {e}"))
                .hint("install it, or remove it from credHelpers/credsStore in the docker config")
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input);
    }
    child
        .wait_with_output()
        .map_err(|e| Error::new(format!("the credential helper {program} failed: {e}")))
}

fn helper_get(helper: &str, host: &str) -> Result<Option<Credential>> {
    let output = run_helper(helper, "get", host.as_bytes())?;
    if !output.status.success() {
        // "credentials not found in native keychain": anonymous, as docker goes on.
        return Ok(None);
    }
    let answer: Value = serde_json::from_slice(&output.stdout).map_err(|_| {
        Error::new(format!(
            "docker-credential-{helper} get answered something that is not JSON"
        ))
    })?;
    let username = answer["Username"].as_str().unwrap_or_default().to_string();
    let secret = answer["Secret"].as_str().unwrap_or_default().to_string();
    Ok(found(
        username,
        secret,
        format!("docker-credential-{helper}"),
    ))
}

/// Saves a credential for `host` where docker would: its helper, else `auths` in the
/// config file (written whole through a temporary file, readable by the owner only).
/// Returns where it went.
pub fn store(host: &str, username: &str, secret: &str) -> Result<String> {
    let path = config_path().ok_or_else(|| {
        Error::new("cannot find the docker config: neither DOCKER_CONFIG nor HOME is set")
    })?;
    let mut config = read_config(&path)?;
    if let Some(helper) = helper_for(&config, host) {
        let input = json!({"ServerURL": host, "Username": username, "Secret": secret});
        let output = run_helper(&helper, "store", input.to_string().as_bytes())?;
        if !output.status.success() {
            return Err(Error::new(format!(
                "docker-credential-{helper} store failed: {}",
                crate::secrets::redact(String::from_utf8_lossy(&output.stdout).trim())
            )));
        }
        return Ok(format!("docker-credential-{helper}"));
    }
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{secret}"));
    crate::secrets::register(&auth);
    let auths = config
        .entry("auths")
        .or_insert_with(|| Value::Object(Map::new()));
    if !auths.is_object() {
        *auths = Value::Object(Map::new());
    }
    let auths = auths.as_object_mut().expect("an object");
    auths.retain(|key, _| key_host(key) != host);
    auths.insert(host.to_string(), json!({ "auth": auth }));
    write_config(&path, &config)?;
    Ok(path.display().to_string())
}

/// Forgets `host`'s credential; returns whether there was one.
pub fn erase(host: &str) -> Result<bool> {
    let Some(path) = config_path() else {
        return Ok(false);
    };
    let mut config = read_config(&path)?;
    if let Some(helper) = helper_for(&config, host) {
        return Ok(run_helper(&helper, "erase", host.as_bytes())?
            .status
            .success());
    }
    let Some(auths) = config.get_mut("auths").and_then(Value::as_object_mut) else {
        return Ok(false);
    };
    let before = auths.len();
    auths.retain(|key, _| key_host(key) != host);
    if auths.len() == before {
        return Ok(false);
    }
    write_config(&path, &config)?;
    Ok(true)
}

fn write_config(path: &Path, config: &Map<String, Value>) -> Result<()> {
    let dir = path.parent().expect("the config file has a folder");
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
    let mut text = serde_json::to_vec_pretty(config).expect("JSON serializes");
    text.push(b'\n');
    let tmp = dir.join(format!(".config.json.{}.tmp", std::process::id()));
    let result = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp)?;
        file.write_all(&text)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io("write", path, e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_keys_name_hosts_with_or_without_scheme_and_path() {
        assert_eq!(key_host("https://index.docker.io/v1/"), "index.docker.io");
        assert_eq!(key_host("127.0.0.1:5000"), "127.0.0.1:5000");
        let config: Map<String, Value> = serde_json::from_str(
            r#"{"credsStore":"desktop","credHelpers":{"ghcr.io":"gh","x.io":""}}"#,
        )
        .unwrap();
        assert_eq!(helper_for(&config, "ghcr.io").as_deref(), Some("gh"));
        assert_eq!(helper_for(&config, "other.io").as_deref(), Some("desktop"));
    }
}
