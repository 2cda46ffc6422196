//! Templates shared through a real OCI registry (CNCF Distribution from Debian's
//! `docker-registry`, on loopback with TLS from a test CA): two stores play two machines.
//! Publish, pull, generate from the remote, search, the artifact read back with curl, both
//! auth schemes (htpasswd Basic; Bearer tokens from a token service served here), and the
//! failure modes, with the secrets asserted absent everywhere. Hostile artifacts (records
//! that claim other templates, sizes that wrap around, trees that climb out) come from a
//! fake registry the test serves itself (`common::fake_registry`): those tests need nothing
//! installed.

mod common;

use std::path::Path;

use common::fake_registry::FakeRegistry;
use common::registry::{Auth, Realm, Registry};
use common::{Env, Run};
use serde_json::Value;

const USER: &str = "alice";
const PASSWORD: &str = "reg-pass-7c1e9a";
const NAME: &str = "Acme.Shared";

/// A template of `files` files (each renders the answer) and a manifest.
fn write_template(dir: &Path, files: usize, variant: &str) {
    let manifest = "name: Acme.Shared\ntitle: Shared service\ndescription: A template shared through a registry\ncategory: service\ntags: [shared, test]\nparameters:\n  - name: service_name\n    type: string\n    default: orders\n";
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("template.yaml"), manifest).unwrap();
    for i in 0..files {
        std::fs::write(
            dir.join(format!("src/file{i:04}.txt")),
            format!(
                "{{{{ service_name }}}} file {i} {variant}\n{}\n",
                "x".repeat(200)
            ),
        )
        .unwrap();
    }
}

/// A store logged in to the registry, with it as the default remote `shared`.
fn store_for(registry: &Registry) -> Env {
    let env = store_at(registry, &registry.host);
    let run = login(&env, &registry.host, PASSWORD);
    run.ok();
    assert!(run.stdout.contains("Login Succeeded"), "{}", run.stdout);
    env
}

/// `factory login HOST --username alice --password-stdin` with `password` on stdin.
fn login(env: &Env, host: &str, password: &str) -> Run {
    env.command(&["login", host, "--username", USER, "--password-stdin"])
        .stdin(std::fs::File::open(write_file(env, "password", &format!("{password}\n"))).unwrap())
        .output()
        .unwrap()
        .into()
}

/// Registers, versions and validates `dir` as `version` (publish is the caller's).
fn prepare_version(env: &Env, dir: &Path, version: &str) {
    if env.run(&["show", NAME]).code != 0 {
        env.run(&["register", dir.to_str().unwrap()]).ok();
    }
    env.run(&[
        "version",
        NAME,
        "--from",
        dir.to_str().unwrap(),
        "--version",
        version,
    ])
    .ok();
    env.run(&["validate", &format!("{NAME}@{version}")]).ok();
}

fn publish(env: &Env, version: &str) -> (Run, Value) {
    let run = env.run(&["publish", &format!("{NAME}@{version}"), "--json"]);
    run.ok();
    let json = run.json();
    (run, json)
}

/// Everything a secret could reach: outputs, the store, the docker config aside.
fn assert_no_secret(env: &Env, runs: &[&Run]) {
    for run in runs {
        assert!(
            !run.stdout.contains(PASSWORD) && !run.stderr.contains(PASSWORD),
            "{run:?}"
        );
    }
    for (path, bytes) in env.store_snapshot() {
        assert!(
            !String::from_utf8_lossy(&bytes).contains(PASSWORD),
            "{} holds the password",
            path.display()
        );
    }
}

