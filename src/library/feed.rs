//! NuGet packages and feeds: the `.nuspec` inside a `.nupkg`, the hierarchical folder layout
//! `dotnet restore` reads, and the v3 push protocol of HTTP feeds (Azure Artifacts included).

use std::io::Read;
use std::path::{Path, PathBuf};

use base64::Engine;
use sha2::{Digest, Sha512};

use crate::error::{Error, Result};
use crate::http::redact_url;
use crate::http::{client, failure_kind};

/// What a package says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// The id from the nuspec.
    pub id: String,
    /// The version from the nuspec, normalised.
    pub version: String,
    /// The nuspec's bytes.
    pub nuspec: Vec<u8>,
    /// The package's bytes.
    pub bytes: Vec<u8>,
    /// NuGet's hash: base64 of the sha512 of the package.
    pub sha512: String,
}

/// A version as NuGet normalises it: no leading zeros, a fourth part only when not zero, no
/// build metadata, lower case.
pub fn normalise_version(version: &str) -> String {
    let version = version.split('+').next().unwrap_or(version);
    let (core, pre) = match version.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (version, None),
    };
    let mut parts: Vec<String> = core
        .split('.')
        .map(|p| p.parse::<u64>().map_or(p.to_string(), |n| n.to_string()))
        .collect();
    while parts.len() < 3 {
        parts.push("0".into());
    }
    if parts.len() == 4 && parts[3] == "0" {
        parts.pop();
    }
    let mut out = parts.join(".");
    if let Some(pre) = pre {
        out.push('-');
        out.push_str(pre);
    }
    out.to_ascii_lowercase()
}

/// The largest nuspec read from a package.
pub const MAX_NUSPEC_BYTES: u64 = 1024 * 1024;

/// Reads a `.nupkg`: its nuspec's id and version, and NuGet's sha512.
pub fn read_package(path: &Path) -> Result<Package> {
    let bytes = std::fs::read(path).map_err(|e| Error::io("read", path, e))?;
    let not_a_package = |why: String| {
        Error::new(format!("{} is not a NuGet package: {why}", path.display()))
            .hint("pass the .nupkg that `dotnet pack` made")
    };
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&bytes))
        .map_err(|e| not_a_package(e.to_string()))?;
    let name = archive
        .file_names()
        .filter_map(|n| n.ok().map(|n| n.into_owned()))
        .find(|n| !n.contains('/') && n.ends_with(".nuspec"))
        .ok_or_else(|| not_a_package("it has no .nuspec at its root".into()))?;
    let mut nuspec = Vec::new();
    let entry = archive
        .by_name(&name)
        .map_err(|e| not_a_package(e.to_string()))?;
    // A nuspec is a few KB: bound what the archive may inflate it to (a zip bomb is refused
    // before it takes memory), whatever the archive claims.
    if entry.size() > MAX_NUSPEC_BYTES {
        return Err(not_a_package(format!(
            "{name} inflates to {} bytes; a nuspec is at most {MAX_NUSPEC_BYTES}",
            entry.size()
        )));
    }
    entry
        .take(MAX_NUSPEC_BYTES + 1)
        .read_to_end(&mut nuspec)
        .map_err(|e| not_a_package(e.to_string()))?;
    if nuspec.len() as u64 > MAX_NUSPEC_BYTES {
        return Err(not_a_package(format!(
            "{name} inflates to more than {MAX_NUSPEC_BYTES} bytes"
        )));
    }
    let text = String::from_utf8_lossy(&nuspec).into_owned();
    let doc =
        roxmltree::Document::parse(&text).map_err(|e| not_a_package(format!("{name}: {e}")))?;
    let field = |tag: &str| {
        doc.descendants()
            .find(|n| n.has_tag_name(tag) && n.parent().is_some_and(|p| p.has_tag_name("metadata")))
            .and_then(|n| n.text())
            .map(|t| t.trim().to_string())
            .ok_or_else(|| not_a_package(format!("{name} has no <{tag}>")))
    };
    let id = field("id")?;
    // The id and version become folder names in a feed: only what NuGet allows gets that far.
    if crate::domain::names::is_windows_device_name(&id) {
        return Err(not_a_package(format!(
            "its id `{id}` is a name Windows reserves for a device (CON, PRN, AUX, NUL, COM1-9, LPT1-9): no feed folder can have it"
        )));
    }
    if !crate::domain::names::is_package_id(&id) {
        return Err(not_a_package(format!(
            "its id `{id}` is not a NuGet package id (letters, digits and `_`, joined by single `.` or `-`)"
        )));
    }
    let version = normalise_version(&field("version")?);
    let version_ok = version.starts_with(|c: char| c.is_ascii_digit())
        && !version.contains("..")
        && version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+'));
    if !version_ok {
        return Err(not_a_package(format!(
            "its version `{version}` is not a NuGet version"
        )));
    }
    let sha512 = base64::engine::general_purpose::STANDARD.encode(Sha512::digest(&bytes));
    Ok(Package {
        id,
        version,
        nuspec,
        bytes,
        sha512,
    })
}

