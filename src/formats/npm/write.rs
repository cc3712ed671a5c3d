//! Writes, for team tokens that may publish (customers never write): publish (`PUT {id}` and the
//! seed's `PUT /-/package`), metadata updates (`npm deprecate` sends the packument back without
//! attachments), npm's unpublish sequence (`PUT {id}/-rev/{rev}` with the versions that stay,
//! `DELETE {tarball}/-rev/{rev}`, `DELETE {id}/-rev/{rev}` for the whole package) and dist-tags.
//!
//! A publish body is spooled to a temporary file (bounded by `MAX_UPLOAD_SIZE`), read once for
//! its JSON (`body::scan`, the tarball only located) and checked whole before anything is stored;
//! then the tarball is decoded from the file straight into the blob store, which checks the
//! announced SHA-1 and SHA-512 on the way. Memory stays bounded whatever the tarball's size.

use std::collections::BTreeMap;
use std::io::BufReader;

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use bytes::Bytes;
use serde_json::{Map, Value, json};

use super::body::{self, Data, PublishBody};
use super::packument::{self, Dist};
use super::read::not_found;
use super::rules::{check_version, is_range};
use super::{Call, FORMAT, names};
use crate::auth::Permission;
use crate::blobs::{ExtraDigests, PutOptions, spool};
use crate::error::{Error, Result};
use crate::model::owners;
use crate::model::packages::{self, FileCoord, Package, Version};
use crate::registry::Publish;

/// The largest dist-tag body read (a JSON string).
const MAX_TAG_BODY: usize = 4 << 10;

fn ok(status: StatusCode, name: &str) -> Response {
    (status, axum::Json(json!({"ok": true, "id": name}))).into_response()
}

/// A spooled and scanned request body, with its file for decoding attachments.
async fn read_body(call: &Call, body: Body) -> Result<(PublishBody, std::fs::File)> {
    let (file, _) = spool(body.into_data_stream(), call.state.config.max_upload_size).await?;
    let file = file.into_std().await;
    tokio::task::spawn_blocking(move || {
        use std::io::Seek;
        (&file).rewind()?;
        let scanned = body::scan(BufReader::new(&file))?;
        Ok((scanned, file))
    })
    .await
    .map_err(Error::internal)?
}

/// `PUT {id}` (or `/-/package`, naming the package in the body): a publish when the body carries
/// a tarball, otherwise an update of existing versions' metadata (`npm deprecate`).
pub(super) async fn put_package(
    call: &Call,
    url_name: Option<&str>,
    body: Body,
) -> Result<Response> {
    call.principal.require(Permission::WritePackages)?;
    if let Some(name) = url_name {
        names::check_name(name)?;
    }
    let (parsed, file) = read_body(call, body).await?;
    let body_name = parsed.fields.get("name").and_then(Value::as_str);
    let name = match (url_name, body_name) {
        (Some(url), Some(body)) if url != body => {
            return Err(Error::invalid(format!(
                "the body publishes {body:?}, the URL names {url:?}"
            )));
        }
        (Some(name), _) | (None, Some(name)) => name.to_string(),
        (None, None) => return Err(Error::invalid("the body names no package")),
    };
    names::check_name(&name)?;
    if parsed.attachments.is_empty() {
        update_metadata(call, &name, &parsed.fields).await?;
        return Ok(ok(StatusCode::OK, &name));
    }
    publish(call, &name, parsed, file).await?;
    Ok(ok(StatusCode::CREATED, &name))
}

/// What a publish body must hold, checked before anything is stored.
#[derive(Debug)]
struct NewVersion {
    version: String,
    manifest: Map<String, Value>,
    data: Data,
    tags: Vec<String>,
    sha1: Option<String>,
    sha512: Option<String>,
}