#[test]
#[ignore = "needs docker-registry: run scripts/registry-install"]
fn two_stores_share_versions_through_a_registry_and_only_changed_blobs_travel() {
    let registry = Registry::start(Auth::Basic(USER, PASSWORD));
    let a = store_for(&registry);
    let template = a.path("tpl");
    write_template(&template, 40, "one");
    prepare_version(&a, &template, "1.0.0");
    let (first_run, first) = publish(&a, "1.0.0");
    let pushed = &first["pushed"];
    assert_eq!(first["published"], true);
    assert_eq!(
        pushed["blobCount"], 43,
        "40 files, the manifest file, the tree, the record: {first}"
    );
    assert_eq!(pushed["blobsUploaded"], 43);
    // 1.1.0: ten files change; only their blobs, the tree and the record are sent.
    for i in 0..10 {
        std::fs::write(
            template.join(format!("src/file{i:04}.txt")),
            format!("changed {i}\n"),
        )
        .unwrap();
    }
    prepare_version(&a, &template, "1.1.0");
    let repo_uploads = |r: &Registry| r.count("PUT", "/v2/factory/acme.shared/blobs/uploads/", 201);
    let before = repo_uploads(&registry);
    let (second_run, second) = publish(&a, "1.1.0");
    assert_eq!(second["pushed"]["blobsUploaded"], 12, "{second}");
    // The registry saw exactly those, plus the publication record's events.
    assert_eq!(repo_uploads(&registry) - before, 13);
    // The same content again: a no-op that sends no blob.
    let before = repo_uploads(&registry);
    let (again_run, again) = publish(&a, "1.1.0");
    assert_eq!(again["published"], false);
    assert_eq!(again["pushed"]["alreadyThere"], true);
    assert_eq!(again["pushed"]["blobsUploaded"], 0);
    assert_eq!(repo_uploads(&registry), before);

    // TemplatePublished names the artifact.
    let published: Vec<Value> = a
        .events()
        .into_iter()
        .filter(|e| e["eventType"] == "TemplatePublished")
        .collect();
    let artifact = published[1]["payload"]["artifact"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        artifact.starts_with(&format!(
            "oci://{}/factory/acme.shared@sha256:",
            registry.host
        )),
        "{artifact}"
    );
    assert_eq!(artifact, second["pushed"]["artifact"].as_str().unwrap());

    // Store B, a fresh machine: generate pulls the newest published version.
    let b = store_for(&registry);
    let generated_b = b.run(&["generate", NAME, "-o", "out", "--defaults", "--json"]);
    generated_b.ok();
    let pulled_versions: Vec<Value> = b
        .events()
        .into_iter()
        .filter(|e| e["eventType"] == "TemplatePublished")
        .map(|e| e["payload"]["version"].clone())
        .collect();
    assert_eq!(
        pulled_versions,
        ["1.1.0"],
        "generate pulled the newest published version"
    );
    let generated_a = a.run(&["generate", NAME, "-o", "out", "--defaults", "--json"]);
    generated_a.ok();
    assert_eq!(
        generated_a.json()["contentHash"],
        generated_b.json()["contentHash"]
    );
    let shown_a = a.run(&["show", &format!("{NAME}@1.1.0"), "--json"]).json();
    let shown_b = b.run(&["show", &format!("{NAME}@1.1.0"), "--json"]).json();
    assert_eq!(shown_a["contentHash"], shown_b["contentHash"]);
    assert_eq!(shown_b["status"], "Published");

    // The pulled events are the publisher's, ids and all.
    let ids = |env: &Env| -> Vec<String> {
        env.events()
            .iter()
            .filter(|e| {
                e["eventType"] != "TemplateExecutionRequested"
                    && e["eventType"] != "ScaffoldGenerated"
                    && e["eventType"] != "TemplateExecuted"
                    && e["eventType"] != "CompatibilityEvaluated"
            })
            .map(|e| e["eventId"].as_str().unwrap().to_string())
            .collect()
    };
    let b_ids = ids(&b);
    assert!(b_ids.iter().all(|id| ids(&a).contains(id)), "{b_ids:?}");

    // search lists both versions; pull twice adds nothing the second time.
    let search = b.run(&["search", "shared", "--json"]);
    search.ok();
    let found = &search.json()["templates"][0];
    assert_eq!(found["name"], NAME);
    assert_eq!(found["versions"], serde_json::json!(["1.0.0", "1.1.0"]));
    assert_eq!(found["title"], "Shared service");
    let pulled = b.run(&["pull", &format!("shared/{NAME}@1.0.0"), "--json"]);
    pulled.ok();
    // The template is known from 1.1.0: its version, schema, validation and publication.
    assert_eq!(
        pulled.json()["events"].as_array().unwrap().len(),
        4,
        "{}",
        pulled.stdout
    );
    assert_eq!(
        pulled.json()["blobsFetched"],
        10,
        "the 30 unchanged files are here already"
    );
    let log = b.log_bytes();
    let twice = b.run(&["pull", &format!("shared/{NAME}@1.0.0"), "--json"]);
    twice.ok();
    assert_eq!(twice.json()["events"], serde_json::json!([]));
    assert_eq!(b.log_bytes(), log, "a second pull appends nothing");
    for env in [&a, &b] {
        env.run(&["store", "check"]).ok();
    }
    assert_no_secret(&a, &[&first_run, &second_run, &again_run, &generated_a]);
    assert_no_secret(&b, &[&generated_b, &search, &pulled, &twice]);

    // What a plain HTTP client reads back matches docs/registry.md.
    let manifest_media = "application/vnd.oci.image.manifest.v1+json";
    let (status, body) = registry.curl(
        USER,
        PASSWORD,
        "/v2/factory/acme.shared/manifests/1.1.0",
        manifest_media,
    );
    assert_eq!(status, 200, "{body}");
    let manifest: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(manifest["schemaVersion"], 2);
    assert_eq!(manifest["mediaType"], manifest_media);
    assert_eq!(
        manifest["artifactType"],
        "application/vnd.factory.template.v1"
    );
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.factory.template.config.v1+json"
    );
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 42, "the tree, then one layer per file");
    assert_eq!(
        layers[0]["mediaType"],
        "application/vnd.factory.template.tree.v1+json"
    );
    assert!(
        layers[1..]
            .iter()
            .all(|l| l["mediaType"] == "application/vnd.factory.template.file.v1")
    );
    assert_eq!(
        layers[1]["annotations"]["org.opencontainers.image.title"],
        "src/file0000.txt"
    );
    let annotations = &manifest["annotations"];
    assert_eq!(annotations["org.opencontainers.image.version"], "1.1.0");
    assert_eq!(
        annotations["org.opencontainers.image.title"],
        "Shared service"
    );
    assert_eq!(
        annotations["org.opencontainers.image.description"],
        "A template shared through a registry"
    );
    assert!(
        annotations["org.opencontainers.image.created"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    assert_eq!(
        annotations["dev.factory.template.content-hash"],
        shown_a["contentHash"]
    );
    // A file layer's digest is the store object's: the blob holds the file's bytes.
    let (status, file) = registry.curl(
        USER,
        PASSWORD,
        &format!(
            "/v2/factory/acme.shared/blobs/{}",
            layers[11]["digest"].as_str().unwrap()
        ),
        "*/*",
    );
    assert_eq!(
        (status, file.as_str()),
        (
            200,
            std::fs::read_to_string(template.join("src/file0010.txt"))
                .unwrap()
                .as_str()
        )
    );
    // Distribution 2.8 has no referrers API: the referrers tag schema holds the record.
    let digest = artifact.rsplit_once('@').unwrap().1;
    let (status, _) = registry.curl(
        USER,
        PASSWORD,
        &format!("/v2/factory/acme.shared/referrers/{digest}"),
        "*/*",
    );
    assert_eq!(status, 404);
    let (status, body) = registry.curl(
        USER,
        PASSWORD,
        &format!(
            "/v2/factory/acme.shared/manifests/{}",
            digest.replace(':', "-")
        ),
        "application/vnd.oci.image.index.v1+json",
    );
    assert_eq!(status, 200, "{body}");
    let referrers: Value = serde_json::from_str(&body).unwrap();
    let referrer = &referrers["manifests"][0];
    assert_eq!(
        referrer["artifactType"],
        "application/vnd.factory.template.publication.v1"
    );
    assert_eq!(
        referrer["annotations"]["dev.factory.validation.passed"],
        "true"
    );
    let (_, body) = registry.curl(
        USER,
        PASSWORD,
        &format!(
            "/v2/factory/acme.shared/manifests/{}",
            referrer["digest"].as_str().unwrap()
        ),
        manifest_media,
    );
    let record: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(record["subject"]["digest"], digest);
    assert_eq!(
        record["layers"][0]["mediaType"],
        "application/vnd.factory.events.v1+jsonl"
    );
    let (_, events) = registry.curl(
        USER,
        PASSWORD,
        &format!(
            "/v2/factory/acme.shared/blobs/{}",
            record["layers"][0]["digest"].as_str().unwrap()
        ),
        "*/*",
    );
    let types: Vec<String> = events
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["eventType"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(types, ["TemplateValidated", "TemplatePublished"]);
    // The index: one entry per version under its own tag, no whole index under `latest`.
    let (status, body) = registry.curl(
        USER,
        PASSWORD,
        "/v2/factory/factory-index/manifests/acme.shared_1.1.0",
        manifest_media,
    );
    assert_eq!(status, 200, "{body}");
    let entry: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        entry["artifactType"],
        "application/vnd.factory.index.entry.v1"
    );
    assert_eq!(
        entry["annotations"],
        serde_json::json!({
            "dev.factory.template.name": NAME,
            "org.opencontainers.image.version": "1.1.0",
            "org.opencontainers.image.title": "Shared service",
            "org.opencontainers.image.description": "A template shared through a registry",
            "dev.factory.template.tags": "[\"shared\",\"test\"]",
        })
    );
    let (status, _) = registry.curl(
        USER,
        PASSWORD,
        "/v2/factory/factory-index/manifests/latest",
        manifest_media,
    );
    assert_eq!(status, 404);

    // A sibling template with the same files: the registry mounts them from acme.shared.
    let sibling = a.path("sibling");
    common::copy_dir(&template, &sibling);
    let manifest = std::fs::read_to_string(sibling.join("template.yaml")).unwrap();
    std::fs::write(
        sibling.join("template.yaml"),
        manifest.replace(NAME, "Acme.Sibling"),
    )
    .unwrap();
    a.run(&["register", sibling.to_str().unwrap()]).ok();
    a.run(&["version", "Acme.Sibling", "--version", "1.0.0"])
        .ok();
    a.run(&["validate", "Acme.Sibling@1.0.0"]).ok();
    let sibling_push = a.run(&["publish", "Acme.Sibling@1.0.0", "--json"]);
    sibling_push.ok();
    let pushed = &sibling_push.json()["pushed"];
    assert_eq!(pushed["blobsMounted"], 40, "{pushed}");
    assert_eq!(
        pushed["blobsUploaded"], 3,
        "its template.yaml, tree and record: {pushed}"
    );
    assert_eq!(
        registry.count(
            "POST",
            "/v2/factory/acme.sibling/blobs/uploads/?mount=",
            201
        ),
        40
    );
}

/// A store with `shared` pointing at `host`, trusting the registry's CA.
fn store_at(registry: &Registry, host: &str) -> Env {
    let mut env = Env::new();
    env.set_env("SSL_CERT_FILE", registry.ca.to_str().unwrap());
    env.run(&[
        "remote",
        "add",
        "shared",
        &format!("oci://{host}/factory"),
        "--default",
    ])
    .ok();
    env
}

#[test]
#[ignore = "needs docker-registry: run scripts/registry-install"]
fn the_bearer_token_flow_with_credentials_from_the_environment() {
    let registry = Registry::start(Auth::Token(USER, PASSWORD, Realm::SameHost));
    let with_env = |password: Option<&str>| {
        let mut env = store_at(&registry, &registry.host);
        if let Some(password) = password {
            env.set_env("FACTORY_REGISTRY_USERNAME", USER);
            env.set_env("FACTORY_REGISTRY_PASSWORD", password);
        }
        env
    };
    let a = with_env(Some(PASSWORD));
    let template = a.path("tpl");
    write_template(&template, 5, "bearer");
    prepare_version(&a, &template, "1.0.0");
    let (published, json) = publish(&a, "1.0.0");
    assert_eq!(json["pushed"]["blobsUploaded"], 8, "{json}");
    // Negotiated once per push: one token for the template's repository and the index's.
    let service = registry.token_service.as_ref().unwrap();
    let asked = service.requests();
    assert_eq!(
        asked.len(),
        1,
        "{:?}",
        asked.iter().map(|r| &r.path).collect::<Vec<_>>()
    );
    assert!(
        asked[0]
            .path
            .contains("scope=repository%3Afactory%2Ffactory%2Dindex%3Apull%2Cpush"),
        "{}",
        asked[0].path
    );
    // The token service is on the registry's host (another port): no warning.
    assert!(
        !published.stderr.contains("warning"),
        "{}",
        published.stderr
    );
    assert!(
        // The actions come in the order the registry's challenge named them.
        asked.iter().any(|r| ["pull%2Cpush", "push%2Cpull"]
            .iter()
            .any(|actions| r.path.contains(&format!(
                "scope=repository%3Afactory%2Facme%2Eshared%3A{actions}"
            )))
            && r.path.contains("service=factory%2Dtest%2Dregistry")
            && r.header("authorization")
                .is_some_and(|h| h.starts_with("Basic "))),
        "the token service was asked for push rights with the credential: {:?}",
        asked.iter().map(|r| &r.path).collect::<Vec<_>>()
    );
    let b = with_env(Some(PASSWORD));
    let pulled = b.run(&["pull", &format!("shared/{NAME}")]);
    pulled.ok();
    assert_eq!(service.requests().len(), 2, "one token for the pull");
    assert!(
        pulled
            .stdout
            .contains("Pulled Acme.Shared@1.0.0 from shared"),
        "{}",
        pulled.stdout
    );

    let wrong = with_env(Some("not-the-password"));
    let refused = wrong.run(&["pull", &format!("shared/{NAME}")]);
    refused.expect_code(1);
    assert!(
        refused.stderr.contains("refused the credential of `alice` from FACTORY_REGISTRY_USERNAME/FACTORY_REGISTRY_PASSWORD (401)"),
        "{}",
        refused.stderr
    );
    assert!(!refused.stderr.contains("not-the-password"));
    let anonymous = with_env(None);
    let refused_anon = anonymous.run(&["pull", &format!("shared/{NAME}")]);
    refused_anon.expect_code(1);
    assert!(refused_anon.stderr.contains("needs credentials, and none was found (looked in FACTORY_REGISTRY_USERNAME/FACTORY_REGISTRY_PASSWORD"), "{}", refused_anon.stderr);
    assert!(
        refused_anon
            .stderr
            .contains(&format!("run `factory login {}`", registry.host)),
        "{}",
        refused_anon.stderr
    );
    assert_no_secret(&a, &[&published]);
    assert_no_secret(&b, &[&pulled, &refused, &refused_anon]);
}

#[test]
#[ignore = "needs docker-registry: run scripts/registry-install"]
fn registry_failures_are_named_and_leave_the_store_as_it_was() {
    let registry = Registry::start(Auth::Basic(USER, PASSWORD));

    // Nothing listens: a bounded wait, the host named.
    let closed = common::tls::free_port();
    let nowhere = store_at(&registry, &format!("127.0.0.1:{closed}"));
    let started = std::time::Instant::now();
    let unreachable = nowhere.run(&["pull", &format!("shared/{NAME}")]);
    unreachable.expect_code(1);
    assert!(
        unreachable.stderr.contains(&format!(
            "nothing listens at 127.0.0.1:{closed} (connection refused)"
        )),
        "{}",
        unreachable.stderr
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
    // generate asks the remotes for what the store lacks, unless --offline.
    let asked = nowhere.run(&["generate", NAME, "-o", "out", "--defaults"]);
    asked.expect_code(1);
    assert!(
        asked.stderr.contains("nothing listens at 127.0.0.1:"),
        "{}",
        asked.stderr
    );
    let offline = nowhere.run(&["generate", NAME, "-o", "out", "--defaults", "--offline"]);
    offline.expect_code(1);
    assert!(
        offline.stderr.contains("no template named `Acme.Shared`"),
        "{}",
        offline.stderr
    );
    assert!(!nowhere.path("out").exists());
    let unknown = nowhere.run(&["pull", &format!("elsewhere/{NAME}")]);
    unknown.expect_code(2);
    assert!(
        unknown
            .stderr
            .contains("there is no remote named `elsewhere`"),
        "{}",
        unknown.stderr
    );

    // No credential, and a wrong one from the docker config.
    let anonymous = store_at(&registry, &registry.host);
    let refused = anonymous.run(&["pull", &format!("shared/{NAME}")]);
    refused.expect_code(1);
    assert!(
        refused
            .stderr
            .contains("needs credentials, and none was found"),
        "{}",
        refused.stderr
    );
    let wrong = login(&anonymous, &registry.host, "wrong-password-1");
    wrong.expect_code(1);
    assert!(
        wrong
            .stderr
            .contains("refused the credential of `alice` from the login (401)"),
        "{}",
        wrong.stderr
    );
    assert!(
        !anonymous.path(".docker/config.json").exists(),
        "a refused login keeps nothing"
    );

    // A publishes; the registry then corrupts one blob: B's pull refuses it, imports nothing.
    let a = store_for(&registry);
    let template = a.path("tpl");
    write_template(&template, 8, "one");
    prepare_version(&a, &template, "1.0.0");
    let (_, json) = publish(&a, "1.0.0");
    let manifest: Value = serde_json::from_str(
        &registry
            .curl(
                USER,
                PASSWORD,
                "/v2/factory/acme.shared/manifests/1.0.0",
                "application/vnd.oci.image.manifest.v1+json",
            )
            .1,
    )
    .unwrap();
    let victim = manifest["layers"][3]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let blob = registry.blob_file(&victim);
    let original = std::fs::read(&blob).unwrap();
    let mut corrupt = original.clone();
    corrupt[0] ^= 0x20;
    std::fs::write(&blob, &corrupt).unwrap();
    let b = store_for(&registry);
    let before = b.store_snapshot();
    let bad = b.run(&["pull", &format!("shared/{NAME}@1.0.0")]);
    bad.expect_code(1);
    assert!(
        bad.stderr.contains(&format!(
            "sent bytes that do not match their digest {victim}; nothing was imported"
        )),
        "{}",
        bad.stderr
    );
    assert_eq!(b.store_snapshot(), before, "a refused pull changes nothing");
    let generate = b.run(&["generate", NAME, "-o", "out", "--defaults"]);
    generate.expect_code(1);
    assert!(!b.path("out").exists());
    std::fs::write(&blob, &original).unwrap();

    // Another store's 1.0.0 of the same name with other content: refused, not published.
    let c = store_for(&registry);
    let other = c.path("tpl");
    write_template(&other, 8, "other");
    prepare_version(&c, &other, "1.0.0");
    let clash = c.run(&["publish", &format!("{NAME}@1.0.0")]);
    clash.expect_code(1);
    assert!(
        clash
            .stderr
            .contains("Acme.Shared@1.0.0 is already on shared with other content"),
        "{}",
        clash.stderr
    );
    assert!(
        !c.events()
            .iter()
            .any(|e| e["eventType"] == "TemplatePublished")
    );
    assert_eq!(json["pushed"]["alreadyThere"], false);
    for run in [&unreachable, &refused, &wrong, &bad, &clash] {
        assert!(!run.stderr.contains(PASSWORD) && !run.stderr.contains("wrong-password-1"));
    }
}

fn write_file(env: &Env, name: &str, text: &str) -> std::path::PathBuf {
    let path = env.path(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
#[ignore = "needs docker-registry: run scripts/registry-install"]
fn an_interrupted_push_shows_nothing_under_the_tag_and_the_next_one_completes_it() {
    let registry = Registry::start(Auth::Basic(USER, PASSWORD));
    let a = store_for(&registry);
    let template = a.path("tpl");
    write_template(&template, 600, "big");
    prepare_version(&a, &template, "1.0.0");
    let uploads = || registry.count("PUT", "/v2/factory/acme.shared/blobs/uploads/", 201);
    let mut child = a
        .command(&["publish", &format!("{NAME}@1.0.0")])
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while uploads() < 20 {
        assert!(std::time::Instant::now() < deadline, "no upload began");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let sent = uploads();
    assert!(
        sent < 603,
        "the push was interrupted part-way ({sent} blobs)"
    );
    let (status, body) = registry.curl(
        USER,
        PASSWORD,
        "/v2/factory/acme.shared/manifests/1.0.0",
        "application/vnd.oci.image.manifest.v1+json",
    );
    assert_eq!(status, 404, "nothing is visible under the tag: {body}");
    assert!(
        !a.events()
            .iter()
            .any(|e| e["eventType"] == "TemplatePublished")
    );
    let b = store_for(&registry);
    b.run(&["pull", &format!("shared/{NAME}@1.0.0")])
        .expect_code(1);
    // The next push sends only what is missing and completes it.
    let (_, json) = publish(&a, "1.0.0");
    let resent = json["pushed"]["blobsUploaded"].as_u64().unwrap();
    assert!(
        resent as usize <= 603 - sent + 8,
        "{resent} re-sent after {sent}"
    );
    b.run(&["pull", &format!("shared/{NAME}@1.0.0")]).ok();
    b.run(&["store", "check"]).ok();
}

#[test]
#[ignore = "needs docker-registry: run scripts/registry-install"]
fn publishers_at_once_keep_each_others_index_entries() {
    let registry = Registry::start(Auth::Basic(USER, PASSWORD));
    let names: Vec<String> = (0..4).map(|i| format!("Acme.Parallel{i}")).collect();
    let stores: Vec<Env> = names
        .iter()
        .map(|name| {
            let env = store_for(&registry);
            let dir = env.path("tpl");
            write_template(&dir, 3, name);
            let manifest = std::fs::read_to_string(dir.join("template.yaml"))
                .unwrap()
                .replace(NAME, name);
            std::fs::write(dir.join("template.yaml"), manifest).unwrap();
            env.run(&["register", dir.to_str().unwrap()]).ok();
            env.run(&["version", name, "--version", "1.0.0"]).ok();
            env.run(&["validate", &format!("{name}@1.0.0")]).ok();
            env
        })
        .collect();
    // And two versions of one template, published at once from one store by two runs.
    let shared = store_for(&registry);
    let dir = shared.path("tpl");
    write_template(&dir, 3, "one");
    prepare_version(&shared, &dir, "1.0.0");
    write_template(&dir, 3, "two");
    prepare_version(&shared, &dir, "1.1.0");
    let mut publishes: Vec<(&Env, String)> = stores
        .iter()
        .zip(&names)
        .map(|(env, name)| (env, format!("{name}@1.0.0")))
        .collect();
    publishes.push((&shared, format!("{NAME}@1.0.0")));
    publishes.push((&shared, format!("{NAME}@1.1.0")));
    // All at once: with one index rewritten by each publisher, the last writes undid the
    // others' entries (all exited 0, search listed two).
    let children: Vec<_> = publishes
        .iter()
        .map(|(env, spec)| {
            env.command(&["publish", spec, "--json"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let run: Run = child.wait_with_output().unwrap().into();
        run.ok();
        assert_eq!(run.json()["pushed"]["indexed"], true, "{}", run.stdout);
    }
    let search = stores[0].run(&["search", "--json"]);
    search.ok();
    let listed: Vec<(String, Value)> = search.json()["templates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap().to_string(),
                t["versions"].clone(),
            )
        })
        .collect();
    let mut expected: Vec<(String, Value)> = names
        .iter()
        .map(|n| (n.clone(), serde_json::json!(["1.0.0"])))
        .collect();
    expected.push((NAME.to_string(), serde_json::json!(["1.0.0", "1.1.0"])));
    assert_eq!(listed, expected);
    // Each publish wrote its own tag of the index repository, and nothing else of it.
    let (status, body) = registry.curl(
        USER,
        PASSWORD,
        "/v2/factory/factory-index/tags/list",
        "application/json",
    );
    assert_eq!(status, 200, "{body}");
    let mut tags: Vec<String> = serde_json::from_str::<Value>(&body).unwrap()["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect();
    tags.sort();
    assert_eq!(
        tags,
        [
            "acme.parallel0_1.0.0",
            "acme.parallel1_1.0.0",
            "acme.parallel2_1.0.0",
            "acme.parallel3_1.0.0",
            "acme.shared_1.0.0",
            "acme.shared_1.1.0",
        ]
    );
    assert_eq!(
        registry.count("PUT", "/v2/factory/factory-index/manifests/", 201),
        6,
        "one entry written per publish"
    );
    // Publishing a version again writes no entry: one look at its tag.
    let index_requests = |r: &Registry| {
        r.access_log()
            .iter()
            .filter(|l| l.contains(" /v2/factory/factory-index/"))
            .count()
    };
    let before = index_requests(&registry);
    let again = shared.run(&["publish", &format!("{NAME}@1.1.0"), "--json"]);
    again.ok();
    assert_eq!(again.json()["pushed"]["indexed"], false, "{}", again.stdout);
    assert_eq!(index_requests(&registry) - before, 1);
}

#[test]
#[ignore = "needs docker-registry: run scripts/registry-install"]
fn a_credential_helper_keeps_the_login_as_docker_would() {
    let registry = Registry::start(Auth::Basic(USER, PASSWORD));
    let mut env = store_at(&registry, &registry.host);
    // A docker-credential-* helper that keeps its one secret in a file beside it.
    let bin = env.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let helper = bin.join("docker-credential-factorytest");
    let kept = env.path("helper-kept.json");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\ncase \"$1\" in\n  store) cat > {kept} ;;\n  get) read host; [ -f {kept} ] && sed 's/\"ServerURL\"/\"Server\"/' {kept} || {{ echo 'credentials not found in native keychain'; exit 1; }} ;;\n  erase) rm -f {kept} ;;\nesac\n",
            kept = kept.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&helper, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    env.set_env(
        "PATH",
        &format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
    );
    std::fs::create_dir_all(env.path(".docker")).unwrap();
    std::fs::write(
        env.path(".docker/config.json"),
        r#"{"credsStore": "factorytest", "experimental": "keep me"}"#,
    )
    .unwrap();
    let logged_in = login(&env, &registry.host, PASSWORD);
    logged_in.ok();
    assert!(
        logged_in
            .stdout
            .contains("kept in docker-credential-factorytest"),
        "{}",
        logged_in.stdout
    );
    let config = std::fs::read_to_string(env.path(".docker/config.json")).unwrap();
    assert!(
        !config.contains(PASSWORD) && config.contains("keep me"),
        "{config}"
    );
    let stored: Value = serde_json::from_str(&std::fs::read_to_string(&kept).unwrap()).unwrap();
    assert_eq!(stored["Username"], USER);
    // The helper's credential is the one a pull uses.
    let template = env.path("tpl");
    write_template(&template, 2, "helper");
    prepare_version(&env, &template, "1.0.0");
    let (published, _) = publish(&env, "1.0.0");
    let logout = env.run(&["logout", &registry.host]);
    logout.ok();
    assert!(!kept.exists(), "logout erased it");
    let after = env.run(&["pull", &format!("shared/{NAME}")]);
    after.expect_code(1);
    assert!(after.stderr.contains("looked in FACTORY_REGISTRY_USERNAME/FACTORY_REGISTRY_PASSWORD, docker-credential-factorytest"), "{}", after.stderr);
    assert_no_secret(&env, &[&logged_in, &published, &logout, &after]);
}

#[test]
#[ignore = "needs docker-registry: run scripts/registry-install"]
fn every_push_of_a_published_version_is_a_publication_with_its_artifact() {
    let registry = Registry::start(Auth::Basic(USER, PASSWORD));
    // Two remotes in two namespaces of the registry, neither the default: `publish` alone
    // publishes in the store only.
    let remotes = |env: &Env| {
        for (name, namespace) in [("shared", "factory"), ("mirror", "mirror")] {
            env.run(&[
                "remote",
                "add",
                name,
                &format!("oci://{}/{namespace}", registry.host),
            ])
            .ok();
        }
        login(env, &registry.host, PASSWORD).ok();
    };
    let mut a = Env::new();
    a.set_env("SSL_CERT_FILE", registry.ca.to_str().unwrap());
    remotes(&a);
    let template = a.path("tpl");
    write_template(&template, 3, "pushed");
    prepare_version(&a, &template, "1.0.0");
    let publications = |env: &Env| -> Vec<Value> {
        let run = env.run(&["events", "--type", "TemplatePublished"]);
        run.ok();
        run.stdout
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["payload"].clone())
            .collect()
    };
    let at = format!("{NAME}@1.0.0");
    let (_, local) = publish(&a, "1.0.0");
    assert_eq!(local["published"], true);
    assert!(local["pushed"].is_null(), "{local}");
    assert_eq!(publications(&a).len(), 1);
    assert!(publications(&a)[0]["artifact"].is_null());

    // The version, published before, pushed: a publication of its own, naming the artifact.
    let pushed = a.run(&["publish", &at, "--to", "shared", "--json"]);
    pushed.ok();
    let pushed = pushed.json();
    let artifact = pushed["pushed"]["artifact"].as_str().unwrap().to_string();
    assert!(
        artifact.starts_with(&format!(
            "oci://{}/factory/acme.shared@sha256:",
            registry.host
        )),
        "{artifact}"
    );
    let recorded = publications(&a);
    assert_eq!(recorded.len(), 2, "{recorded:?}");
    assert_eq!(recorded[1]["artifact"], artifact.as_str());
    assert_eq!(recorded[1]["publicationId"], pushed["publicationId"]);
    assert_ne!(recorded[1]["publicationId"], recorded[0]["publicationId"]);
    assert_eq!(recorded[1]["contentHash"], recorded[0]["contentHash"]);
    assert_eq!(pushed["events"].as_array().unwrap().len(), 1, "{pushed}");
    // `show` still has the version's first publication.
    let shown = a.run(&["show", &at, "--json"]).json();
    assert_eq!(shown["publicationId"], recorded[0]["publicationId"]);

    // The same content to the same place again: nothing recorded.
    let log = a.log_bytes();
    let again = a.run(&["publish", &at, "--to", "shared", "--json"]);
    again.ok();
    assert_eq!(again.json()["pushed"]["alreadyThere"], true);
    assert_eq!(again.json()["events"], serde_json::json!([]));
    assert_eq!(again.json()["publicationId"], recorded[1]["publicationId"]);
    assert_eq!(
        a.log_bytes(),
        log,
        "a second push of the same content records nothing"
    );

    // To the other remote: one more publication, with that artifact.
    let mirrored = a.run(&["publish", &at, "--to", "mirror", "--json"]);
    mirrored.ok();
    let mirror_artifact = mirrored.json()["pushed"]["artifact"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(mirror_artifact.contains("/mirror/acme.shared@sha256:"));
    let recorded = publications(&a);
    assert_eq!(recorded.len(), 3);
    assert_eq!(recorded[2]["artifact"], mirror_artifact.as_str());
    a.run(&["store", "check"]).ok();

    // Another machine pulls from each remote the publication that made it there.
    let mut b = Env::new();
    b.set_env("SSL_CERT_FILE", registry.ca.to_str().unwrap());
    remotes(&b);
    b.run(&["pull", &format!("shared/{at}")]).ok();
    let pulled = publications(&b);
    assert_eq!(pulled.len(), 1);
    assert_eq!(
        pulled[0], recorded[1],
        "the publication of the push to `shared`"
    );
    let log = b.log_bytes();
    b.run(&["pull", &format!("shared/{at}")]).ok();
    assert_eq!(b.log_bytes(), log);
    b.run(&["pull", &format!("mirror/{at}")]).ok();
    assert_eq!(publications(&b), recorded[1..].to_vec());
    b.run(&["store", "check"]).ok();
}

// ---- Hostile registries: artifacts no publisher made, served by a fake registry. ----

/// A version as its publisher's store holds it, to be served (altered) by a fake registry.
#[derive(Clone)]
struct Served {
    name: String,
    template_id: String,
    version: String,
    version_id: String,
    /// TemplateRegistered, TemplateVersionCreated, TemplateParameterSchemaDefined.
    making: Vec<Value>,
    /// TemplateValidated, TemplatePublished.
    publication: Vec<Value>,
    tree: Vec<u8>,
    /// File bytes by digest.
    blobs: std::collections::HashMap<String, Vec<u8>>,
    /// Layers declared beside the files: (digest, size).
    extra_layers: Vec<(String, u64)>,
}

const MANIFEST_MEDIA: &str = "application/vnd.oci.image.manifest.v1+json";

/// `name@version` registered, versioned, validated and published in a store of its own
/// (with README.md and src/main.txt), and that store.
fn published_locally(name: &str, version: &str) -> (Env, Served) {
    let env = Env::new();
    let dir = env.template(
        "tpl",
        &[
            (
                "template.yaml",
                &format!("name: {name}\ntitle: {name}\ncategory: service\n"),
            ),
            ("README.md", &format!("# {name}\n")),
            ("src/main.txt", "main\n"),
        ],
    );
    env.run(&["register", dir.to_str().unwrap()]).ok();
    env.run(&["version", name, "--version", version]).ok();
    env.run(&["validate", &format!("{name}@{version}")]).ok();
    env.run(&["publish", &format!("{name}@{version}")]).ok();
    let events = env.events();
    let of = |t: &str| -> Value { events.iter().find(|e| e["eventType"] == t).unwrap().clone() };
    let created = of("TemplateVersionCreated");
    let object = |digest: &str| {
        let hex = digest.trim_start_matches("sha256:");
        std::fs::read(env.store.join("objects").join(&hex[..2]).join(&hex[2..])).unwrap()
    };
    let tree = object(created["payload"]["tree"].as_str().unwrap());
    let listing: Value = serde_json::from_slice(&tree).unwrap();
    let blobs = listing["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let blob = f["blob"].as_str().unwrap();
            (blob.to_string(), object(blob))
        })
        .collect();
    let served = Served {
        name: name.to_string(),
        template_id: created["payload"]["templateId"].as_str().unwrap().into(),
        version: version.to_string(),
        version_id: created["payload"]["templateVersionId"]
            .as_str()
            .unwrap()
            .into(),
        making: vec![
            of("TemplateRegistered"),
            created,
            of("TemplateParameterSchemaDefined"),
        ],
        publication: vec![of("TemplateValidated"), of("TemplatePublished")],
        tree,
        blobs,
        extra_layers: Vec::new(),
    };
    (env, served)
}

/// The content hash of `(path, sha256:hex)` pairs (docs/content-hash.md).
fn content_hash(files: &[(String, String)]) -> String {
    let mut files = files.to_vec();
    files.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let listing: String = files
        .iter()
        .map(|(path, blob)| {
            let hex = blob.trim_start_matches("sha256:");
            // As sha256sum writes a name with a backslash: escaped, the line marked.
            if path.contains('\\') {
                format!("\\{hex}  {}\n", path.replace('\\', "\\\\"))
            } else {
                format!("{hex}  {path}\n")
            }
        })
        .collect();
    common::fake_registry::digest(listing.as_bytes())
}

impl Served {
    fn events_mut(&mut self) -> impl Iterator<Item = &mut Value> {
        self.making.iter_mut().chain(self.publication.iter_mut())
    }

    /// Every event, and the record, say `template_id`.
    fn claim(&mut self, template_id: &str) {
        self.template_id = template_id.to_string();
        for event in self.events_mut() {
            event["payload"]["templateId"] = template_id.into();
        }
    }

    /// The record and the registration name `name`.
    fn rename(&mut self, name: &str) {
        self.name = name.to_string();
        self.making[0]["payload"]["name"] = name.into();
    }

    /// Adds a file at `path` (with README.md's bytes) to the tree, and makes the record and
    /// the events agree with the new tree, as a publisher of such a tree would.
    fn add_path(&mut self, path: &str) {
        let mut tree: Value = serde_json::from_slice(&self.tree).unwrap();
        let readme = tree["files"][0].clone();
        let mut planted = readme.clone();
        planted["path"] = path.into();
        tree["files"].as_array_mut().unwrap().push(planted);
        let files: Vec<(String, String)> = tree["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["path"].as_str().unwrap().to_string(),
                    f["blob"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        self.tree = serde_json::to_vec(&tree).unwrap();
        let hash = content_hash(&files);
        let tree_digest = common::fake_registry::digest(&self.tree);
        self.making[1]["payload"]["tree"] = tree_digest.into();
        for event in self.events_mut() {
            if event["payload"].get("contentHash").is_some() {
                event["payload"]["contentHash"] = hash.clone().into();
            }
        }
    }

    /// The tree as the record names it.
    fn tree_digest(&self) -> String {
        common::fake_registry::digest(&self.tree)
    }

    /// Serves the version as `repository:tag`, as factory's push lays it out (the
    /// publication record under the referrers tag); the file layers' digests.
    fn serve(&self, fake: &FakeRegistry, repository: &str, tag: &str) -> Vec<String> {
        let created = &self.making[1]["payload"];
        let record = serde_json::json!({
            "name": self.name,
            "templateId": self.template_id,
            "version": self.version,
            "templateVersionId": self.version_id,
            "contentHash": created["contentHash"],
            "tree": self.tree_digest(),
            "events": self.making,
        });
        let record = serde_json::to_vec(&record).unwrap();
        let descriptor = |media: &str, digest: &str, size: u64| serde_json::json!({"mediaType": media, "digest": digest, "size": size});
        let config = fake.blob(repository, &record);
        let tree = fake.blob(repository, &self.tree);
        let listing: Value = serde_json::from_slice(&self.tree).unwrap();
        let mut layers = vec![descriptor(
            "application/vnd.factory.template.tree.v1+json",
            &tree,
            self.tree.len() as u64,
        )];
        let mut files = Vec::new();
        for file in listing["files"].as_array().unwrap() {
            let blob = file["blob"].as_str().unwrap();
            fake.blob(repository, &self.blobs[blob]);
            files.push(blob.to_string());
            layers.push(descriptor(
                "application/vnd.factory.template.file.v1",
                blob,
                file["size"].as_u64().unwrap(),
            ));
        }
        for (digest, size) in &self.extra_layers {
            layers.push(descriptor(
                "application/vnd.factory.template.file.v1",
                digest,
                *size,
            ));
        }
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": MANIFEST_MEDIA,
            "artifactType": "application/vnd.factory.template.v1",
            "config": descriptor(
                "application/vnd.factory.template.config.v1+json",
                &config,
                record.len() as u64
            ),
            "layers": layers,
        });
        let manifest = serde_json::to_vec(&manifest).unwrap();
        let subject = fake.manifest(repository, Some(tag), MANIFEST_MEDIA, &manifest);
        let events: Vec<u8> = self
            .publication
            .iter()
            .flat_map(|e| {
                let mut line = serde_json::to_vec(e).unwrap();
                line.push(b'\n');
                line
            })
            .collect();
        let events_digest = fake.blob(repository, &events);
        let empty = fake.blob(repository, b"{}");
        let referrer = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": MANIFEST_MEDIA,
            "artifactType": "application/vnd.factory.template.publication.v1",
            "config": descriptor("application/vnd.oci.empty.v1+json", &empty, 2),
            "layers": [descriptor(
                "application/vnd.factory.events.v1+jsonl",
                &events_digest,
                events.len() as u64
            )],
            "subject": descriptor(MANIFEST_MEDIA, &subject, manifest.len() as u64),
        });
        let referrer = serde_json::to_vec(&referrer).unwrap();
        let referrer_digest = fake.manifest(repository, None, MANIFEST_MEDIA, &referrer);
        let mut listed = descriptor(MANIFEST_MEDIA, &referrer_digest, referrer.len() as u64);
        listed["artifactType"] = "application/vnd.factory.template.publication.v1".into();
        let index = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [listed],
        });
        fake.manifest(
            repository,
            Some(&subject.replace(':', "-")),
            "application/vnd.oci.image.index.v1+json",
            &serde_json::to_vec(&index).unwrap(),
        );
        files
    }
}

/// An index entry as a publish writes it (`docs/registry.md`).
fn index_entry(name: &str, version: &str, title: &str, tags: &[&str]) -> Vec<u8> {
    let empty = serde_json::json!({
        "mediaType": "application/vnd.oci.empty.v1+json",
        "digest": common::fake_registry::digest(b"{}"),
        "size": 2,
    });
    serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": "application/vnd.factory.index.entry.v1",
        "config": empty,
        "layers": [empty],
        "annotations": {
            "dev.factory.template.name": name,
            "org.opencontainers.image.version": version,
            "org.opencontainers.image.title": title,
            "dev.factory.template.tags": serde_json::to_string(tags).unwrap(),
        },
    }))
    .unwrap()
}

