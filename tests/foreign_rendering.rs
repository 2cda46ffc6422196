//! How copier 9.19.1 and cookiecutter 2.7.1 render names, exclusions, line ends, links and
//! their filters, each compared byte for byte with the real tool from PyPI (installed into a
//! virtual environment under target/; without python3 or PyPI the comparison is skipped
//! loudly, and under CI it fails), and the refusals where factory cannot do what they do.

mod common;

use std::path::{Path, PathBuf};

use common::Env;
use common::python::{assert_same, copier, reference_command, run_reference, tree};

fn cookiecutter() -> Option<PathBuf> {
    static TOOL: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    TOOL.get_or_init(|| common::python::tool("cookiecutter", "2.7.1", "cookiecutter"))
        .clone()
}

/// An environment with the clock pinned and the machine's zone UTC, for both tools.
fn pinned_env() -> Env {
    let mut env = Env::new();
    env.set_env("FACTORY_NOW", "2026-06-11T21:05:09Z");
    env.set_env("TZ", "UTC");
    env
}

/// `factory generate TEMPLATE -o OURS --defaults`, then `copier copy --defaults` into `ref`,
/// and the two trees byte for byte.
fn same_as_copier(env: &Env, template: &Path, ours: &str) {
    env.run(&[
        "generate",
        template.to_str().unwrap(),
        "-o",
        ours,
        "--defaults",
    ])
    .ok();
    let Some(copier) = copier() else { return };
    let reference = env.path(&format!("{ours}-copier"));
    let mut command = reference_command(env, &copier);
    command
        .args(["copy", "--defaults", "--quiet"])
        .arg(template)
        .arg(&reference);
    run_reference(command, env.dir.path());
    let ours = tree(&env.path(ours));
    assert!(!ours.is_empty());
    assert_same(&ours, &tree(&reference), "factory beside copier");
}

/// `factory generate` of a cookiecutter template into `ours`, then `cookiecutter
/// --no-input` into `ours-cookiecutter`, byte for byte.
fn same_as_cookiecutter(env: &Env, template: &Path, ours: &str) {
    env.run(&[
        "generate",
        template.to_str().unwrap(),
        "-o",
        ours,
        "--defaults",
    ])
    .ok();
    let Some(cookiecutter) = cookiecutter() else {
        return;
    };
    let reference = env.path(&format!("{ours}-cookiecutter"));
    let mut command = reference_command(env, &cookiecutter);
    command
        .arg("--no-input")
        .arg("-o")
        .arg(&reference)
        .arg(template);
    run_reference(command, env.dir.path());
    let ours = tree(&env.path(ours));
    assert!(!ours.is_empty());
    assert_same(&ours, &tree(&reference), "factory beside cookiecutter");
}

#[test]
fn exclude_patterns_match_rendered_paths_as_copiers_pathspec_does() {
    let env = Env::new();
    let template = env.template(
        "cp-exclude",
        &[
            (
                "copier.yml",
                r#"name:
  type: str
  default: keep-me
skip:
  type: bool
  default: true
_exclude:
  - copier.yml
  - "*.exclude"
  - "!do_not.exclude"
  - "exclude_dir/"
  - "!exclude_dir/please_copy_me"
  - "*.tmp"
  - "!{{ name }}.tmp"
  - |
    {% if skip %}
    /a.txt
    sub/c.txt
    {% endif %}
  - "gen-*/"
  - "~*"
  - "mañana.txt"
"#,
            ),
            ("x.exclude", "1\n"),
            ("do_not.exclude", "2\n"),
            ("exclude_dir/x", "3\n"),
            ("exclude_dir/please_copy_me", "4\n"),
            ("not_exclude_dir/x", "5\n"),
            ("{{ name }}.tmp.jinja", "6 {{ name }}\n"),
            ("other.tmp", "7\n"),
            ("a.txt", "8\n"),
            ("deep/a.txt", "9\n"),
            ("sub/c.txt", "10\n"),
            ("{{ 'gen' }}-{{ name }}/f.txt.jinja", "11\n"),
            ("~backup", "12\n"),
            ("keep.txt", "13\n"),
            // copier decomposes patterns (NFD), not paths.
            ("man\u{303}ana.txt", "14\n"),
            ("ma\u{f1}ana.txt", "15\n"),
        ],
    );
    same_as_copier(&env, &template, "out");
    let out = env.path("out");
    for (path, kept) in [
        ("x.exclude", false),
        ("do_not.exclude", true),
        ("exclude_dir/x", false),
        ("exclude_dir/please_copy_me", true),
        ("keep-me.tmp", true),
        ("other.tmp", false),
        ("a.txt", false),
        ("deep/a.txt", true),
        ("sub/c.txt", false),
        ("gen-keep-me/f.txt", false),
        ("~backup", false),
        ("keep.txt", true),
        ("man\u{303}ana.txt", false),
        ("ma\u{f1}ana.txt", true),
    ] {
        assert_eq!(out.join(path).exists(), kept, "{path}");
    }

    // Without `_exclude`, copier's defaults (the config, `~*`, `*.py[co]`, `.git`…).
    let defaults = env.template(
        "cp-default-exclude",
        &[
            ("copier.yaml", "name: x\n"),
            ("~notes", "a\n"),
            ("m.pyc", "b\n"),
            ("__pycache__/m.txt", "c\n"),
            ("m.py", "d\n"),
        ],
    );
    same_as_copier(&env, &defaults, "defaults");
    assert!(env.path("defaults/m.py").exists() && !env.path("defaults/m.pyc").exists());

    // A pattern pathspec cannot read is refused before anything is written.
    let bad = env.template(
        "cp-bad-exclude",
        &[
            ("copier.yml", "_exclude:\n  - 'trailing\\'\nname: x\n"),
            ("a.txt", "a\n"),
        ],
    );
    let out = env.run(&["generate", bad.to_str().unwrap(), "-o", "bad", "--defaults"]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("_exclude: invalid exclude pattern `trailing\\`"),
        "{}",
        out.stderr
    );
    assert!(!env.path("bad").exists());
}

