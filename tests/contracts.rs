//! The committed contracts match what the code generates, and the AsyncAPI document names
//! exactly the event catalog.

use std::path::PathBuf;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn committed_contracts_are_current() {
    let update = std::env::var_os("FACTORY_UPDATE_CONTRACTS").is_some();
    let mut stale = Vec::new();
    for (path, bytes) in factory::contracts::files() {
        let full = repo().join(&path);
        if update {
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(&full, &bytes).unwrap();
        } else if std::fs::read(&full).ok().as_deref() != Some(bytes.as_slice()) {
            stale.push(path);
        }
    }
    assert!(
        stale.is_empty(),
        "stale or missing: {stale:?}\nregenerate with: FACTORY_UPDATE_CONTRACTS=1 cargo test --test contracts"
    );
}

#[test]
fn asyncapi_lists_the_catalog_on_its_topics_and_the_commands_on_their_queues() {
    let text = std::fs::read_to_string(repo().join("docs/schemas/asyncapi.yaml")).unwrap();
    let doc: serde_json::Value = factory::template::yaml::from_str(&text, "asyncapi.yaml").unwrap();
    assert_eq!(doc["asyncapi"], "3.0.0");
    let messages: Vec<&str> = doc["components"]["messages"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut catalog: Vec<&str> = factory::domain::DomainEvent::TYPES.to_vec();
    catalog.extend(
        factory::queue::catalog::COMMANDS
            .iter()
            .map(|s| s.command_type),
    );
    let mut listed = messages.clone();
    catalog.sort();
    listed.sort();
    assert_eq!(listed, catalog);
    let channel = |topic: &str| -> Vec<String> {
        let mut names: Vec<String> = doc["channels"][topic]["messages"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        names.sort();
        names
    };
    let mut integration: Vec<String> = factory::events::routing::INTEGRATION_EVENTS
        .iter()
        .map(|s| s.to_string())
        .collect();
    integration.sort();
    assert_eq!(channel("factory.integration"), integration);
    assert_eq!(channel("factory.templates.library").len(), 5);
    assert_eq!(channel("factory.templates.template").len(), 10);
    assert_eq!(
        channel("factory.templates.scaffold-engine.commands"),
        ["GenerateScaffold"]
    );
    assert_eq!(
        channel("factory.templates.template-registry.commands"),
        [
            "CreateTemplateVersion",
            "PublishTemplate",
            "RegisterTemplate"
        ]
    );
    for (name, message) in doc["components"]["messages"].as_object().unwrap() {
        let payload_ref = message["payload"]["allOf"][1]["properties"]["payload"]["$ref"]
            .as_str()
            .unwrap();
        assert!(
            repo().join("docs/schemas").join(payload_ref).is_file(),
            "{name}: {payload_ref}"
        );
    }
    let headers = doc["components"]["schemas"]["ApplicationProperties"]["required"]
        .as_array()
        .unwrap();
    assert_eq!(headers.len(), 4);
}

#[test]
fn completions_load_in_bash() {
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {} && complete -p factory",
            repo().join("completions/factory.bash").display()
        ))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("factory"));
}

#[test]
#[ignore = "needs zsh: run scripts/test-tools-install"]
fn completions_load_in_zsh() {
    let dir = repo().join("completions");
    let out = std::process::Command::new("zsh")
        .arg("-c")
        .arg(format!("fpath=({} $fpath); autoload -Uz compinit && compinit -u && autoload -Uz _factory && echo loaded", dir.display()))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("loaded"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_template_schema_accepts_the_examples_and_refuses_unknown_keys() {
    let schema: serde_json::Value = serde_json::from_slice(
        &std::fs::read(repo().join("docs/schemas/template.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    for entry in std::fs::read_dir(repo().join("templates-examples")).unwrap() {
        let path = entry.unwrap().path().join("template.yaml");
        let text = std::fs::read_to_string(&path).unwrap();
        let manifest: serde_json::Value = factory::template::yaml::from_str(&text, "t").unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&manifest)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", path.display());
    }
    assert!(
        !validator
            .is_valid(&serde_json::json!({"name": "x", "category": "service", "colour": "red"}))
    );
}
