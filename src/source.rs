//! Where a template comes from: a stored version, a folder, a git repository at a ref, or
//! an archive. generate, validate, compat, upgrade, publish and the library commands all
//! resolve a template through here, so a source is named and fetched one way.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::domain::State;
use crate::domain::commands;
use crate::domain::events::{SourceKind, SourceRef};
use crate::domain::state::VersionStatus;
use crate::error::{Error, Result};
use crate::git;
use crate::git::fetch::FetchOptions;
use crate::git::url::Abbreviations;
use crate::template::load::manifest_of;
use crate::template::manifest::Manifest;
use crate::template::snapshot::Blobs;
use crate::template::snapshot::TemplateFiles;

/// A template ready to render.
pub struct ResolvedSource {
    /// Its files.
    pub files: Arc<TemplateFiles>,
    /// Its manifest.
    pub manifest: Manifest,
    /// The stored template's id, when it came from the store.
    pub template_id: Option<String>,
    /// The stored version's id, when it came from the store.
    pub template_version_id: Option<String>,
    /// The stored version number, when it came from the store.
    pub version: Option<String>,
    /// How to name it to a person: `NAME@VERSION`, a folder, or a URL.
    pub label: String,
    /// Where its files came from.
    pub source_ref: SourceRef,
    /// For a repository: `git describe --tags --always` of the commit (`v1.2.0`,
    /// `v1.2.0-3-gabc1234`), what copier records as `_commit`.
    pub commit_description: Option<String>,
    /// What a person should hear about how it was fetched (the tag chosen, the cache).
    pub notes: Vec<String>,
    /// What the template's tool warns about as it reads it (copier's DirtyLocalWarning),
    /// said whatever `--quiet` says.
    pub tool_warnings: Vec<String>,
    /// Keeps a git checkout alive while the source is used.
    _checkout: Option<tempfile::TempDir>,
}

impl ResolvedSource {
    /// A template from a folder or a repository (not the store).
    fn unstored(
        files: TemplateFiles,
        manifest: Manifest,
        label: String,
        source_ref: SourceRef,
        notes: Vec<String>,
        checkout: Option<tempfile::TempDir>,
    ) -> ResolvedSource {
        let mut notes = notes;
        let has = |name: &str| files.get(name).is_some();
        if has(crate::template::cookiecutter::CONTEXT_FILE)
            && crate::template::copier::CONFIG_FILES.iter().any(|f| has(f))
            && !has(crate::template::manifest::MANIFEST_FILE)
        {
            notes.push(format!(
                "{label} has both copier.yml and cookiecutter.json: it is read as a copier template"
            ));
        }
        ResolvedSource {
            files: Arc::new(files),
            manifest,
            template_id: None,
            template_version_id: None,
            version: None,
            label,
            source_ref,
            commit_description: None,
            notes,
            tool_warnings: Vec::new(),
            _checkout: checkout,
        }
    }
}

impl ResolvedSource {
    /// The template's files on disk, when they are there (a checkout of a repository, or
    /// the folder it was read from): what copier's tasks know as `_copier_conf.src_path`.
    pub fn local_dir(&self) -> Option<PathBuf> {
        if let Some(checkout) = &self._checkout {
            return Some(match &self.source_ref.directory {
                Some(directory) => checkout.path().join(directory),
                None => checkout.path().to_path_buf(),
            });
        }
        (self.source_ref.kind == SourceKind::Path && self.template_id.is_none())
            .then(|| PathBuf::from(&self.source_ref.uri))
            .filter(|dir| dir.is_dir())
    }

    /// The template's files in a temporary folder of factory's own (a checkout), when the
    /// folder holds exactly what was read (no links, followed or refused): a scratch copy
    /// need not be laid out again.
    pub fn scratch_dir(&self) -> Option<PathBuf> {
        let exact = self.files.links.is_empty() && self.files.refused_links.is_empty();
        self._checkout.as_ref().filter(|_| exact)?;
        self.local_dir()
    }

    /// The same template read again from `here` in `dir`, a copy of it a `pre_prompt` hook may have
    /// changed (cookiecutter reads the copy from then on), kept alive with the source.
    pub fn reread_from(&mut self, dir: tempfile::TempDir, here: &Path) -> Result<()> {
        let (files, manifest) =
            folder_as(here, &self.label, None, Some(&self.manifest.name), false)
                .map(|(files, manifest, _)| (files, manifest))?;
        self.files = Arc::new(files);
        self.manifest = manifest;
        self._checkout = Some(dir);
        Ok(())
    }
}

