//! Templates from where they live: `git daemon` (git://), smart HTTP over TLS (`git
//! http-backend` behind a server whose certificate comes from a test CA, Basic auth supplied
//! by a credential helper), and sshd with a key in an agent; each on loopback, started here.
//! Each scheme: generate, register + version, a ref, a subdirectory, the cache reused,
//! `--offline`; and the failure modes, with credentials asserted absent everywhere.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::tls::{free_port, test_ca, wait_for_port};
use common::{Env, Run};

/// A server process stopped when the test ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[track_caller]
fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@localhost")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@localhost")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A bare repository `NAME.git` below `root` holding a factory template at the root (tags
/// v1.0.0 and v1.1.0, then one more commit on main) and a copier template in `sub/`.
fn repository(root: &Path, name: &str) -> PathBuf {
    let work = root.join(format!("{name}-work"));
    std::fs::create_dir_all(work.join("sub")).unwrap();
    git(&work, &["init", "-q", "-b", "main"]);
    let manifest = |greeting: &str| {
        format!(
            "name: {name}\ncategory: service\nparameters:\n  - name: who\n    default: {greeting}\nfiles:\n  exclude: [\"sub/**\"]\n"
        )
    };
    std::fs::write(work.join("template.yaml"), manifest("one")).unwrap();
    std::fs::write(work.join("version.txt"), "one\n").unwrap();
    std::fs::write(work.join("hello.txt"), "hello {{ who }}\n").unwrap();
    std::fs::write(work.join("sub/copier.yml"), "project: sub\n").unwrap();
    std::fs::write(work.join("sub/README.md.jinja"), "# {{ project }}\n").unwrap();
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-qm", "one"]);
    git(&work, &["tag", "v1.0.0"]);
    std::fs::write(work.join("template.yaml"), manifest("two")).unwrap();
    std::fs::write(work.join("version.txt"), "two\n").unwrap();
    git(&work, &["commit", "-qam", "two"]);
    git(&work, &["tag", "v1.1.0"]);
    std::fs::write(work.join("template.yaml"), manifest("three")).unwrap();
    std::fs::write(work.join("version.txt"), "three\n").unwrap();
    git(&work, &["commit", "-qam", "three"]);
    let bare = root.join(format!("{name}.git"));
    git(
        root,
        &[
            "clone",
            "-q",
            "--bare",
            work.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
    bare
}

fn git_exec_path() -> PathBuf {
    let out = Command::new("git").arg("--exec-path").output().unwrap();
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

fn read(env: &Env, path: &str) -> String {
    std::fs::read_to_string(env.path(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every artefact a run leaves, for secret checks.
fn artefacts(env: &Env, runs: &[&Run]) -> String {
    let mut all = String::from_utf8_lossy(&env.log_bytes()).into_owned();
    for (_, bytes) in common::snapshot(env.dir.path()) {
        all.push_str(&String::from_utf8_lossy(&bytes));
    }
    for run in runs {
        all.push_str(&run.stdout);
        all.push_str(&run.stderr);
    }
    all
}

/// The flow every scheme must support, against `base` (a URL prefix for `up.git`).
fn every_use(env: &Env, base: &str) {
    let url = format!("{base}/up.git");
    // The default branch, then a tag, then a subfolder.
    env.run(&["generate", &url, "-o", "head", "--defaults"])
        .ok();
    assert_eq!(read(env, "head/hello.txt"), "hello three\n");
    env.run(&[
        "generate",
        &format!("{url}#v1.0.0"),
        "-o",
        "tagged",
        "--defaults",
    ])
    .ok();
    assert_eq!(read(env, "tagged/hello.txt"), "hello one\n");
    env.run(&[
        "generate",
        &url,
        "--ref",
        "v1.1.0",
        "-o",
        "flag",
        "--defaults",
    ])
    .ok();
    assert_eq!(read(env, "flag/hello.txt"), "hello two\n");
    let sub = env.run(&[
        "generate",
        &url,
        "--directory",
        "sub",
        "-o",
        "sub",
        "--defaults",
    ]);
    sub.ok();
    assert_eq!(read(env, "sub/README.md"), "# sub\n");
    // A copier template without a ref: the newest release tag, said so.
    assert!(sub.stderr.contains("using tag v1.1.0"), "{}", sub.stderr);
    assert!(sub.stdout.contains("#v1.1.0"), "{}", sub.stdout);
    // The cache is reused: a second run from the same URL brings no new pack into it.
    let packs = || -> usize {
        walkdir(&env.path(".cache/factory/git"))
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "pack"))
            .count()
    };
    let before = packs();
    assert!(before > 0, "the clone came as a pack");
    env.run(&["generate", &url, "-o", "head-again", "--defaults"])
        .ok();
    assert_eq!(
        packs(),
        before,
        "an unchanged repository brings no new pack"
    );
    // Offline, the cache serves what was fetched, and says so.
    let offline = env.run(&[
        "generate",
        &format!("{url}#v1.0.0"),
        "-o",
        "cached",
        "--defaults",
        "--offline",
    ]);
    offline.ok();
    assert!(offline.stderr.contains("(--offline)"), "{}", offline.stderr);
    assert_eq!(read(env, "cached/hello.txt"), "hello one\n");
    // The commit used is recorded, without credentials.
    let scaffold = read(env, "tagged/.factory/scaffold.yaml");
    assert!(scaffold.contains("kind: git"), "{scaffold}");
    assert!(scaffold.contains("commit: "), "{scaffold}");
    // register + version from the repository; version fetches it again.
    env.run(&["register", &format!("{url}#v1.0.0")]).ok();
    env.run(&["version", "up", "--version", "1.0.0"]).ok();
    env.run(&["version", "up", "--version", "1.1.0", "--ref", "v1.1.0"])
        .ok();
    let versions: Vec<_> = env
        .events()
        .into_iter()
        .filter(|e| e["eventType"] == "TemplateVersionCreated")
        .collect();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0]["payload"]["sourceRef"]["kind"], "git");
    assert_ne!(
        versions[0]["payload"]["sourceRef"]["commit"],
        versions[1]["payload"]["sourceRef"]["commit"]
    );
}

/// `git daemon` serving every repository below `served`; the server and its port.
fn git_daemon(served: &Path) -> (Server, u16) {
    let port = free_port();
    let daemon = Server(
        // git-daemon itself: `git daemon` would run it as a child that outlives a kill.
        Command::new(git_exec_path().join("git-daemon"))
            .args([
                "--reuseaddr",
                "--export-all",
                "--listen=127.0.0.1",
                &format!("--port={port}"),
                &format!("--base-path={}", served.display()),
                served.to_str().unwrap(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("git daemon starts"),
    );
    wait_for_port(port);
    (daemon, port)
}

#[test]
fn git_daemon_serves_every_use_and_the_cache_works_offline() {
    let env = Env::new();
    let served = env.path("served");
    std::fs::create_dir_all(&served).unwrap();
    repository(&served, "up");
    let (daemon, port) = git_daemon(&served);
    let base = format!("git://127.0.0.1:{port}");
    every_use(&env, &base);
    // A project generated from the repository upgrades from it: the recorded commit is the
    // base, the new ref is theirs, local edits stay.
    std::fs::write(env.path("tagged/mine.txt"), "my own file\n").unwrap();
    let plan = env.run(&["upgrade", "tagged", "--to", "v1.1.0"]);
    plan.ok();
    assert!(plan.stdout.contains("version.txt"), "{}", plan.stdout);
    env.run(&["upgrade", "tagged", "--to", "v1.1.0", "--apply"])
        .ok();
    assert_eq!(read(&env, "tagged/version.txt"), "two\n");
    // The recorded answers stand (a default that changed does not move them).
    assert_eq!(read(&env, "tagged/hello.txt"), "hello one\n");
    assert_eq!(read(&env, "tagged/mine.txt"), "my own file\n");
    env.run(&["verify", "tagged"]).expect_code(3); // mine.txt is yours, not the template's
    env.run(&["upgrade", "tagged", "--apply"]).ok();
    assert_eq!(read(&env, "tagged/version.txt"), "three\n");
    let scaffold = read(&env, "tagged/.factory/scaffold.yaml");
    assert!(scaffold.contains("kind: git"), "{scaffold}");
    // Two runs from one URL at once take turns on the cache; both succeed.
    env.run(&["cache", "clean"]).ok();
    let url = format!("{base}/up.git");
    let racers: Vec<_> = ["race1", "race2"]
        .iter()
        .map(|out| {
            env.command(&["generate", &url, "-o", out, "--defaults"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for racer in racers {
        let out = racer.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(read(&env, "race1/hello.txt"), read(&env, "race2/hello.txt"));
    // A damaged cache entry is found, said, and cloned again.
    let entry = std::fs::read_dir(env.path(".cache/factory/git"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.is_dir())
        .unwrap();
    std::fs::remove_file(entry.join("HEAD")).unwrap();
    let healed = env.run(&["generate", &url, "-o", "healed", "--defaults"]);
    healed.ok();
    assert!(
        healed.stderr.contains("was damaged; cloning it again"),
        "{}",
        healed.stderr
    );
    // The cache: listed, and enough to work with the daemon gone, with --offline.
    let listed = env.run(&["cache", "list"]);
    listed.ok();
    assert!(
        listed.stdout.contains(&format!("{base}/up.git")),
        "{}",
        listed.stdout
    );
    drop(daemon);
    let offline = env.run(&[
        "generate",
        &format!("{base}/up.git#v1.1.0"),
        "-o",
        "offline",
        "--defaults",
        "--offline",
    ]);
    offline.ok();
    assert!(offline.stderr.contains("--offline"), "{}", offline.stderr);
    assert_eq!(read(&env, "offline/hello.txt"), "hello two\n");
    // A repository never fetched is a clear miss offline, and an unreachable one names its host.
    let miss = env.run(&[
        "generate",
        &format!("{base}/other.git"),
        "-o",
        "x",
        "--offline",
    ]);
    miss.expect_code(1);
    assert!(
        miss.stderr.contains("is not in the cache, and --offline"),
        "{}",
        miss.stderr
    );
    let gone = env.run(&[
        "generate",
        &format!("{base}/up.git"),
        "-o",
        "x",
        "--defaults",
    ]);
    gone.expect_code(1);
    assert!(
        gone.stderr
            .contains(&format!("cannot reach 127.0.0.1:{port}")),
        "{}",
        gone.stderr
    );
    assert!(!env.path("x").exists());
}

/// The HTTPS server with Basic auth `user`/`password`; returns it and its port.
fn https_server(env: &Env, served: &Path, user: &str, password: &str) -> (Server, u16) {
    let (ca, cert, key) = test_ca();
    std::fs::write(env.path("ca.pem"), ca).unwrap();
    std::fs::write(env.path("cert.pem"), cert).unwrap();
    std::fs::write(env.path("key.pem"), key).unwrap();
    let port_file = env.path("https.port");
    let server = Server(
        Command::new("python3")
            .arg(common::repo().join("scripts/git-https-server.py"))
            .args(["--root", served.to_str().unwrap()])
            .args(["--cert", env.path("cert.pem").to_str().unwrap()])
            .args(["--key", env.path("key.pem").to_str().unwrap()])
            .args(["--user", user, "--password", password])
            .args(["--port-file", port_file.to_str().unwrap()])
            .args(["--log", env.path("https.log").to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 starts the HTTPS server"),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let port = loop {
        if let Ok(text) = std::fs::read_to_string(&port_file) {
            break text.trim().parse::<u16>().unwrap();
        }
        assert!(Instant::now() < deadline, "the HTTPS server did not start");
        std::thread::sleep(Duration::from_millis(50));
    };
    wait_for_port(port);
    (server, port)
}

/// Bytes the HTTPS server sent in answers to fetches (`git-upload-pack` POSTs).
fn pack_bytes(env: &Env) -> u64 {
    std::fs::read_to_string(env.path("https.log"))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("POST") && l.contains("git-upload-pack"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

#[test]
fn https_with_a_test_ca_a_credential_helper_and_an_abbreviation() {
    let mut env = Env::new();
    let served = env.path("served");
    std::fs::create_dir_all(served.join("team")).unwrap();
    repository(&served, "up");
    repository(&served.join("team"), "api");
    let secret = "s3cret-Pa55";
    let (_server, port) = https_server(&env, &served, "alice", secret);
    let base = format!("https://127.0.0.1:{port}");
    // Not trusted yet: a TLS error that says what to do.
    let untrusted = env.run(&[
        "generate",
        &format!("{base}/up.git"),
        "-o",
        "x",
        "--defaults",
    ]);
    untrusted.expect_code(1);
    assert!(untrusted.stderr.contains("TLS"), "{}", untrusted.stderr);
    assert!(
        untrusted.stderr.contains("SSL_CERT_FILE"),
        "{}",
        untrusted.stderr
    );
    env.set_env("SSL_CERT_FILE", env.path("ca.pem").to_str().unwrap());
    // No credentials: refused, naming what was tried.
    let refused = env.run(&[
        "generate",
        &format!("{base}/up.git"),
        "-o",
        "x",
        "--defaults",
    ]);
    refused.expect_code(1);
    assert!(
        refused.stderr.contains("refused the credentials"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("credential helpers"),
        "{}",
        refused.stderr
    );
    // A credential helper (git's `store`) supplies them, as it would for git itself.
    std::fs::write(
        env.path(".git-credentials"),
        format!("https://alice:{secret}@127.0.0.1:{port}\n"),
    )
    .unwrap();
    std::fs::write(env.path(".gitconfig"), "[credential]\n\thelper = store\n").unwrap();
    every_use(&env, &base);
    // The cache is reused: a second generate at a commit already fetched sends no pack, and
    // a fetch of an unchanged branch sends next to nothing.
    let before = pack_bytes(&env);
    assert!(before > 0);
    let commit = std::fs::read_to_string(env.path("head/.factory/scaffold.yaml"))
        .unwrap()
        .lines()
        .find_map(|l| l.trim().strip_prefix("commit: ").map(str::to_string))
        .unwrap();
    env.run(&[
        "generate",
        &format!("{base}/up.git#{commit}"),
        "-o",
        "pinned",
        "--defaults",
    ])
    .ok();
    assert_eq!(
        pack_bytes(&env),
        before,
        "a pinned commit in the cache fetches nothing"
    );
    env.run(&[
        "generate",
        &format!("{base}/up.git"),
        "-o",
        "again",
        "--defaults",
    ])
    .ok();
    assert!(
        pack_bytes(&env) - before < 2_000,
        "an unchanged repository sends no pack again ({} bytes)",
        pack_bytes(&env) - before
    );
    // A user-defined abbreviation pointing at the server.
    std::fs::create_dir_all(env.path(".config/factory")).unwrap();
    std::fs::write(
        env.path(".config/factory/config.yaml"),
        format!("abbreviations:\n  corp: \"{base}/{{0}}.git\"\n"),
    )
    .unwrap();
    env.run(&[
        "generate",
        "corp:team/api",
        "-o",
        "abbreviated",
        "--defaults",
    ])
    .ok();
    assert_eq!(read(&env, "abbreviated/hello.txt"), "hello three\n");
    // Failure modes: a ref that is not there (with the closest), a repository without a
    // template, a missing subfolder, a host nobody listens on.
    let no_ref = env.run(&["generate", &format!("{base}/up.git#v1.2.0"), "-o", "x"]);
    no_ref.expect_code(1);
    assert!(
        no_ref.stderr.contains("no branch, tag or commit `v1.2.0`"),
        "{}",
        no_ref.stderr
    );
    assert!(
        no_ref.stderr.contains("closest refs: v1.0.0"),
        "{}",
        no_ref.stderr
    );
    let no_dir = env.run(&[
        "generate",
        &format!("{base}/up.git"),
        "--directory",
        "nope",
        "-o",
        "x",
    ]);
    no_dir.expect_code(1);
    assert!(
        no_dir.stderr.contains("has no folder `nope`"),
        "{}",
        no_dir.stderr
    );
    git(
        &served,
        &["init", "-q", "--bare", "-b", "main", "empty.git"],
    );
    let plain = env.path("plain");
    std::fs::create_dir_all(&plain).unwrap();
    git(&plain, &["init", "-q", "-b", "main"]);
    std::fs::write(plain.join("README.md"), "no template\n").unwrap();
    git(&plain, &["add", "-A"]);
    git(&plain, &["commit", "-qm", "x"]);
    git(
        &plain,
        &[
            "push",
            "-q",
            served.join("empty.git").to_str().unwrap(),
            "main",
        ],
    );
    let no_template = env.run(&["generate", &format!("{base}/empty.git"), "-o", "x"]);
    no_template.expect_code(1);
    assert!(
        no_template
            .stderr
            .contains("holds no template: looked for template.yaml, cookiecutter.json"),
        "{}",
        no_template.stderr
    );
    let closed = free_port();
    let unreachable = env.run(&[
        "generate",
        &format!("https://127.0.0.1:{closed}/up.git"),
        "-o",
        "x",
    ]);
    unreachable.expect_code(1);
    assert!(
        unreachable
            .stderr
            .contains(&format!("cannot reach 127.0.0.1:{closed}")),
        "{}",
        unreachable.stderr
    );
    assert!(!env.path("x").exists());
    // Credentials in the URL work and are recorded nowhere.
    std::fs::remove_file(env.path(".git-credentials")).unwrap();
    let with_secret = format!("https://alice:{secret}@127.0.0.1:{port}/up.git");
    let inline = env.run(&["generate", &with_secret, "-o", "inline", "--defaults"]);
    inline.ok();
    let registered = env.run(&["register", &with_secret, "--name", "up-inline"]);
    registered.ok();
    let everything = artefacts(
        &env,
        &[
            &untrusted,
            &refused,
            &inline,
            &registered,
            &no_ref,
            &no_dir,
            &no_template,
        ],
    );
    let cache = artefacts_of_cache(&env);
    assert!(
        !everything.contains(secret),
        "the password reached an artefact"
    );
    assert!(
        !cache.contains(secret),
        "the password reached the clone cache"
    );
}

/// Every text file of the clone cache.
fn artefacts_of_cache(env: &Env) -> String {
    let mut all = String::new();
    for entry in walkdir(&env.path(".cache")) {
        if let Ok(text) = std::fs::read_to_string(&entry) {
            all.push_str(&text);
        }
    }
    all
}

fn walkdir(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walkdir(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Runs a program to completion, asserting success; its stdout.
#[track_caller]
fn run_ok(command: &mut Command) -> String {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
#[ignore = "needs sshd (Debian's openssh-server): run scripts/sshd-install"]
fn ssh_with_a_key_in_an_agent_and_known_hosts() {
    let mut env = Env::new();
    let served = env.path("served");
    std::fs::create_dir_all(&served).unwrap();
    repository(&served, "up");
    let ssh = env.path("ssh");
    std::fs::create_dir_all(&ssh).unwrap();
    for (file, kind) in [("host_key", "ed25519"), ("user_key", "ed25519")] {
        run_ok(
            Command::new("ssh-keygen")
                .args(["-q", "-t", kind, "-N", "", "-f"])
                .arg(ssh.join(file)),
        );
    }
    std::fs::copy(ssh.join("user_key.pub"), ssh.join("authorized_keys")).unwrap();
    let port = free_port();
    let user = String::from_utf8(Command::new("id").arg("-un").output().unwrap().stdout)
        .unwrap()
        .trim()
        .to_string();
    std::fs::write(
        ssh.join("sshd_config"),
        format!(
            "ListenAddress 127.0.0.1\nPort {port}\nHostKey {host}\nAuthorizedKeysFile {keys}\n\
             StrictModes no\nUsePAM no\nPasswordAuthentication no\nPermitRootLogin prohibit-password\n\
             PidFile {pid}\nSetEnv PATH=/usr/local/bin:/usr/bin:/bin\n",
            host = ssh.join("host_key").display(),
            keys = ssh.join("authorized_keys").display(),
            pid = ssh.join("sshd.pid").display(),
        ),
    )
    .unwrap();
    std::fs::create_dir_all("/run/sshd").ok();
    let _sshd = Server(
        Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(ssh.join("sshd_config"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("sshd starts"),
    );
    wait_for_port(port);
    // The key lives in an agent, as a user's would.
    let agent_socket = ssh.join("agent.sock");
    let _agent = Server(
        Command::new("ssh-agent")
            .args(["-D", "-a"])
            .arg(&agent_socket)
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !agent_socket.exists() {
        assert!(Instant::now() < deadline, "ssh-agent did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    run_ok(
        Command::new("ssh-add")
            .arg(ssh.join("user_key"))
            .env("SSH_AUTH_SOCK", &agent_socket),
    );
    env.set_env("SSH_AUTH_SOCK", agent_socket.to_str().unwrap());
    // The user's ssh settings, as ~/.ssh/config would hold them (ssh reads ~ from the
    // password database, not HOME, so the test names its own files).
    let known_hosts = ssh.join("known_hosts");
    std::fs::write(
        ssh.join("config"),
        format!(
            "Host templates\n  HostName 127.0.0.1\n  Port {port}\n  HostKeyAlias [127.0.0.1]:{port}\n\
             Host *\n  UserKnownHostsFile {}\n  StrictHostKeyChecking yes\n  BatchMode yes\n",
            known_hosts.display()
        ),
    )
    .unwrap();
    env.set_env(
        "GIT_SSH_COMMAND",
        &format!("ssh -F {}", ssh.join("config").display()),
    );
    let base = format!("ssh://{user}@127.0.0.1:{port}{}", served.display());
    // An unknown host key is refused, with its fingerprint and what to do.
    let unknown = env.run(&[
        "generate",
        &format!("{base}/up.git"),
        "-o",
        "x",
        "--defaults",
    ]);
    unknown.expect_code(1);
    assert!(
        unknown.stderr.contains("is not in known_hosts"),
        "{}",
        unknown.stderr
    );
    assert!(unknown.stderr.contains("SHA256:"), "{}", unknown.stderr);
    assert!(
        unknown.stderr.contains("ssh-keyscan -p"),
        "{}",
        unknown.stderr
    );
    assert!(!env.path("x").exists());
    let scanned = run_ok(Command::new("ssh-keyscan").args(["-p", &port.to_string(), "127.0.0.1"]));
    std::fs::write(&known_hosts, scanned).unwrap();
    every_use(&env, &base);
    // scp-like syntax (`user@host:path`, the port from the ssh config's host alias).
    let scp = format!("{user}@templates:{}/up.git#v1.0.0", served.display());
    env.run(&["generate", &scp, "-o", "scp", "--defaults"]).ok();
    assert_eq!(read(&env, "scp/hello.txt"), "hello one\n");
    let validated = env.run(&["validate", &scp]);
    validated.ok();
    assert!(validated.stdout.contains("checks:"), "{}", validated.stdout);
}

/// A bare repository `NAME.git` below `root` from a work tree made by `fill`.
fn bare_from(root: &Path, name: &str, fill: &dyn Fn(&Path)) -> PathBuf {
    let work = root.join(format!("{name}-work"));
    std::fs::create_dir_all(&work).unwrap();
    git(&work, &["init", "-q", "-b", "main"]);
    fill(&work);
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-qm", name]);
    let bare = root.join(format!("{name}.git"));
    git(
        root,
        &[
            "clone",
            "-q",
            "--bare",
            work.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
    bare
}

/// The cache entry folders (not the lock files).
fn cache_entries(env: &Env) -> Vec<PathBuf> {
    std::fs::read_dir(env.path(".cache/factory/git"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_none())
        .collect()
}

#[test]
fn a_cache_entry_replaced_by_a_link_is_cloned_again_never_followed() {
    let env = Env::new();
    let served = env.path("served");
    std::fs::create_dir_all(&served).unwrap();
    repository(&served, "up");
    // Another repository, outside what the daemon serves: what the link points at.
    let other = bare_from(&env.path("elsewhere"), "other", &|work| {
        std::fs::write(
            work.join("template.yaml"),
            "name: other\ncategory: service\n",
        )
        .unwrap();
        std::fs::write(work.join("hello.txt"), "from the other repository\n").unwrap();
    });
    let (_daemon, port) = git_daemon(&served);
    let url = format!("git://127.0.0.1:{port}/up.git");
    env.run(&["generate", &url, "-o", "first", "--defaults"])
        .ok();
    let entry = cache_entries(&env).pop().unwrap();
    std::fs::remove_dir_all(&entry).unwrap();
    std::os::unix::fs::symlink(&other, &entry).unwrap();
    let other_before = common::snapshot(&other);
    // Offline, a link cannot be replaced: refused, nothing rendered from it.
    let offline = env.run(&["generate", &url, "-o", "offline", "--defaults", "--offline"]);
    offline.expect_code(1);
    assert!(
        offline.stderr.contains(&format!(
            "is a symlink to {}; factory does not follow links in its cache",
            other.display()
        )),
        "{}",
        offline.stderr
    );
    assert!(!env.path("offline").exists());
    // Online: the link is removed (not what it points at) and the URL cloned again.
    let healed = env.run(&["generate", &url, "-o", "healed", "--defaults"]);
    healed.ok();
    assert!(
        healed
            .stderr
            .contains("which factory does not follow; cloning it again"),
        "{}",
        healed.stderr
    );
    assert_eq!(read(&env, "healed/hello.txt"), "hello three\n");
    let scaffold = read(&env, "healed/.factory/scaffold.yaml");
    assert!(scaffold.contains(&url), "{scaffold}");
    assert!(
        !std::fs::symlink_metadata(&entry)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    // git never ran in the other repository: no fetch wrote into it.
    assert_eq!(other_before, common::snapshot(&other));
    assert!(!other.join("FETCH_HEAD").exists());
}

#[test]
fn submodules_are_left_out_with_a_note_as_cookiecutter_does() {
    let env = Env::new();
    let served = env.path("served");
    std::fs::create_dir_all(&served).unwrap();
    let lib = bare_from(&served, "lib", &|work| {
        std::fs::write(work.join("lib.txt"), "lib\n").unwrap();
    });
    let subbed = bare_from(&served, "subbed", &|work| {
        std::fs::write(
            work.join("template.yaml"),
            "name: subbed\ncategory: service\n",
        )
        .unwrap();
        std::fs::write(work.join("a.txt"), "a\n").unwrap();
        git(
            work,
            &[
                "-c",
                "protocol.file.allow=always",
                "submodule",
                "-q",
                "add",
                lib.to_str().unwrap(),
                "vendor/lib",
            ],
        );
    });
    let (_daemon, port) = git_daemon(&served);
    let url = format!("git://127.0.0.1:{port}/subbed.git");
    let out = env.run(&["generate", &url, "-o", "out", "--defaults"]);
    out.ok();
    assert!(
        out.stderr
            .contains("has submodules (vendor/lib): factory does not fetch them"),
        "{}",
        out.stderr
    );
    assert_eq!(read(&env, "out/a.txt"), "a\n");
    assert!(!env.path("out/vendor").exists());
    // The trees without the submodule were built in memory: nothing loose in the cache.
    let loose: Vec<_> = walkdir(&cache_entries(&env)[0].join("objects"))
        .into_iter()
        .filter(|p| {
            p.parent()
                .is_some_and(|d| d.file_name().unwrap().len() == 2)
        })
        .collect();
    assert!(loose.is_empty(), "{loose:?}");
    // register and version take it too.
    env.run(&["register", &url]).ok();
    env.run(&["version", "subbed", "--version", "1.0.0"]).ok();
    drop(subbed);
}

#[test]
fn urls_git_would_read_as_options_are_refused_and_ssh_users_are_no_secret() {
    let env = Env::new();
    let marker = env.path("ran");
    for url in [
        format!("-oProxyCommand=touch {}@h:x", "ran"),
        "--upload-pack=touch ran@h:x".to_string(),
        "ssh://-oProxyCommand=touch ran/x".to_string(),
    ] {
        let out = env.run(&["generate", "--defaults", "-o", "out", "--", &url]);
        assert_ne!(out.code, 0, "{url}");
        assert!(!marker.exists(), "{url}: something ran");
        assert!(!env.path("out").exists());
        if url.starts_with("ssh://") {
            assert!(
                out.stderr.contains("git would read it as an option"),
                "{url}: {}",
                out.stderr
            );
        }
    }
    let scp_like = env.run(&[
        "generate",
        "--defaults",
        "-o",
        "out",
        "--",
        "-oProxyCommand=id@h:x",
    ]);
    scp_like.expect_code(2);
    assert!(
        scp_like.stderr.contains(
            "`-oProxyCommand=id@h:x` is not a repository URL: git would read it as an option"
        ),
        "{}",
        scp_like.stderr
    );
    assert!(!env.path(".cache/factory/git").exists() || cache_entries(&env).is_empty());
    // An ssh user is the account, not a secret: messages name it, and it reaches git.
    let port = free_port();
    let url = format!("ssh://git@127.0.0.1:{port}/srv/t.git");
    let out = env.run(&["generate", &url, "-o", "x", "--defaults"]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains(&format!("cannot reach 127.0.0.1:{port} for {url}")),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("***"), "{}", out.stderr);
}

#[test]
fn a_copier_repository_is_named_after_its_url() {
    let env = Env::new();
    let served = env.path("served");
    std::fs::create_dir_all(&served).unwrap();
    bare_from(&served, "cp-names", &|work| {
        std::fs::write(work.join("copier.yml"), "project: x\n").unwrap();
        std::fs::write(work.join("README.md.jinja"), "# {{ project }}\n").unwrap();
    });
    let (_daemon, port) = git_daemon(&served);
    let url = format!("git://127.0.0.1:{port}/cp-names.git");
    let registered = env.run(&["register", &url]);
    registered.ok();
    assert!(
        registered.stdout.contains("cp-names"),
        "{}",
        registered.stdout
    );
    assert!(
        !registered.stdout.contains("factory-git-"),
        "{}",
        registered.stdout
    );
    let events = env.events();
    assert_eq!(events[0]["payload"]["name"], "cp-names", "{:?}", events[0]);
}

/// A tag moved or deleted upstream (a repository made anew at the same place, a tag pushed
/// again with --force): the cached clone takes the repository's tags as they are now, as a
/// fresh clone (copier's, cookiecutter's) would. git refuses to "clobber" a tag on fetch
/// without --force, and used to fail the fetch without a word.
#[test]
fn tags_moved_or_deleted_upstream_are_taken_as_they_are_now() {
    let env = Env::with_git_author();
    let repo = env.path("repo");
    let make = |text: &str, tags: &[&str]| {
        let _ = std::fs::remove_dir_all(&repo);
        common::write_files(
            &repo,
            &[
                ("copier.yml", Some("name:\n  type: str\n  default: x\n")),
                ("a.txt.jinja", Some(&format!("{text} {{{{ name }}}}\n"))),
            ],
        );
        env.git(&repo, &["init", "-q", "-b", "main"]);
        env.git(&repo, &["add", "-A"]);
        env.git(&repo, &["commit", "-qm", text]);
        for tag in tags {
            env.git(&repo, &["tag", tag]);
        }
    };
    let url = format!("file://{}", repo.display());
    let read = |out: &str| std::fs::read_to_string(env.path(out).join("a.txt")).unwrap();
    make("first", &["v1.0.0", "v0.9.0"]);
    env.run(&["generate", &url, "-o", "one", "--defaults", "--quiet"])
        .ok();
    assert_eq!(read("one"), "first x\n");
    make("second", &["v1.0.0"]);
    env.run(&["generate", &url, "-o", "two", "--defaults", "--quiet"])
        .ok();
    assert_eq!(read("two"), "second x\n");
    let gone = env.run(&[
        "generate",
        &url,
        "--ref",
        "v0.9.0",
        "-o",
        "three",
        "--defaults",
    ]);
    gone.expect_code(1);
    assert!(
        gone.stderr
            .contains("has no branch, tag or commit `v0.9.0`"),
        "{}",
        gone.stderr
    );
    assert!(!env.path("three").exists());
}
