//! Fetching template repositories with the user's own `git`, into a clone cache.
//!
//! Why the system `git` (as cookiecutter and copier use it) rather than libgit2's transports:
//! it already speaks every transport users have (https with the system's CA store and
//! proxies, ssh through their agent, keys and `known_hosts`), runs their credential helpers
//! and `GIT_ASKPASS`, and needs nothing at build time (libgit2's https would need OpenSSL or
//! another TLS stack compiled in). libgit2 (vendored, no network) still reads the cache and
//! checks files out.
//!
//! The cache: one bare repository per URL (credentials removed) under
//! `$XDG_CACHE_HOME/factory/git/<key>`, fetched again only for what changed (nothing for a
//! commit already there), locked while in use so two runs from one URL take turns. A URL's
//! credentials never reach the cache's config, an argument list or a message: they are given
//! to git by a credential helper that reads them from this process's environment.

use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::url::{host_of, scrub, without_credentials};
use crate::error::{Error, Result};

/// How to fetch.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// The cache folder (`$XDG_CACHE_HOME/factory/git`).
    pub cache_dir: PathBuf,
    /// Use the cache only.
    pub offline: bool,
    /// Show git's progress on stderr (a terminal, not quiet).
    pub progress: bool,
    /// git may ask for credentials on the terminal.
    pub interactive: bool,
    /// A git command that runs longer is stopped.
    pub timeout: Duration,
    /// Tokens for the hosting services (`GITHUB_TOKEN`, `GITLAB_TOKEN`), by host.
    pub tokens: Vec<(String, String)>,
}

/// A repository in the cache, locked while this value lives.
#[derive(Debug)]
pub struct CachedRepo {
    /// The bare repository.
    pub dir: PathBuf,
    /// The URL without credentials.
    pub url: String,
    /// What a person should hear (a cache entry re-cloned, the cache used offline).
    pub notes: Vec<String>,
    _lock: File,
}

/// The environment a git command runs with: credentials through a helper, no prompts off a
/// terminal, TLS trust from `SSL_CERT_FILE`/`SSL_CERT_DIR`, bounded connection attempts.
struct GitEnv {
    vars: Vec<(String, String)>,
}

/// The credential helper: prints what this process put in its environment.
const HELPER: &str = "!f() { test \"$1\" = get && printf 'username=%s\\npassword=%s\\n' \"$FACTORY_GIT_USERNAME\" \"$FACTORY_GIT_PASSWORD\"; }; f";