/// Writes a package into a folder feed in NuGet's hierarchical layout:
/// `<id>/<version>/<id>.<version>.nupkg`, its `.sha512` and the `.nuspec`, lower case.
/// Refuses a version the feed has, and a link anywhere below the feed on the way (the
/// package's folder, its version's, a file): a feed is written into, never through links.
/// Each file is written whole beside its place and renamed into it. Returns the package's
/// path.
pub fn publish_to_folder(feed: &Path, package: &Package) -> Result<PathBuf> {
    let id = package.id.to_ascii_lowercase();
    let rel = Path::new(&id).join(&package.version);
    let dir = feed.join(&rel);
    let names = [
        format!("{id}.nuspec"),
        format!("{id}.{}.nupkg.sha512", package.version),
        format!("{id}.{}.nupkg", package.version),
    ];
    for name in &names {
        crate::render::write::check_no_symlink(feed, &rel.join(name))?;
    }
    let nupkg = dir.join(&names[2]);
    if nupkg.exists() {
        return Err(Error::new(format!(
            "{} already has {} {}",
            feed.display(),
            package.id,
            package.version
        ))
        .hint("packages are immutable: publish a new version"));
    }
    let write = |name: &str, bytes: &[u8]| crate::render::write::replace_file(&dir, name, bytes);
    write(&names[0], &package.nuspec)?;
    write(&names[1], package.sha512.as_bytes())?;
    // The package last: a folder with it is a complete entry.
    write(&names[2], &package.bytes)?;
    Ok(nupkg)
}

/// Pushes a package to an HTTP feed: the v3 service index names the PackagePublish resource,
/// which takes a multipart `PUT` with the API key in `X-NuGet-ApiKey`.
pub fn publish_to_http(index_url: &str, package: &Package, api_key: &str) -> Result<()> {
    let shown = redact_url(index_url);
    crate::runtime::block_on(async {
        let http = client()?;
        let failed = |what: &str, e: reqwest::Error| {
            Error::new(format!("{what} {shown}: {}", failure_kind(&e)))
                .hint("check the feed URL and that the feed is reachable")
        };
        let index: serde_json::Value = http
            .get(index_url)
            .send()
            .await
            .map_err(|e| failed("cannot read the service index at", e))?
            .error_for_status()
            .map_err(|e| failed("cannot read the service index at", e))?
            .bytes()
            .await
            .map_err(|e| failed("cannot read the service index at", e))
            .and_then(|body| {
                serde_json::from_slice(&body).map_err(|e| {
                    Error::new(format!("the service index at {shown} is not JSON: {e}"))
                })
            })?;
        let publish = index["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| {
                r["@type"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("PackagePublish/"))
            })
            .and_then(|r| r["@id"].as_str())
            .ok_or_else(|| {
                Error::new(format!("{shown} names no PackagePublish resource"))
                    .hint("is this a NuGet v3 feed URL ending in index.json?")
            })?
            .to_string();
        let part = reqwest::multipart::Part::bytes(package.bytes.clone())
            .file_name(format!(
                "{}.{}.nupkg",
                package.id.to_ascii_lowercase(),
                package.version
            ))
            .mime_str("application/octet-stream")
            .expect("the mime type is valid");
        let response = http
            .put(&publish)
            .header("X-NuGet-ApiKey", api_key)
            .header("X-NuGet-Protocol-Version", "4.1.0")
            .multipart(reqwest::multipart::Form::new().part("package", part))
            .send()
            .await
            .map_err(|e| failed("cannot push to", e))?;
        match response.status().as_u16() {
            200..=299 => Ok(()),
            409 => Err(Error::new(format!(
                "{shown} already has {} {}",
                package.id, package.version
            ))
            .hint("packages are immutable: publish a new version")),
            401 | 403 => Err(Error::new(format!(
                "{shown} refused the API key (HTTP {})",
                response.status()
            ))
            .hint("check the key in the environment variable named by --api-key-env")),
            _ => Err(Error::new(format!(
                "{shown} answered HTTP {} to the push",
                response.status()
            ))),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_normalise_like_nuget() {
        assert_eq!(normalise_version("1.0"), "1.0.0");
        assert_eq!(normalise_version("01.02.03.0"), "1.2.3");
        assert_eq!(normalise_version("1.2.3.4"), "1.2.3.4");
        assert_eq!(normalise_version("1.0.0-RC.1+build.5"), "1.0.0-rc.1");
    }
}