/// Checks a publish body: exactly one version, exactly one attachment named after it, its length
/// as announced, digests in `dist`, tags that are not ranges and name that version. Pure.
fn new_version(name: &str, parsed: PublishBody) -> Result<NewVersion> {
    let mut fields = parsed.fields;
    let versions = match fields.remove("versions") {
        Some(Value::Object(versions)) => versions,
        _ => return Err(Error::invalid("the body holds no versions")),
    };
    if versions.len() != 1 {
        return Err(Error::invalid(format!(
            "a publish holds exactly one version; this one holds {}",
            versions.len()
        )));
    }
    let (version, manifest) = versions.into_iter().next().expect("one version");
    check_version(&version)?;
    let Value::Object(manifest) = manifest else {
        return Err(Error::invalid(format!(
            "version {version} is not an object"
        )));
    };
    let field = |k: &str| manifest.get(k).and_then(Value::as_str);
    if field("name").is_some_and(|n| n != name) || field("version").is_some_and(|v| v != version) {
        return Err(Error::invalid(format!(
            "the manifest of {version} names another package or version"
        )));
    }
    let [attachment] = parsed.attachments.as_slice() else {
        return Err(Error::invalid(format!(
            "a publish holds exactly one tarball; this one holds {}",
            parsed.attachments.len()
        )));
    };
    let expected = [
        names::tarball_name(name, &version),
        format!("{name}-{version}.tgz"),
    ];
    if !expected.contains(&attachment.name) {
        return Err(Error::invalid(format!(
            "attachment {:?} is not the tarball of {name} {version}",
            attachment.name
        )));
    }
    let data = attachment
        .data
        .ok_or_else(|| Error::invalid("the tarball attachment has no data"))?;
    if attachment.length.is_some_and(|l| l != data.decoded_len) {
        return Err(Error::invalid(format!(
            "the tarball is {} bytes, not the announced {}",
            data.decoded_len,
            attachment.length.unwrap_or_default()
        )));
    }
    let (sha1, sha512) = announced_digests(manifest.get("dist"))?;
    let mut tags = Vec::new();
    if let Some(Value::Object(sent)) = fields.get("dist-tags") {
        for (tag, target) in sent {
            check_tag(tag)?;
            if target.as_str() != Some(version.as_str()) {
                return Err(Error::invalid(format!(
                    "dist-tag {tag} must name the published version {version}"
                )));
            }
            tags.push(tag.clone());
        }
    }
    Ok(NewVersion {
        version,
        manifest,
        data,
        tags,
        sha1,
        sha512,
    })
}

/// The SHA-1 (`dist.shasum`) and SHA-512 (`dist.integrity`, `sha512-<base64>`) a client
/// announced, as lower-case hex.
fn announced_digests(dist: Option<&Value>) -> Result<(Option<String>, Option<String>)> {
    let Some(dist) = dist else {
        return Ok((None, None));
    };
    let sha1 = match dist.get("shasum").and_then(Value::as_str) {
        Some(s) if s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Some(s.to_ascii_lowercase())
        }
        Some(s) => return Err(Error::invalid(format!("dist.shasum {s:?} is not a SHA-1"))),
        None => None,
    };
    let mut sha512 = None;
    if let Some(integrity) = dist.get("integrity").and_then(Value::as_str) {
        for entry in integrity.split_whitespace() {
            if let Some(b64) = entry.strip_prefix("sha512-") {
                let digest = base64::engine::general_purpose::STANDARD
                    .decode(b64.split('?').next().unwrap_or(""))
                    .ok()
                    .filter(|d| d.len() == 64)
                    .ok_or_else(|| {
                        Error::invalid(format!("dist.integrity {integrity:?} is not SRI"))
                    })?;
                sha512 = Some(hex::encode(digest));
            }
        }
    }
    Ok((sha1, sha512))
}

/// A dist-tag name npm accepts: visible text that does not read as a version range.
fn check_tag(tag: &str) -> Result<()> {
    if tag.is_empty() || tag.len() > 255 {
        return Err(Error::invalid("a dist-tag must be 1 to 255 characters"));
    }
    if is_range(tag) {
        return Err(Error::invalid(format!(
            "dist-tag {tag:?} reads as a version range; use a name such as beta"
        )));
    }
    crate::text::check_visible("dist-tag", tag)
}

