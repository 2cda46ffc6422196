//! The library registry end to end: real project files, graphs with conflicts and cycles,
//! OSV advisories, NuGet feeds, API clients, advice, and bad input.

mod common;

use std::io::Write;
use std::sync::Arc;

use base64::Engine;
use common::http::{Listener, Request};
use common::{EXAMPLE_NAME, Env};
use serde_json::{Value, json};
use sha2::Digest;

fn last_payload(env: &Env, event_type: &str) -> Value {
    env.events()
        .into_iter()
        .rev()
        .find(|e| e["eventType"] == event_type)
        .expect(event_type)["payload"]
        .clone()
}

#[test]
fn versions_read_real_project_files() {
    let env = Env::new();
    // A multi-target .csproj under central package management, with a lock file.
    env.template(
        "dotnet",
        &[
            (
                "Directory.Packages.props",
                r#"<Project>
  <PropertyGroup><ManagePackageVersionsCentrally>true</ManagePackageVersionsCentrally></PropertyGroup>
  <ItemGroup>
    <PackageVersion Include="Acme.Json" Version="4.1.0" />
    <PackageVersion Include="Microsoft.Extensions.Logging" Version="[8.0.0,9.0.0)" />
  </ItemGroup>
</Project>"#,
            ),
            (
                "src/Acme.Persistence/Acme.Persistence.csproj",
                r#"<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFrameworks>net8.0;net9.0</TargetFrameworks>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="Acme.Json" />
    <PackageReference Include="Microsoft.Extensions.Logging" />
    <PackageReference Include="Npgsql" VersionOverride="8.0.3" />
  </ItemGroup>
</Project>"#,
            ),
            (
                "src/Acme.Persistence/packages.lock.json",
                r#"{"version": 1, "dependencies": {"net8.0": {"Acme.Json": {"type": "Direct", "requested": "[4.1.0, )", "resolved": "4.1.2"}}}}"#,
            ),
        ],
    );
    env.run(&[
        "library",
        "register",
        "Acme.Persistence",
        "--area",
        "persistence",
    ])
    .ok();
    let out = env.run(&[
        "library",
        "version",
        "Acme.Persistence",
        "1.2.0",
        "--path",
        env.path("dotnet/src/Acme.Persistence").to_str().unwrap(),
    ]);
    out.ok();
    let created = last_payload(&env, "LibraryVersionCreated");
    assert_eq!(created["targetFrameworks"], json!(["net8.0", "net9.0"]));
    assert_eq!(
        created["dependencies"],
        json!([
            {"packageName": "Acme.Json", "range": ">=4.1.0"},
            {"packageName": "Microsoft.Extensions.Logging", "range": ">=8.0.0, <9.0.0"},
            {"packageName": "Npgsql", "range": ">=8.0.3"},
        ])
    );
    assert_eq!(
        created["locked"],
        json!([{"packageName": "Acme.Json", "version": "4.1.2"}])
    );
    assert_eq!(created["manifest"], "Acme.Persistence.csproj");
    assert!(
        created["libraryVersionId"]
            .as_str()
            .unwrap()
            .starts_with("lv-")
    );

    // A Cargo workspace member inheriting from its workspace, with Cargo.lock.
    env.template(
        "ws",
        &[
            (
                "Cargo.toml",
                "[workspace]\nmembers = [\"crates/acme-core\"]\n\n[workspace.package]\nrust-version = \"1.75\"\n\n[workspace.dependencies]\nserde = { version = \"1.0.200\", features = [\"derive\"] }\n",
            ),
            (
                "crates/acme-core/Cargo.toml",
                "[package]\nname = \"acme-core\"\nversion = \"0.3.0\"\nrust-version.workspace = true\n\n[dependencies]\nserde = { workspace = true }\nthiserror = \"2\"\ntokio = { version = \"1.40\", optional = true }\n\n[dev-dependencies]\ntempfile = \"3\"\n",
            ),
            (
                "Cargo.lock",
                "version = 4\n\n[[package]]\nname = \"serde\"\nversion = \"1.0.210\"\n\n[[package]]\nname = \"thiserror\"\nversion = \"2.0.3\"\n\n[[package]]\nname = \"tempfile\"\nversion = \"3.10.0\"\n",
            ),
        ],
    );
    env.run(&["library", "register", "acme-core", "--ecosystem", "cargo"])
        .ok();
    env.run(&[
        "library",
        "version",
        "acme-core",
        "0.3.0",
        "--path",
        env.path("ws/crates/acme-core").to_str().unwrap(),
    ])
    .ok();
    let created = last_payload(&env, "LibraryVersionCreated");
    assert_eq!(created["targetFrameworks"], json!(["rust1.75"]));
    assert_eq!(
        created["dependencies"],
        json!([
            {"packageName": "serde", "range": "^1.0.200"},
            {"packageName": "thiserror", "range": "^2"},
            {"packageName": "tokio", "range": "^1.40"},
        ]),
        "dev-dependencies do not ship"
    );
    assert_eq!(
        created["locked"],
        json!([{"packageName": "serde", "version": "1.0.210"}, {"packageName": "thiserror", "version": "2.0.3"}])
    );

    // A package.json with dev dependencies and a lock file.
    env.template(
        "ui",
        &[
            (
                "package.json",
                r#"{"name": "acme-ui", "version": "1.2.0", "engines": {"node": ">=18"},
                    "dependencies": {"react": "^18.2.0", "zod": ">=3.22.0 <4.0.0"},
                    "devDependencies": {"vitest": "^1.0.0"}}"#,
            ),
            (
                "package-lock.json",
                r#"{"lockfileVersion": 3, "packages": {"": {}, "node_modules/react": {"version": "18.3.1"}, "node_modules/zod": {"version": "3.23.8"}, "node_modules/vitest": {"version": "1.6.0"}}}"#,
            ),
        ],
    );
    env.run(&["library", "register", "acme-ui", "--ecosystem", "npm"])
        .ok();
    env.run(&[
        "library",
        "version",
        "acme-ui",
        "1.2.0",
        "--path",
        env.path("ui").to_str().unwrap(),
    ])
    .ok();
    let created = last_payload(&env, "LibraryVersionCreated");
    assert_eq!(created["targetFrameworks"], json!(["node>=18"]));
    assert_eq!(
        created["dependencies"],
        json!([{"packageName": "react", "range": "^18.2.0"}, {"packageName": "zod", "range": ">=3.22.0, <4.0.0"}])
    );
    assert_eq!(
        created["locked"],
        json!([{"packageName": "react", "version": "18.3.1"}, {"packageName": "zod", "version": "3.23.8"}])
    );

    let list = env.run(&["library", "list", "--json"]).json();
    assert_eq!(list["libraries"].as_array().unwrap().len(), 3);
    let show = env.run(&["library", "show", "Acme.Persistence@1.2.0"]);
    show.ok();
    assert!(show.stdout.contains("net8.0, net9.0"), "{}", show.stdout);
    env.run(&["store", "check"]).ok();
}