impl GitEnv {
    fn new(url_with_credentials: &str, options: &FetchOptions) -> GitEnv {
        let mut vars = Vec::new();
        let mut config: Vec<(String, String)> = Vec::new();
        let userinfo = url_with_credentials
            .split_once("://")
            .and_then(|(_, rest)| rest.split('/').next())
            .and_then(|authority| authority.rsplit_once('@'))
            .map(|(userinfo, _)| userinfo.to_string());
        let host = host_of(url_with_credentials).unwrap_or_default();
        let credentials = match userinfo {
            // ssh logs in with keys, never through credential helpers: its user is the
            // account, no secret; a password in the URL is one, and is only masked.
            Some(userinfo) if super::url::is_ssh(url_with_credentials) => {
                if let Some((_, password)) = userinfo.split_once(':') {
                    crate::secrets::register(&decode(password));
                }
                None
            }
            Some(userinfo) => Some(match userinfo.split_once(':') {
                Some((user, password)) => (decode(user), decode(password)),
                // A lone token in the user part, as hosting services take it.
                None => ("x-access-token".to_string(), decode(&userinfo)),
            }),
            None => options
                .tokens
                .iter()
                .find(|(h, _)| h.eq_ignore_ascii_case(&host))
                .map(|(h, token)| {
                    let user = if h.contains("gitlab") {
                        "oauth2"
                    } else {
                        "x-access-token"
                    };
                    (user.to_string(), token.clone())
                }),
        };
        if let Some((user, password)) = credentials {
            crate::secrets::register(&password);
            // An empty helper first: these credentials win over the user's helpers.
            config.push(("credential.helper".into(), String::new()));
            config.push(("credential.helper".into(), HELPER.into()));
            vars.push(("FACTORY_GIT_USERNAME".into(), user));
            vars.push(("FACTORY_GIT_PASSWORD".into(), password));
        }
        config.push(("core.hooksPath".into(), "/dev/null".into()));
        config.push(("protocol.file.allow".into(), "always".into()));
        vars.push(("GIT_CONFIG_COUNT".into(), config.len().to_string()));
        for (i, (key, value)) in config.into_iter().enumerate() {
            vars.push((format!("GIT_CONFIG_KEY_{i}"), key));
            vars.push((format!("GIT_CONFIG_VALUE_{i}"), value));
        }
        if !options.interactive {
            vars.push(("GIT_TERMINAL_PROMPT".into(), "0".into()));
        }
        if std::env::var_os("GIT_SSL_CAINFO").is_none()
            && let Some(file) = std::env::var_os("SSL_CERT_FILE")
        {
            vars.push(("GIT_SSL_CAINFO".into(), file.to_string_lossy().into_owned()));
        }
        if std::env::var_os("GIT_SSL_CAPATH").is_none()
            && let Some(dir) = std::env::var_os("SSL_CERT_DIR")
        {
            vars.push(("GIT_SSL_CAPATH".into(), dir.to_string_lossy().into_owned()));
        }
        // A stalled transfer ends instead of hanging; an unknown ssh host key is refused.
        vars.push(("GIT_HTTP_LOW_SPEED_LIMIT".into(), "1000".into()));
        vars.push(("GIT_HTTP_LOW_SPEED_TIME".into(), "30".into()));
        if std::env::var_os("GIT_SSH_COMMAND").is_none() && std::env::var_os("GIT_SSH").is_none() {
            let batch = if options.interactive { "no" } else { "yes" };
            vars.push((
                "GIT_SSH_COMMAND".into(),
                format!(
                    "ssh -o ConnectTimeout=15 -o StrictHostKeyChecking=yes -o BatchMode={batch}"
                ),
            ));
        }
        GitEnv { vars }
    }
}

/// Percent-decoding of a URL's user or password.
fn decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// What a git command printed, when it failed.
struct Failed {
    stderr: String,
    timed_out: bool,
}

/// Runs `git ARGS` (in `dir` when given), with `stderr` shown as it comes when `progress`.
fn run_git(
    args: &[&str],
    dir: Option<&Path>,
    env: &GitEnv,
    options: &FetchOptions,
    progress: bool,
) -> std::result::Result<String, Failed> {
    let mut command = Command::new("git");
    // `--git-dir` comes before the subcommand.
    if let Some(dir) = dir {
        command.arg("--git-dir").arg(dir);
    }
    command
        .args(args)
        .envs(env.vars.iter().map(|(k, v)| (k, v)))
        .stdin(if options.interactive {
            Stdio::inherit()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().map_err(|e| Failed {
        stderr: format!("cannot run git: {e} (factory uses the git on PATH for repositories)"),
        timed_out: false,
    })?;
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    // git closes its stdout as it ends: the reader says so at once.
    let (closed, stdout_closed) = std::sync::mpsc::channel::<()>();
    let out_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        let _ = closed.send(());
        text
    });
    let err_reader = std::thread::spawn(move || {
        // Keep what git says (for the error) and pass its progress through on a terminal.
        let mut kept = Vec::new();
        let mut buffer = [0u8; 8192];
        loop {
            match stderr.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if progress {
                        use std::io::Write;
                        let _ = std::io::stderr()
                            .write_all(&crate::secrets::redact_bytes(&buffer[..n]));
                    }
                    kept.extend_from_slice(&buffer[..n]);
                    if kept.len() > 64 * 1024 {
                        kept.drain(..kept.len() - 64 * 1024);
                    }
                }
            }
        }
        String::from_utf8_lossy(&kept).into_owned()
    });
    let deadline = Instant::now() + options.timeout;
    // Most of these commands end in a few milliseconds (an upgrade runs about ten): the
    // wait ends when git closes its stdout, else the next look comes after a pause that
    // grows to 20 ms for a long fetch (or a child git left holding the pipe).
    let mut pause = Duration::from_millis(1);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => {
                if let Err(std::sync::mpsc::RecvTimeoutError::Disconnected) =
                    stdout_closed.recv_timeout(pause)
                {
                    // Closed already: git is ending.
                    std::thread::sleep(Duration::from_millis(1));
                }
                pause = (pause * 2).min(Duration::from_millis(20));
            }
            Err(_) => break None,
        }
    };
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    match status {
        Some(status) if status.success() => Ok(stdout),
        Some(_) => Err(Failed {
            stderr,
            timed_out: false,
        }),
        None => Err(Failed {
            stderr,
            timed_out: true,
        }),
    }
}