#[test]
fn search_reads_the_newest_entry_of_each_template_and_the_index_earlier_versions_wrote() {
    let fake = FakeRegistry::start();
    let repository = "ns/factory-index";
    let media = "application/vnd.oci.image.manifest.v1+json";
    // The whole index an earlier factory rewrote on each publish, under `latest`.
    let legacy = serde_json::json!({"templates": {
        "Acme.Old": {"title": "Old only", "tags": ["old"], "versions": ["0.9.0"]},
        "Acme.Both": {"title": "Old title", "tags": ["old"], "versions": ["1.0.0"]},
    }});
    let layer = serde_json::to_vec(&legacy).unwrap();
    let layer_digest = fake.blob(repository, &layer);
    let config = fake.blob(repository, b"{}");
    let whole = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media,
        "artifactType": "application/vnd.factory.index.v1",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config, "size": 2},
        "layers": [{
            "mediaType": "application/vnd.factory.index.v1+json",
            "digest": layer_digest,
            "size": layer.len(),
        }],
    });
    fake.manifest(
        repository,
        Some("latest"),
        media,
        &serde_json::to_vec(&whole).unwrap(),
    );
    // Entries: two versions of a template the old index lists too; a version whose `+`
    // makes no tag (its tag is a hash); one whose content names another template than
    // its tag; and a tag that is no entry.
    for (tag, entry) in [
        (
            "acme.both_1.1.0".to_string(),
            index_entry("Acme.Both", "1.1.0", "Older title", &[]),
        ),
        (
            "acme.both_1.2.0".to_string(),
            index_entry("Acme.Both", "1.2.0", "New title", &["api"]),
        ),
        (
            common::fake_registry::digest(b"acme.plus\n2.0.0+build.1").replace("sha256:", "h-"),
            index_entry("Acme.Plus", "2.0.0+build.1", "Plus", &[]),
        ),
        (
            "acme.liar_1.0.0".to_string(),
            index_entry("Acme.Both", "9.9.9", "Lies", &[]),
        ),
        ("sha256-abc".to_string(), b"{}".to_vec()),
    ] {
        fake.manifest(repository, Some(&tag), media, &entry);
    }
    let mut env = Env::new();
    env.set_env("SSL_CERT_FILE", fake.ca.to_str().unwrap());
    fake_remote(&env, &fake, "old", "ns");
    let search = env.run(&["search", "--remote", "old", "--json"]);
    search.ok();
    let found: Vec<(String, Value, Value, Value)> = search.json()["templates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap().to_string(),
                t["title"].clone(),
                t["tags"].clone(),
                t["versions"].clone(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "Acme.Both".to_string(),
                serde_json::json!("New title"),
                serde_json::json!(["api"]),
                serde_json::json!(["1.0.0", "1.1.0", "1.2.0"])
            ),
            (
                "Acme.Old".to_string(),
                serde_json::json!("Old only"),
                serde_json::json!(["old"]),
                serde_json::json!(["0.9.0"])
            ),
            (
                "Acme.Plus".to_string(),
                serde_json::json!("Plus"),
                serde_json::json!([]),
                serde_json::json!(["2.0.0+build.1"])
            ),
        ]
    );
    // The entry that is not its tag's is left out, and said so (a note, for people).
    let human = env.run(&["search", "--remote", "old"]);
    human.ok();
    assert!(
        human.stderr.contains("note: oci://127.0.0.1:"),
        "{}",
        human.stderr
    );
    assert!(
        human.stderr.contains(
            "left out of the index: acme.liar_1.0.0 holds the entry of Acme.Both@9.9.9, which is not the one its tag names"
        ),
        "{}",
        human.stderr
    );
    assert!(!human.stdout.contains("Lies"), "{}", human.stdout);
    // One list of the tags; one read per template (its newest version), none of older ones.
    let asked = fake.asked();
    let index_gets = |what: &str| {
        asked
            .iter()
            .filter(|a| a.starts_with(&format!("GET /v2/{repository}/{what}")))
            .count()
    };
    assert_eq!(index_gets("tags/list"), 2, "{asked:?}");
    assert_eq!(index_gets("manifests/acme.both_1.1.0"), 0, "{asked:?}");
    assert_eq!(
        index_gets("manifests/"),
        8,
        "two searches, four each: {asked:?}"
    );
    // What is searched is the entry's text, not the old index's.
    let old = env.run(&["search", "old", "--remote", "old", "--json"]);
    old.ok();
    let old = old.json();
    let names: Vec<&str> = old["templates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Acme.Old"]);
}

