//! `factory hash` agrees with coreutils, as DESIGN.md section 6 promises.

mod common;

use common::Env;

#[test]
fn hash_matches_sha256sum_of_the_sorted_manifest() {
    let env = Env::new();
    let dir = env.template(
        "tree",
        &[
            ("b.txt", "b\n"),
            ("B.txt", "B\n"),
            ("a/z.txt", ""),
            ("a b/c.txt", "space\n"),
            (".factory/scaffold.yaml", "left out\n"),
            (
                "x/.factory/kept.txt",
                "only the top-level .factory is left out\n",
            ),
        ],
    );
    let out = env.run(&["hash", dir.to_str().unwrap()]);
    out.ok();
    let ours = out.stdout.trim().to_string();

    let script = "find . -type f ! -path './.factory/*' -printf '%P\\n' | LC_ALL=C sort | xargs -d '\\n' sha256sum | sha256sum";
    let coreutils = env
        .program("sh")
        .arg("-c")
        .arg(script)
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(coreutils.status.success());
    let theirs = String::from_utf8(coreutils.stdout).unwrap();
    assert_eq!(ours, format!("sha256:{}", &theirs[..64]));

    let manifest = env.run(&["hash", dir.to_str().unwrap(), "--manifest"]);
    manifest.ok();
    let lines: Vec<&str> = manifest.stdout.lines().collect();
    assert_eq!(lines.len(), 5);
    assert!(lines[0].ends_with("  B.txt"));
    assert!(lines.iter().any(|l| l.ends_with("  x/.factory/kept.txt")));

    let json = env.run(&["hash", dir.to_str().unwrap(), "--json"]).json();
    assert_eq!(json["contentHash"], ours.as_str());
    assert_eq!(json["fileCount"], 5);

    let out = env.run(&["hash", dir.join("b.txt").to_str().unwrap()]);
    out.expect_code(2);
    assert!(out.stderr.contains("is not a directory"), "{}", out.stderr);
}