/// Writes a template's files into `root` (a scratch copy: `pre_prompt` hooks and Python
/// extensions work on one), keeping the executable bit.
pub fn lay_out(files: &TemplateFiles, root: &Path) -> Result<()> {
    std::fs::create_dir_all(root).map_err(|e| Error::io("create", root, e))?;
    for file in &files.files {
        // Tree paths are relative and checked when read; a `..` here would be a bug.
        if file.path.split('/').any(|p| p == ".." || p.is_empty()) {
            continue;
        }
        let path = root.join(&file.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
        }
        std::fs::write(&path, file.read()?).map_err(|e| Error::io("write", &path, e))?;
        #[cfg(unix)]
        if file.executable {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                .map_err(|e| Error::io("write", &path, e))?;
        }
    }
    Ok(())
}

/// A template folder on disk, read and checked for links that leave it.
pub fn folder(dir: &Path, label: &str) -> Result<(TemplateFiles, Manifest)> {
    folder_as(dir, label, None, None, false).map(|(files, manifest, _)| (files, manifest))
}

/// A template folder read as `flavor` says (`--flavor`): reading it as cookiecutter leaves its
/// copier.yml out, as cookiecutter itself never sees it. A template without a name of its
/// own (copier's) is named `name`, or else after the folder. With `any`, a folder without
/// any template file is read as copier reads any folder (a template without questions),
/// with a note saying so.
fn folder_as(
    dir: &Path,
    label: &str,
    flavor: Option<ReadAs>,
    name: Option<&str>,
    any: bool,
) -> Result<(TemplateFiles, Manifest, Option<String>)> {
    if !dir.is_dir() {
        return Err(Error::new(format!("{label} is not a folder"))
            .hint("pass the template folder, the one holding template.yaml"));
    }
    if !any {
        refuse_collection(dir, label)?;
    }
    let mut files = TemplateFiles::load_dir(dir)?;
    if let Some(flavor) = flavor {
        let (wanted, other): (&[&str], &[&str]) = match flavor {
            ReadAs::Copier => (&crate::template::copier::CONFIG_FILES, &[]),
            ReadAs::Cookiecutter => (
                &[crate::template::cookiecutter::CONTEXT_FILE],
                &crate::template::copier::CONFIG_FILES,
            ),
        };
        if !wanted.iter().any(|f| files.get(f).is_some()) {
            return Err(Error::usage(format!(
                "--flavor {}: {label} has no {}",
                match flavor {
                    ReadAs::Copier => "copier",
                    ReadAs::Cookiecutter => "cookiecutter",
                },
                wanted[0]
            ))
            .hint("leave --flavor out, or name the other flavor"));
        }
        files.files.retain(|f| !other.contains(&f.path.as_str()));
    }
    let name = name.map(str::to_string).unwrap_or_else(|| {
        crate::template::load::name_from_location(
            &dir.canonicalize()
                .unwrap_or(dir.to_path_buf())
                .display()
                .to_string(),
        )
    });
    let (manifest, bare) = if any {
        crate::template::load::manifest_of_any(&files, label, &name)?
    } else {
        (manifest_of(&files, label, &name)?, false)
    };
    let note = bare.then(|| {
        format!(
            "{label} has no {}: rendered as a copier template without questions, as copier renders any folder",
            MARKERS.join(", ")
        )
    });
    // Links kept as links are checked where they are written; others must be followable.
    if let Some(link) = files
        .refused_links
        .first()
        .filter(|_| !manifest.preserve_symlinks)
    {
        let suffix = manifest.templates_suffix.as_deref().unwrap_or(".jinja");
        let beside = match link.path.rsplit_once('/') {
            Some((folder, _)) => format!("{folder}/{}{suffix}", link.target),
            None => format!("{}{suffix}", link.target),
        };
        let rendered = files
            .get(&beside)
            .map(|_| format!(" (it is rendered from {beside})"))
            .unwrap_or_default();
        // copier's ForbiddenPathError words, which scripts read.
        let forbidden = match link.why {
            "points outside the template" => format!(": \"{}\" is forbidden", link.path),
            _ => String::new(),
        };
        return Err(Error::new(format!("{label}: {link}{rendered}{forbidden}"))
            .hint("replace the link with the file it points at, remove it, or keep links as links with `_preserve_symlinks: true`"));
    }
    Ok((files, manifest, note))
}

/// A folder's `SourceRef`.
pub fn path_ref(dir: &Path) -> SourceRef {
    SourceRef {
        kind: SourceKind::Path,
        uri: std::fs::canonicalize(dir)
            .unwrap_or_else(|_| dir.to_path_buf())
            .display()
            .to_string(),
        commit: None,
        directory: None,
    }
}