/// A failed git command as an error a person can act on.
fn explain(failed: Failed, url: &str, what: &str, options: &FetchOptions) -> Error {
    let clean = without_credentials(url);
    let host = host_of(url)
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "the server".to_string());
    let said = scrub(failed.stderr.trim(), url);
    // git's own reason: its first `fatal:` line, else its last line.
    let last = said
        .lines()
        .find_map(|l| l.trim().strip_prefix("fatal:"))
        .or_else(|| said.lines().rev().find(|l| !l.trim().is_empty()))
        .unwrap_or("")
        .trim()
        .to_string();
    if failed.timed_out {
        return Error::new(format!(
            "cannot {what} {clean}: no answer from {host} within {} s",
            options.timeout.as_secs()
        ))
        .hint("check the host is reachable (VPN, proxy: HTTPS_PROXY/NO_PROXY), or use the cache with --offline");
    }
    let lower = said.to_ascii_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|n| lower.contains(n));
    if has(&[
        "host key verification failed",
        "host key is known",
        "remote host identification has changed",
    ]) {
        return unknown_host_key(&clean, &host);
    }
    if has(&[
        "authentication failed",
        "could not read username",
        "could not read password",
        "terminal prompts disabled",
        "permission denied (publickey",
        "http basic: access denied",
        "the requested url returned error: 401",
        "the requested url returned error: 403",
    ]) {
        let ssh = clean.starts_with("ssh://") || !clean.contains("://");
        let tried = if ssh {
            "your ssh agent and keys (~/.ssh) for this host".to_string()
        } else {
            let token = if options
                .tokens
                .iter()
                .any(|(h, _)| h.eq_ignore_ascii_case(&host))
            {
                ", the token from the environment"
            } else {
                ""
            };
            format!(
                "credentials in the URL, git's credential helpers (credential.helper), GIT_ASKPASS{token}"
            )
        };
        return Error::new(format!("{host} refused the credentials for {clean} (tried: {tried})"))
            .hint(if ssh {
                "add your key to the agent (ssh-add) or to the host's account"
            } else {
                "store a credential (git credential approve, a credential helper), or set GITHUB_TOKEN/GITLAB_TOKEN for those hosts"
            });
    }
    if has(&["certificate", "ssl", "tls"]) {
        return Error::new(format!(
            "cannot {what} {clean}: the TLS connection to {host} failed: {last}"
        ))
        .hint("trust the server's CA: point SSL_CERT_FILE (or GIT_SSL_CAINFO) at its certificate");
    }
    const UNREACHABLE: [&str; 8] = [
        "could not resolve host",
        "connection refused",
        "failed to connect",
        "unable to connect",
        "connection timed out",
        "network is unreachable",
        "no route to host",
        "could not resolve hostname",
    ];
    if has(&UNREACHABLE) {
        // The line that says why (ssh's `connect to host … Connection refused` comes before
        // git's `fatal: Could not read from remote repository.`).
        let why = said
            .lines()
            .map(|l| l.trim())
            .find(|l| {
                let l = l.to_ascii_lowercase();
                UNREACHABLE.iter().any(|n| l.contains(n))
            })
            .map(|l| l.strip_prefix("fatal:").unwrap_or(l).trim().to_string())
            .unwrap_or(last);
        return Error::unavailable(format!("cannot reach {host} for {clean}: {why}"))
            .hint("check the URL and the network (proxy: HTTPS_PROXY/NO_PROXY), or use the cache with --offline");
    }
    if has(&[
        "not found",
        "does not appear to be a git repository",
        "repository not found",
        "no such file or directory",
    ]) {
        return Error::new(format!("{clean} is not a repository {host} serves: {last}"))
            .hint("check the owner and repository name in the URL");
    }
    if last.is_empty() {
        // `--quiet` keeps some refusals to itself (a rejected ref update on fetch).
        return Error::new(format!("cannot {what} {clean}: git ended in error without saying why"))
            .hint("`factory cache clean` removes the cached clone, and the next run clones it again; the same command with `git` shows more");
    }
    Error::new(format!("cannot {what} {clean}: {last}"))
        .hint("run the same with `git` to see more; check the URL and your access")
}