#[test]
fn search_on_hundreds_of_templates_reads_one_entry_per_template() {
    let fake = FakeRegistry::start();
    let repository = "many/factory-index";
    let media = "application/vnd.oci.image.manifest.v1+json";
    // 300 templates of 3 versions each: 900 tags.
    for t in 0..300 {
        let name = format!("Acme.T{t:03}");
        for v in 0..3 {
            let version = format!("1.{v}.0");
            let tag = format!("{}_{version}", name.to_lowercase());
            let entry = index_entry(&name, &version, &format!("Title {t} {v}"), &[]);
            fake.manifest(repository, Some(&tag), media, &entry);
        }
    }
    let mut env = Env::new();
    env.set_env("SSL_CERT_FILE", fake.ca.to_str().unwrap());
    fake_remote(&env, &fake, "many", "many");
    let search = env.run(&["search", "--json"]);
    search.ok();
    let found = search.json()["templates"].as_array().unwrap().clone();
    assert_eq!(found.len(), 300);
    assert_eq!(found[7]["name"], "Acme.T007");
    assert_eq!(found[7]["title"], "Title 7 2", "the newest version's entry");
    assert_eq!(
        found[7]["versions"],
        serde_json::json!(["1.0.0", "1.1.0", "1.2.0"])
    );
    let asked = fake.asked();
    let count = |prefix: &str| asked.iter().filter(|a| a.starts_with(prefix)).count();
    assert_eq!(count(&format!("GET /v2/{repository}/tags/list")), 1);
    assert_eq!(
        count(&format!("GET /v2/{repository}/manifests/")),
        300,
        "one read per template, not per version"
    );
}