/// How to take a template from a repository: the abbreviations, how to fetch, and the ref
/// and folder the command line named.
#[derive(Debug, Clone)]
pub struct Fetch {
    /// `gh:`, `gl:`, `bb:` and the user's own.
    pub abbreviations: Abbreviations,
    /// Cache, offline, progress, timeout, tokens.
    pub options: FetchOptions,
    /// `--ref` (wins over nothing; conflicts with a different `#REF`).
    pub reference: Option<String>,
    /// `--directory`: the template's folder inside the repository.
    pub directory: Option<String>,
    /// `--flavor`: how to read a folder that is both a copier and a cookiecutter template.
    pub flavor: Option<ReadAs>,
    /// Whether a folder named by its path that holds none of the files marking a template
    /// is read as copier reads any folder: a template without questions (`generate`,
    /// `upgrade`; not `register`/`version`/`validate`, which store or check templates).
    pub any_folder: bool,
    /// Whether copier's newest release may be a pre-release or development release (copier's
    /// `--prereleases`), when no ref is named.
    pub prereleases: bool,
}

/// Which tool's file a folder holding both `copier.yml` and `cookiecutter.json` is read by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReadAs {
    /// `copier.yml` (what such a folder is read as without the flag).
    Copier,
    /// `cookiecutter.json`.
    Cookiecutter,
}

/// The files that make a folder a template, in the order they are looked for.
const MARKERS: &[&str] = &[
    "template.yaml",
    "cookiecutter.json",
    "copier.yml",
    "copier.yaml",
];

/// The templates inside a folder that is not one itself (a repository of several), up to two
/// levels down: each one's path inside `dir` and the file that makes it a template. Hidden
/// folders are left out, and nothing below a template is looked at.
pub fn templates_inside(dir: &Path) -> Vec<(String, &'static str)> {
    let mut found = Vec::new();
    let mut walk = walkdir::WalkDir::new(dir)
        .min_depth(1)
        .max_depth(2)
        .sort_by_file_name()
        .into_iter();
    while let Some(Ok(entry)) = walk.next() {
        let name = entry.file_name().to_string_lossy();
        if !entry.file_type().is_dir() || name.starts_with('.') {
            if entry.file_type().is_dir() {
                walk.skip_current_dir();
            }
            continue;
        }
        if let Some(marker) = MARKERS.iter().find(|m| entry.path().join(m).is_file()) {
            let rel = entry.path().strip_prefix(dir).unwrap_or(entry.path());
            found.push((rel.display().to_string(), *marker));
            walk.skip_current_dir();
        }
    }
    found
}

/// A folder that is no template itself but holds some is refused, naming them.
pub fn refuse_collection(dir: &Path, label: &str) -> Result<()> {
    if MARKERS.iter().any(|m| dir.join(m).is_file()) {
        return Ok(());
    }
    let inside = templates_inside(dir);
    if inside.is_empty() {
        return Ok(());
    }
    let how = format!("{}/", label.trim_end_matches('/'));
    Err(several_templates(label, &inside, &how))
}

/// The error for a folder that holds templates but is not one: it lists them.
fn several_templates(at: &str, inside: &[(String, &str)], how: &str) -> Error {
    let listed: Vec<String> = inside.iter().map(|(p, m)| format!("{p} ({m})")).collect();
    Error::usage(format!(
        "{at} is not a template itself; it holds {}: {}",
        inside.len(),
        listed.join(", ")
    ))
    .hint(format!("name one: {how}{}", inside[0].0))
}