/// The refusal for an ssh host whose key is not (or no longer) in `known_hosts`.
fn unknown_host_key(clean: &str, host: &str) -> Error {
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => (name, Some(port)),
        _ => (host, None),
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    let port_flag = port.map(|p| format!("-p {p} ")).unwrap_or_default();
    let scan = format!("ssh-keyscan {port_flag}{name}");
    let fingerprints = Command::new("sh")
        .arg("-c")
        .arg(format!("{scan} 2>/dev/null | ssh-keygen -lf - 2>/dev/null"))
        .stdin(Stdio::null())
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|s| !s.is_empty());
    let shown = fingerprints
        .map(|f| format!("; it offers {}", f.replace('\n', ", ")))
        .unwrap_or_default();
    Error::new(format!(
        "the ssh host key of {host} is not in known_hosts, so {clean} was not fetched{shown}"
    ))
    .hint(format!(
        "check the fingerprint with the host's owner, then add it: {scan} >> ~/.ssh/known_hosts"
    ))
}

/// The cache entry's folder for a URL.
fn entry_of(cache_dir: &Path, clean_url: &str) -> PathBuf {
    let digest = crate::hash::sha256_hex(clean_url.as_bytes());
    cache_dir.join(&digest[..24])
}

/// Takes the lock of a cache entry (`<key>.lock` beside it), waiting for another run that
/// holds it. The lock file is opened without following a link: one planted there could
/// otherwise make factory create or lock a file anywhere.
fn lock_entry(dir: &Path) -> Result<File> {
    let lock_path = dir.with_extension("lock");
    let mut open = fs::OpenOptions::new();
    open.create(true).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        open.custom_flags(libc::O_NOFOLLOW);
    }
    let lock = open.open(&lock_path).map_err(|e| {
        if fs::symlink_metadata(&lock_path).is_ok_and(|m| m.file_type().is_symlink()) {
            Error::new(format!(
                "{} is a symlink; factory does not follow links in its cache",
                lock_path.display()
            ))
            .hint("remove the link; the next run makes the lock file again")
        } else {
            Error::io("lock", &lock_path, e)
        }
    })?;
    lock.lock().map_err(|e| Error::io("lock", &lock_path, e))?;
    Ok(lock)
}

/// The file in an entry that names its URL (for `factory cache list`).
const URL_FILE: &str = "factory-url";

thread_local! {
    /// The cache entries cloned or fetched during the one run that holds a [`OneRun`] on
    /// this thread (`None` when none does).
    static FRESH: std::cell::RefCell<Option<std::collections::BTreeSet<PathBuf>>> =
        const { std::cell::RefCell::new(None) };
}

/// While it lives, a repository fetched once on this thread is not fetched again: one run
/// that resolves several refs of a repository (an upgrade's two versions) goes to the
/// remote once. Scoped, not process-wide: a worker's next command fetches afresh.
pub struct OneRun(());

impl OneRun {
    /// Starts remembering what this thread fetches.
    pub fn begin() -> OneRun {
        FRESH.with(|fresh| *fresh.borrow_mut() = Some(Default::default()));
        OneRun(())
    }
}

