//! What a new user trips over (issue 27): completion of parameter names after `--set` (item
//! 11), template tests with an expected tree (item 20), the upgrade plan's source (item 19).

mod common;

use common::Env;

/// What bash completes for the command line `words` (the last one being completed), through
/// the script `COMPLETE=bash factory` prints, as a user's shell would run it.
fn bash_completes(env: &Env, words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let script = format!(
        "source <(COMPLETE=bash \"$F\")\n\
         COMP_WORDS=({words})\nCOMP_CWORD={cword}\nCOMP_LINE=\"${{COMP_WORDS[*]}}\"\nCOMP_POINT=${{#COMP_LINE}}\n\
         _clap_complete_factory factory \"${{COMP_WORDS[$COMP_CWORD]}}\" \"${{COMP_WORDS[$COMP_CWORD-1]}}\"\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        words = quoted.join(" "),
        cword = words.len() - 1
    );
    let out = env.program("bash").args(["-c", &script]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

const MANIFEST: &str = "name: svc\ncategory: service\nparameters:\n  - name: service_name\n    help: The service's name\n  - name: database\n    type: choice\n    choices: [postgres, mysql]\n    default: postgres\n  - name: port\n    type: int\n    default: 8080\n";

#[test]
fn set_completes_parameter_names_then_choices() {
    let env = Env::new();
    let t = env.template("svc", &[("template.yaml", MANIFEST), ("a.txt", "{{ service_name }}\n")]);
    let t = t.to_str().unwrap();
    let all = bash_completes(&env, &["factory", "generate", t, "--set", ""]);
    assert_eq!(all, ["service_name=", "database=", "port="], "{all:?}");
    let some = bash_completes(&env, &["factory", "generate", t, "-o", "out", "-d", "se"]);
    assert_eq!(some, ["service_name="]);
    let choices = bash_completes(&env, &["factory", "generate", t, "--set", "database="]);
    assert_eq!(choices, ["database=postgres", "database=mysql"]);
    // After the template, as cookiecutter's extra context.
    let extra = bash_completes(&env, &["factory", "generate", "--defaults", t, "po"]);
    assert_eq!(extra, ["port="]);
    // A stored template: the newest version's parameters, or the version named.
    env.run(&["register", t]).ok();
    env.run(&["version", "svc", "--version", "1.0.0"]).ok();
    let stored = bash_completes(&env, &["factory", "generate", "svc", "--set", "da"]);
    assert_eq!(stored, ["database="]);
    let named = bash_completes(&env, &["factory", "generate", "svc@1.0.0", "--set", "database=m"]);
    assert_eq!(named, ["database=mysql"]);
    // Nothing for a template the store does not have, or no template yet.
    assert!(bash_completes(&env, &["factory", "generate", "nope", "--set", ""]).is_empty());
    assert!(bash_completes(&env, &["factory", "generate", "--set", ""]).is_empty());
}