/// Reads a template from a folder or a git URL (`URL#REF`, an abbreviation such as
/// `gh:owner/repo`), for `register`, `version`, `validate` and `generate`.
pub fn from_location(location: &str, fetch: &Fetch) -> Result<ResolvedSource> {
    if is_zip(location) {
        return from_zip(location, fetch);
    }
    let (text, in_url) = git::split_ref(location);
    if let Some(url) = git::url::resolve(text, &fetch.abbreviations)? {
        // A `file://` repository is a folder of this machine (how upgrade names a local
        // repository again): read as `generate` read it by its path, any folder a template.
        let local = fetch.any_folder && url.starts_with("file://");
        return from_repository(&url, in_url, fetch, local);
    }
    // A git bundle file is a repository, as copier reads one.
    if let Some(url) = bundle_url(text) {
        return from_repository(&url, in_url, fetch, fetch.any_folder);
    }
    if fetch.any_folder && fetch.directory.is_none() {
        // A folder at the root of a git repository is read as copier reads it: at a ref.
        let (folder, hash) = match in_url {
            Some(hash) if !Path::new(location).is_dir() => (text, Some(hash)),
            _ => (location, None),
        };
        if is_copier_repository(Path::new(folder)) {
            return from_local_repository(folder, hash, fetch);
        }
    }
    // `--ref HEAD` of a folder is the folder as it is, which is what copier reads for any ref
    // of a folder that is not a repository's root (its `vcs_ref` applies to repositories).
    let head = fetch.any_folder && fetch.reference.as_deref() == Some("HEAD");
    if fetch.reference.is_some() && !head {
        return Err(Error::usage(format!(
            "--ref applies to repositories; {location} is a folder"
        ))
        .hint("name the folder without --ref (or a git repository's URL with it)"));
    }
    // --directory in a folder: the template is that folder inside it, as cookiecutter
    // reads `cookiecutter FOLDER --directory SUBDIR`.
    let joined;
    let location = match fetch.directory.as_deref().filter(|d| !d.is_empty()) {
        Some(directory) => {
            crate::render::paths::check_inside(directory)
                .map_err(|m| Error::usage(format!("--directory {directory}: {m}")))?;
            joined = format!("{}/{directory}", location.trim_end_matches('/'));
            joined.as_str()
        }
        None => location,
    };
    let dir = PathBuf::from(location);
    let source_ref = path_ref(&dir);
    let (files, manifest, note) = folder_as(&dir, location, fetch.flavor, None, fetch.any_folder)?;
    Ok(ResolvedSource::unstored(
        files,
        manifest,
        location.to_string(),
        source_ref,
        note.into_iter().collect(),
        None,
    ))
}

/// The absolute path of a git bundle file (`git bundle create`), which git clones as a
/// repository; `None` for anything else.
fn bundle_url(location: &str) -> Option<String> {
    use std::io::Read;
    let path = Path::new(location);
    if !path.is_file() {
        return None;
    }
    let mut head = [0u8; 16];
    let read = std::fs::File::open(path).ok()?.read(&mut head).ok()?;
    let head = &head[..read];
    let bundle = head.starts_with(b"# v2 git bundle\n") || head.starts_with(b"# v3 git bundle\n");
    let absolute = std::fs::canonicalize(path).ok()?;
    // By its path: git clones a bundle from a path, not from a `file://` URL.
    bundle.then(|| absolute.display().to_string())
}

/// Whether a template is named by a zip archive, as cookiecutter decides it: by the name.
pub fn is_zip(location: &str) -> bool {
    location.to_ascii_lowercase().ends_with(".zip")
}

/// The most an archive may unpack to: far beyond any template, short of filling a disk.
const ZIP_LIMIT: u64 = 1 << 30;

/// A template in a zip archive (a local file or an http(s) URL), read as cookiecutter reads one: its first entry is
/// the template's top-level folder, and the archive is unpacked into a scratch folder.
/// Entries that would land outside it (`..`, absolute) and links are refused, as are
/// password-protected archives.
fn from_zip(location: &str, fetch: &Fetch) -> Result<ResolvedSource> {
    if fetch.reference.is_some() {
        return Err(Error::usage(format!(
            "--ref applies to repositories; {location} is a zip archive"
        ))
        .hint("leave --ref out"));
    }
    let scratch = tempfile::Builder::new()
        .prefix("factory-zip-")
        .tempdir()
        .map_err(|e| Error::new(format!("cannot make a scratch folder: {e}")))?;
    let remote = location.contains("://");
    let (path, label) = match remote {
        true => (
            download_zip(location, fetch, scratch.path())?,
            crate::http::redact_url(location),
        ),
        false => (PathBuf::from(location), location.to_string()),
    };
    let unpacked = scratch.path().join("unpacked");
    let top = unzip(&path, &label, &unpacked)?;
    let mut here = unpacked.join(&top);
    if let Some(directory) = fetch.directory.as_deref().filter(|d| !d.is_empty()) {
        crate::render::paths::check_inside(directory)
            .map_err(|m| Error::usage(format!("--directory {directory}: {m}")))?;
        here = here.join(directory);
    }
    let name = crate::template::load::name_from_location(&top);
    let (files, manifest, note) =
        folder_as(&here, &label, fetch.flavor, Some(&name), fetch.any_folder)?;
    // A downloaded archive is recorded by its URL (without credentials), a file by its path.
    let mut source_ref = match remote {
        true => SourceRef {
            kind: SourceKind::Path,
            uri: crate::http::without_userinfo(location),
            commit: None,
            directory: None,
        },
        false => path_ref(&path),
    };
    source_ref.directory = fetch.directory.clone();
    Ok(ResolvedSource::unstored(
        files,
        manifest,
        label,
        source_ref,
        note.into_iter().collect(),
        Some(scratch),
    ))
}

