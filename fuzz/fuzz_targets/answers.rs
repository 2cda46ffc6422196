//! An `--answers` file against a manifest with every parameter kind: parsed and resolved
//! (defaults rendered, values coerced, validators run) or refused, never a panic.
#![no_main]

use std::sync::OnceLock;

use factory::template::manifest::Manifest;

const MANIFEST: &str = r#"name: fuzzed
category: service
parameters:
  - name: name
    default: svc
    pattern: "^[a-z][a-z0-9-]*$"
  - name: port
    type: int
    default: 8080
  - name: ratio
    type: float
    default: 0.5
  - name: tls
    type: bool
    default: true
  - name: tier
    type: choice
    choices: [small, large]
    default: small
  - name: features
    type: multichoice
    choices: [a, b, c]
    default: [a]
  - name: extra
    type: yaml
    default: {}
  - name: slug
    default: "{{ name | slugify }}-{{ port }}"
  - name: token
    secret: true
    default: ""
"#;

fn manifest() -> &'static Manifest {
    static MANIFEST_PARSED: OnceLock<Manifest> = OnceLock::new();
    MANIFEST_PARSED.get_or_init(|| Manifest::parse(MANIFEST, "template.yaml").expect("valid"))
}

libfuzzer_sys::fuzz_target!(|text: &str| {
    let Ok(serde_json::Value::Object(given)) =
        factory::template::yaml::from_str::<serde_json::Value>(text, "answers.yaml")
    else {
        return;
    };
    let env = factory::render::environment(&factory::render::Settings::new(None, None));
    let _ = factory::template::answers::resolve(manifest(), &env, &given, true);
});