/// Adds remote `name` for namespace `namespace` of the fake registry to `env`.
fn fake_remote(env: &Env, fake: &FakeRegistry, name: &str, namespace: &str) {
    env.run(&[
        "remote",
        "add",
        name,
        &format!("oci://{}/{namespace}", fake.host),
    ])
    .ok();
}

/// Runs `args` against `env`, expecting a refusal (exit 1) that says `says` and leaves the
/// store byte for byte as it was.
#[track_caller]
fn refused(env: &Env, args: &[&str], says: &str) -> Run {
    let before = env.store_snapshot();
    let run = env.run(args);
    run.expect_code(1);
    assert!(
        run.stderr.contains(says),
        "{args:?} should say {says:?}:\n{}",
        run.stderr
    );
    assert!(!run.stdout.contains("Pulled"), "{}", run.stdout);
    assert!(env.store_snapshot() == before, "{args:?} changed the store");
    run
}

#[test]
fn a_pull_imports_only_the_template_and_version_it_names() {
    let fake = FakeRegistry::start();
    let (mut victim, _) = published_locally("Some.Victim", "1.0.0");
    victim.set_env("SSL_CERT_FILE", fake.ca.to_str().unwrap());
    let victim_id = victim.events()[0]["payload"]["templateId"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, evil) = published_locally("Evil.ClaimB", "6.6.7");

    // The record names a new template; every event carries the victim's templateId.
    let mut claim = evil.clone();
    claim.claim(&victim_id);
    claim.serve(&fake, "ns1/evil.claimb", "6.6.7");
    fake_remote(&victim, &fake, "fake1", "ns1");
    refused(
        &victim,
        &["pull", "fake1/Evil.ClaimB"],
        &format!(
            "the registry's template `Evil.ClaimB` carries the id {victim_id} of `Some.Victim` in this store: it is not that template"
        ),
    );
    // generate's fallback to the remotes (only fake1 so far) pulls the same way.
    refused(
        &victim,
        &["generate", "Evil.ClaimB", "-o", "out", "--defaults"],
        "it is not that template",
    );
    assert!(!victim.path("out").exists());

    // The record names the victim's template, from another template's repository.
    let mut impostor = claim.clone();
    impostor.rename("Some.Victim");
    impostor.serve(&fake, "ns2/evil.claimb", "6.6.7");
    fake_remote(&victim, &fake, "fake2", "ns2");
    refused(
        &victim,
        &["pull", "fake2/Evil.ClaimB@6.6.7"],
        "holds Some.Victim@6.6.7, not the Evil.ClaimB@6.6.7 asked for; nothing was imported",
    );

    // The record and its registration are the new template's; the version's events the
    // victim's.
    let mut mixed = evil.clone();
    for event in mixed.making[1..].iter_mut().chain(&mut mixed.publication) {
        event["payload"]["templateId"] = victim_id.clone().into();
    }
    mixed.serve(&fake, "ns3/evil.claimb", "6.6.7");
    fake_remote(&victim, &fake, "fake3", "ns3");
    let run = refused(
        &victim,
        &["pull", "fake3/Evil.ClaimB"],
        "its TemplateVersionCreated event",
    );
    assert!(
        run.stderr.contains(&format!(
            "is not about Evil.ClaimB@6.6.7 ({}); nothing was imported",
            evil.template_id
        )),
        "{}",
        run.stderr
    );

    // `Evil.Rename` whose record registers `Some.Other.Name`.
    let (_, mut rename) = published_locally("Evil.Rename", "6.6.7");
    rename.rename("Some.Other.Name");
    rename.serve(&fake, "ns4/evil.rename", "6.6.7");
    fake_remote(&victim, &fake, "fake4", "ns4");
    refused(
        &victim,
        &["pull", "fake4/Evil.Rename"],
        "holds Some.Other.Name@6.6.7, not the Evil.Rename@6.6.7 asked for",
    );

    // A tag that serves another version.
    evil.serve(&fake, "ns5/evil.claimb", "9.9.9");
    fake_remote(&victim, &fake, "fake5", "ns5");
    refused(
        &victim,
        &["pull", "fake5/Evil.ClaimB@9.9.9"],
        "holds Evil.ClaimB@6.6.7, not the Evil.ClaimB@9.9.9 asked for",
    );

    let listed = victim.run(&["list", "--json"]).json();
    assert_eq!(
        listed["templates"],
        serde_json::json!([{
            "templateId": victim_id,
            "name": "Some.Victim",
            "category": "service",
            "latestVersion": "1.0.0",
            "status": "Published",
            "latestPublished": "1.0.0",
        }])
    );
    victim.run(&["store", "check"]).ok();

    // The same artifact unaltered is a version like any other: the fake registry serves
    // what factory pushes, and the refusals above are the checks, not the fake.
    evil.serve(&fake, "ns6/evil.claimb", "6.6.7");
    fake_remote(&victim, &fake, "fake6", "ns6");
    let pulled = victim.run(&["pull", "fake6/Evil.ClaimB"]);
    pulled.ok();
    assert!(
        pulled
            .stdout
            .contains("Pulled Evil.ClaimB@6.6.7 from fake6"),
        "{}",
        pulled.stdout
    );
    victim
        .run(&["generate", "Evil.ClaimB", "-o", "out", "--defaults"])
        .ok();
    assert_eq!(
        std::fs::read_to_string(victim.path("out/README.md")).unwrap(),
        "# Evil.ClaimB\n"
    );
    let shown = victim.run(&["show", "Some.Victim", "--json"]).json();
    assert_eq!(shown["versions"].as_array().unwrap().len(), 1);
    victim.run(&["store", "check"]).ok();
}

