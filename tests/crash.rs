//! Crash safety: a half-written last line and a deleted or stale `state/` both recover on
//! the next command, with nothing lost and the partial line reported, never dropped.

mod common;

use std::io::Write;

use common::{EXAMPLE_NAME, Env};
use serde_json::Value;

#[test]
fn a_torn_last_line_is_moved_aside_and_reported() {
    let env = Env::new();
    env.published_example();
    let whole = env.log_bytes();
    let events_before = env.events().len();
    // A writer died halfway through a line.
    let partial = br#"{"eventId":"evt-01a2","eventType":"TemplateRegis"#;
    std::fs::OpenOptions::new()
        .append(true)
        .open(env.store.join("events.jsonl"))
        .unwrap()
        .write_all(partial)
        .unwrap();

    let check = env.run(&["store", "check"]);
    check.expect_code(3);
    assert!(check.stdout.contains("partial line"), "{}", check.stdout);

    // The next command (a reader) recovers: the log is whole again, the tail is kept aside.
    let out = env.run(&["list"]);
    out.ok();
    assert!(
        out.stderr
            .contains("warning: the event log ended in a partial line"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("recovered/"), "{}", out.stderr);
    assert_eq!(env.log_bytes(), whole);
    let aside: Vec<_> = std::fs::read_dir(env.store.join("recovered"))
        .unwrap()
        .collect();
    assert_eq!(aside.len(), 1);
    assert_eq!(
        std::fs::read(aside[0].as_ref().unwrap().path()).unwrap(),
        partial
    );

    // Writing goes on from a whole log.
    env.run(&["version", EXAMPLE_NAME, "--bump", "patch"]).ok();
    assert_eq!(env.events().len(), events_before + 2);
    env.run(&["store", "check"]).ok();
}

#[test]
fn a_torn_line_is_recovered_by_a_writer_too() {
    let env = Env::new();
    env.published_example();
    std::fs::OpenOptions::new()
        .append(true)
        .open(env.store.join("events.jsonl"))
        .unwrap()
        .write_all(b"{\"eventId\":")
        .unwrap();
    let out = env.run(&["version", EXAMPLE_NAME, "--version", "2.0.0"]);
    out.ok();
    assert!(out.stderr.contains("partial line"), "{}", out.stderr);
    let events = env.events();
    assert_eq!(
        events.last().unwrap()["eventType"],
        "TemplateParameterSchemaDefined"
    );
    env.run(&["store", "check"]).ok();
}

#[test]
fn deleted_state_is_rebuilt_from_the_log() {
    let env = Env::new();
    env.published_example();
    let before = env.run(&["show", EXAMPLE_NAME, "--json"]).json();
    std::fs::remove_dir_all(env.store.join("state")).unwrap();
    let check = env.run(&["store", "check"]);
    check.ok();
    assert!(
        check.stdout.contains("state/ is missing"),
        "{}",
        check.stdout
    );
    let after = env.run(&["show", EXAMPLE_NAME, "--json"]);
    after.ok();
    assert_eq!(before, after.json());
    assert!(
        env.store.join("state/state.json").is_file(),
        "the reader saved the rebuilt projection"
    );
    env.run(&["store", "check"]).ok();
}

#[test]
fn a_stale_projection_catches_up_and_a_foreign_one_is_rebuilt() {
    let env = Env::new();
    let path = env.example();
    env.run(&["register", path.to_str().unwrap()]).ok();
    env.run(&["version", EXAMPLE_NAME, "--version", "1.0.0"])
        .ok();
    // Keep the projection as it is now, write more, then put the old one back: stale.
    let old = std::fs::read(env.store.join("state/state.json")).unwrap();
    env.run(&["validate", EXAMPLE_NAME]).ok();
    env.run(&["publish", &format!("{EXAMPLE_NAME}@1.0.0")]).ok();
    std::fs::write(env.store.join("state/state.json"), &old).unwrap();
    let show = env.run(&["show", &format!("{EXAMPLE_NAME}@1.0.0"), "--json"]);
    show.ok();
    assert_eq!(
        show.json()["status"],
        "Published",
        "caught up from the saved offset"
    );
    env.run(&["store", "check"]).ok();

    // A projection from another log (its last event is not where it says) is rebuilt.
    let other = Env::new();
    let other_path = other.example();
    other.run(&["register", other_path.to_str().unwrap()]).ok();
    other
        .run(&["version", EXAMPLE_NAME, "--version", "1.0.0"])
        .ok();
    other.run(&["validate", EXAMPLE_NAME]).ok();
    other
        .run(&["publish", &format!("{EXAMPLE_NAME}@1.0.0")])
        .ok();
    std::fs::copy(
        other.store.join("state/state.json"),
        env.store.join("state/state.json"),
    )
    .unwrap();
    let out = env.run(&["list", "--json"]);
    out.ok();
    assert!(
        out.stderr
            .contains("state/ did not match the event log; rebuilt it"),
        "{}",
        out.stderr
    );
    let ours: Vec<String> = env
        .events()
        .iter()
        .map(|e| e["eventId"].as_str().unwrap().to_string())
        .collect();
    let state: Value =
        serde_json::from_slice(&std::fs::read(env.store.join("state/state.json")).unwrap())
            .unwrap();
    assert_eq!(
        state["state"]["lastEventId"].as_str().unwrap(),
        ours.last().unwrap()
    );
    env.run(&["store", "check"]).ok();
    env.run(&["store", "rebuild"]).ok();
    env.run(&["store", "check"]).ok();
}

#[test]
fn a_corrupt_object_is_found_by_store_check() {
    let env = Env::new();
    env.published_example();
    let objects = common::snapshot(&env.store.join("objects"));
    let (path, _) = &objects[0];
    std::fs::write(path, b"not what was stored").unwrap();
    let out = env.run(&["store", "check"]);
    out.expect_code(3);
    assert!(
        out.stdout.contains("does not hash to its name"),
        "{}",
        out.stdout
    );
    assert!(out.stderr.contains("the store has"), "{}", out.stderr);
}

#[test]
fn store_check_reports_damage_instead_of_failing_and_a_corrupt_object_is_written_again() {
    let env = Env::new();
    env.published_example();
    let log = env.store.join("events.jsonl");
    let good = std::fs::read(&log).unwrap();
    let lines = good.iter().filter(|b| **b == b'\n').count();
    let append = |text: &str| {
        let mut bytes = good.clone();
        bytes.extend_from_slice(text.as_bytes());
        std::fs::write(&log, bytes).unwrap();
    };
    // A garbage last line, and a well-formed envelope whose payload is not readable.
    append("garbage {\n");
    let out = env.run(&["store", "check"]);
    out.expect_code(3);
    assert!(
        out.stdout.contains(&format!("events.jsonl:{}:", lines + 1)),
        "{}",
        out.stdout
    );
    append(
        "{\"eventId\":\"evt-01930000-0000-7000-8000-000000000000\",\"eventType\":\"TemplateRegistered\",\"tenantId\":\"t\",\"projectId\":null,\"moduleId\":null,\"traceId\":\"x\",\"correlationId\":\"c\",\"causationId\":null,\"occurredAt\":\"2026-01-01T00:00:00.000Z\",\"payload\":{\"bad\":1}}\n",
    );
    let out = env.run(&["store", "check"]);
    out.expect_code(3);
    assert!(out.stdout.contains("missing field"), "{}", out.stdout);
    // A deleted log is not "ok".
    std::fs::remove_file(&log).unwrap();
    let out = env.run(&["store", "check"]);
    out.expect_code(3);
    assert!(
        out.stdout.contains("events.jsonl is missing"),
        "{}",
        out.stdout
    );
    std::fs::write(&log, &good).unwrap();
    env.run(&["store", "check"]).ok();
    // A corrupt object is not reused by the next version of the same content: it is written
    // again, and the store is sound.
    let object = walk_objects(&env.store.join("objects"))
        .into_iter()
        .next()
        .unwrap();
    std::fs::write(&object, "corrupted").unwrap();
    env.run(&["store", "check"]).expect_code(3);
    env.run(&["version", common::EXAMPLE_NAME, "--version", "1.0.1"])
        .ok();
    env.run(&["store", "check"]).ok();
}

fn walk_objects(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk_objects(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

#[test]
fn a_damaged_line_in_the_middle_is_set_aside_by_store_rebuild_and_reported() {
    let env = Env::new();
    env.published_example();
    let log = env.store.join("events.jsonl");
    let text = std::fs::read_to_string(&log).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let cut = lines[1][..20].to_string();
    lines[1] = &cut; // a line cut short, in the middle of the log
    let damaged = lines.join("\n") + "\n";
    std::fs::write(&log, &damaged).unwrap();
    std::fs::remove_dir_all(env.store.join("state")).unwrap();
    // Readers answer around it (with a warning); writers refuse until it is set aside.
    let listed = env.run(&["list"]);
    listed.ok();
    assert!(
        listed.stderr.contains("events.jsonl:2 is damaged"),
        "{}",
        listed.stderr
    );
    env.run(&["validate", &format!("{EXAMPLE_NAME}@1.0.0")])
        .expect_code(1);
    let rebuilt = env.run(&["store", "rebuild"]);
    rebuilt.ok();
    assert!(
        rebuilt.stderr.contains("lines 2 were not readable events"),
        "{}",
        rebuilt.stderr
    );
    let aside: Vec<_> = std::fs::read_dir(env.store.join("recovered"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(aside.len(), 1);
    assert_eq!(
        std::fs::read_to_string(aside[0].path()).unwrap(),
        format!("{cut}\n"),
        "the damaged line is kept, not dropped"
    );
    env.run(&["list"]).ok();
    env.run(&["store", "check"]).ok();
}

#[test]
fn store_gc_removes_what_stopped_writers_left_and_nothing_else() {
    let env = Env::new();
    env.published_example();
    let objects = env.store.join("objects");
    let kept = walk_objects(&objects);
    // What a writer killed between its objects and its events leaves behind.
    let orphan = b"written by a version that was killed before its events";
    let hex = factory::hash::sha256_hex(orphan);
    let shard = objects.join(&hex[..2]);
    std::fs::create_dir_all(&shard).unwrap();
    std::fs::write(shard.join(&hex[2..]), orphan).unwrap();
    std::fs::write(shard.join(".tmp-4194999-0123456789abcdef"), b"half").unwrap();
    std::fs::write(env.store.join("state/.state-4194999.tmp"), b"{").unwrap();
    // A live writer's temporary file (this test's own process id) stays.
    let live = shard.join(format!(".tmp-{}-fedcba9876543210", std::process::id()));
    std::fs::write(&live, b"in flight").unwrap();
    let log_before = env.log_bytes();

    let check = env.run(&["--json", "store", "check"]);
    check.ok();
    let report = &check.json()["report"]["garbage"];
    assert_eq!(
        report["temporaries"].as_array().unwrap().len(),
        2,
        "{report}"
    );
    assert_eq!(
        report["unreferenced"][0].as_str().unwrap(),
        format!("objects/{}/{}", &hex[..2], &hex[2..])
    );
    let human = env.run(&["store", "check"]);
    assert!(
        human.stdout.contains("`factory store gc` removes them"),
        "{}",
        human.stdout
    );

    let gc = env.run(&["store", "gc"]);
    gc.ok();
    assert!(
        gc.stdout
            .contains("Removed 2 temporary file(s) of stopped writers and 1 object(s)"),
        "{}",
        gc.stdout
    );
    let mut left = walk_objects(&objects);
    left.retain(|p| p != &live);
    assert_eq!(left, kept, "gc removed a referenced object or left garbage");
    assert!(live.exists());
    assert!(!env.store.join("state/.state-4194999.tmp").exists());
    assert_eq!(env.log_bytes(), log_before, "gc wrote to the log");
    std::fs::remove_file(&live).unwrap();
    let clean = env.run(&["--json", "store", "check"]);
    clean.ok();
    assert_eq!(
        clean.json()["report"]["garbage"]["unreferenced"],
        serde_json::json!([])
    );
    // What was published still generates.
    env.run(&[
        "generate",
        common::EXAMPLE_NAME,
        "-o",
        "out",
        "--set",
        "service_name=after-gc",
    ])
    .ok();
    // With a version's tree unreadable its blobs are unknown: gc removes no object at all.
    let tree = env
        .events()
        .into_iter()
        .find(|e| e["eventType"] == "TemplateVersionCreated")
        .unwrap()["payload"]["tree"]
        .as_str()
        .unwrap()
        .trim_start_matches("sha256:")
        .to_string();
    let tree_path = objects.join(&tree[..2]).join(&tree[2..]);
    let tree_bytes = std::fs::read(&tree_path).unwrap();
    std::fs::write(&tree_path, b"not a tree").unwrap();
    std::fs::write(shard.join(&hex[2..]), orphan).unwrap();
    let before = walk_objects(&objects);
    env.run(&["store", "gc"]).ok();
    assert_eq!(
        walk_objects(&objects),
        before,
        "gc removed objects of a damaged store"
    );
    std::fs::write(&tree_path, tree_bytes).unwrap();
}

/// A snapshot without `.factory/scaffold.yaml`, which records its run's id and time.
fn without_record(files: Vec<(std::path::PathBuf, Vec<u8>)>) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    files
        .into_iter()
        .filter(|(path, _)| !path.ends_with(".factory/scaffold.yaml"))
        .collect()
}

/// A template of `count` files whose contents carry `marker`.
fn many_files(env: &Env, name: &str, count: usize, marker: &str) -> std::path::PathBuf {
    let texts: Vec<(String, String)> = (0..count)
        .map(|i| {
            (
                format!("src/f{i:04}.txt"),
                format!("{{{{ v }}}} {marker} {i}\n{}\n", "x".repeat(2000)),
            )
        })
        .collect();
    let mut files: Vec<(&str, &str)> = texts
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let manifest = format!("name: {name}\nparameters:\n  - name: v\n    default: x\n");
    files.push(("template.yaml", &manifest));
    env.template(&format!("{name}-{marker}"), &files)
}

/// How a kill -9 trial runs.
#[derive(Default, Clone, Copy)]
struct Trials {
    /// The killed command runs inside `proj` (`-o .`).
    inside: bool,
    /// The next command must exit 0.
    next_ok: bool,
    /// Right after a kill `proj` must already be wholly old or wholly new (the tree is
    /// exchanged in one step), before any command undoes anything.
    whole_at_once: bool,
}

/// Kills `args` (which writes over `proj`, reset from `pristine` before each trial) at 1/5 to
/// 4/5 of a full run's time; after each kill `next` (the next command on `proj`) must leave it
/// wholly as before or wholly as a full run leaves it (scaffold.yaml aside: it records its
/// own run), with nothing beside it and the store sound; when the kill left it mixed, `next`
/// must say that it undid an interrupted run.
fn kill_trials(env: &Env, args: &[&str], next: &[&str]) {
    kill_trials_with(env, args, next, Trials::default());
}

fn kill_trials_with(env: &Env, args: &[&str], next: &[&str], how: Trials) {
    let command = |args: &[&str]| {
        let mut command = env.command(args);
        if how.inside {
            command.current_dir(env.path("proj"));
        }
        command
    };
    let reset = || {
        let _ = std::fs::remove_dir_all(env.path("proj"));
        common::copy_dir(&env.path("pristine"), &env.path("proj"));
    };
    reset();
    let old = without_record(common::snapshot(&env.path("proj")));
    let start = std::time::Instant::now();
    common::Run::from(command(args).output().unwrap()).ok();
    let full = start.elapsed();
    let new = without_record(common::snapshot(&env.path("proj")));
    let mut killed_mid_run = 0;
    for fifth in 1..=4 {
        reset();
        let mut child = command(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(full * fifth / 5);
        if child.try_wait().unwrap().is_none() {
            killed_mid_run += 1;
            child.kill().unwrap(); // SIGKILL
        }
        child.wait().unwrap();
        let right_after = without_record(common::snapshot(&env.path("proj")));
        let mixed = right_after != old && right_after != new;
        assert!(
            !(mixed && how.whole_at_once),
            "{args:?} trial {fifth}: the kill left old and new files mixed in the target"
        );
        let after = env.run(next);
        if how.next_ok {
            after.ok();
        }
        if mixed {
            assert!(
                after.stderr.contains("an interrupted run"),
                "{next:?} did not name the interrupted run: {}",
                after.stderr
            );
        }
        let now = without_record(common::snapshot(&env.path("proj")));
        if now != old && now != new {
            let differ = |a: &[(std::path::PathBuf, Vec<u8>)]| {
                now.iter()
                    .filter(|f| !a.contains(f))
                    .map(|(p, _)| p.display().to_string())
                    .take(5)
                    .collect::<Vec<_>>()
            };
            panic!(
                "{args:?} trial {fifth}: old and new files mixed: not old {:?}, not new {:?}",
                differ(&old),
                differ(&new)
            );
        }
        let beside: Vec<_> = std::fs::read_dir(env.dir.path())
            .unwrap()
            .flatten()
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(".proj.factory-")
            })
            .collect();
        assert!(
            beside.is_empty(),
            "{args:?} trial {fifth}: {beside:?} left beside the target"
        );
        env.run(&["store", "check"]).ok();
    }
    assert!(
        killed_mid_run > 0,
        "no trial of {args:?} was killed while running; a run took {full:?}"
    );
}

#[test]
fn kill_9_during_generate_force_leaves_the_old_project_or_the_new_never_a_mix() {
    let env = Env::new();
    let old_t = many_files(&env, "crashy", 400, "old");
    let new_t = many_files(&env, "crashy", 400, "new");
    let (old_t, new_t) = (old_t.to_str().unwrap(), new_t.to_str().unwrap());
    env.run(&["generate", old_t, "-o", "pristine", "--defaults"])
        .ok();
    std::fs::write(env.path("pristine/mine.txt"), "the user's own\n").unwrap();
    // The next command on the target undoes what the killed run left half-done.
    kill_trials(
        &env,
        &["generate", new_t, "-o", "proj", "--defaults", "--force"],
        &["generate", new_t, "-o", "proj", "--defaults"],
    );
}

/// A generated project written over by `--force` with other contents, killed; then `verify`
/// finds it as generated (exit 0), the old tree or the new, and nothing beside it. Outside the
/// target the tree is exchanged in one step, so the kill never leaves it mixed; inside it
/// (`-o .`) the journal is rolled back by `verify`, which says so.
#[test]
fn kill_9_during_generate_force_then_verify_finds_a_whole_tree_and_exits_0() {
    let env = Env::new();
    let old_t = many_files(&env, "crashv", 400, "old");
    let new_t = many_files(&env, "crashv", 400, "new");
    let (old_t, new_t) = (old_t.to_str().unwrap(), new_t.to_str().unwrap());
    env.run(&["generate", old_t, "-o", "pristine", "--defaults"])
        .ok();
    let proj = env.path("proj");
    let verify = ["verify", proj.to_str().unwrap()];
    kill_trials_with(
        &env,
        &["generate", new_t, "-o", "proj", "--defaults", "--force"],
        &verify,
        Trials {
            next_ok: true,
            whole_at_once: true,
            ..Trials::default()
        },
    );
    kill_trials_with(
        &env,
        &["generate", new_t, "-o", ".", "--defaults", "--force"],
        &verify,
        Trials {
            inside: true,
            next_ok: true,
            ..Trials::default()
        },
    );
}

#[test]
fn kill_9_during_upgrade_apply_leaves_the_old_project_or_the_new_never_a_mix() {
    let env = Env::new();
    let one = many_files(&env, "upcrash", 400, "one");
    let two = many_files(&env, "upcrash", 400, "two");
    env.run(&["register", one.to_str().unwrap(), "--name", "upcrash"])
        .ok();
    for (folder, version) in [(&one, "1.0.0"), (&two, "2.0.0")] {
        let from = folder.to_str().unwrap();
        env.run(&["version", "upcrash", "--from", from, "--version", version])
            .ok();
        env.run(&["validate", &format!("upcrash@{version}")]).ok();
        env.run(&["publish", &format!("upcrash@{version}")]).ok();
    }
    env.run(&["generate", "upcrash@1.0.0", "-o", "pristine", "--defaults"])
        .ok();
    // Planning again is the next command on the project: it undoes an interrupted apply.
    kill_trials(
        &env,
        &["upgrade", "proj", "--to", "2.0.0", "--apply"],
        &["upgrade", "proj", "--to", "2.0.0"],
    );
}

#[test]
fn kill_9_during_version_leaves_a_sound_store_and_the_version_whole_or_absent() {
    let env = Env::new();
    let folder = many_files(&env, "vercrash", 600, "v0");
    let from = folder.to_str().unwrap();
    env.run(&["register", from, "--name", "vercrash"]).ok();
    let mut timed = None;
    for trial in 0..5u32 {
        // New content each time, so every trial writes every object.
        for i in 0..600 {
            let path = folder.join(format!("src/f{i:04}.txt"));
            std::fs::write(path, format!("{{{{ v }}}} trial {trial} file {i}\n")).unwrap();
        }
        let number = format!("1.0.{trial}");
        let args = [
            "version",
            "vercrash",
            "--from",
            from,
            "--version",
            number.as_str(),
        ];
        let Some(full) = timed else {
            let start = std::time::Instant::now();
            env.run(&args).ok();
            timed = Some(start.elapsed());
            continue;
        };
        let mut child = env
            .command(&args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(full * trial / 5);
        let _ = child.kill();
        child.wait().unwrap();
        // Whatever the kill left, the store is sound, and gc leaves it sound.
        env.run(&["store", "check"]).ok();
        env.run(&["store", "gc"]).ok();
        env.run(&["store", "check"]).ok();
        let shown = env.run(&["--json", "show", "vercrash"]).json();
        let created = shown["versions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["version"] == number.as_str());
        // A version that was recorded is whole: it generates.
        if created {
            let out = format!("out-{trial}");
            let at = format!("vercrash@{number}");
            env.run(&["generate", &at, "-o", &out, "--defaults", "--allow-draft"])
                .ok();
        }
    }
}

/// The log's lines with `extra` inserted before line `at` (1-based); returns the new text.
fn insert_line(env: &Env, at: usize, extra: &str) -> String {
    let log = env.store.join("events.jsonl");
    let text = std::fs::read_to_string(&log).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(at - 1, extra);
    let damaged = lines.join("\n") + "\n";
    std::fs::write(&log, &damaged).unwrap();
    damaged
}

#[test]
fn trailing_and_inner_blank_lines_are_not_damage() {
    let env = Env::new();
    env.published_example();
    let lines = env.events().len();
    let log = env.store.join("events.jsonl");
    // An editor's or a script's extra newlines at the end, with or without spaces.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .unwrap()
        .write_all(b"\n\n  \n")
        .unwrap();
    let quiet = |args: &[&str]| {
        let out = env.run(args);
        out.ok();
        assert!(out.stderr.is_empty(), "{args:?} said: {}", out.stderr);
        out
    };
    let listed = quiet(&["list"]);
    assert!(listed.stdout.contains(EXAMPLE_NAME), "{}", listed.stdout);
    quiet(&["show", EXAMPLE_NAME]);
    let printed = quiet(&["events"]);
    assert_eq!(printed.stdout.lines().count(), lines, "{}", printed.stdout);
    quiet(&["events", "--format", "table"]);
    quiet(&["store", "check"]);
    // From scratch too: the projection is rebuilt over them, and then reused without a word.
    std::fs::remove_dir_all(env.store.join("state")).unwrap();
    quiet(&["list"]);
    quiet(&["list"]);
    // A write appends after them; every reader still reads every event.
    quiet(&["version", EXAMPLE_NAME, "--version", "1.0.1"]);
    let printed = quiet(&["events"]);
    assert_eq!(
        printed.stdout.lines().count(),
        lines + 2,
        "{}",
        printed.stdout
    );
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("\n\n  \n{"),
        "the blank lines stay where they were"
    );
    let listed = quiet(&["list"]);
    assert!(listed.stdout.contains("1.0.1"), "{}", listed.stdout);
    quiet(&["store", "check"]);
    quiet(&["store", "rebuild"]);
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        text,
        "rebuild rewrites nothing for blank lines"
    );
    assert!(!env.store.join("recovered").exists());
}

#[test]
fn a_damaged_middle_line_is_skipped_with_a_warning_by_readers_and_refused_by_writers() {
    let env = Env::new();
    env.published_example();
    env.run(&[
        "generate",
        EXAMPLE_NAME,
        "-o",
        "svc",
        "--set",
        "service_name=orders",
    ])
    .ok();
    let events = env.events();
    // A line cut short, in the middle of the log (line 3 of 10).
    insert_line(&env, 3, r#"{"eventId":"evt-01a2","eventTy"#);
    let warned = |out: &common::Run| {
        out.ok();
        assert!(
            out.stderr
                .contains("warning: events.jsonl:3 is damaged (not an event envelope")
                && out.stderr.contains("`factory store rebuild`")
                && out.stderr.contains("`factory store check`"),
            "{}",
            out.stderr
        );
    };

    // Commands that only read answer from the readable lines, with the warning.
    let listed = env.run(&["list"]);
    warned(&listed);
    assert!(
        listed.stdout.contains(EXAMPLE_NAME) && listed.stdout.contains("Published"),
        "{}",
        listed.stdout
    );
    let shown = env.run(&["show", EXAMPLE_NAME]);
    warned(&shown);
    assert!(shown.stdout.contains("1.0.0"), "{}", shown.stdout);
    let printed = env.run(&["events"]);
    warned(&printed);
    let ids: Vec<Value> = printed
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["eventId"].clone())
        .collect();
    let all: Vec<Value> = events.iter().map(|e| e["eventId"].clone()).collect();
    assert_eq!(ids, all, "every readable event, in order");
    warned(&env.run(&["events", "--format", "table", "--type", "TemplatePublished"]));
    // verify reads the scaffold, not the log.
    env.run(&["verify", "svc"]).ok();

    // Commands that write refuse with the same line named, and change nothing.
    let before = env.store_snapshot();
    let refused = env.run(&["version", EXAMPLE_NAME, "--version", "1.0.1"]);
    refused.expect_code(1);
    assert!(
        refused
            .stderr
            .contains("error: events.jsonl:3 is damaged: not an event envelope")
            && refused.stderr.contains("`factory store rebuild`"),
        "{}",
        refused.stderr
    );
    let generated = env.run(&[
        "generate",
        EXAMPLE_NAME,
        "-o",
        "other",
        "--set",
        "service_name=other",
    ]);
    generated.expect_code(1);
    assert!(
        generated.stderr.contains("events.jsonl:3 is damaged"),
        "{}",
        generated.stderr
    );
    assert!(!env.path("other").exists(), "nothing was rendered");
    assert_eq!(
        env.store_snapshot(),
        before,
        "a refused write changed the store"
    );
    let check = env.run(&["store", "check"]);
    check.expect_code(3);
    assert!(
        check
            .stdout
            .contains("events.jsonl:3: not an event envelope"),
        "{}",
        check.stdout
    );

    // `store rebuild` sets the line aside; then everything works, without a warning.
    let rebuilt = env.run(&["store", "rebuild"]);
    rebuilt.ok();
    assert!(
        rebuilt.stderr.contains("lines 3 were not readable events"),
        "{}",
        rebuilt.stderr
    );
    for args in [
        &["list"][..],
        &["show", EXAMPLE_NAME],
        &["events"],
        &["version", EXAMPLE_NAME, "--version", "1.0.1"],
        &["store", "check"],
    ] {
        let out = env.run(args);
        out.ok();
        assert!(!out.stderr.contains("warning"), "{args:?}: {}", out.stderr);
    }
    assert_eq!(env.events().len(), events.len() + 2);
}
