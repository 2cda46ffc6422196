//! Every `fuzz/` target run in plain `cargo test`: its seeds (real files: the example
//! manifests, a published template's event log, copier and cookiecutter configurations) and a
//! fixed, repeatable series of mutations of them. libFuzzer (`scripts/fuzz-all`, nightly and
//! cargo-fuzz) searches further; this run keeps every parser change honest on any toolchain,
//! in bounded time: `FACTORY_FUZZ_ITERATIONS` inputs per target (default 4000), the same ones on
//! every run, so a failure here reproduces.

mod common;

use std::panic::AssertUnwindSafe;

const COPIER_YML: &[&str] = &[
    "project_name:\n  type: str\n  help: What is it called?\n  default: demo\n  validator: \"{% if not project_name %}required{% endif %}\"\n",
    "_min_copier_version: \"9\"\n_subdirectory: template\n_exclude:\n  - \"*.pyc\"\n  - \"!keep.pyc\"\n_tasks:\n  - \"echo {{ name }}\"\nname: x\nkind:\n  type: str\n  choices:\n    Library: lib\n    Application: app\n  default: lib\nfeatures:\n  type: str\n  multiselect: true\n  choices: [a, b, c]\n  default: [a]\n  when: \"{{ kind == 'app' }}\"\n",
    "---\n_envops:\n  block_start_string: \"[%\"\n  variable_start_string: \"[[\"\n  variable_end_string: \"]]\"\n---\nversion:\n  type: float\n  default: 1.5\nsecret_token:\n  secret: true\n  default: \"\"\n",
    "_answers_file: \".answers/{{ name }}.yml\"\nlicense:\n  type: str\n  choices:\n    - [MIT, mit]\n    - [Apache, apache]\n  default: mit\nyears: !!python/object:int 3\n",
];

const COOKIECUTTER_JSON: &[&str] = &[
    r#"{"project_name": "Demo", "project_slug": "{{ cookiecutter.project_name|lower|replace(' ', '_') }}", "license": ["MIT", "BSD"], "use_docker": "n"}"#,
    r#"{"full_name": "A", "_extensions": ["jinja2_time.TimeExtension"], "__prompts__": {"full_name": "Your name"}, "_copy_without_render": ["*.html"], "deps": {"a": 1, "b": [1, 2]}, "open": true}"#,
];

const ANSWERS: &[&str] = &[
    "name: svc\nport: 8080\nratio: 0.25\ntls: false\ntier: large\nfeatures: [a, c]\nextra: {k: [1, 2]}\n",
    "{\"name\": \"x-y\", \"port\": \"99\", \"tls\": \"yes\", \"features\": \"a,b\", \"token\": \"s3cret\"}",
];

const PATH_NAMES: &[(&str, &str)] = &[
    ("{{ dir }}/README.md", "docs"),
    ("{% if dir %}{{ dir }}{% endif %}.txt", ".."),
    ("src/{{ dir | lower }}/{{ dir }}.rs", ".git"),
    ("{{ dir ~ '/' ~ dir }}", "/etc"),
    (
        "{% for p in dir.split('/') %}{{ p }}/{% endfor %}x",
        "a/../../b",
    ),
];

/// Tokens that reach the parsers' interesting corners when spliced in.
const TOKENS: &[&[u8]] = &[
    b"{{",
    b"}}",
    b"{%",
    b"%}",
    b"{#",
    b"..",
    b"/",
    b"\\",
    b"\n",
    b"\r\n",
    b"\t",
    b"\0",
    b": ",
    b"- ",
    b"!!",
    b"&a",
    b"*a",
    b"<<: *a",
    b"---",
    b"[",
    b"]",
    b"{",
    b"}",
    b"\"",
    b"'",
    b"\xff",
    b"\xe2\x80\xae",
    b".git",
    b"9999999999999999999999",
    b"-1",
    b"1e308",
    b"null",
    b"~",
];

