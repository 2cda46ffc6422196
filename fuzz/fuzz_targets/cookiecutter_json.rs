//! `cookiecutter.json`: any text becomes a manifest or an error.
#![no_main]

libfuzzer_sys::fuzz_target!(|text: &str| {
    let paths = [
        "{{cookiecutter.project_slug}}/README.md",
        "hooks/post_gen_project.py",
    ];
    let _ = factory::template::cookiecutter::manifest(text, "fuzzed", &paths);
});