/// Downloads a zip template (cookiecutter takes an http(s) URL ending in `.zip`) into
/// `into`, every time (cookiecutter keeps the last download and asks whether to fetch it
/// again); the file's path.
fn download_zip(url: &str, fetch: &Fetch, into: &Path) -> Result<PathBuf> {
    let shown = crate::http::redact_url(url);
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(Error::usage(format!(
            "{shown}: a zip template is a local file or an http(s) URL"
        )));
    }
    if fetch.options.offline {
        return Err(Error::unavailable(format!(
            "{shown}: a zip template is downloaded, and --offline forbids it"
        ))
        .hint("download the archive and pass the file"));
    }
    let cannot = |why: String| {
        Error::unavailable(format!("cannot download {shown}: {why}"))
            .hint("check the URL and the network (proxy: HTTPS_PROXY/NO_PROXY), or download the archive and pass the file")
    };
    let bytes = crate::runtime::block_on(async {
        let mut response = crate::http::client()?
            .get(url)
            .send()
            .await
            .map_err(|e| cannot(crate::http::failure_kind(&e).to_string()))?;
        if !response.status().is_success() {
            return Err(cannot(format!("HTTP {}", response.status())));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| cannot(crate::http::failure_kind(&e).to_string()))?
        {
            bytes.extend_from_slice(&chunk);
            if bytes.len() as u64 > ZIP_LIMIT {
                return Err(cannot(format!("it is larger than {} GiB", ZIP_LIMIT >> 30)));
            }
        }
        Ok(bytes)
    })?;
    let path = into.join("download.zip");
    std::fs::write(&path, bytes).map_err(|e| Error::io("write", &path, e))?;
    Ok(path)
}

/// Unpacks the archive at `path` into `into`, every entry checked first; the name of its
/// top-level folder.
fn unzip(path: &Path, label: &str, into: &Path) -> Result<String> {
    let file = std::fs::File::open(path).map_err(|e| Error::io("open", path, e))?;
    let bad = |why: String| Error::new(format!("zip template {label}: {why}; nothing was written"));
    let mut archive = zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(|e| {
        bad(format!("not a valid zip archive ({e})"))
            .hint("pass a .zip file, or the template's folder")
    })?;
    if archive.is_empty() {
        return Err(bad("the archive is empty".into()));
    }
    let mut total = 0u64;
    let mut entries = Vec::with_capacity(archive.len());
    for index in 0..archive.len() {
        let entry = archive
            .by_index_raw(index)
            .map_err(|e| bad(format!("entry {index}: {e}")))?;
        let name = entry
            .name()
            .map(|n| n.into_owned())
            .unwrap_or_else(|_| format!("entry {index}"));
        if entry.encrypted() {
            return Err(bad(format!("`{name}` is password-protected"))
                .hint("factory does not unlock archives: unpack it yourself (unzip -P) and pass the folder"));
        }
        if entry.is_symlink() {
            return Err(bad(format!("`{name}` is a link")).hint(
                "a zip template holds files and folders only; replace the link with the file",
            ));
        }
        let escapes = name.starts_with('/')
            || name.starts_with('\\')
            || name.split(['/', '\\']).any(|part| part == "..")
            || name.chars().nth(1) == Some(':');
        let Some(relative) = entry.enclosed_name().filter(|_| !escapes) else {
            return Err(bad(format!("`{name}` would be written outside the folder it is unpacked into (absolute, or with `..`)"))
                .hint("the archive is not a template; take it from where the template is published"));
        };
        total = total.saturating_add(entry.size());
        if total > ZIP_LIMIT {
            return Err(bad(format!(
                "it unpacks to more than {} GiB",
                ZIP_LIMIT >> 30
            )));
        }
        entries.push((relative, entry.is_dir(), entry.unix_mode()));
    }
    // cookiecutter's rule: the first entry is the template's top-level folder.
    let first = archive
        .name_for_index(0)
        .and_then(|n| n.ok())
        .map(|n| n.into_owned())
        .unwrap_or_default();
    let Some(top) = first
        .strip_suffix('/')
        .filter(|t| !t.is_empty() && !t.contains('/'))
    else {
        return Err(bad("it does not include a top-level directory (its first entry must be the template's folder)".into())
            .hint("zip the template's folder itself: zip -r template.zip my-template/"));
    };
    for (index, (relative, dir, mode)) in entries.into_iter().enumerate() {
        let target = into.join(&relative);
        if dir {
            std::fs::create_dir_all(&target).map_err(|e| Error::io("create", &target, e))?;
            continue;
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
        }
        let mut entry = archive
            .by_index(index)
            .map_err(|e| bad(format!("entry {index}: {e}")))?;
        let mut bytes = Vec::with_capacity(entry.size().min(ZIP_LIMIT) as usize);
        std::io::Read::read_to_end(&mut std::io::Read::take(&mut entry, ZIP_LIMIT), &mut bytes)
            .map_err(|e| bad(format!("`{}`: {e}", relative.display())))?;
        std::fs::write(&target, &bytes).map_err(|e| Error::io("write", &target, e))?;
        #[cfg(unix)]
        if mode.is_some_and(|m| m & 0o111 != 0) {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755))
                .map_err(|e| Error::io("write", &target, e))?;
        }
        #[cfg(not(unix))]
        let _ = mode;
    }
    Ok(top.to_string())
}