#[test]
fn envops_delimiters_apply_to_file_and_folder_names_as_in_copier() {
    let env = Env::new();
    let template = env.template(
        "cp-brackets",
        &[
            (
                "copier.yml",
                "_envops:\n  variable_start_string: '[['\n  variable_end_string: ']]'\n  block_start_string: '[%'\n  block_end_string: '%]'\nname:\n  type: str\n  default: demo\nflag:\n  type: bool\n  default: false\n",
            ),
            ("[[ name ]].txt", "plain {{ kept }}\n"),
            ("[[ name ]]/inner.txt.jinja", "[[ name ]] {{ kept }}\n"),
            ("[% if flag %]opt[% endif %].txt", "dropped\n"),
            ("{{ literal }}.txt", "curly names are plain text here\n"),
        ],
    );
    same_as_copier(&env, &template, "out");
    assert!(env.path("out/demo.txt").is_file());
    assert!(env.path("out/{{ literal }}.txt").is_file());
    assert_eq!(
        std::fs::read_to_string(env.path("out/demo/inner.txt")).unwrap(),
        "demo {{ kept }}\n"
    );
}

#[test]
fn a_template_with_both_x_and_x_jinja_renders_the_jinja_one_as_copier_does() {
    let env = Env::new();
    let template = env.template(
        "cp-siblings",
        &[
            ("copier.yml", "name: demo\n"),
            ("README.md", "plain, left out\n"),
            ("README.md.jinja", "rendered {{ name }}\n"),
            ("docs/guide.txt", "plain, left out too\n"),
            ("docs/guide.txt.jinja", "guide for {{ name }}\n"),
            ("only-plain.txt", "kept\n"),
            // A plain name that renders to a path whose `.jinja` sibling exists at the root.
            ("{{ name }}-notes.txt", "left out as copier leaves it\n"),
            ("demo-notes.txt.jinja", "notes of {{ name }}\n"),
        ],
    );
    same_as_copier(&env, &template, "out");
    assert_eq!(
        std::fs::read_to_string(env.path("out/README.md")).unwrap(),
        "rendered demo\n"
    );
    assert_eq!(
        std::fs::read_to_string(env.path("out/demo-notes.txt")).unwrap(),
        "notes of demo\n"
    );
}

#[test]
fn pathjoin_joins_as_copiers_global_does() {
    let env = Env::new();
    let template = env.template(
        "cp-pathjoin",
        &[
            ("copier.yml", "pkg: acme\n"),
            (
                "paths.txt.jinja",
                "{{ pathjoin('src', pkg, '__init__.py') }}\n{{ pathjoin('a/', './b//c') }}\n{{ pathjoin('a', '/abs', 'x') }}\n{{ pathjoin() }}\n{{ pathjoin('C:/x', 'y', mode='windows') }}\n{{ pathjoin('a', 'b', mode='native') }}\n",
            ),
            ("{{ pathjoin(pkg, 'mod') }}.py.jinja", "# {{ pkg }}\n"),
        ],
    );
    same_as_copier(&env, &template, "out");
    assert_eq!(
        std::fs::read_to_string(env.path("out/paths.txt")).unwrap(),
        "src/acme/__init__.py\na/b/c\n/abs/x\n.\nC:\\x\\y\na/b\n"
    );
    assert!(env.path("out/acme/mod.py").is_file());
}