async fn publish(call: &Call, name: &str, parsed: PublishBody, file: std::fs::File) -> Result<()> {
    let new = new_version(name, parsed)?;
    let max_size = call.state.config.max_upload_size;
    if new.data.decoded_len > max_size {
        return Err(Error::PayloadTooLarge(format!(
            "the tarball is larger than the limit of {max_size} bytes"
        )));
    }
    let versions = match find_package(call, name).await {
        Ok((_, versions)) => versions,
        Err(Error::NotFound(_)) => Vec::new(),
        Err(e) => return Err(e),
    };
    if versions
        .iter()
        .any(|v| v.version.eq_ignore_ascii_case(&new.version))
    {
        return Err(Error::conflict(format!(
            "cannot publish over the previously published versions: {}",
            new.version
        )));
    }
    let file_name = names::tarball_name(name, &new.version);
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Bytes>>(4);
    let data = new.data;
    tokio::task::spawn_blocking(move || {
        let decoded = body::decode(&file, data, |chunk| {
            sender
                .blocking_send(Ok(chunk))
                .map_err(|_| Error::internal("the upload stopped"))
        });
        if let Err(e) = decoded {
            // The store is told, so it discards what it wrote; it may have stopped already.
            let _ = sender.blocking_send(Err(e));
        }
    });
    let tarball = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|item| (item, receiver))
    });
    let manifest = new.manifest;
    let metadata_file = file_name.clone();
    let stored = call
        .state
        .registry
        .publish(
            Publish {
                at: FileCoord {
                    owner: &call.owner,
                    format: FORMAT,
                    package: name,
                    version: &new.version,
                    file: &file_name,
                },
                create_owner: true,
                version_metadata: Box::new(move |staged| {
                    let digests = &staged.digests;
                    let dist = Dist::from_hex(
                        digests.sha1.as_deref().unwrap_or_default(),
                        digests.sha512.as_deref().unwrap_or_default(),
                    );
                    packument::version_metadata(manifest, &metadata_file, dist)
                }),
                file_properties: vec![("uploaded_by".into(), call.principal.display_name())],
                put: PutOptions {
                    extra_digests: ExtraDigests {
                        sha1: true,
                        sha512: true,
                        md5: false,
                    },
                    max_size,
                    expected_sha1: new.sha1,
                    expected_sha512: new.sha512,
                    ..PutOptions::default()
                },
            },
            tarball,
        )
        .await?;
    if !new.tags.is_empty() {
        let package_id = {
            let mut conn = call.state.registry.db.pool().acquire().await?;
            packages::package_of_version(&mut conn, stored.version_id)
                .await?
                .ok_or_else(|| not_found(name))?
                .id
        };
        for tag in &new.tags {
            call.state
                .registry
                .set_tag(package_id, tag, stored.version_id)
                .await?;
        }
    }
    Ok(())
}

/// The package with its versions; 404 when it was never published.
async fn find_package(call: &Call, name: &str) -> Result<(Package, Vec<Version>)> {
    let mut conn = call.state.registry.db.pool().acquire().await?;
    let owner = owners::find(&mut conn, &call.owner)
        .await?
        .ok_or_else(|| not_found(name))?;
    let package = packages::find_package(&mut conn, owner.id, FORMAT, name)
        .await?
        .ok_or_else(|| not_found(name))?;
    let versions = packages::all_versions(&mut conn, package.id).await?;
    Ok((package, versions))
}

/// The `deprecated` message a manifest carries; an empty one means none (`npm deprecate x ""`).
fn deprecation(manifest: &Value) -> Option<&str> {
    manifest
        .get("deprecated")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
}

/// `npm deprecate`: the packument comes back with changed `deprecated` fields; only those are
/// taken (a publish is the only way to add a version, an unpublish the only way to drop one).
async fn update_metadata(call: &Call, name: &str, fields: &Map<String, Value>) -> Result<()> {
    let Some(Value::Object(sent)) = fields.get("versions") else {
        return Err(Error::invalid(
            "the body holds neither a tarball nor versions",
        ));
    };
    let (_, versions) = find_package(call, name).await?;
    let updates = deprecations(&versions, sent);
    call.state.registry.set_versions_metadata(&updates).await
}

/// The versions whose deprecation `sent` changes, with their new metadata. Pure.
fn deprecations(versions: &[Version], sent: &Map<String, Value>) -> Vec<(i64, Value)> {
    let mut updates = Vec::new();
    for stored in versions {
        let Some(sent) = sent.get(&stored.version) else {
            continue;
        };
        let wanted = deprecation(sent);
        let mut metadata = stored.metadata.clone();
        let Some(manifest) = metadata.get_mut("manifest").and_then(Value::as_object_mut) else {
            continue;
        };
        if deprecation(&Value::Object(manifest.clone())) == wanted {
            continue;
        }
        match wanted {
            Some(message) => manifest.insert("deprecated".into(), json!(message)),
            None => manifest.remove("deprecated"),
        };
        updates.push((stored.id, metadata));
    }
    updates
}