impl Drop for OneRun {
    fn drop(&mut self) {
        FRESH.with(|fresh| *fresh.borrow_mut() = None);
    }
}

fn fresh_this_run(dir: &Path) -> bool {
    FRESH.with(|fresh| fresh.borrow().as_ref().is_some_and(|set| set.contains(dir)))
}

fn mark_fresh(dir: &Path) {
    FRESH.with(|fresh| {
        if let Some(set) = fresh.borrow_mut().as_mut() {
            set.insert(dir.to_path_buf());
        }
    });
}

/// Opens (fetching or cloning as needed) the cache entry of `url`. `wanted` is a ref the
/// caller will ask for: a full commit already in the cache needs no fetch.
pub fn open(url: &str, wanted: Option<&str>, options: &FetchOptions) -> Result<CachedRepo> {
    super::url::check_not_an_option(url)?;
    let clean = without_credentials(url);
    fs::create_dir_all(&options.cache_dir)
        .map_err(|e| Error::io("create the git cache", &options.cache_dir, e))?;
    let dir = entry_of(&options.cache_dir, &clean);
    let lock = lock_entry(&dir)?;
    let env = GitEnv::new(url, options);
    let mut notes = Vec::new();
    // An entry replaced by a link is not followed (it could be any repository, anywhere):
    // the link itself is removed, never what it points at, and the URL cloned again.
    if fs::symlink_metadata(&dir).is_ok_and(|m| m.file_type().is_symlink()) {
        let to = fs::read_link(&dir)
            .map(|t| t.display().to_string())
            .unwrap_or_default();
        if options.offline {
            return Err(Error::new(format!(
                "the cached clone of {clean} ({}) is a symlink to {to}; factory does not follow links in its cache, and --offline forbids cloning it again",
                dir.display()
            ))
            .hint(format!("run without --offline, or remove the link: factory cache clean {clean}")));
        }
        notes.push(format!(
            "the cached clone of {clean} was a symlink to {to}, which factory does not follow; cloning it again"
        ));
        fs::remove_file(&dir).map_err(|e| Error::io("remove the link", &dir, e))?;
    }
    if fresh_this_run(&dir) {
        return Ok(CachedRepo {
            dir,
            url: clean,
            notes,
            _lock: lock,
        });
    }
    let usable = dir.join("HEAD").is_file()
        && run_git(
            &["rev-parse", "--git-dir"],
            Some(&dir),
            &env,
            options,
            false,
        )
        .is_ok();
    if dir.exists() && !usable {
        notes.push(format!(
            "the cached clone of {clean} was damaged; cloning it again"
        ));
        fs::remove_dir_all(&dir).map_err(|e| Error::io("remove", &dir, e))?;
    }
    if !dir.exists() {
        if options.offline {
            return Err(Error::new(format!(
                "{clean} is not in the cache, and --offline forbids fetching it"
            ))
            .hint("run once without --offline; `factory cache list` shows what is cached"));
        }
        clone_into(&clean, &dir, &env, options)?;
        mark_fresh(&dir);
    } else if options.offline {
        notes.push(format!("using the cached clone of {clean} (--offline)"));
    } else if !wanted.is_some_and(|w| is_full_commit(w) && has_commit(&dir, w, &env, options)) {
        // Tags as the repository has them now, as a fresh clone (copier's, cookiecutter's)
        // would: one moved or made anew is taken (git refuses to "clobber" it without
        // --force), one deleted goes.
        let fetched = run_git(
            &[
                "fetch",
                "--prune",
                "--prune-tags",
                "--force",
                "--quiet",
                "origin",
            ],
            Some(&dir),
            &env,
            options,
            false,
        );
        if let Err(failed) = fetched {
            let damaged = failed.stderr.contains("corrupt")
                || failed.stderr.contains("bad object")
                || failed.stderr.contains("not a git repository");
            if !damaged {
                return Err(explain(failed, url, "fetch", options));
            }
            notes.push(format!(
                "the cached clone of {clean} was damaged; cloning it again"
            ));
            fs::remove_dir_all(&dir).map_err(|e| Error::io("remove", &dir, e))?;
            clone_into(&clean, &dir, &env, options)?;
        }
        mark_fresh(&dir);
    }
    Ok(CachedRepo {
        dir,
        url: clean,
        notes,
        _lock: lock,
    })
}