/// Whether `dir` is the root of a git repository that `generate` reads as copier does (at
/// its newest release tag): a copier template, or a folder that is no template of another
/// tool.
fn is_copier_repository(dir: &Path) -> bool {
    let has = |name: &str| dir.join(name).is_file();
    dir.join(".git").exists()
        && !has(crate::template::manifest::MANIFEST_FILE)
        && (crate::template::copier::CONFIG_FILES.iter().any(|f| has(f))
            || !has(crate::template::cookiecutter::CONTEXT_FILE))
}

/// `git ARGS` in `dir`, its output trimmed; `None` when git fails.
fn git_in(dir: &Path, args: &[&str]) -> Option<String> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// A copier template in a local git repository, as copier reads it: at the ref named, else at
/// its newest release tag (by PEP 440), else at `HEAD` with the changes not committed yet
/// (what git does not ignore), its `_commit` `git describe --tags --always`.
fn from_local_repository(
    folder: &str,
    hash: Option<&str>,
    fetch: &Fetch,
) -> Result<ResolvedSource> {
    let dir = Path::new(folder);
    let tags = git_in(dir, &["tag", "--list"]).unwrap_or_default();
    let tags: Vec<String> = tags.lines().map(str::to_string).collect();
    let newest = newest_tag(&tags, fetch.prereleases);
    let named = fetch.reference.as_deref().or(hash);
    let reference = named.map(str::to_string).or(newest.clone());
    if let Some(reference) = reference.filter(|r| r != "HEAD") {
        let absolute = dir.canonicalize().map_err(|e| Error::io("read", dir, e))?;
        let url = format!("file://{}", absolute.display());
        let fetch = Fetch {
            reference: Some(reference.clone()),
            flavor: None,
            ..fetch.clone()
        };
        let mut resolved = from_repository(&url, None, &fetch, true)?;
        resolved.label = format!("{folder}#{reference}");
        // Recorded by its path, as copier records `_src_path`: an upgrade reads it the same way.
        resolved.source_ref.uri = absolute.display().to_string();
        if named.is_none() {
            resolved.notes.push(format!(
                "using tag {reference} of {folder}, its newest release (copier's default); --ref HEAD takes the folder as it is"
            ));
        }
        return Ok(resolved);
    }
    let (mut files, manifest, note) = folder_as(dir, folder, fetch.flavor, None, true)?;
    // copier commits the changes not committed yet and clones: what git ignores is not there.
    if let Some(listed) = git_in(
        dir,
        &[
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ],
    ) {
        let kept: std::collections::HashSet<&str> = listed.split('\0').collect();
        files.files.retain(|f| kept.contains(f.path.as_str()));
    }
    let notes: Vec<String> = note.into_iter().collect();
    // copier warns (its DirtyLocalWarning) when the changes not committed are taken.
    let dirty = git_in(dir, &["status", "--porcelain"]).is_some_and(|s| !s.is_empty());
    let tool_warnings: Vec<String> = dirty
        .then(|| format!("dirty template changes included automatically: {folder} has changes not committed yet, read as they are now"))
        .into_iter()
        .collect();
    let mut resolved = ResolvedSource::unstored(
        files,
        manifest,
        folder.to_string(),
        path_ref(dir),
        notes,
        None,
    );
    resolved.source_ref.commit = git_in(dir, &["rev-parse", "HEAD"]);
    resolved.commit_description = git_in(dir, &["describe", "--tags", "--always"]);
    resolved.tool_warnings = tool_warnings;
    Ok(resolved)
}