#[test]
fn a_pull_refuses_sizes_that_wrap_around_and_paths_that_leave_the_output() {
    let fake = FakeRegistry::start();
    let mut env = Env::new();
    env.set_env("SSL_CERT_FILE", fake.ca.to_str().unwrap());
    let (_, evil) = published_locally("Evil.Big", "1.0.0");
    let blob_gets = |fake: &FakeRegistry, namespace: &str| {
        fake.asked()
            .iter()
            .filter(|a| a.starts_with(&format!("GET /v2/{namespace}/evil.big/blobs/")))
            .count()
    };

    // Two layers of 2^63 bytes: their sum wraps around to 0 in 64 bits.
    let mut wrap = evil.clone();
    wrap.extra_layers = vec![
        (common::fake_registry::digest(b"one"), 1 << 63),
        (common::fake_registry::digest(b"two"), 1 << 63),
    ];
    wrap.serve(&fake, "wrap/evil.big", "1.0.0");
    fake_remote(&env, &fake, "wrap", "wrap");
    let run = refused(
        &env,
        &["pull", "wrap/Evil.Big"],
        "more than the 2147483648 a pull takes; nothing was imported",
    );
    assert!(
        run.stderr.contains("declares 1844674407370955"),
        "the exact sum, 2^64 and more: {}",
        run.stderr
    );
    assert_eq!(blob_gets(&fake, "wrap"), 0, "nothing was downloaded");
    // One layer of 2^64 - 1 bytes.
    let mut most = evil.clone();
    most.extra_layers = vec![(common::fake_registry::digest(b"max"), u64::MAX)];
    most.serve(&fake, "most/evil.big", "1.0.0");
    fake_remote(&env, &fake, "most", "most");
    refused(
        &env,
        &["pull", "most/Evil.Big"],
        "more than the 2147483648 a pull takes",
    );
    assert_eq!(blob_gets(&fake, "most"), 0);

    // A file blob that does not end: read no further than its declared size.
    let files = evil.serve(&fake, "endless/evil.big", "1.0.0");
    fake.endless_blob("endless/evil.big", &files[0]);
    fake_remote(&env, &fake, "endless", "endless");
    let before = fake.served();
    refused(
        &env,
        &["pull", "endless/Evil.Big"],
        "is larger than the 11 bytes expected; nothing was imported",
    );
    assert!(
        fake.served() - before < 32 << 20,
        "{} bytes were sent before the pull gave up",
        fake.served() - before
    );

    for remote in ["wrap", "most", "endless"] {
        env.run(&["remote", "remove", remote]).ok();
    }

    // Trees whose paths leave the output folder or plant a git folder.
    for (namespace, path, says) in [
        ("up", "../escape.txt", "`../escape.txt` contains `..`"),
        ("deep", "src/../../escape.txt", "contains `..`"),
        (
            "absolute",
            "/tmp/escape.txt",
            "`/tmp/escape.txt` is an absolute path",
        ),
        (
            "git",
            ".git/hooks/post-checkout",
            "`.git/hooks/post-checkout` names `.git`",
        ),
        ("gitcase", "sub/.GIT/config", "names `.GIT`"),
        ("windows", "..\\escape.txt", "contains `..`"),
    ] {
        let mut planted = evil.clone();
        planted.add_path(path);
        planted.serve(&fake, &format!("{namespace}/evil.big"), "1.0.0");
        fake_remote(&env, &fake, namespace, namespace);
        let run = refused(&env, &["pull", &format!("{namespace}/Evil.Big")], says);
        assert!(
            run.stderr
                .contains("its tree holds a path no template may have"),
            "{}",
            run.stderr
        );
        // generate asks the remotes in order: this one is the only one.
        refused(
            &env,
            &["generate", "Evil.Big", "-o", "out", "--defaults"],
            says,
        );
        assert!(!env.path("out").exists() && !env.path("escape.txt").exists());
        env.run(&["remote", "remove", namespace]).ok();
    }
}

#[test]
fn store_check_names_tree_paths_that_leave_the_output() {
    let (env, served) = published_locally("Acme.Planted", "1.0.0");
    env.run(&["store", "check"]).ok();
    // Objects and events as a pull without path checks would have left them.
    let mut planted = served.clone();
    for path in ["../escape.txt", "/etc/escape", ".git/config"] {
        planted.add_path(path);
    }
    let tree = planted.tree_digest();
    let hex = tree.trim_start_matches("sha256:");
    let dir = env.store.join("objects").join(&hex[..2]);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(&hex[2..]), &planted.tree).unwrap();
    let old_created = &served.making[1]["payload"];
    let new_created = &planted.making[1]["payload"];
    let log = String::from_utf8(env.log_bytes()).unwrap();
    let log = log
        .replace(
            old_created["tree"].as_str().unwrap(),
            new_created["tree"].as_str().unwrap(),
        )
        .replace(
            old_created["contentHash"].as_str().unwrap(),
            new_created["contentHash"].as_str().unwrap(),
        );
    std::fs::write(env.store.join("events.jsonl"), log).unwrap();
    std::fs::remove_dir_all(env.store.join("state")).unwrap();
    let check = env.run(&["store", "check"]);
    check.expect_code(3);
    for says in [
        "Acme.Planted@1.0.0: tree: `../escape.txt` contains `..`",
        "Acme.Planted@1.0.0: tree: `/etc/escape` is an absolute path",
        "Acme.Planted@1.0.0: tree: `.git/config` names `.git`, a git repository's own folder",
    ] {
        assert!(
            check.stdout.contains(says) || check.stderr.contains(says),
            "{says}\n{}\n{}",
            check.stdout,
            check.stderr
        );
    }
    assert!(
        !check.stdout.contains("no longer add up") && !check.stderr.contains("no longer add up"),
        "the planted tree is consistent but for its paths: {}",
        check.stdout
    );
}

#[test]
#[ignore = "needs docker-registry: run scripts/registry-install"]
fn a_plain_http_token_realm_never_receives_the_credential() {
    // The registry (HTTPS) sends clients for tokens to http://127.0.0.1:PORT/token: the
    // Basic credential would cross the wire in clear. Before, login and pull sent it there
    // and succeeded.
    let registry = Registry::start(Auth::Token(USER, PASSWORD, Realm::PlainHttp));
    let service = registry.token_service.as_ref().unwrap();
    let mut env = store_at(&registry, &registry.host);
    let before = env.store_snapshot();
    let refused_login = login(&env, &registry.host, PASSWORD);
    refused_login.expect_code(1);
    let expected = format!(
        "the registry {} sends logins to the token service http://127.0.0.1:{}/token over plain HTTP: refused",
        registry.host, service.port
    );
    assert!(
        refused_login.stderr.contains(&expected),
        "{}",
        refused_login.stderr
    );
    assert!(!env.path(".docker/config.json").exists(), "nothing kept");
    env.set_env("FACTORY_REGISTRY_USERNAME", USER);
    env.set_env("FACTORY_REGISTRY_PASSWORD", PASSWORD);
    let refused_pull = env.run(&["pull", &format!("shared/{NAME}")]);
    refused_pull.expect_code(1);
    assert!(
        refused_pull.stderr.contains(&expected),
        "{}",
        refused_pull.stderr
    );
    let refused_generate = env.run(&["generate", NAME, "-o", "out", "--defaults"]);
    refused_generate.expect_code(1);
    assert!(!env.path("out").exists());
    assert!(
        service.requests().is_empty(),
        "the plain-HTTP token service was asked: {:?}",
        service.requests()
    );
    assert_eq!(env.store_snapshot(), before, "the store did not change");
    assert_no_secret(&env, &[&refused_login, &refused_pull, &refused_generate]);
}

#[test]
#[ignore = "needs docker-registry: run scripts/registry-install"]
fn a_token_realm_on_another_host_gets_the_credential_with_one_warning() {
    // The registry is 127.0.0.1:PORT, its token service https://localhost:PORT2: the
    // credential goes there (docker sends it too; Docker Hub's realm is auth.docker.io), and
    // the user hears which host got it, once per run.
    let registry = Registry::start(Auth::Token(USER, PASSWORD, Realm::OtherHost));
    let service = registry.token_service.as_ref().unwrap();
    let warning = format!(
        "warning: the registry {} sends logins to a token service on another host, localhost:{}: the credential of `alice`",
        registry.host, service.port
    );
    let mut a = store_at(&registry, &registry.host);
    let logged_in = login(&a, &registry.host, PASSWORD);
    logged_in.ok();
    assert!(
        logged_in.stderr.contains(&warning) && logged_in.stderr.contains("from the login"),
        "{}",
        logged_in.stderr
    );
    let template = a.path("tpl");
    write_template(&template, 3, "elsewhere");
    prepare_version(&a, &template, "1.0.0");
    a.set_env("FACTORY_REGISTRY_USERNAME", USER);
    a.set_env("FACTORY_REGISTRY_PASSWORD", PASSWORD);
    let (published, _) = publish(&a, "1.0.0");
    // The login's token, then one for the whole push (its repository and the index's).
    assert_eq!(service.requests().len(), 2, "{:?}", service.requests());
    assert_eq!(
        published.stderr.matches(&warning).count(),
        1,
        "{}",
        published.stderr
    );
    assert_no_secret(&a, &[&logged_in, &published]);
}

/// A fake registry over TLS whose `/v2/` challenge names `realm`, with a CA file for
/// SSL_CERT_FILE; and a store trusting it with a credential in the environment.
fn hostile(
    realm: impl Fn(u16) -> String + Send + Sync + 'static,
    raw: common::http::RawHandler,
) -> (common::http::Listener, Env) {
    let (ca, cert, key) = common::tls::test_ca();
    let token = common::http::Listener::start_tls_raw(&cert, &key, raw);
    let realm = realm(token.port);
    let registry = common::http::Listener::start_tls_with_headers(
        &cert,
        &key,
        std::sync::Arc::new(move |_| {
            let challenge = format!("Bearer realm=\"{realm}\",service=\"fake\"");
            (
                401,
                vec![("WWW-Authenticate".to_string(), challenge)],
                "{}".to_string(),
            )
        }),
    );
    let mut env = Env::new();
    std::fs::write(env.path("ca.pem"), ca).unwrap();
    env.set_env("SSL_CERT_FILE", env.path("ca.pem").to_str().unwrap());
    env.set_env("FACTORY_REGISTRY_USERNAME", USER);
    env.set_env("FACTORY_REGISTRY_PASSWORD", PASSWORD);
    env.run(&[
        "remote",
        "add",
        "shared",
        &format!("oci://127.0.0.1:{}/factory", registry.port),
        "--default",
    ])
    .ok();
    (token, env)
}

/// Writes `size` bytes of `fill` in 64 KiB pieces, counting what got out before the
/// reader hung up.
fn stream_fill(out: &mut dyn std::io::Write, size: usize, sent: &std::sync::atomic::AtomicUsize) {
    let piece = vec![b'a'; 64 << 10];
    let mut left = size;
    while left > 0 {
        let n = left.min(piece.len());
        if out.write_all(&piece[..n]).is_err() {
            return;
        }
        sent.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        left -= n;
    }
}