fn is_full_commit(text: &str) -> bool {
    text.len() == 40 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

fn has_commit(dir: &Path, commit: &str, env: &GitEnv, options: &FetchOptions) -> bool {
    run_git(
        &["cat-file", "-e", &format!("{commit}^{{commit}}")],
        Some(dir),
        env,
        options,
        false,
    )
    .is_ok()
}

/// A bare clone of `clean` (branches and tags) at `dir`, made beside it and moved in whole.
fn clone_into(clean: &str, dir: &Path, env: &GitEnv, options: &FetchOptions) -> Result<()> {
    let staging = dir.with_extension(format!("tmp-{}", std::process::id()));
    let _ = fs::remove_dir_all(&staging);
    let target = staging.display().to_string();
    let mut args = vec!["clone", "--bare", "--quiet"];
    if options.progress {
        args.retain(|a| *a != "--quiet");
        args.push("--progress");
    }
    // `--`: nothing after it is an option, whatever the URL says.
    args.extend(["--", clean, target.as_str()]);
    if let Err(failed) = run_git(&args, None, env, options, options.progress) {
        let _ = fs::remove_dir_all(&staging);
        return Err(explain(failed, clean, "clone", options));
    }
    for (key, value) in [
        ("remote.origin.fetch", "+refs/heads/*:refs/heads/*"),
        ("remote.origin.tagOpt", "--tags"),
    ] {
        run_git(&["config", key, value], Some(&staging), env, options, false)
            .map_err(|f| explain(f, clean, "configure the cache of", options))?;
    }
    fs::write(staging.join(URL_FILE), clean).map_err(|e| Error::io("write", &staging, e))?;
    fs::rename(&staging, dir).map_err(|e| Error::io("move the clone to", dir, e))
}

impl CachedRepo {
    /// The commit a ref names: a branch, a tag, a full or short commit; the default branch
    /// when `None`. A ref that is not there is an error naming the closest refs.
    pub fn resolve(&self, reference: Option<&str>, options: &FetchOptions) -> Result<String> {
        let env = GitEnv::new(&self.url, options);
        let rev = |spec: &str| {
            run_git(
                &[
                    "rev-parse",
                    "--verify",
                    "--quiet",
                    &format!("{spec}^{{commit}}"),
                ],
                Some(&self.dir),
                &env,
                options,
                false,
            )
            .ok()
            .map(|s| s.trim().to_string())
        };
        if reference.is_some_and(|r| r.starts_with('-')) {
            return Err(Error::usage(format!(
                "`{}` is not a ref: git would read it as an option",
                reference.unwrap_or_default()
            ))
            .hint("name a branch, a tag or a commit"));
        }
        let Some(reference) = reference else {
            return rev("HEAD").ok_or_else(|| {
                Error::new(format!(
                    "{} has no default branch (an empty repository?)",
                    self.url
                ))
                .hint("name a branch or tag with #REF or --ref")
            });
        };
        for candidate in [
            format!("refs/heads/{reference}"),
            format!("refs/tags/{reference}"),
            reference.to_string(),
        ] {
            if let Some(commit) = rev(&candidate) {
                return Ok(commit);
            }
        }
        let refs = self.refs(options);
        let mut closest: Vec<(usize, &String)> = refs
            .iter()
            .map(|r| {
                (
                    strsim::levenshtein(&r.to_ascii_lowercase(), &reference.to_ascii_lowercase()),
                    r,
                )
            })
            .collect();
        closest.sort();
        let named: Vec<&str> = closest.iter().take(3).map(|(_, r)| r.as_str()).collect();
        let hint = if named.is_empty() {
            "the repository has no branches or tags".to_string()
        } else {
            format!("closest refs: {}", named.join(", "))
        };
        Err(Error::new(format!(
            "{} has no branch, tag or commit `{reference}`",
            self.url
        ))
        .hint(hint))
    }

    /// Branch and tag names.
    pub fn refs(&self, options: &FetchOptions) -> Vec<String> {
        self.names(options, &["refs/heads", "refs/tags"])
    }

    /// Tag names only.
    pub fn tags(&self, options: &FetchOptions) -> Vec<String> {
        self.names(options, &["refs/tags"])
    }

    /// The short names of the refs below `prefixes`.
    fn names(&self, options: &FetchOptions, prefixes: &[&str]) -> Vec<String> {
        let env = GitEnv::new(&self.url, options);
        let mut args = vec!["for-each-ref", "--format=%(refname:short)"];
        args.extend(prefixes);
        run_git(&args, Some(&self.dir), &env, options, false)
            .map(|out| out.lines().map(str::to_string).collect())
            .unwrap_or_default()
    }

    /// `git describe --tags --always` of `commit`: the nearest tag, with the distance and
    /// the abbreviated commit when it is not tagged itself (`v1.2.0-3-gabc1234`), or the
    /// abbreviated commit alone without tags. copier records this as `_commit`.
    pub fn describe(&self, commit: &str, options: &FetchOptions) -> Option<String> {
        let env = GitEnv::new(&self.url, options);
        run_git(
            &["describe", "--tags", "--always", commit],
            Some(&self.dir),
            &env,
            options,
            false,
        )
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
    }

    /// Checks `commit` out into a fresh temporary folder; returns it with what a person
    /// should hear. Submodules are not fetched, as cookiecutter and copier's plain clone
    /// leave them: their folders are left out of the checkout, and named in a note.
    pub fn checkout(&self, commit: &str) -> Result<(tempfile::TempDir, Vec<String>)> {
        let dir = tempfile::Builder::new()
            .prefix("factory-git-")
            .tempdir()
            .map_err(|e| Error::new(format!("cannot create a temporary folder: {e}")))?;
        let fail = |e: git2::Error| {
            Error::new(format!(
                "cannot check out {} at {commit}: {}",
                self.url,
                e.message()
            ))
            .hint("`factory cache clean` removes the cached clone; the next run fetches it again")
        };
        let repo = git2::Repository::open_bare(&self.dir).map_err(fail)?;
        // The trees without submodules are built in memory: the cache is not written.
        let odb = repo.odb().map_err(fail)?;
        let _in_memory = odb.add_new_mempack_backend(1000).map_err(fail)?;
        let oid = git2::Oid::from_str(commit).map_err(fail)?;
        let tree = repo.find_commit(oid).and_then(|c| c.tree()).map_err(fail)?;
        let mut submodules = Vec::new();
        let tree = match without_submodules(&repo, &tree, "", &mut submodules).map_err(fail)? {
            Some(filtered) => repo.find_tree(filtered).map_err(fail)?,
            None => tree,
        };
        // libgit2's checkout refuses names that would leave the folder or alias `.git`.
        let mut checkout = git2::build::CheckoutBuilder::new();
        // The cached clone is bare: nothing reads an index of it, so none is written.
        checkout
            .target_dir(dir.path())
            .force()
            .recreate_missing(true)
            .update_index(false);
        repo.checkout_tree(tree.as_object(), Some(&mut checkout))
            .map_err(fail)?;
        let notes = if submodules.is_empty() {
            Vec::new()
        } else {
            vec![format!(
                "{} has submodules ({}): factory does not fetch them, as cookiecutter does not; a template needing their files must hold them",
                self.url,
                submodules.join(", ")
            )]
        };
        Ok((dir, notes))
    }
}

/// `tree` with its submodules (gitlink entries) taken out, at every depth, written to the
/// repository's object database; `None` when it has none. Their paths go to `found`.
fn without_submodules(
    repo: &git2::Repository,
    tree: &git2::Tree<'_>,
    prefix: &str,
    found: &mut Vec<String>,
) -> std::result::Result<Option<git2::Oid>, git2::Error> {
    let mut builder: Option<git2::TreeBuilder<'_>> = None;
    for entry in tree.iter() {
        let name = entry.name_bytes().to_vec();
        let path = format!("{prefix}{}", String::from_utf8_lossy(&name));
        match entry.kind() {
            Some(git2::ObjectType::Commit) => {
                found.push(path);
                let builder = match &mut builder {
                    Some(b) => b,
                    None => builder.insert(repo.treebuilder(Some(tree))?),
                };
                builder.remove(name)?;
            }
            Some(git2::ObjectType::Tree) => {
                let sub = repo.find_tree(entry.id())?;
                if let Some(filtered) = without_submodules(repo, &sub, &format!("{path}/"), found)?
                {
                    let builder = match &mut builder {
                        Some(b) => b,
                        None => builder.insert(repo.treebuilder(Some(tree))?),
                    };
                    builder.insert(name, filtered, entry.filemode())?;
                }
            }
            _ => {}
        }
    }
    builder.map(|b| b.write()).transpose()
}

/// One entry of the cache, for `factory cache list`.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CacheEntry {
    /// The URL (without credentials).
    pub url: String,
    /// The folder.
    pub path: PathBuf,
    /// Bytes on disk.
    pub bytes: u64,
}