#[test]
fn file_names_with_a_tab_or_a_backslash_are_written_as_copier_writes_them() {
    let env = Env::new();
    let template = env.template(
        "cp-odd-names",
        &[
            ("copier.yml", "name: demo\n"),
            ("tab\there.txt", "a tab\n"),
            ("back\\slash.txt", "a backslash\n"),
            ("{{ name }}\twith tab.txt.jinja", "{{ name }}\n"),
            (" leading space.txt", "kept as named\n"),
        ],
    );
    same_as_copier(&env, &template, "out");
    assert!(env.path("out/tab\there.txt").is_file());
    assert!(env.path("out/back\\slash.txt").is_file());
    assert!(env.path("out/demo\twith tab.txt").is_file());

    // A newline in a name is written as copier writes it, and said escaped (a listing
    // stays one line per file); `..` through a backslash stays refused.
    let odd = env.template(
        "cp-newline-name",
        &[
            ("copier.yml", "name:\n  type: str\n  default: \"a\\nb\"\n"),
            ("{{ name }}.txt.jinja", "x\n"),
        ],
    );
    let out = env.run(&["generate", odd.to_str().unwrap(), "-o", "odd", "--defaults"]);
    out.ok();
    assert!(env.path("odd/a\nb.txt").is_file());
    assert!(out.stderr.contains("create  a\\nb.txt\n"), "{}", out.stderr);
    let bad = odd;
    let up = env.run(&[
        "generate",
        bad.to_str().unwrap(),
        "-o",
        "up",
        "--defaults",
        "--set",
        "name=..\\..\\x",
    ]);
    up.expect_code(1);
    assert!(
        up.stderr
            .contains("which would leave or alias the target folder"),
        "{}",
        up.stderr
    );
    assert!(!env.path("up").exists());
}

#[test]
fn crlf_templates_render_with_the_line_ends_copier_and_cookiecutter_write() {
    let env = Env::new();
    // copier: Jinja2 reads `\r\n` and `\r` as `\n` in what it renders; copied files are
    // left as they are.
    let template = env.template(
        "cp-crlf",
        &[
            ("copier.yml", "name: demo\n"),
            (
                "rendered.txt.jinja",
                "first\r\n{{ name }}\r\n{% if true %}\r\nin block\r\n{% endif %}\r\nlone\rcr\r\n",
            ),
            ("copied.txt", "kept\r\nas is\r\n"),
        ],
    );
    same_as_copier(&env, &template, "out");
    assert_eq!(
        std::fs::read(env.path("out/rendered.txt")).unwrap(),
        b"first\ndemo\n\nin block\n\nlone\ncr\n"
    );
    assert_eq!(
        std::fs::read(env.path("out/copied.txt")).unwrap(),
        b"kept\r\nas is\r\n"
    );

    // cookiecutter writes every newline as the source's first line ends (values included),
    // or as `_new_lines` says.
    let cc = env.template(
        "cc-crlf",
        &[
            (
                "cookiecutter.json",
                "{\"name\": \"demo\", \"_new_lines\": \"\"}\n",
            ),
            (
                "{{cookiecutter.name}}/windows.txt",
                "first\r\n{{ cookiecutter.name }}\r\n{{ 'a\\nb' }}\r\n",
            ),
            (
                "{{cookiecutter.name}}/unix.txt",
                "first\n{{ cookiecutter.name }}\r\n",
            ),
            (
                "{{cookiecutter.name}}/one-line.txt",
                "{{ cookiecutter.name }}",
            ),
        ],
    );
    same_as_cookiecutter(&env, &cc, "cc");
    assert_eq!(
        std::fs::read(env.path("cc/demo/windows.txt")).unwrap(),
        b"first\r\ndemo\r\na\r\nb\r\n"
    );
    let forced = env.template(
        "cc-newlines",
        &[
            (
                "cookiecutter.json",
                "{\"name\": \"demo\", \"_new_lines\": \"\\r\\n\"}\n",
            ),
            (
                "{{cookiecutter.name}}/unix.txt",
                "first\n{{ cookiecutter.name }}\n",
            ),
        ],
    );
    same_as_cookiecutter(&env, &forced, "forced");
    assert_eq!(
        std::fs::read(env.path("forced/demo/unix.txt")).unwrap(),
        b"first\r\ndemo\r\n"
    );
}