/// `PUT {id}/-rev/{rev}`, the first step of `npm unpublish name@version`: the packument without
/// the versions to drop. Versions missing from it are deleted; its dist-tags are applied to the
/// versions that stay (npm moves `latest` off a dropped version itself).
pub(super) async fn put_revision(call: &Call, name: &str, body: Body) -> Result<Response> {
    call.principal.require(Permission::WritePackages)?;
    names::check_name(name).map_err(|_| not_found(name))?;
    let (parsed, _) = read_body(call, body).await?;
    let Some(Value::Object(kept)) = parsed.fields.get("versions") else {
        return Err(Error::invalid("the body holds no versions"));
    };
    let (package, versions) = find_package(call, name).await?;
    for version in versions.iter().filter(|v| !kept.contains_key(&v.version)) {
        call.state.registry.remove_version(version.id).await?;
    }
    let by_name: BTreeMap<&str, i64> = versions
        .iter()
        .filter(|v| kept.contains_key(&v.version))
        .map(|v| (v.version.as_str(), v.id))
        .collect();
    if let Some(Value::Object(tags)) = parsed.fields.get("dist-tags") {
        let current = call.state.registry.tags(package.id).await?;
        for (tag, target) in tags {
            let Some(&version_id) = target.as_str().and_then(|v| by_name.get(v)) else {
                continue;
            };
            if !current
                .iter()
                .any(|t| &t.name == tag && t.version_id == version_id)
            {
                check_tag(tag)?;
                call.state
                    .registry
                    .set_tag(package.id, tag, version_id)
                    .await?;
            }
        }
    }
    Ok(ok(StatusCode::OK, name))
}

/// `DELETE {id}/-rev/{rev}`: `npm unpublish name --force`, the whole package.
pub(super) async fn delete_package(call: &Call, name: &str) -> Result<Response> {
    call.principal.require(Permission::WritePackages)?;
    names::check_name(name).map_err(|_| not_found(name))?;
    let (package, _) = find_package(call, name).await?;
    call.state.registry.delete_package(package.id).await?;
    Ok(ok(StatusCode::OK, name))
}

/// `DELETE {id}/-/{file}/-rev/{rev}`, the last step of `npm unpublish name@version`: its
/// version, if the revision PUT left it (npm takes the 404 as done).
pub(super) async fn delete_tarball(call: &Call, name: &str, file: &str) -> Result<Response> {
    call.principal.require(Permission::WritePackages)?;
    let missing = || Error::not_found(format!("tarball {file} not found"));
    let version = names::version_of_tarball(name, file).ok_or_else(missing)?;
    names::check_name(name).map_err(|_| missing())?;
    call.state
        .registry
        .delete_version(&call.owner, FORMAT, name, version)
        .await?;
    Ok(ok(StatusCode::OK, name))
}

/// `PUT /-/package/{id}/dist-tags/{tag}` (and `{id}/-disttag/{tag}`) with the version as a JSON
/// string: `npm dist-tag add`.
pub(super) async fn set_dist_tag(
    call: &Call,
    name: &str,
    tag: &str,
    body: Body,
) -> Result<Response> {
    call.principal.require(Permission::WritePackages)?;
    names::check_name(name).map_err(|_| not_found(name))?;
    check_tag(tag)?;
    let bytes = axum::body::to_bytes(body, MAX_TAG_BODY)
        .await
        .map_err(|e| Error::invalid(format!("dist-tag body: {e}")))?;
    let version: String = serde_json::from_slice(&bytes)
        .map_err(|_| Error::invalid("the body must be the version as a JSON string"))?;
    let (package, versions) = find_package(call, name).await?;
    let target = versions
        .iter()
        .find(|v| v.version == version)
        .ok_or_else(|| Error::not_found(format!("version {version} of {name} not found")))?;
    call.state
        .registry
        .set_tag(package.id, tag, target.id)
        .await?;
    Ok(ok(StatusCode::CREATED, name))
}

