//! Templates that are not in the store, as a new user meets them (issue 27 item 7): `show
//! ./folder` and `show URL` give their parameters, as `dotnet new TEMPLATE --help` does, and a
//! folder or repository that holds several templates lists them.

mod common;

use common::Env;

const SERVICE: &str = "name: svc\ncategory: service\nparameters:\n  - name: service_name\n    required: true\n    help: The service's name\n    pattern: '^[a-z]+$'\n  - name: port\n    type: int\n    default: 8080\n    min: 1\n    max: 65535\n";

fn several(env: &Env) -> std::path::PathBuf {
    env.template(
        "many",
        &[
            ("svc/template.yaml", SERVICE),
            ("svc/README.md", "{{ service_name }} on {{ port }}\n"),
            (
                "web/cookiecutter.json",
                "{\"slug\": \"site\", \"theme\": [\"dark\", \"light\"]}\n",
            ),
            (
                "web/{{cookiecutter.slug}}/index.html",
                "{{ cookiecutter.theme }}\n",
            ),
            ("docs/README.md", "not a template\n"),
            (
                "nested/deeper/copier.yml",
                "who:\n  type: str\n  default: me\n",
            ),
        ],
    )
}

#[test]
fn show_a_folder_gives_its_parameters_without_storing_it() {
    let env = Env::new();
    let root = several(&env);
    let svc = root.join("svc");
    let s = svc.to_str().unwrap();
    let out = env.run(&["show", s]);
    out.ok();
    assert!(
        out.stdout
            .contains(&format!("{s} (factory template, not in the store)")),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("service_name"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("string      required, pattern ^[a-z]+$"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("The service's name"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("port                 int         default 8080, from 1 to 65535"),
        "{}",
        out.stdout
    );
    let json = env.run(&["show", s, "--json"]).json();
    assert_eq!(json["flavour"], "factory");
    assert_eq!(json["parameters"]["properties"]["port"]["default"], 8080);
    assert_eq!(
        json["parameters"]["properties"]["service_name"]["pattern"],
        "^[a-z]+$"
    );
    assert_eq!(json["parameters"]["required"][0], "service_name");
    let web = env
        .run(&["show", root.join("web").to_str().unwrap(), "--json"])
        .json();
    assert_eq!(web["flavour"], "cookiecutter");
    assert_eq!(web["parameters"]["properties"]["theme"]["enum"][1], "light");
    // Nothing was stored or recorded.
    assert!(env.events().is_empty());
    assert!(
        env.run(&["list", "--json"]).json()["templates"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // The hint of a missing answer names the show command, which then works.
    let missing = env.run(&["generate", s, "-o", "out"]);
    missing.expect_code(2);
    assert!(
        missing
            .stderr
            .contains(&format!("`factory show {s}` lists the parameters")),
        "{}",
        missing.stderr
    );
    assert!(!env.path("out").exists());
}

#[test]
fn a_folder_of_several_templates_lists_them() {
    let env = Env::new();
    let root = several(&env);
    let r = root.to_str().unwrap();
    let listed = format!(
        "{r} is not a template itself; it holds 3: nested/deeper (copier.yml), svc (template.yaml), web (cookiecutter.json)"
    );
    for args in [
        vec!["show", r],
        vec!["register", r],
        vec!["validate", "--path", r],
    ] {
        let out = env.run(&args);
        out.expect_code(2);
        assert!(out.stderr.contains(&listed), "{args:?}: {}", out.stderr);
        assert!(
            out.stderr
                .contains(&format!("hint: name one: {r}/nested/deeper")),
            "{}",
            out.stderr
        );
    }
    assert!(env.events().is_empty());
    // A folder with no template anywhere is still the plain error.
    let empty = env.template("empty", &[("README.md", "x\n")]);
    let out = env.run(&["show", empty.to_str().unwrap()]);
    out.expect_code(1);
    assert!(out.stderr.contains("no template.yaml"), "{}", out.stderr);
}

#[test]
fn show_a_repository_lists_its_templates_and_reads_one_with_directory() {
    let env = Env::with_git_author();
    let root = several(&env);
    env.git(&root, &["init", "-q", "-b", "main"]);
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-q", "-m", "templates"]);
    let url = format!("file://{}", root.display());
    let out = env.run(&["show", &url]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("is not a template itself; it holds 3: nested/deeper (copier.yml), svc (template.yaml), web (cookiecutter.json)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("hint: name one: --directory nested/deeper"),
        "{}",
        out.stderr
    );
    let out = env.run(&["show", &url, "--directory", "svc"]);
    out.ok();
    assert!(
        out.stdout.contains("(factory template, not in the store)"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("service_name"), "{}", out.stdout);
    let out = env.run(&[
        "show",
        &url,
        "--directory",
        "web",
        "--ref",
        "main",
        "--json",
    ]);
    out.ok();
    assert_eq!(
        out.json()["parameters"]["properties"]["slug"]["default"],
        "site"
    );
    // --ref and --directory with a stored name say what they apply to.
    let out = env.run(&["show", "svc", "--directory", "x"]);
    out.expect_code(1);
    assert!(out.stderr.contains("svc"), "{}", out.stderr);
}