#[test]
fn huge_tokens_and_challenges_are_refused_after_a_bounded_read() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    const HUGE: usize = 200 << 20;
    // A token answer of 200 MB, with its length said and without (read until the close).
    for declared in [true, false] {
        let sent = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&sent);
        let (token, env) = hostile(
            |port| format!("https://127.0.0.1:{port}/token"),
            Arc::new(move |_, out| {
                let length = if declared {
                    format!("Content-Length: {}\r\n", HUGE + 13)
                } else {
                    String::new()
                };
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{length}Connection: close\r\n\r\n{{\"token\": \""
                );
                if out.write_all(head.as_bytes()).is_ok() {
                    stream_fill(out, HUGE, &counted);
                    let _ = out.write_all(b"\"}");
                }
            }),
        );
        let before = env.store_snapshot();
        let started = std::time::Instant::now();
        let out = env.run(&["pull", &format!("shared/{NAME}")]);
        out.expect_code(1);
        assert!(
            out.stderr.contains(&format!(
                "the token service https://127.0.0.1:{}/token of 127.0.0.1:",
                token.port
            )) && out
                .stderr
                .contains("answered more than the 1048576 bytes a token answer may weigh"),
            "{}",
            out.stderr
        );
        assert!(!out.stderr.contains("cannot reach"), "{}", out.stderr);
        assert!(started.elapsed() < std::time::Duration::from_secs(30));
        // Read no further than the bound (give or take the socket buffers).
        std::thread::sleep(std::time::Duration::from_millis(200));
        assert!(
            sent.load(Ordering::Relaxed) < 32 << 20,
            "{} bytes were read",
            sent.load(Ordering::Relaxed)
        );
        assert_eq!(env.store_snapshot(), before);
        assert_no_secret(&env, &[&out]);
    }
    // A token that fits the answer but not a header.
    let (_token, env) = hostile(
        |port| format!("https://127.0.0.1:{port}/token"),
        Arc::new(|_, out| {
            let body = format!("{{\"token\": \"{}\"}}", "t".repeat(100_000));
            let _ = out.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            );
        }),
    );
    let out = env.run(&["pull", &format!("shared/{NAME}")]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("answered a token of 100000 bytes that cannot be sent in a header"),
        "{}",
        out.stderr
    );
    // A challenge header of 200 MB from the registry itself.
    let sent = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&sent);
    let (ca, cert, key) = common::tls::test_ca();
    let registry = common::http::Listener::start_tls_raw(
        &cert,
        &key,
        Arc::new(move |_, out| {
            if out.write_all(b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"https://127.0.0.1:1/token\",x=\"").is_ok() {
                stream_fill(out, HUGE, &counted);
            }
        }),
    );
    let mut env = Env::new();
    std::fs::write(env.path("ca.pem"), ca).unwrap();
    env.set_env("SSL_CERT_FILE", env.path("ca.pem").to_str().unwrap());
    env.run(&[
        "remote",
        "add",
        "shared",
        &format!("oci://127.0.0.1:{}/factory", registry.port),
    ])
    .ok();
    let out = env.run(&["pull", &format!("shared/{NAME}")]);
    out.expect_code(1);
    assert!(
        out.stderr.contains(&format!(
            "the registry 127.0.0.1:{} answered with headers too large to read",
            registry.port
        )),
        "{}",
        out.stderr
    );
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(
        sent.load(Ordering::Relaxed) < 32 << 20,
        "{} bytes were read",
        sent.load(Ordering::Relaxed)
    );
}

/// The access log lines of `registry` from `from` on.
fn log_since(registry: &Registry, from: usize) -> Vec<String> {
    registry.access_log().split_off(from)
}

#[test]
#[ignore = "needs docker-registry: run scripts/registry-install"]
fn blobs_travel_in_two_requests_each_on_distribution_with_one_auth_negotiation() {
    let registry = Registry::start(Auth::Basic(USER, PASSWORD));
    let a = store_for(&registry);
    let template = a.path("tpl");
    write_template(&template, 120, "many");
    prepare_version(&a, &template, "1.0.0");
    let before = registry.access_log().len();
    let (_, json) = publish(&a, "1.0.0");
    let uploaded = json["pushed"]["blobsUploaded"].as_u64().unwrap() as usize;
    assert_eq!(
        uploaded, 123,
        "120 files and template.yaml, the tree and the record: {json}"
    );
    let log = log_since(&registry, before);
    let count = |needle: &str| log.iter().filter(|l| l.contains(needle)).count();
    // Distribution does not take an upload in one request: the first upload asks (its
    // bytes in the POST), is answered 202, and every upload after it is POST + PUT.
    assert_eq!(
        count("\"POST /v2/factory/acme.shared/blobs/uploads/?digest="),
        1
    );
    assert_eq!(
        count("\"POST /v2/factory/factory-index/blobs/uploads/?digest="),
        0
    );
    let puts = count("\"PUT /v2/factory/acme.shared/blobs/uploads/");
    // The record's events and the empty config of the publication referrer besides.
    assert_eq!(puts, uploaded + 2, "{log:#?}");
    // A first push asks about the first blob only (then the referrer's two): no HEAD per blob.
    let heads = count("\"HEAD /v2/factory/acme.shared/blobs/");
    assert!(heads <= 3, "{heads} HEADs");
    // Basic auth negotiated once for the whole push.
    assert_eq!(
        log.iter().filter(|l| l.contains("\" 401 ")).count(),
        1,
        "{log:#?}"
    );

    // Another store pulls with 16 requests in flight and generates the same files.
    let mut b = store_for(&registry);
    b.set_env("FACTORY_REGISTRY_PARALLEL", "16");
    let before = registry.access_log().len();
    let generated = b.run(&["generate", NAME, "-o", "out", "--defaults", "--json"]);
    generated.ok();
    let gets = log_since(&registry, before)
        .iter()
        .filter(|l| l.contains("\"GET /v2/factory/acme.shared/blobs/sha256:"))
        .count();
    assert!(gets >= 120, "{gets} blobs fetched");
    for i in [0, 57, 119] {
        assert_eq!(
            std::fs::read_to_string(b.path(&format!("out/src/file{i:04}.txt"))).unwrap(),
            format!("orders file {i} many\n{}\n", "x".repeat(200))
        );
    }
    b.run(&["store", "check"]).ok();

    // A setting out of bounds is refused before anything is sent.
    b.set_env("FACTORY_REGISTRY_PARALLEL", "0");
    let refused = b.run(&["pull", &format!("shared/{NAME}")]);
    refused.expect_code(2);
    assert!(
        refused
            .stderr
            .contains("FACTORY_REGISTRY_PARALLEL is `0`, not a number of requests from 1 to 64"),
        "{}",
        refused.stderr
    );
}

/// An in-memory registry over TLS that takes an upload in one request (`POST
/// …/blobs/uploads/?digest=` with the bytes, checked against the digest), as the
/// distribution spec allows and CNCF Distribution does not: what a real one here cannot show.
/// It counts the requests in flight at once.
struct OneRequestRegistry {
    listener: common::http::Listener,
    ca: tempfile::NamedTempFile,
    state: std::sync::Arc<std::sync::Mutex<Memory>>,
}

#[derive(Default)]
struct Memory {
    /// Repository/digest → bytes.
    blobs: std::collections::HashMap<String, Vec<u8>>,
    /// Repository/reference → (media type, bytes).
    manifests: std::collections::HashMap<String, (String, Vec<u8>)>,
    /// `METHOD PATH` in the order answered.
    asked: Vec<String>,
    in_flight: usize,
    most_in_flight: usize,
}

impl OneRequestRegistry {
    fn start() -> OneRequestRegistry {
        let (ca, cert, key) = common::tls::test_ca();
        let ca_file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(ca_file.path(), ca).unwrap();
        let state = std::sync::Arc::new(std::sync::Mutex::new(Memory::default()));
        let serving = std::sync::Arc::clone(&state);
        let listener = common::http::Listener::start_tls_raw(
            &cert,
            &key,
            std::sync::Arc::new(move |request, out| {
                {
                    let mut m = serving.lock().unwrap();
                    m.in_flight += 1;
                    m.most_in_flight = m.most_in_flight.max(m.in_flight);
                }
                // Long enough for the client's other requests to arrive meanwhile.
                std::thread::sleep(std::time::Duration::from_millis(25));
                let (status, headers, body) = one_request_answer(&serving, request);
                let mut m = serving.lock().unwrap();
                m.in_flight -= 1;
                m.asked.push(format!("{} {}", request.method, request.path));
                drop(m);
                let mut head = format!(
                    "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
                    body.len()
                );
                for (name, value) in headers {
                    head.push_str(&format!("{name}: {value}\r\n"));
                }
                head.push_str("\r\n");
                let _ = out.write_all(head.as_bytes());
                if request.method != "HEAD" {
                    let _ = out.write_all(&body);
                }
            }),
        );
        OneRequestRegistry {
            listener,
            ca: ca_file,
            state,
        }
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.listener.port)
    }
}

fn one_request_answer(
    state: &std::sync::Mutex<Memory>,
    request: &common::http::Request,
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let (path, query) = request
        .path
        .split_once('?')
        .unwrap_or((request.path.as_str(), ""));
    let param = |key: &str| {
        query
            .split('&')
            .find_map(|p| p.strip_prefix(&format!("{key}=")))
            .map(common::http::percent_decode)
    };
    let mut m = state.lock().unwrap();
    let none = (
        404,
        Vec::new(),
        br#"{"errors":[{"code":"NOT_FOUND","message":"none"}]}"#.to_vec(),
    );
    if path == "/v2/" {
        return (200, Vec::new(), b"{}".to_vec());
    }
    let rest = path.strip_prefix("/v2/").unwrap_or_default();
    if let Some(repository) = rest.strip_suffix("/blobs/uploads/") {
        let Some(digest) = param("digest") else {
            let location = format!("/v2/{repository}/blobs/uploads/u{}", m.asked.len());
            return (202, vec![("Location".into(), location)], Vec::new());
        };
        if common::fake_registry::digest(&request.body) != digest {
            return (
                400,
                Vec::new(),
                br#"{"errors":[{"code":"DIGEST_INVALID","message":"x"}]}"#.to_vec(),
            );
        }
        m.blobs
            .insert(format!("{repository}/{digest}"), request.body.clone());
        let location = format!("/v2/{repository}/blobs/{digest}");
        return (201, vec![("Location".into(), location)], Vec::new());
    }
    if let Some((repository, _)) = rest.split_once("/blobs/uploads/") {
        let digest = param("digest").unwrap_or_default();
        m.blobs
            .insert(format!("{repository}/{digest}"), request.body.clone());
        return (201, Vec::new(), Vec::new());
    }
    if let Some((repository, digest)) = rest.split_once("/blobs/") {
        return match m.blobs.get(&format!("{repository}/{digest}")) {
            Some(bytes) => (200, Vec::new(), bytes.clone()),
            None => none,
        };
    }
    if let Some((repository, reference)) = rest.split_once("/manifests/") {
        let key = format!("{repository}/{reference}");
        if request.method == "PUT" {
            let media = request
                .header("content-type")
                .unwrap_or_default()
                .to_string();
            let digest = common::fake_registry::digest(&request.body);
            m.manifests.insert(
                format!("{repository}/{digest}"),
                (media.clone(), request.body.clone()),
            );
            m.manifests.insert(key, (media, request.body.clone()));
            return (201, Vec::new(), Vec::new());
        }
        return match m.manifests.get(&key) {
            Some((media, bytes)) => (
                200,
                vec![("Content-Type".into(), media.clone())],
                bytes.clone(),
            ),
            None => none,
        };
    }
    if let Some(repository) = rest.strip_suffix("/tags/list") {
        let prefix = format!("{repository}/");
        let tags: Vec<&str> = m
            .manifests
            .keys()
            .filter_map(|k| k.strip_prefix(&prefix))
            .filter(|t| !t.starts_with("sha256:"))
            .collect();
        if tags.is_empty() {
            return none;
        }
        let body = serde_json::json!({"name": repository, "tags": tags}).to_string();
        return (200, Vec::new(), body.into_bytes());
    }
    none
}