/// `DELETE /-/package/{id}/dist-tags/{tag}`: `npm dist-tag rm`; `latest` stays.
pub(super) async fn delete_dist_tag(call: &Call, name: &str, tag: &str) -> Result<Response> {
    call.principal.require(Permission::WritePackages)?;
    names::check_name(name).map_err(|_| not_found(name))?;
    if tag == "latest" {
        return Err(Error::invalid("the latest dist-tag cannot be deleted"));
    }
    let (package, _) = find_package(call, name).await?;
    call.state.registry.delete_tag(package.id, tag).await?;
    Ok(ok(StatusCode::OK, name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    const SHA1: &str = "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d";

    fn integrity() -> String {
        format!(
            "sha512-{}",
            base64::engine::general_purpose::STANDARD.encode([7u8; 64])
        )
    }

    fn body(versions: Value, attachments: Value, tags: Value) -> PublishBody {
        let text = json!({"name": "@acme/greet", "versions": versions,
            "_attachments": attachments, "dist-tags": tags})
        .to_string();
        body::scan(Cursor::new(text.into_bytes())).unwrap()
    }

    fn version(v: &str) -> Value {
        json!({"name": "@acme/greet", "version": v,
            "dist": {"shasum": SHA1, "integrity": integrity()}})
    }

    fn tarball(name: &str) -> Value {
        json!({name: {"data": "aGVsbG8=", "length": 5}})
    }

    #[test]
    fn a_publish_holds_one_version_and_its_tarball() {
        let new = new_version(
            "@acme/greet",
            body(
                json!({"1.0.0": version("1.0.0")}),
                tarball("greet-1.0.0.tgz"),
                json!({"latest": "1.0.0", "beta": "1.0.0"}),
            ),
        )
        .unwrap();
        assert_eq!(new.version, "1.0.0");
        assert_eq!(new.data.decoded_len, 5);
        assert_eq!(new.tags, ["beta", "latest"]);
        assert_eq!(new.sha1.as_deref(), Some(SHA1));
        assert_eq!(new.sha512, Some("07".repeat(64)));
        // npm names the attachment after the scoped name too.
        new_version(
            "@acme/greet",
            body(
                json!({"1.0.0": version("1.0.0")}),
                tarball("@acme/greet-1.0.0.tgz"),
                json!({}),
            ),
        )
        .unwrap();
    }

    #[test]
    fn bad_publishes_are_refused() {
        let cases = [
            (
                json!({}),
                tarball("greet-1.0.0.tgz"),
                json!({}),
                "no version",
            ),
            (
                json!({"1.0.0": version("1.0.0"), "1.0.1": version("1.0.1")}),
                tarball("greet-1.0.0.tgz"),
                json!({}),
                "two versions",
            ),
            (
                json!({"1.0.0": version("1.0.0")}),
                tarball("greet-1.0.1.tgz"),
                json!({}),
                "attachment of another version",
            ),
            (
                json!({"1.0.0": version("1.0.0")}),
                json!({"greet-1.0.0.tgz": {"data": "aGVsbG8=", "length": 6}}),
                json!({}),
                "wrong length",
            ),
            (
                json!({"1.0.0": version("1.0.1")}),
                tarball("greet-1.0.0.tgz"),
                json!({}),
                "manifest of another version",
            ),
            (
                json!({"v1.0.0": version("v1.0.0")}),
                tarball("greet-v1.0.0.tgz"),
                json!({}),
                "not SemVer",
            ),
            (
                json!({"1.0.0": version("1.0.0")}),
                tarball("greet-1.0.0.tgz"),
                json!({"1.x": "1.0.0"}),
                "tag that is a range",
            ),
            (
                json!({"1.0.0": version("1.0.0")}),
                tarball("greet-1.0.0.tgz"),
                json!({"latest": "0.9.0"}),
                "tag on another version",
            ),
            (
                json!({"1.0.0": {"dist": {"integrity": "sha512-short"}}}),
                tarball("greet-1.0.0.tgz"),
                json!({}),
                "integrity that is not SRI",
            ),
            (
                json!({"1.0.0": {"dist": {"shasum": "xyz"}}}),
                tarball("greet-1.0.0.tgz"),
                json!({}),
                "shasum that is not SHA-1",
            ),
        ];
        for (versions, attachments, tags, what) in cases {
            let result = new_version("@acme/greet", body(versions, attachments, tags));
            assert!(
                matches!(result, Err(Error::Validation(_))),
                "{what}: {result:?}"
            );
        }
        let two = body(
            json!({"1.0.0": version("1.0.0")}),
            json!({"greet-1.0.0.tgz": {"data": "aA=="}, "x.tgz": {"data": "aA=="}}),
            json!({}),
        );
        assert!(new_version("@acme/greet", two).is_err(), "two tarballs");
    }

    #[test]
    fn deprecations_change_only_what_differs() {
        let stored = |id: i64, v: &str, deprecated: Option<&str>| {
            let mut manifest = json!({"name": "x", "version": v});
            if let Some(d) = deprecated {
                manifest["deprecated"] = json!(d);
            }
            Version {
                id,
                package_id: 1,
                version: v.into(),
                metadata: json!({"manifest": manifest, "file": "x.tgz"}),
                download_count: 0,
                created_at: 0,
            }
        };
        let versions = [
            stored(1, "1.0.0", None),
            stored(2, "1.1.0", Some("old")),
            stored(3, "2.0.0", None),
        ];
        let sent = json!({
            "1.0.0": {"deprecated": "use 2"},
            "1.1.0": {"deprecated": ""},
            "2.0.0": {},
            "9.0.0": {"deprecated": "unknown"},
        });
        let updates = deprecations(&versions, sent.as_object().unwrap());
        assert_eq!(updates.len(), 2);
        assert_eq!(updates[0].0, 1);
        assert_eq!(updates[0].1["manifest"]["deprecated"], "use 2");
        assert_eq!(updates[1].0, 2);
        assert!(updates[1].1["manifest"].get("deprecated").is_none());
    }
}