#[test]
fn a_link_to_a_folder_is_copied_as_the_folder_as_copier_copies_it() {
    let env = Env::new();
    let template = env.template(
        "cp-folder-link",
        &[
            ("copier.yml", "name: demo\n"),
            ("shared/a.txt", "a\n"),
            ("shared/deep/b.txt.jinja", "{{ name }}\n"),
        ],
    );
    std::os::unix::fs::symlink("shared", template.join("docs")).unwrap();
    std::os::unix::fs::symlink("../a.txt", template.join("shared/deep/a-link.txt")).unwrap();
    same_as_copier(&env, &template, "out");
    assert!(env.path("out/docs").is_dir() && !env.path("out/docs").is_symlink());
    assert_eq!(
        std::fs::read_to_string(env.path("out/docs/deep/b.txt")).unwrap(),
        "demo\n"
    );

    // A link to a folder that holds it is a loop: refused by name before anything is written.
    let looped = env.template(
        "cp-loop",
        &[("copier.yml", "name: demo\n"), ("sub/a.txt", "a\n")],
    );
    std::os::unix::fs::symlink("..", looped.join("sub/up")).unwrap();
    let out = env.run(&[
        "generate",
        looped.to_str().unwrap(),
        "-o",
        "loop",
        "--defaults",
    ]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("symlink sub/up -> .. points at a folder that holds it, a loop"),
        "{}",
        out.stderr
    );
    assert!(!env.path("loop").exists());
    // Two links into each other's folders are a loop too.
    let crossed = env.template(
        "cp-crossed",
        &[
            ("copier.yml", "name: demo\n"),
            ("x/a.txt", "a\n"),
            ("y/b.txt", "b\n"),
        ],
    );
    std::os::unix::fs::symlink("../y", crossed.join("x/link")).unwrap();
    std::os::unix::fs::symlink("../x", crossed.join("y/link")).unwrap();
    let out = env.run(&[
        "generate",
        crossed.to_str().unwrap(),
        "-o",
        "crossed",
        "--defaults",
    ]);
    out.expect_code(1);
    assert!(out.stderr.contains("a loop"), "{}", out.stderr);
    assert!(!env.path("crossed").exists());

    // A link to a folder outside the template stays refused (issue 26).
    let outside = env.template("cp-outside", &[("copier.yml", "name: demo\n")]);
    std::fs::create_dir_all(env.path("elsewhere")).unwrap();
    std::fs::write(env.path("elsewhere/secret.txt"), "s\n").unwrap();
    std::os::unix::fs::symlink(env.path("elsewhere"), outside.join("data")).unwrap();
    let out = env.run(&[
        "generate",
        outside.to_str().unwrap(),
        "-o",
        "outside",
        "--defaults",
    ]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("points outside the template"),
        "{}",
        out.stderr
    );
    assert!(!env.path("outside").exists());
}

#[test]
fn strftime_and_to_datetime_give_what_copiers_filters_give() {
    let env = pinned_env();
    let template = env.template(
        "cp-dates",
        &[
            ("copier.yml", "name: demo\n"),
            (
                "LICENSE.jinja",
                "Copyright (c) {{ '%Y' | strftime }} {{ name }}\n{{ '%Y-%m-%d %H:%M:%S %a %b %j %-d %e' | strftime }}\n{{ '%Y-%m-%dT%H:%M:%S' | strftime(0) }} {{ '%c' | strftime('86400') }}\n{{ '2016-08-14 20:00:12' | to_datetime }}\n{{ ('2016-08-14 20:00:12' | to_datetime).year }} {{ ('14/08/2016' | to_datetime('%d/%m/%Y')).month }}\n{{ ('2016-08-14 20:00:12' | to_datetime).strftime('%d %B %Y, %I %p') }}\n{{ '2016-08-14 20:00:12.5 +0100' | to_datetime('%Y-%m-%d %H:%M:%S.%f %z') }}\n",
            ),
        ],
    );
    same_as_copier(&env, &template, "out");
    let license = std::fs::read_to_string(env.path("out/LICENSE")).unwrap();
    assert!(
        license.starts_with("Copyright (c) 2026 demo\n2026-06-11 21:05:09 Thu Jun 162 11 11\n"),
        "{license}"
    );

    // What factory cannot do is refused by name, before anything is written.
    for (source, message) in [
        (
            "{{ '%Q' | strftime }}",
            "strftime: the directive %Q is not supported",
        ),
        (
            "{{ '2016' | to_datetime }}",
            "to_datetime: time data '2016' does not match format '%Y-%m-%d %H:%M:%S'",
        ),
        (
            "{{ 'x' | to_datetime('%Y %c') }}",
            "to_datetime: 'c' is a bad directive in format '%Y %c'",
        ),
    ] {
        let bad = env.template(
            &format!("cp-bad-date-{}", source.len()),
            &[("copier.yml", "name: demo\n"), ("f.txt.jinja", source)],
        );
        let out = env.run(&["generate", bad.to_str().unwrap(), "-o", "bad", "--defaults"]);
        out.expect_code(1);
        assert!(out.stderr.contains(message), "{source}: {}", out.stderr);
        assert!(!env.path("bad").exists());
    }
}