#[test]
fn a_registry_that_takes_uploads_in_one_request_gets_one_request_per_blob() {
    let registry = OneRequestRegistry::start();
    let host = registry.host();
    let with_remote = || {
        let mut env = Env::new();
        env.set_env("SSL_CERT_FILE", registry.ca.path().to_str().unwrap());
        env.set_env("FACTORY_REGISTRY_PARALLEL", "3");
        env.run(&[
            "remote",
            "add",
            "shared",
            &format!("oci://{host}/factory"),
            "--default",
        ])
        .ok();
        env
    };
    let a = with_remote();
    let template = a.path("tpl");
    write_template(&template, 15, "one");
    prepare_version(&a, &template, "1.0.0");
    let (_, json) = publish(&a, "1.0.0");
    // 15 files and template.yaml, the tree and the record.
    assert_eq!(json["pushed"]["blobsUploaded"], 18, "{json}");
    let memory = registry.state.lock().unwrap();
    let asked = memory.asked.clone();
    let most = memory.most_in_flight;
    drop(memory);
    let repo = "/v2/factory/acme.shared/";
    let one_request = asked
        .iter()
        .filter(|a| a.starts_with(&format!("POST {repo}blobs/uploads/?digest=")))
        .count();
    // Those, and the referrer's events and empty config.
    assert_eq!(one_request, 20, "{asked:#?}");
    assert!(
        !asked
            .iter()
            .any(|a| a.starts_with("PUT ") && a.contains("/blobs/uploads/")),
        "no upload took a second request: {asked:#?}"
    );
    // Several at once, as many as the setting says and no more.
    assert_eq!(most, 3, "{asked:#?}");
    // The manifest under the tag after every blob of the version.
    let tagged = asked
        .iter()
        .position(|a| a == &format!("PUT {repo}manifests/1.0.0"))
        .expect("the tag was written");
    let last_blob = asked
        .iter()
        .rposition(|a| a.starts_with(&format!("POST {repo}blobs/uploads/")))
        .unwrap();
    assert!(last_blob < tagged, "{asked:#?}");

    // Another store pulls it back from there and generates the files.
    let b = with_remote();
    b.run(&["generate", NAME, "-o", "out", "--defaults"]).ok();
    assert_eq!(
        std::fs::read_to_string(b.path("out/src/file0007.txt")).unwrap(),
        format!("orders file 7 one\n{}\n", "x".repeat(200))
    );
}

/// This machine's address on its network (not a loopback one): where the route to a
/// documentation address leaves from (a UDP "connect" sends nothing).
fn own_address() -> String {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
    socket
        .connect("203.0.113.1:9")
        .expect("this test needs a network interface besides loopback");
    let ip = socket.local_addr().unwrap().ip();
    assert!(!ip.is_loopback(), "{ip}");
    ip.to_string()
}

#[test]
#[ignore = "needs docker-registry: run scripts/registry-install"]
fn plain_http_registries_are_spoken_to_as_docker_and_oras_do() {
    let plain = Registry::start_plain();
    // On loopback, a registry that does not speak TLS is spoken to over plain HTTP without
    // being told (docker's rule for 127.0.0.0/8 and localhost).
    let a = Env::new();
    a.run(&[
        "remote",
        "add",
        "local",
        &format!("oci://{}/factory", plain.host),
        "--default",
    ])
    .ok();
    let template = a.path("tpl");
    write_template(&template, 6, "plain");
    prepare_version(&a, &template, "1.0.0");
    let (_, json) = publish(&a, "1.0.0");
    assert_eq!(json["pushed"]["blobsUploaded"], 9, "{json}");
    let found = a.run(&["search", "shared"]);
    found.ok();
    assert!(
        found.stdout.contains("local/Acme.Shared"),
        "{}",
        found.stdout
    );

    // Elsewhere, plain HTTP is named, with the flag that allows it; exit 1, not a retry.
    let port = plain.host.rsplit_once(':').unwrap().1;
    let lan = format!("{}:{port}", own_address());
    let b = Env::new();
    b.run(&["remote", "add", "lan", &format!("oci://{lan}/factory")])
        .ok();
    let refused = b.run(&["pull", &format!("lan/{NAME}")]);
    refused.expect_code(1);
    assert!(
        refused
            .stderr
            .contains(&format!("the registry {lan} speaks plain HTTP, not HTTPS")),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("--plain-http"),
        "{}",
        refused.stderr
    );
    assert!(
        !b.path(".factory-store/objects").exists()
            || b.run(&["list"]).stdout.contains("No templates")
    );
    // --plain-http for one command, then as the remote's setting.
    b.run(&["pull", &format!("lan/{NAME}"), "--plain-http"])
        .ok();
    let c = Env::new();
    c.run(&[
        "remote",
        "add",
        "lan",
        &format!("oci://{lan}/factory"),
        "--plain-http",
    ])
    .ok();
    let listed = c.run(&["remote", "list"]);
    assert!(listed.stdout.contains("(plain HTTP)"), "{}", listed.stdout);
    c.run(&["generate", NAME, "-o", "out", "--defaults"]).ok();
    assert!(c.path("out/src/file0003.txt").is_file());

    // A TLS registry: --plain-http is told it speaks HTTPS; without the CA, the
    // certificate is named with SSL_CERT_FILE.
    let tls = Registry::start(Auth::Basic(USER, PASSWORD));
    let mut d = store_at(&tls, &tls.host);
    let wrong = d.run(&["search", "--plain-http"]);
    wrong.expect_code(1);
    assert!(
        wrong.stderr.contains(&format!(
            "the registry {} speaks HTTPS, not plain HTTP",
            tls.host
        )),
        "{}",
        wrong.stderr
    );
    let other_ca = d.path("other-ca.pem");
    std::fs::write(&other_ca, common::tls::test_ca().0).unwrap();
    d.set_env("SSL_CERT_FILE", other_ca.to_str().unwrap());
    let untrusted = d.run(&["search"]);
    untrusted.expect_code(1);
    assert!(
        untrusted.stderr.contains(&format!(
            "the TLS certificate of the registry {} is not trusted: it is not signed by a CA this machine trusts",
            tls.host
        )) && untrusted.stderr.contains("SSL_CERT_FILE"),
        "{}",
        untrusted.stderr
    );
}

#[test]
#[ignore = "needs docker-registry: run scripts/registry-install"]
fn newer_versions_on_a_remote_are_taken_and_an_unreachable_remote_is_gone_past() {
    let registry = Registry::start(Auth::Basic(USER, PASSWORD));
    let a = store_for(&registry);
    let template = a.path("tpl");
    write_template(&template, 3, "v1");
    prepare_version(&a, &template, "1.0.0");
    publish(&a, "1.0.0");
    let b = store_for(&registry);
    b.run(&["generate", NAME, "-o", "p1", "--defaults"]).ok();
    write_template(&template, 3, "v2");
    prepare_version(&a, &template, "1.1.0");
    publish(&a, "1.1.0");

    // As helm and copier take the newest: a store that pulled 1.0.0 generates 1.1.0.
    let newer = b.run(&["generate", NAME, "-o", "p2", "--defaults"]);
    newer.ok();
    assert!(
        newer.stderr.contains(
            "shared has Acme.Shared@1.1.0, newer than the 1.0.0 in the store: pulled it (--offline keeps to the store)"
        ),
        "{}",
        newer.stderr
    );
    assert!(
        std::fs::read_to_string(b.path("p2/src/file0001.txt"))
            .unwrap()
            .contains("v2")
    );
    // --offline keeps to the store; a version only on the remote is pulled by upgrade --to.
    write_template(&template, 3, "v3");
    prepare_version(&a, &template, "1.2.0");
    publish(&a, "1.2.0");
    b.run(&["generate", NAME, "-o", "p3", "--defaults", "--offline"])
        .ok();
    assert!(
        std::fs::read_to_string(b.path("p3/src/file0001.txt"))
            .unwrap()
            .contains("v2")
    );
    let p1 = b.path("p1");
    let upgraded = b.run(&["upgrade", p1.to_str().unwrap(), "--to", "1.2.0", "--apply"]);
    upgraded.ok();
    assert!(
        std::fs::read_to_string(b.path("p1/src/file0001.txt"))
            .unwrap()
            .contains("v3")
    );

    // An unreachable remote first: warned about, the next one asked.
    let closed = common::tls::free_port();
    let mut c = Env::new();
    c.set_env("SSL_CERT_FILE", registry.ca.to_str().unwrap());
    c.run(&[
        "remote",
        "add",
        "down",
        &format!("oci://127.0.0.1:{closed}/factory"),
    ])
    .ok();
    c.run(&[
        "remote",
        "add",
        "shared",
        &format!("oci://{}/factory", registry.host),
    ])
    .ok();
    login(&c, &registry.host, PASSWORD).ok();
    let warning = format!(
        "warning: the remote down (oci://127.0.0.1:{closed}/factory) did not answer, went on without it: nothing listens at 127.0.0.1:{closed}"
    );
    let generated = c.run(&["generate", NAME, "-o", "q", "--defaults"]);
    generated.ok();
    assert!(generated.stderr.contains(&warning), "{}", generated.stderr);
    let found = c.run(&["search", "shared"]);
    found.ok();
    assert!(found.stderr.contains(&warning), "{}", found.stderr);
    assert!(
        found.stdout.contains("shared/Acme.Shared"),
        "{}",
        found.stdout
    );
    assert!(
        !found.stderr.contains("down has no index"),
        "{}",
        found.stderr
    );

    // remote.default unreachable: the store's publication does not wait for it.
    let d = Env::new();
    d.run(&[
        "remote",
        "add",
        "down",
        &format!("oci://127.0.0.1:{closed}/factory"),
        "--default",
    ])
    .ok();
    let template = d.path("tpl");
    write_template(&template, 2, "d");
    prepare_version(&d, &template, "1.0.0");
    let outage = d.run(&["publish", &format!("{NAME}@1.0.0")]);
    outage.expect_code(1);
    assert!(
        outage.stderr.contains(&format!(
            "published Acme.Shared@1.0.0 in the store, but not pushed to down (remote.default): nothing listens at 127.0.0.1:{closed}"
        )) && outage.stderr.contains("factory publish Acme.Shared@1.0.0"),
        "{}",
        outage.stderr
    );
    let published = |env: &Env| {
        env.events()
            .iter()
            .filter(|e| e["eventType"] == "TemplatePublished")
            .count()
    };
    assert_eq!(published(&d), 1);
    prepare_version(&d, &template, "1.0.1");
    d.run(&["publish", &format!("{NAME}@1.0.1"), "--offline"])
        .ok();
    assert_eq!(published(&d), 2);
    let both = d.run(&[
        "publish",
        &format!("{NAME}@1.0.1"),
        "--offline",
        "--to",
        "down",
    ]);
    both.expect_code(2);
}
