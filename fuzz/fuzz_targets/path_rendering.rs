//! A file name template and a parameter value: rendered (bounded) and checked as a path
//! inside the output. Whatever passes the check must be a relative path with no `..`, no
//! absolute part and no `.git` component.
#![no_main]

libfuzzer_sys::fuzz_target!(|input: (&str, &str)| {
    let (name, value) = input;
    let env = factory::render::environment(&factory::render::Settings::new(None, None));
    let ctx = serde_json::json!({ "dir": value });
    let Ok(rendered) = factory::render::render_str_bounded(
        &env,
        name,
        minijinja::Value::from(minijinja::value::Serde(&ctx)),
    ) else {
        return;
    };
    if factory::render::paths::check_inside(&rendered).is_ok() {
        let path = std::path::Path::new(&rendered);
        assert!(!path.is_absolute(), "{rendered:?}");
        for part in path.components() {
            assert!(
                matches!(part, std::path::Component::Normal(_)),
                "{rendered:?}"
            );
            let text = part.as_os_str().to_string_lossy();
            assert!(
                !factory::render::paths::is_git_dir_name(&text),
                "{rendered:?}"
            );
            assert_ne!(
                text.to_ascii_lowercase().trim_end_matches([' ', '.']),
                ".git",
                "{rendered:?}"
            );
        }
    }
});