#[test]
fn cookiecutter_slugify_takes_python_slugifys_arguments() {
    let env = Env::new();
    let template = env.template(
        "cc-slugify",
        &[
            (
                "cookiecutter.json",
                r#"{"project_name": "Café Déjà Vu: the 2nd Edition", "package": "{{ cookiecutter.project_name | slugify(separator='_') }}"}"#,
            ),
            (
                "{{cookiecutter.package}}/slugs.txt",
                "{{ cookiecutter.package }}\n{{ cookiecutter.project_name | slugify }}\n{{ cookiecutter.project_name | slugify(max_length=12, word_boundary=True) }}\n{{ cookiecutter.project_name | slugify(stopwords=['the', 'vu']) }}\n{{ cookiecutter.project_name | slugify(lowercase=False, separator='.') }}\n{{ cookiecutter.project_name | slugify(replacements=[[':', ' colon ']]) }}\n{{ 'one, two' | slugify(True, True, True, 0, False, '+') }}\n{{ 'it''s 1,000 &amp; more' | slugify }}\n",
            ),
        ],
    );
    same_as_cookiecutter(&env, &template, "out");
    assert_eq!(
        std::fs::read_to_string(env.path("out/cafe_deja_vu_the_2nd_edition/slugs.txt"))
            .unwrap()
            .lines()
            .next(),
        Some("cafe_deja_vu_the_2nd_edition")
    );

    let bad = env.template(
        "cc-slugify-bad",
        &[
            ("cookiecutter.json", r#"{"name": "x"}"#),
            (
                "{{cookiecutter.name}}/a.txt",
                "{{ cookiecutter.name | slugify(sep='_') }}\n",
            ),
        ],
    );
    let out = env.run(&["generate", bad.to_str().unwrap(), "-o", "bad", "--defaults"]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("slugify: unexpected keyword argument `sep`"),
        "{}",
        out.stderr
    );
    assert!(!env.path("bad").exists());
}

#[test]
fn cookiecutters_jinja2_env_vars_shape_the_environment() {
    let env = Env::new();
    let template = env.template(
        "cc-envvars",
        &[
            (
                "cookiecutter.json",
                r#"{"name": "demo", "items": ["a", "b"], "_jinja2_env_vars": {"trim_blocks": true, "lstrip_blocks": true}}"#,
            ),
            (
                "{{cookiecutter.name}}/list.txt",
                "items:\n    {% for item in cookiecutter['items'] %}\n  - {{ item }}\n    {% endfor %}\ndone\n",
            ),
        ],
    );
    same_as_cookiecutter(&env, &template, "out");
    assert_eq!(
        std::fs::read_to_string(env.path("out/demo/list.txt")).unwrap(),
        // A list is a choice: its first entry, a string of one item to loop over.
        "items:\n  - a\ndone\n"
    );

    // An option factory cannot honour is refused by name.
    let bad = env.template(
        "cc-envvars-bad",
        &[
            (
                "cookiecutter.json",
                r#"{"name": "demo", "_jinja2_env_vars": {"newline_sequence": "\r\n"}}"#,
            ),
            ("{{cookiecutter.name}}/a.txt", "x\n"),
        ],
    );
    let out = env.run(&["generate", bad.to_str().unwrap(), "-o", "bad", "--defaults"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains(
            "the Jinja2 environment option `newline_sequence: \"\\r\\n\"` is not supported"
        ),
        "{}",
        out.stderr
    );
    assert!(!env.path("bad").exists());
}