/// A template from a repository; with `any`, a folder that holds no template file is read as
/// copier reads any folder (a local repository the user named by its path).
fn from_repository(
    url: &str,
    in_url: Option<&str>,
    fetch: &Fetch,
    any: bool,
) -> Result<ResolvedSource> {
    if fetch.flavor.is_some() {
        // `upgrade` reads the repository again later, without the flag: it must read the same.
        return Err(Error::usage(format!(
            "--flavor applies to a template folder; {url} is read as copier when it has both copier.yml and cookiecutter.json"
        ))
        .hint("clone it and pass the folder with --flavor, or use a repository with one of them"));
    }
    let reference = match (fetch.reference.as_deref(), in_url) {
        (Some(flag), Some(hash)) if flag != hash => {
            return Err(
                Error::usage(format!("--ref {flag} and #{hash} name different refs"))
                    .hint("name the ref once, with #REF or --ref"),
            );
        }
        (flag, hash) => flag.or(hash),
    };
    let options = &fetch.options;
    let repo = git::fetch::open(url, reference, options)?;
    let mut notes = repo.notes.clone();
    let mut commit = repo.resolve(reference, options)?;
    let mut chosen_ref = reference.map(str::to_string);
    let (mut checkout, checked_out) = repo.checkout(&commit)?;
    let mut checkout_notes = checked_out;
    let directory = fetch.directory.as_deref().filter(|d| !d.is_empty());
    let root = |checkout: &tempfile::TempDir| -> Result<PathBuf> {
        match directory {
            None => Ok(checkout.path().to_path_buf()),
            Some(dir) => {
                crate::render::paths::check_inside(dir)
                    .map_err(|m| Error::usage(format!("--directory {dir}: {m}")))?;
                Ok(checkout.path().join(dir))
            }
        }
    };
    // copier takes the newest release when no ref is named: the highest tag by PEP 440.
    if reference.is_none() {
        let here = root(&checkout)?;
        let copier = ["copier.yml", "copier.yaml"]
            .iter()
            .any(|m| here.join(m).is_file());
        if copier && let Some(tag) = newest_tag(&repo.tags(options), fetch.prereleases) {
            let tagged = repo.resolve(Some(&tag), options)?;
            notes.push(format!(
                "using tag {tag} of {}, its newest release (copier's default); --ref chooses another",
                repo.url
            ));
            if tagged != commit {
                commit = tagged;
                (checkout, checkout_notes) = repo.checkout(&commit)?;
            }
            chosen_ref = Some(tag);
        }
    }
    notes.extend(checkout_notes);
    let here = root(&checkout)?;
    let at = format!("{} at {}", repo.url, &commit[..12]);
    if !here.is_dir() {
        return Err(Error::new(format!(
            "{at} has no folder `{}`",
            directory.unwrap_or_default()
        ))
        .hint("name the template's folder inside the repository with --directory"));
    }
    if !any && !MARKERS.iter().any(|m| here.join(m).is_file()) {
        let several = templates_inside(&here);
        if !several.is_empty() {
            let how = match directory {
                Some(d) => format!("--directory {}/", d.trim_end_matches('/')),
                None => "--directory ".to_string(),
            };
            return Err(several_templates(&at, &several, &how));
        }
        let inside = directory.map(|d| format!(" in `{d}`")).unwrap_or_default();
        return Err(Error::new(format!(
            "{at} holds no template{inside}: looked for {}",
            MARKERS.join(", ")
        ))
        .hint("point --directory at the template's folder, or check the URL"));
    }
    let label = match &chosen_ref {
        Some(r) => format!("{}#{r} ({})", repo.url, &commit[..12]),
        None => format!("{} ({})", repo.url, &commit[..12]),
    };
    // Named after the repository (or the folder in it), not the temporary checkout.
    let name = match directory {
        Some(dir) => crate::template::load::name_from_location(dir),
        None => crate::template::load::name_from_location(&repo.url),
    };
    let (files, manifest, note) = folder_as(&here, &label, None, Some(&name), any)?;
    notes.extend(note);
    let commit_description = repo.describe(&commit, options);
    let source_ref = SourceRef {
        kind: SourceKind::Git,
        uri: repo.url.clone(),
        commit: Some(commit),
        directory: directory.map(str::to_string),
    };
    drop(repo);
    let mut resolved =
        ResolvedSource::unstored(files, manifest, label, source_ref, notes, Some(checkout));
    resolved.commit_description = commit_description;
    Ok(resolved)
}