/// A xorshift generator: repeatable without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One to four random edits of a seed, sometimes spliced with another seed.
fn mutate(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut input = seeds[rng.below(seeds.len())].clone();
    for _ in 0..=rng.below(4) {
        let at = rng.below(input.len() + 1);
        match rng.below(6) {
            0 if !input.is_empty() => {
                let at = at.min(input.len() - 1);
                input[at] ^= 1 << rng.below(8);
            }
            1 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                input.splice(at..at, token.iter().copied());
            }
            2 => {
                let end = (at + rng.below(16)).min(input.len());
                input.drain(at..end);
            }
            3 => {
                let end = (at + rng.below(32)).min(input.len());
                let copy = input[at..end].to_vec();
                input.splice(at..at, copy);
            }
            4 => {
                let other = &seeds[rng.below(seeds.len())];
                let from = rng.below(other.len() + 1);
                input.truncate(at);
                input.extend_from_slice(&other[from..]);
            }
            _ => input.truncate(at),
        }
    }
    input
}

/// Runs `target` on every seed and `iterations` mutations; panics naming the first input that
/// made it panic (also written under target/fuzz-findings/ for `cargo fuzz run TARGET FILE`).
fn run(name: &str, target: factory::fuzzing::Target, seeds: &[Vec<u8>]) {
    let iterations = std::env::var("FACTORY_FUZZ_ITERATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(4000usize);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ name.len() as u64);
    let inputs = seeds
        .iter()
        .cloned()
        .chain((0..iterations).map(|_| mutate(&mut rng, seeds)));
    for input in inputs {
        if std::panic::catch_unwind(AssertUnwindSafe(|| target(&input))).is_err() {
            let dir = common::repo().join("target/fuzz-findings");
            std::fs::create_dir_all(&dir).unwrap();
            let file = dir.join(format!("{name}-{:016x}", rng.next()));
            std::fs::write(&file, &input).unwrap();
            panic!(
                "fuzz target {name} panicked on {:?} (saved as {})",
                String::from_utf8_lossy(&input),
                file.display()
            );
        }
    }
}

fn target(name: &str) -> factory::fuzzing::Target {
    factory::fuzzing::TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no fuzz target {name}"))
        .1
}

fn texts(texts: &[&str]) -> Vec<Vec<u8>> {
    texts.iter().map(|t| t.as_bytes().to_vec()).collect()
}

#[test]
fn every_fuzz_target_has_a_run_here_and_a_cargo_fuzz_binary() {
    let manifest = std::fs::read_to_string(common::repo().join("fuzz/Cargo.toml")).unwrap();
    for (name, _) in factory::fuzzing::TARGETS {
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "fuzz/Cargo.toml has no [[bin]] {name}"
        );
        let file = common::repo().join(format!("fuzz/fuzz_targets/{name}.rs"));
        let body = std::fs::read_to_string(&file).unwrap();
        assert!(
            body.contains(&format!("factory::fuzzing::{name}")),
            "{} does not call factory::fuzzing::{name}",
            file.display()
        );
    }
}

#[test]
fn manifest_target() {
    let seeds: Vec<Vec<u8>> = [
        "reservations-api",
        "python-package",
        "rust-cli",
        "typescript-frontend",
    ]
    .iter()
    .map(|t| {
        std::fs::read(common::repo().join(format!("templates-examples/{t}/template.yaml"))).unwrap()
    })
    .collect();
    run("manifest", target("manifest"), &seeds);
}

#[test]
fn copier_yml_target() {
    run("copier_yml", target("copier_yml"), &texts(COPIER_YML));
}

#[test]
fn cookiecutter_json_target() {
    run(
        "cookiecutter_json",
        target("cookiecutter_json"),
        &texts(COOKIECUTTER_JSON),
    );
}

#[test]
fn answers_target() {
    run("answers", target("answers"), &texts(ANSWERS));
}

#[test]
fn path_rendering_target() {
    let seeds: Vec<Vec<u8>> = PATH_NAMES
        .iter()
        .map(|(name, value)| format!("{name}\0{value}").into_bytes())
        .collect();
    run("path_rendering", target("path_rendering"), &seeds);
}

#[test]
fn envelope_target() {
    // Real lines: the log of a template taken through its lifecycle and generated.
    let env = common::Env::new();
    env.published_example();
    let out = env.path("out");
    env.run(&[
        "generate",
        common::EXAMPLE_NAME,
        "-o",
        out.to_str().unwrap(),
        "--set",
        "service_name=orders",
    ])
    .ok();
    let seeds: Vec<Vec<u8>> = env
        .log_bytes()
        .split(|b| *b == b'\n')
        .filter(|line| !line.is_empty())
        .map(<[u8]>::to_vec)
        .collect();
    assert!(seeds.len() >= 5, "the lifecycle wrote its events");
    run("envelope", target("envelope"), &seeds);
}
