//! The source OVA of a template: from a local path or an `http(s)` URL (downloaded
//! into the cache directory), its sha256 checked before use (a cached copy) and
//! after download, then unpacked into the descriptor and the files it references.

use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::cli::CliContext;
use crate::cli::error::CliError;
use cse_core::config::TemplateConfig;
use cse_vcd::vcd::xml;

/// One file the OVF descriptor references (`References/File`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OvfFile {
    /// `ovf:href`: the member name inside the OVA.
    pub href: String,
    /// Where it was unpacked.
    pub path: PathBuf,
    /// Size in bytes.
    pub size: u64,
}

/// An unpacked OVA.
#[derive(Clone, Debug)]
pub struct UnpackedOva {
    /// The OVF descriptor text.
    pub descriptor: String,
    /// The referenced files.
    pub files: Vec<OvfFile>,
    /// The directory holding the unpacked files (removed by [`UnpackedOva::remove`]).
    pub dir: PathBuf,
}

impl UnpackedOva {
    /// Deletes the unpacked files.
    pub fn remove(&self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// sha256 of a file, as lower-case hex.
pub fn sha256_file(path: &Path) -> Result<String, CliError> {
    let mut file = std::fs::File::open(path)
        .map_err(|e| CliError::io(format!("opening '{}'", path.display()), e))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = file
            .read(&mut buffer)
            .map_err(|e| CliError::io(format!("reading '{}'", path.display()), e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

fn checksum_error(template: &TemplateConfig, file: &Path, actual: String) -> CliError {
    CliError::Checksum {
        template: template.name.clone(),
        file: file.display().to_string(),
        expected: template.sha256_ova.to_ascii_lowercase(),
        actual,
    }
}

fn is_url(source: &str) -> bool {
    source.starts_with("http://") || source.starts_with("https://")
}

/// A local OVA file with the configured sha256: the source itself when it is a
/// path, else the cached download (fetched when missing or wrong).
pub async fn obtain(
    template: &TemplateConfig,
    ctx: &mut CliContext<'_>,
) -> Result<PathBuf, CliError> {
    let expected = template.sha256_ova.to_ascii_lowercase();
    let source = template.source_ova.as_str();
    if !is_url(source) {
        let path = url::Url::parse(source)
            .ok()
            .and_then(|u| u.to_file_path().ok())
            .unwrap_or_else(|| PathBuf::from(source));
        let actual = sha256_file(&path)?;
        if actual != expected {
            return Err(checksum_error(template, &path, actual));
        }
        ctx.say(format!("Verified sha256 of '{}'", path.display()));
        return Ok(path);
    }
    // The cache is CSE's own: 0700, its files 0600, like every file CSE writes.
    cse_core::config::create_private_dir(&ctx.cache_dir)
        .map_err(|e| CliError::Missing(e.to_string()))?;
    let cached = ctx.cache_dir.join(&template.source_ova_name);
    if cached.exists() {
        if sha256_file(&cached)? == expected {
            ctx.say(format!(
                "Using cached '{}' (sha256 verified)",
                cached.display()
            ));
            return Ok(cached);
        }
        ctx.say(format!(
            "Cached '{}' does not match the configured sha256; downloading it again",
            cached.display()
        ));
        let _ = std::fs::remove_file(&cached);
    }
    let partial = ctx
        .cache_dir
        .join(format!("{}.part", template.source_ova_name));
    ctx.say(format!("Downloading {source}"));
    let actual = download(source, &partial, ctx.progress).await?;
    if actual != expected {
        let _ = std::fs::remove_file(&partial);
        return Err(checksum_error(template, Path::new(source), actual));
    }
    std::fs::rename(&partial, &cached)
        .map_err(|e| CliError::io(format!("moving the download to '{}'", cached.display()), e))?;
    ctx.say(format!(
        "Downloaded '{}' (sha256 verified)",
        cached.display()
    ));
    Ok(cached)
}

async fn download(url: &str, to: &Path, progress: bool) -> Result<String, CliError> {
    let fail = |reason: String| CliError::Download {
        url: url.to_owned(),
        reason,
    };
    let mut response = reqwest::get(url).await.map_err(|e| fail(e.to_string()))?;
    if !response.status().is_success() {
        return Err(fail(format!("HTTP {}", response.status())));
    }
    let bar = super::progress::progress_bar(progress, response.content_length(), "download");
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(to)
        .await
        .map_err(|e| CliError::io(format!("creating '{}'", to.display()), e))?;
    file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .await
        .map_err(|e| CliError::io(format!("making '{}' private", to.display()), e))?;
    let mut hasher = Sha256::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| fail(e.to_string()))? {
        hasher.update(&chunk);
        file.write_all(&chunk)
            .await
            .map_err(|e| CliError::io(format!("writing '{}'", to.display()), e))?;
        bar.inc(chunk.len() as u64);
    }
    file.flush()
        .await
        .map_err(|e| CliError::io(format!("writing '{}'", to.display()), e))?;
    bar.finish_and_clear();
    Ok(hex::encode(hasher.finalize()))
}

/// Unpacks `ova` into `<cache>/<name>.unpacked/` and reads its descriptor.
pub async fn unpack(ova: &Path, cache_dir: &Path) -> Result<UnpackedOva, CliError> {
    let name = ova
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "ova".to_owned());
    let dir = cache_dir.join(format!("{name}.unpacked"));
    let ova = ova.to_path_buf();
    let target = dir.clone();
    tokio::task::spawn_blocking(move || unpack_blocking(&ova, &target))
        .await
        .map_err(|e| CliError::Missing(format!("unpacking task failed: {e}")))?
}

fn unpack_blocking(ova: &Path, dir: &Path) -> Result<UnpackedOva, CliError> {
    let bad = |reason: String| CliError::BadOva {
        file: ova.display().to_string(),
        reason,
    };
    let _ = std::fs::remove_dir_all(dir);
    cse_core::config::create_private_dir(dir).map_err(|e| CliError::Missing(e.to_string()))?;
    let file = std::fs::File::open(ova)
        .map_err(|e| CliError::io(format!("opening '{}'", ova.display()), e))?;
    let mut archive = tar::Archive::new(file);
    let mut members = Vec::new();
    for entry in archive.entries().map_err(|e| bad(e.to_string()))? {
        let mut entry = entry.map_err(|e| bad(e.to_string()))?;
        let path = entry.path().map_err(|e| bad(e.to_string()))?.into_owned();
        let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            continue;
        };
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let out = dir.join(&name);
        entry
            .unpack(&out)
            .and_then(|_| {
                std::fs::set_permissions(&out, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            })
            .map_err(|e| bad(format!("cannot unpack '{name}': {e}")))?;
        members.push(name);
    }
    let descriptor_name = members
        .iter()
        .find(|m| m.ends_with(".ovf"))
        .ok_or_else(|| bad("no .ovf descriptor inside".to_owned()))?;
    let descriptor = std::fs::read_to_string(dir.join(descriptor_name))
        .map_err(|e| bad(format!("descriptor unreadable: {e}")))?;
    let files = referenced_files(&descriptor)
        .map_err(bad)?
        .into_iter()
        .map(|(href, size)| {
            let path = dir.join(&href);
            if !members.contains(&href) {
                return Err(bad(format!(
                    "the descriptor references '{href}', which is not in the OVA"
                )));
            }
            let actual = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            Ok(OvfFile {
                href,
                path,
                size: size.unwrap_or(actual),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if files.is_empty() {
        return Err(bad("the descriptor references no file".to_owned()));
    }
    Ok(UnpackedOva {
        descriptor,
        files,
        dir: dir.to_path_buf(),
    })
}

/// `(ovf:href, ovf:size)` of every `References/File` of an OVF descriptor.
pub fn referenced_files(descriptor: &str) -> Result<Vec<(String, Option<u64>)>, String> {
    let root = xml::parse(descriptor).map_err(|e| format!("descriptor is not XML: {e}"))?;
    let references = root
        .child("References")
        .ok_or_else(|| "descriptor has no References section".to_owned())?;
    references
        .children_named("File")
        .map(|file| {
            let href = file
                .attr("href")
                .filter(|h| !h.contains('/') && !h.contains(".."))
                .ok_or_else(|| "a References/File has no usable ovf:href".to_owned())?;
            let size = file.attr("size").and_then(|s| s.parse().ok());
            Ok((href.to_owned(), size))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_read() {
        let ovf = r#"<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1">
          <References><File ovf:href="disk1.vmdk" ovf:id="file1" ovf:size="42"/></References></Envelope>"#;
        assert_eq!(
            referenced_files(ovf).unwrap(),
            vec![("disk1.vmdk".to_owned(), Some(42))]
        );
    }

    #[test]
    fn path_escapes_are_refused() {
        let ovf = r#"<Envelope xmlns:ovf="x"><References><File ovf:href="../etc/passwd"/></References></Envelope>"#;
        assert!(referenced_files(ovf).unwrap_err().contains("ovf:href"));
    }

    proptest::proptest! {
        /// Whatever files a descriptor lists, they are read back in order.
        #[test]
        fn references_round_trip(files in proptest::collection::vec(("[a-z][a-z0-9_-]{0,12}\\.vmdk", proptest::option::of(0u64..1u64 << 40)), 1..5)) {
            let refs: String = files
                .iter()
                .enumerate()
                .map(|(i, (href, size))| match size {
                    Some(size) => format!(r#"<File ovf:href="{href}" ovf:id="f{i}" ovf:size="{size}"/>"#),
                    None => format!(r#"<File ovf:href="{href}" ovf:id="f{i}"/>"#),
                })
                .collect();
            let ovf = format!(
                r#"<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"><References>{refs}</References></Envelope>"#
            );
            proptest::prop_assert_eq!(referenced_files(&ovf).unwrap(), files);
        }
    }

    #[test]
    fn missing_references_are_named() {
        assert_eq!(
            referenced_files("<Envelope/>").unwrap_err(),
            "descriptor has no References section"
        );
    }
}