/// The newest release among `tags`, as copier picks it: the highest by PEP 440 ordering
/// (`v1.10.0` above `v1.9.0`, a leading `v` allowed), pre-releases and development releases
/// left out; tags that are not versions are ignored.
pub fn newest_release_tag(tags: &[String]) -> Option<String> {
    newest_tag(tags, false)
}

/// [`newest_release_tag`], pre-releases and development releases counted with
/// `prereleases` (copier's `--prereleases`).
pub fn newest_tag(tags: &[String], prereleases: bool) -> Option<String> {
    tags.iter()
        .filter_map(|t| {
            pep440(t)
                .filter(|v| prereleases || !v.any_prerelease())
                .map(|v| (v, t))
        })
        .max()
        .map(|(_, t)| t.clone())
}

/// A tag or version read by PEP 440 (what copier compares versions by).
pub fn pep440(text: &str) -> Option<pep440_rs::Version> {
    text.trim().parse().ok()
}

/// Whether a `generate` argument names a folder or repository rather than a stored template.
pub fn is_location(spec: &str, abbreviations: &Abbreviations) -> bool {
    git::is_git_url(git::split_ref(spec).0)
        || is_zip(spec)
        // Refused as a URL git would read as an option, not looked up as a name.
        || spec.starts_with('-')
        || abbreviations.expand(spec).is_some()
        || spec.contains('/')
        || spec == "."
        || spec == ".."
        || crate::template::load::is_template_dir(Path::new(spec))
}

/// Which stored version a command takes when none is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionChoice {
    /// The latest Published (`generate`); a named version must be Published too.
    Published,
    /// The latest of any status, and any named one (`generate --allow-draft`, `validate`).
    Any,
    /// The latest Published, else the latest of any status (`compat`).
    PreferPublished,
}

/// A stored version: `name` at `version`, or the one `choice` takes when none is named.
pub fn stored(
    state: &State,
    blobs: &Arc<dyn Blobs>,
    name: &str,
    version: Option<&str>,
    choice: VersionChoice,
) -> Result<ResolvedSource> {
    let template = commands::find_template(state, name)?;
    let no_versions = || {
        Error::not_found(format!("{} has no versions yet", template.name)).hint(format!(
            "create one with `factory version {} --version 0.1.0`",
            template.name
        ))
    };
    let chosen = match (version, choice) {
        (Some(v), _) => commands::find_version(state, name, v)?.1,
        (None, VersionChoice::Any) => template.latest().ok_or_else(no_versions)?,
        (None, VersionChoice::PreferPublished) => template
            .latest_published()
            .or_else(|| template.latest())
            .ok_or_else(no_versions)?,
        (None, VersionChoice::Published) => template.latest_published().ok_or_else(|| {
            Error::new(format!("{} has no published version", template.name)).hint(format!(
                "publish one (`factory publish {}@X.Y.Z`), name a version, or pass --allow-draft",
                template.name
            ))
        })?,
    };
    if chosen.status != VersionStatus::Published && choice == VersionChoice::Published {
        return Err(Error::new(format!(
            "{}@{} is {}, not published",
            template.name,
            chosen.version,
            chosen.status.as_str()
        ))
        .hint("pass --allow-draft to generate from an unpublished version"));
    }
    let files = TemplateFiles::from_tree(blobs, &chosen.tree)?;
    let manifest = manifest_of(
        &files,
        &format!("{}@{}", template.name, chosen.version),
        &template.name,
    )?;
    Ok(ResolvedSource {
        files: Arc::new(files),
        manifest,
        template_id: Some(template.id.clone()),
        template_version_id: Some(chosen.id.clone()),
        version: Some(chosen.version.clone()),
        label: format!("{}@{}", template.name, chosen.version),
        source_ref: chosen.source_ref.clone(),
        commit_description: None,
        notes: Vec::new(),
        tool_warnings: Vec::new(),
        _checkout: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_release_is_chosen_by_pep_440_as_copier_chooses_it() {
        let tags = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            newest_tag(&tags(&["v1.9.0", "v1.10.0", "v2.0.0rc1", "nightly"]), false).as_deref(),
            Some("v1.10.0")
        );
        // Not semver, yet versions to PEP 440 (and to copier).
        assert_eq!(
            newest_tag(&tags(&["v1.1.0", "1.2", "1.2.post1", "1.3.dev0"]), false).as_deref(),
            Some("1.2.post1")
        );
        assert_eq!(newest_tag(&tags(&["latest"]), false), None);
        assert_eq!(
            newest_tag(&tags(&["v1.9.0", "v2.0.0rc1", "1.3.dev0"]), true).as_deref(),
            Some("v2.0.0rc1")
        );
    }
}