/// Every cached repository.
pub fn list(cache_dir: &Path) -> Result<Vec<CacheEntry>> {
    let mut entries = Vec::new();
    let Ok(read) = fs::read_dir(cache_dir) else {
        return Ok(entries);
    };
    for entry in read.flatten() {
        let path = entry.path();
        let Ok(url) = fs::read_to_string(path.join(URL_FILE)) else {
            continue;
        };
        let bytes = walkdir::WalkDir::new(&path)
            .into_iter()
            .flatten()
            .filter_map(|e| e.metadata().ok())
            .filter(|m| m.is_file())
            .map(|m| m.len())
            .sum();
        entries.push(CacheEntry {
            url: url.trim().to_string(),
            path,
            bytes,
        });
    }
    entries.sort_by(|a, b| a.url.cmp(&b.url));
    Ok(entries)
}

/// Removes every cached repository, or those whose URL is `only`; returns what was removed.
pub fn clean(cache_dir: &Path, only: Option<&str>) -> Result<Vec<CacheEntry>> {
    let only = only.map(without_credentials);
    let mut removed = Vec::new();
    for entry in list(cache_dir)? {
        if only.as_deref().is_some_and(|u| u != entry.url) {
            continue;
        }
        let lock_path = entry.path.with_extension("lock");
        let _lock = lock_entry(&entry.path)?;
        // A link is removed itself, never what it points at.
        if fs::symlink_metadata(&entry.path).is_ok_and(|m| m.file_type().is_symlink()) {
            fs::remove_file(&entry.path)
        } else {
            fs::remove_dir_all(&entry.path)
        }
        .map_err(|e| Error::io("remove", &entry.path, e))?;
        let _ = fs::remove_file(&lock_path);
        removed.push(entry);
    }
    Ok(removed)
}

/// Pushes the commit at HEAD of the repository in `dir` to a new `branch` of `url` (a branch
/// that exists is refused by the server: the scaffold's commit has no parent), with the
/// credentials of `url` or of the hosting service as a fetch has them.
pub fn push_head(dir: &Path, url: &str, branch: &str, options: &FetchOptions) -> Result<()> {
    super::url::check_not_an_option(url)?;
    let clean = without_credentials(url);
    let env = GitEnv::new(url, options);
    let refspec = format!("HEAD:refs/heads/{branch}");
    run_git(
        &["push", "--quiet", "--", &clean, &refspec],
        Some(&dir.join(".git")),
        &env,
        options,
        false,
    )
    .map_err(|failed| explain(failed, url, "push to", options))?;
    Ok(())
}

/// Whether `name` is a branch name git takes (`git check-ref-format --branch`'s rules).
pub fn is_branch_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(['-', '/'])
        && !name.ends_with(['/', '.'])
        && !name.ends_with(".lock")
        && !name.contains("..")
        && !name.contains("//")
        && !name.contains("@{")
        && !name
            .chars()
            .any(|c| c.is_control() || " ~^:?*[\\".contains(c))
}