#[test]
fn a_diamond_conflict_is_explained_naming_both_requirers() {
    let env = Env::new();
    for name in ["Acme.App", "Acme.A", "Acme.B", "Acme.C", "Acme.D", "Acme.E"] {
        env.run(&["library", "register", name]).ok();
    }
    env.run(&["library", "version", "Acme.C", "1.0.0"]).ok();
    env.run(&["library", "version", "Acme.C", "2.0.0"]).ok();
    env.run(&[
        "library",
        "version",
        "Acme.A",
        "1.0.0",
        "--dep",
        "Acme.C@>=2.0",
    ])
    .ok();
    env.run(&[
        "library",
        "version",
        "Acme.B",
        "1.0.0",
        "--dep",
        "Acme.C@[1.0,2.0)",
    ])
    .ok();
    env.run(&[
        "library",
        "version",
        "Acme.App",
        "1.0.0",
        "--dep",
        "Acme.A@^1",
        "--dep",
        "Acme.B@^1",
    ])
    .ok();
    let out = env.run(&["library", "scan", "Acme.App@1.0.0", "--fail-on", "conflict"]);
    out.expect_code(3);
    assert!(
        out.stdout.contains("Acme.App@1.0.0\n  Acme.A@1.0.0"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("conflict: Acme.A@1.0.0 requires Acme.C >=2.0; Acme.B@1.0.0 requires Acme.C >=1.0.0, <2.0.0; no registered version of Acme.C satisfies all of them (registered: 1.0.0, 2.0.0)"), "{}", out.stdout);
    assert!(
        out.stderr.contains("has 1 dependency conflict(s)"),
        "{}",
        out.stderr
    );
    let scanned = last_payload(&env, "DependencyScanned");
    assert_eq!(scanned["conflictCount"], 1);
    assert_eq!(scanned["nodeCount"], 5);
    assert!(scanned["graphId"].as_str().unwrap().starts_with("graph-"));
    assert_eq!(scanned["graph"]["conflicts"][0]["packageName"], "Acme.C");
    assert_eq!(
        scanned["graph"]["conflicts"][0]["requirements"][1],
        json!({"by": "Acme.B@1.0.0", "range": ">=1.0.0, <2.0.0"})
    );
    let routed = env
        .events()
        .into_iter()
        .rev()
        .find(|e| e["eventType"] == "DependencyScanned")
        .unwrap();
    assert_eq!(
        routed["payload"]["libraryVersionId"],
        last_payload(&env, "LibraryVersionCreated")["libraryVersionId"]
    );

    // Without --fail-on the scan reports and succeeds; dot and JSON formats.
    env.run(&["library", "scan", "Acme.App@1.0.0"]).ok();
    let dot = env.run(&["library", "scan", "Acme.App@1.0.0", "--format", "dot"]);
    assert!(
        dot.stdout.starts_with("digraph dependencies {") && dot.stdout.contains("color=red"),
        "{}",
        dot.stdout
    );
    let json = env
        .run(&["library", "scan", "Acme.App@1.0.0", "--json"])
        .json();
    assert_eq!(json["edges"].as_array().unwrap().len(), 4);

    // A cycle.
    env.run(&[
        "library",
        "version",
        "Acme.D",
        "1.0.0",
        "--dep",
        "Acme.E@^1",
    ])
    .ok();
    env.run(&[
        "library",
        "version",
        "Acme.E",
        "1.0.0",
        "--dep",
        "Acme.D@^1",
    ])
    .ok();
    let out = env.run(&["library", "scan", "Acme.D@1.0.0", "--fail-on", "conflict"]);
    out.expect_code(3);
    assert!(
        out.stdout
            .contains("cycle: Acme.D@1.0.0 -> Acme.E@1.0.0 -> Acme.D@1.0.0"),
        "{}",
        out.stdout
    );
    // A consistent graph picks the newest version every requirer accepts.
    env.run(&[
        "library",
        "version",
        "Acme.B",
        "2.0.0",
        "--dep",
        "Acme.C@>=1.5",
    ])
    .ok();
    env.run(&[
        "library",
        "version",
        "Acme.App",
        "2.0.0",
        "--dep",
        "Acme.A@^1",
        "--dep",
        "Acme.B@^2",
    ])
    .ok();
    let json = env.run(&[
        "library",
        "scan",
        "Acme.App@2.0.0",
        "--json",
        "--fail-on",
        "conflict",
    ]);
    json.ok();
    let labels: Vec<String> = json.json()["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            format!(
                "{}@{}",
                n["packageName"].as_str().unwrap(),
                n["version"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        labels,
        [
            "Acme.App@2.0.0",
            "Acme.A@1.0.0",
            "Acme.B@2.0.0",
            "Acme.C@2.0.0"
        ]
    );
}

#[test]
fn only_matching_advisories_are_reported() {
    let env = Env::new();
    env.run(&["library", "register", "Acme.Json"]).ok();
    env.run(&["library", "version", "Acme.Json", "4.1.1"]).ok();
    env.run(&["library", "register", "Acme.Service"]).ok();
    env.run(&[
        "library",
        "version",
        "Acme.Service",
        "1.0.0",
        "--dep",
        "Acme.Json@[4.1,5.0)",
    ])
    .ok();
    let osv = |id: &str, events: Value| {
        json!({"schema_version": "1.6.0", "id": id, "summary": format!("{id} summary"), "aliases": ["CVE-2026-0001"],
               "affected": [{"package": {"ecosystem": "NuGet", "name": "Acme.Json"}, "ranges": [{"type": "ECOSYSTEM", "events": events}]}]})
        .to_string()
    };
    env.template(
        "osv",
        &[
            (
                "GHSA-match.json",
                &osv(
                    "GHSA-match",
                    json!([{"introduced": "0"}, {"fixed": "4.1.2"}]),
                ),
            ),
            (
                "nested/GHSA-other.json",
                &osv(
                    "GHSA-other",
                    json!([{"introduced": "5.0.0"}, {"fixed": "5.0.1"}]),
                ),
            ),
        ],
    );
    let out = env.run(&[
        "library",
        "scan",
        "Acme.Service@1.0.0",
        "--advisories",
        env.path("osv").to_str().unwrap(),
        "--fail-on",
        "advisory",
    ]);
    out.expect_code(3);
    assert!(
        out.stdout
            .contains("advisory: GHSA-match affects Acme.Json@4.1.1"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("GHSA-other"), "{}", out.stdout);
    let scanned = last_payload(&env, "DependencyScanned");
    assert_eq!(scanned["advisories"].as_array().unwrap().len(), 1);
    assert_eq!(scanned["advisories"][0]["id"], "GHSA-match");
    // A broken advisory file is skipped, named in a warning; the others still count.
    std::fs::write(env.path("osv/bad.json"), "{not json").unwrap();
    let out = env.run(&[
        "library",
        "scan",
        "Acme.Service@1.0.0",
        "--advisories",
        env.path("osv").to_str().unwrap(),
    ]);
    out.ok();
    assert!(
        out.stderr.contains("bad.json:1:2: not an OSV advisory"),
        "{}",
        out.stderr
    );
    assert!(
        out.stdout.contains("advisory: GHSA-match"),
        "{}",
        out.stdout
    );
}

/// A `.nupkg` with a nuspec naming `id` and `version`.
fn nupkg(env: &Env, file: &str, id: &str, version: &str) -> std::path::PathBuf {
    let path = env.path(file);
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let options = zip::write::SimpleFileOptions::default();
    zip.start_file(format!("{id}.nuspec"), options).unwrap();
    let nuspec = format!(
        r#"<?xml version="1.0" encoding="utf-8"?><package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd"><metadata><id>{id}</id><version>{version}</version><authors>acme</authors><description>d</description></metadata></package>"#
    );
    zip.write_all(nuspec.as_bytes()).unwrap();
    zip.start_file(format!("lib/net8.0/{id}.dll"), options)
        .unwrap();
    zip.write_all(b"MZ not really a dll").unwrap();
    zip.finish().unwrap();
    path
}

#[test]
fn publishing_writes_the_nuget_folder_layout_and_pushes_to_http_feeds() {
    let env = Env::new();
    env.run(&["library", "register", "Acme.Json"]).ok();
    env.run(&["library", "version", "Acme.Json", "4.1.0"]).ok();
    let package = nupkg(&env, "Acme.Json.4.1.0.nupkg", "Acme.Json", "4.1.0");
    let feed = env.path("feed");
    let out = env.run(&[
        "library",
        "publish",
        "Acme.Json@4.1.0",
        "--package",
        package.to_str().unwrap(),
        "--feed",
        feed.to_str().unwrap(),
    ]);
    out.ok();
    let bytes = std::fs::read(&package).unwrap();
    let sha512 = base64::engine::general_purpose::STANDARD.encode(sha2::Sha512::digest(&bytes));
    let dir = feed.join("acme.json/4.1.0");
    assert_eq!(
        std::fs::read(dir.join("acme.json.4.1.0.nupkg")).unwrap(),
        bytes
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("acme.json.4.1.0.nupkg.sha512")).unwrap(),
        sha512
    );
    assert!(
        std::fs::read_to_string(dir.join("acme.json.nuspec"))
            .unwrap()
            .contains("<id>Acme.Json</id>")
    );
    let published = last_payload(&env, "LibraryPublished");
    assert_eq!(published["packageHash"], sha512.as_str());
    assert!(
        published["feedRef"]
            .as_str()
            .unwrap()
            .ends_with("feed/acme.json/4.1.0/acme.json.4.1.0.nupkg")
    );
    // Twice is refused, and nothing changes.
    let before = env.store_snapshot();
    let out = env.run(&[
        "library",
        "publish",
        "Acme.Json@4.1.0",
        "--package",
        package.to_str().unwrap(),
        "--feed",
        feed.to_str().unwrap(),
    ]);
    out.expect_code(1);
    assert!(out.stderr.contains("already published"), "{}", out.stderr);
    assert_eq!(before, env.store_snapshot());

    // An HTTP feed: service index → PackagePublish → PUT multipart with the API key.
    let listener_url = Arc::new(std::sync::Mutex::new(String::new()));
    let base = Arc::clone(&listener_url);
    let listener = Listener::start_with(Arc::new(move |request: &Request| {
        match (request.method.as_str(), request.path.as_str()) {
            ("GET", "/v3/index.json") => {
                let base = base.lock().unwrap().clone();
                (200, json!({"version": "3.0.0", "resources": [{"@id": format!("{base}/api/v2/package"), "@type": "PackagePublish/2.0.0"}]}).to_string())
            }
            ("PUT", "/api/v2/package") => (201, String::new()),
            _ => (404, String::new()),
        }
    }));
    *listener_url.lock().unwrap() = listener.url.clone();
    env.run(&["library", "version", "Acme.Json", "4.2.0"]).ok();
    let package = nupkg(&env, "Acme.Json.4.2.0.nupkg", "Acme.Json", "4.2.0");
    let index = format!("{}/v3/index.json", listener.url);
    let out = env
        .command(&[
            "library",
            "publish",
            "Acme.Json@4.2.0",
            "--package",
            package.to_str().unwrap(),
            "--feed",
            &index,
            "--api-key-env",
            "FEED_KEY",
        ])
        .env("FEED_KEY", "key-that-must-not-leak")
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}{stderr}");
    let requests = listener.requests();
    assert_eq!(requests.len(), 2);
    let put = &requests[1];
    assert_eq!(
        (put.method.as_str(), put.path.as_str()),
        ("PUT", "/api/v2/package")
    );
    assert_eq!(put.header("x-nuget-apikey"), Some("key-that-must-not-leak"));
    let content_type = put.header("content-type").unwrap();
    assert!(
        content_type.starts_with("multipart/form-data; boundary="),
        "{content_type}"
    );
    let body = String::from_utf8_lossy(&put.body);
    assert!(
        body.contains("name=\"package\"") && body.contains("filename=\"acme.json.4.2.0.nupkg\""),
        "{body}"
    );
    let package_bytes = std::fs::read(&package).unwrap();
    assert!(
        put.body
            .windows(package_bytes.len())
            .any(|w| w == package_bytes.as_slice()),
        "the package is in the body"
    );
    assert!(
        !stdout.contains("key-that-must-not-leak") && !stderr.contains("key-that-must-not-leak")
    );
    assert!(
        !String::from_utf8(env.log_bytes())
            .unwrap()
            .contains("key-that-must-not-leak")
    );
    assert_eq!(
        last_payload(&env, "LibraryPublished")["feedRef"],
        index.as_str()
    );
    // Without the key: a clear error.
    env.run(&["library", "version", "Acme.Json", "4.3.0"]).ok();
    let package = nupkg(&env, "Acme.Json.4.3.0.nupkg", "Acme.Json", "4.3.0");
    let out = env.run(&[
        "library",
        "publish",
        "Acme.Json@4.3.0",
        "--package",
        package.to_str().unwrap(),
        "--feed",
        &index,
    ]);
    out.expect_code(1);
    assert!(out.stderr.contains("NUGET_API_KEY"), "{}", out.stderr);
}

#[test]
fn api_clients_are_cataloged_from_openapi_3() {
    let env = Env::new();
    env.template(
        "spec",
        &[
            (
                "openapi.yaml",
                "openapi: 3.0.3\ninfo:\n  title: Reservations API\n  version: '1.0'\npaths:\n  /reservations:\n    get: {responses: {'200': {description: ok}}}\n    post: {responses: {'201': {description: created}}}\n  /reservations/{id}:\n    get: {responses: {'200': {description: ok}}}\n",
            ),
            ("swagger.json", r#"{"swagger": "2.0", "info": {"title": "Old"}, "paths": {}}"#),
        ],
    );
    let out = env.run(&[
        "library",
        "register",
        "Acme.Reservations.Client",
        "--api-client",
        "--spec",
        env.path("spec/openapi.yaml").to_str().unwrap(),
    ]);
    out.ok();
    assert!(
        out.stdout
            .contains("API client Reservations API with 3 operations"),
        "{}",
        out.stdout
    );
    let cataloged = last_payload(&env, "ApiClientCataloged");
    assert_eq!(cataloged["operationCount"], 3);
    let spec_ref = cataloged["specRef"].as_str().unwrap();
    let hex = &spec_ref["sha256:".len()..];
    assert!(
        env.store
            .join("objects")
            .join(&hex[..2])
            .join(&hex[2..])
            .is_file(),
        "the spec is stored"
    );
    let before = env.store_snapshot();
    let out = env.run(&[
        "library",
        "register",
        "Acme.Old.Client",
        "--api-client",
        "--spec",
        env.path("spec/swagger.json").to_str().unwrap(),
    ]);
    out.expect_code(2);
    assert!(
        out.stderr
            .contains("is not an OpenAPI 3.x document: it is a Swagger 2.0 document"),
        "{}",
        out.stderr
    );
    assert_eq!(before, env.store_snapshot());
}

#[test]
fn advice_for_a_generated_project_and_a_release() {
    let env = Env::new();
    env.published_example();
    env.run(&[
        "generate",
        EXAMPLE_NAME,
        "-o",
        "svc",
        "--set",
        "service_name=svc",
    ])
    .ok();
    let pg = "ConnectSoft.Extensions.PersistenceModel.PostgreSQL";
    env.run(&["library", "register", pg]).ok();
    for v in ["4.0.0", "4.1.0", "4.5.0", "5.0.0"] {
        env.run(&["library", "version", pg, v]).ok();
    }
    let out = env.run(&[
        "library",
        "advise",
        env.path("svc").to_str().unwrap(),
        "--json",
    ]);
    out.ok();
    let advice = &out.json()["advice"][0];
    assert_eq!(advice["packageName"], pg);
    assert_eq!(advice["recommended"], "4.5.0");

    // For a release: the newest that every chosen version still accepts.
    env.run(&["library", "register", "Acme.Core"]).ok();
    env.run(&["library", "version", "Acme.Core", "1.0.0"]).ok();
    env.run(&["library", "version", "Acme.Core", "2.0.0"]).ok();
    env.run(&["library", "register", "Acme.Web"]).ok();
    env.run(&[
        "library",
        "version",
        "Acme.Web",
        "3.0.0",
        "--dep",
        "Acme.Core@<2",
    ])
    .ok();
    env.run(&["library", "register", "Acme.App"]).ok();
    env.run(&[
        "library",
        "version",
        "Acme.App",
        "1.0.0",
        "--dep",
        "Acme.Core@>=1",
        "--dep",
        "Acme.Web@^3",
        "--dep",
        "Unknown.Lib@^1",
    ])
    .ok();
    let out = env.run(&["library", "advise", "--library", "Acme.App@1.0.0"]);
    out.ok();
    assert!(
        out.stdout.contains("Acme.Core")
            && out
                .stdout
                .contains("-> 1.0.0  (2.0.0 is newer but Acme.Web@3.0.0 does not allow it)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("Unknown.Lib") && out.stdout.contains("not registered in the store"),
        "{}",
        out.stdout
    );
}

#[test]
fn bad_library_input_is_refused_and_changes_nothing() {
    let env = Env::new();
    env.run(&["library", "register", "Acme.Json"]).ok();
    env.run(&["library", "version", "Acme.Json", "1.0.0"]).ok();
    env.template("broken", &[("Broken.csproj", "<Project>\n  <ItemGroup>\n    <PackageReference Include=\"X\" Version=\"1.0\">\n</Project>\n")]);
    let wrong = nupkg(&env, "wrong.nupkg", "Other.Package", "1.0.0");
    let cases: Vec<(Vec<String>, i32, &str)> = vec![
        (
            vec![
                "library".into(),
                "version".into(),
                "Acme.Json".into(),
                "2.0.0".into(),
                "--path".into(),
                env.path("broken").display().to_string(),
            ],
            1,
            "Broken.csproj:4:1: not valid XML",
        ),
        (
            vec![
                "library".into(),
                "publish".into(),
                "Acme.Json@1.0.0".into(),
                "--package".into(),
                wrong.display().to_string(),
                "--feed".into(),
                env.path("feed").display().to_string(),
            ],
            2,
            "is package Other.Package, not Acme.Json",
        ),
        (
            vec![
                "library".into(),
                "version".into(),
                "Nope".into(),
                "1.0.0".into(),
            ],
            1,
            "no library named `Nope`",
        ),
        (
            vec!["library".into(), "scan".into(), "Nope@1.0.0".into()],
            1,
            "no library named `Nope`",
        ),
        (
            vec![
                "library".into(),
                "version".into(),
                "Acme.Json".into(),
                "2.0.0".into(),
                "--dep".into(),
                "X@[1.0".into(),
            ],
            2,
            "--dep X: `[1.0` is not a NuGet interval",
        ),
        (
            vec![
                "library".into(),
                "version".into(),
                "Acme.Json".into(),
                "2.0.0".into(),
                "--dep".into(),
                "no-range".into(),
            ],
            2,
            "is not NAME@RANGE",
        ),
        (
            vec![
                "library".into(),
                "version".into(),
                "Acme.Json".into(),
                "1.0.0".into(),
            ],
            1,
            "already recorded",
        ),
        (
            vec![
                "library".into(),
                "version".into(),
                "Acme.Json".into(),
                "one".into(),
            ],
            2,
            "is not a semantic version",
        ),
        (
            vec!["library".into(), "register".into(), "acme.json".into()],
            1,
            "already registered",
        ),
        (
            vec!["library".into(), "scan".into(), "Acme.Json".into()],
            2,
            "names no version",
        ),
        (
            vec![
                "library".into(),
                "publish".into(),
                "Acme.Json@1.0.0".into(),
                "--package".into(),
                env.path("missing.nupkg").display().to_string(),
                "--feed".into(),
                "x".into(),
            ],
            1,
            "missing.nupkg",
        ),
    ];
    for (args, code, text) in cases {
        let before = env.store_snapshot();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = env.run(&args);
        assert_eq!(out.code, code, "{args:?}\n{}{}", out.stdout, out.stderr);
        assert!(
            out.stderr.contains(text),
            "{args:?}: expected {text:?} in {}",
            out.stderr
        );
        assert_eq!(before, env.store_snapshot(), "{args:?} changed the store");
    }
    assert!(!env.path("feed").exists());
}

#[test]
fn advisories_reach_packages_the_store_does_not_track() {
    let env = Env::new();
    // A .NET project that takes Npgsql through central package management.
    env.template(
        "dotnet",
        &[
            (
                "Directory.Packages.props",
                "<Project><PropertyGroup><ManagePackageVersionsCentrally>true</ManagePackageVersionsCentrally></PropertyGroup><ItemGroup><PackageVersion Include=\"Npgsql\" Version=\"8.0.3\" /></ItemGroup></Project>\n",
            ),
            (
                "src/Acme.Data/Acme.Data.csproj",
                "<Project Sdk=\"Microsoft.NET.Sdk\"><PropertyGroup><TargetFramework>net8.0</TargetFramework></PropertyGroup><ItemGroup><PackageReference Include=\"Npgsql\" /></ItemGroup></Project>\n",
            ),
        ],
    );
    env.run(&["library", "register", "Acme.Data"]).ok();
    env.run(&[
        "library",
        "version",
        "Acme.Data",
        "1.0.0",
        "--path",
        env.path("dotnet/src/Acme.Data").to_str().unwrap(),
    ])
    .ok();
    let osv = |id: &str, ecosystem: &str, name: &str, events: Value| {
        json!({"schema_version": "1.6.0", "id": id, "summary": format!("{id} summary"),
               "affected": [{"package": {"ecosystem": ecosystem, "name": name}, "ranges": [{"type": "ECOSYSTEM", "events": events}]}]})
        .to_string()
    };
    env.template(
        "osv",
        &[
            (
                "npgsql.json",
                &osv(
                    "GHSA-npgsql",
                    "NuGet",
                    "Npgsql",
                    json!([{"introduced": "8.0.0"}, {"fixed": "8.0.5"}]),
                ),
            ),
            (
                "serde.json",
                &osv(
                    "RUSTSEC-serde",
                    "crates.io",
                    "serde",
                    json!([{"introduced": "1.0.100"}, {"fixed": "1.0.150"}]),
                ),
            ),
        ],
    );
    let advisories = env.path("osv");
    let scan = |reference: &str| {
        env.run(&[
            "library",
            "scan",
            reference,
            "--advisories",
            advisories.to_str().unwrap(),
        ])
    };
    // NuGet takes the lowest applicable version of the range: 8.0.3, affected.
    let out = scan("Acme.Data@1.0.0");
    out.ok();
    assert!(
        out.stdout
            .contains("advisory: GHSA-npgsql affects Npgsql@8.0.3"),
        "{}",
        out.stdout
    );
    // Cargo takes the newest the registry has: a range that allows affected versions is only
    // possibly affected, reported apart; a lock file decides.
    env.template(
        "rust",
        &[(
            "Cargo.toml",
            "[package]\nname = \"acme-core\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nserde = \"1\"\n",
        )],
    );
    env.run(&["library", "register", "acme-core", "--ecosystem", "cargo"])
        .ok();
    env.run(&[
        "library",
        "version",
        "acme-core",
        "0.1.0",
        "--path",
        env.path("rust").to_str().unwrap(),
    ])
    .ok();
    let out = scan("acme-core@0.1.0");
    out.ok();
    assert!(
        !out.stdout.contains("advisory: RUSTSEC-serde"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("possibly affected: RUSTSEC-serde for serde"),
        "{}",
        out.stdout
    );
    std::fs::write(
        env.path("rust/Cargo.lock"),
        "version = 3\n\n[[package]]\nname = \"acme-core\"\nversion = \"0.1.0\"\ndependencies = [\"serde\"]\n\n[[package]]\nname = \"serde\"\nversion = \"1.0.120\"\n",
    )
    .unwrap();
    env.run(&[
        "library",
        "version",
        "acme-core",
        "0.2.0",
        "--path",
        env.path("rust").to_str().unwrap(),
    ])
    .ok();
    let out = scan("acme-core@0.2.0");
    out.ok();
    assert!(
        out.stdout
            .contains("advisory: RUSTSEC-serde affects serde@1.0.120"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_package_that_inflates_a_huge_nuspec_is_refused() {
    let env = Env::new();
    env.run(&["library", "register", "Acme.Bomb"]).ok();
    env.run(&["library", "version", "Acme.Bomb", "1.0.0"]).ok();
    let path = env.path("bomb.nupkg");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("Acme.Bomb.nuspec", options).unwrap();
    let filler = vec![b' '; 1024 * 1024];
    for _ in 0..64 {
        zip.write_all(&filler).unwrap();
    }
    zip.finish().unwrap();
    assert!(
        std::fs::metadata(&path).unwrap().len() < 1024 * 1024,
        "a small file"
    );
    let out = env.run(&[
        "library",
        "publish",
        "Acme.Bomb@1.0.0",
        "--package",
        path.to_str().unwrap(),
        "--feed",
        env.path("feed").to_str().unwrap(),
    ]);
    out.expect_code(1);
    assert!(out.stderr.contains("inflates to"), "{}", out.stderr);
    assert!(!env.path("feed").exists());
}

#[test]
fn library_names_and_package_ids_never_become_paths_outside_the_feed() {
    let env = Env::new();
    for (ecosystem, bad) in [
        ("nuget", "/srv/evil"),
        ("nuget", "../../x"),
        ("nuget", "a..b"),
        ("nuget", "a/b"),
        ("cargo", "../x"),
        ("npm", "@acme/../x"),
    ] {
        let out = env.run(&["library", "register", bad, "--ecosystem", ecosystem]);
        out.expect_code(2);
        assert!(
            out.stderr
                .contains(&format!("`{bad}` is not a valid {ecosystem} package name")),
            "{}",
            out.stderr
        );
    }
    assert!(env.events().is_empty(), "a refused name recorded an event");
    // A package whose nuspec names an id or version that would leave the feed is refused
    // before anything is written.
    env.run(&["library", "register", "Acme.Json"]).ok();
    env.run(&["library", "version", "Acme.Json", "4.1.0"]).ok();
    let feed = env.path("feed");
    for (id, version) in [("../../x", "4.1.0"), ("Acme.Json", "../../4.1.0")] {
        let path = env.path("evil.nupkg");
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        zip.start_file("evil.nuspec", zip::write::SimpleFileOptions::default())
            .unwrap();
        let nuspec = format!(
            "<package><metadata><id>{id}</id><version>{version}</version></metadata></package>"
        );
        zip.write_all(nuspec.as_bytes()).unwrap();
        zip.finish().unwrap();
        let out = env.run(&[
            "library",
            "publish",
            "Acme.Json@4.1.0",
            "--package",
            path.to_str().unwrap(),
            "--feed",
            feed.to_str().unwrap(),
        ]);
        assert_ne!(out.code, 0, "{}", out.stderr);
        assert!(out.stderr.contains("is not a NuGet"), "{}", out.stderr);
        assert!(!feed.exists() && !env.path("x").exists() && !env.dir.path().join("../x").exists());
    }
}

#[test]
fn a_folder_feed_is_never_written_through_links_and_windows_device_names_are_refused() {
    let env = Env::new();
    env.run(&["library", "register", "Acme.Json"]).ok();
    env.run(&["library", "version", "Acme.Json", "4.1.0"]).ok();
    let package = nupkg(&env, "Acme.Json.4.1.0.nupkg", "Acme.Json", "4.1.0");
    let feed = env.path("feed");
    let elsewhere = env.path("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let outside_file = env.path("outside.nuspec");
    std::fs::write(&outside_file, "precious\n").unwrap();
    let publish = || {
        env.run(&[
            "library",
            "publish",
            "Acme.Json@4.1.0",
            "--package",
            package.to_str().unwrap(),
            "--feed",
            feed.to_str().unwrap(),
        ])
    };
    // The package's folder, its version's folder, one of its files: each a link.
    let cases: [(&str, &dyn Fn()); 3] = [
        ("acme.json", &|| {
            std::fs::create_dir_all(&feed).unwrap();
            std::os::unix::fs::symlink(&elsewhere, feed.join("acme.json")).unwrap();
        }),
        ("acme.json/4.1.0", &|| {
            std::fs::remove_file(feed.join("acme.json")).unwrap();
            std::fs::create_dir_all(feed.join("acme.json")).unwrap();
            std::os::unix::fs::symlink(&elsewhere, feed.join("acme.json/4.1.0")).unwrap();
        }),
        ("acme.json/4.1.0/acme.json.nuspec", &|| {
            std::fs::remove_file(feed.join("acme.json/4.1.0")).unwrap();
            std::fs::create_dir_all(feed.join("acme.json/4.1.0")).unwrap();
            std::os::unix::fs::symlink(
                &outside_file,
                feed.join("acme.json/4.1.0/acme.json.nuspec"),
            )
            .unwrap();
        }),
    ];
    for (link, make) in cases {
        make();
        let store = env.store_snapshot();
        let out = publish();
        out.expect_code(1);
        assert!(
            out.stderr.contains(&format!(
                "{} is a symlink; factory does not write through links",
                feed.join(link).display()
            )),
            "{link}: {}",
            out.stderr
        );
        assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0, "{link}");
        assert_eq!(
            std::fs::read_to_string(&outside_file).unwrap(),
            "precious\n"
        );
        assert_eq!(store, env.store_snapshot(), "{link}: nothing recorded");
    }
    // Without links it publishes, into real folders and files.
    std::fs::remove_file(feed.join("acme.json/4.1.0/acme.json.nuspec")).unwrap();
    publish().ok();
    let nupkg_path = feed.join("acme.json/4.1.0/acme.json.4.1.0.nupkg");
    assert!(
        std::fs::symlink_metadata(&nupkg_path)
            .unwrap()
            .file_type()
            .is_file()
    );
    assert_eq!(
        std::fs::read_to_string(&outside_file).unwrap(),
        "precious\n"
    );

    // Names Windows keeps for devices, with or without an extension, in any case.
    let events = env.events().len();
    for name in ["CON", "nul", "Aux.Json", "com1", "LPT9.Client"] {
        let out = env.run(&["library", "register", name]);
        out.expect_code(2);
        assert!(
            out.stderr.contains(&format!(
                "`{name}` is not a usable nuget package name: Windows reserves it"
            )),
            "{name}: {}",
            out.stderr
        );
    }
    // A package whose nuspec names one is no package a feed can hold.
    let con = nupkg(&env, "CON.4.1.0.nupkg", "CON", "4.1.0");
    let out = env.run(&[
        "library",
        "publish",
        "Acme.Json@4.1.0",
        "--package",
        con.to_str().unwrap(),
        "--feed",
        env.path("feed2").to_str().unwrap(),
    ]);
    assert_ne!(out.code, 0);
    assert!(
        out.stderr
            .contains("its id `CON` is a name Windows reserves for a device"),
        "{}",
        out.stderr
    );
    assert!(!env.path("feed2").exists());
    let template = env.template("t", &[("template.yaml", "name: t\ncategory: service\n")]);
    let out = env.run(&["register", template.to_str().unwrap(), "--name", "PRN"]);
    out.expect_code(2);
    assert!(out.stderr.contains("Windows reserves it"), "{}", out.stderr);
    assert_eq!(env.events().len(), events, "nothing recorded");
}
