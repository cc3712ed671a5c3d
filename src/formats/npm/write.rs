//! Writes, for team tokens that may publish (customers never write): publish (`PUT {id}` and the
//! seed's `PUT /-/package`), metadata updates (`npm deprecate` sends the packument back without
//! attachments), npm's unpublish sequence (`PUT {id}/-rev/{rev}` with the versions that stay,
//! `DELETE {tarball}/-rev/{rev}`, `DELETE {id}/-rev/{rev}` for the whole package) and dist-tags.
//!
//! A publish body is read as it arrives (`upload`): once the version before the tarball is
//! checked, the tarball is decoded straight into the blob store, which checks the announced
//! SHA-1 and SHA-512 on the way, and the version commits (with its dist-tags) only once the whole
//! body was read and checked. Memory stays bounded whatever the tarball's size.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use bytes::Bytes;
use serde_json::{Map, Value, json};

use super::body::PublishBody;
use super::packument::{self, Dist};
use super::read::not_found;
use super::rules::{check_version, is_range};
use super::{Call, FORMAT, names, upload};
use crate::auth::Permission;
use crate::blobs::{ExtraDigests, PutOptions};
use crate::error::{Error, Result};
use crate::model::owners;
use crate::model::packages::{self, File, FileCoord, Package, Version};
use crate::registry::Publish;

/// The largest dist-tag body read (a JSON string).
const MAX_TAG_BODY: usize = 4 << 10;

fn ok(status: StatusCode, name: &str) -> Response {
    (status, axum::Json(json!({"ok": true, "id": name}))).into_response()
}

/// A body read whole (no tarball expected: `npm deprecate`, unpublish), bounded like any.
async fn read_whole(call: &Call, body: Body) -> Result<PublishBody> {
    let checks = upload::Checks::<()> {
        head: Box::new(|_| Err(Error::invalid("this request takes no tarball"))),
        whole: Box::new(|_| Ok(())),
    };
    let receiving = upload::receive(body, call.state.config.max_upload_size, checks);
    Ok(receiving.finish().await?.body)
}

/// The package a body publishes: the URL's, which the body's `name` must repeat, or the body's
/// (`PUT /-/package`).
fn package_name(url_name: Option<&str>, fields: &Map<String, Value>) -> Result<String> {
    let body_name = fields.get("name").and_then(Value::as_str);
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
    Ok(name)
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
    let (for_head, for_whole) = (url_name.map(str::to_string), url_name.map(str::to_string));
    let checks = upload::Checks {
        head: Box::new(move |fields| head(&package_name(for_head.as_deref(), fields)?, fields)),
        whole: Box::new(move |body| {
            let name = package_name(for_whole.as_deref(), &body.fields)?;
            match body.attachments.is_empty() {
                true => Ok(()),
                false => new_version(&name, body).map(drop),
            }
        }),
    };
    let mut receiving = upload::receive(body, call.state.config.max_upload_size, checks);
    if let Some(head) = receiving.head().await {
        let name = head.name.clone();
        publish_streaming(call, head, receiving).await?;
        return Ok(ok(StatusCode::CREATED, &name));
    }
    let scanned = receiving.finish().await?;
    let name = package_name(url_name, &scanned.body.fields)?;
    if scanned.body.attachments.is_empty() {
        update_metadata(call, &name, &scanned.body.fields).await?;
        return Ok(ok(StatusCode::OK, &name));
    }
    let head = new_version(&name, &scanned.body)?;
    let spooled = scanned
        .spooled
        .ok_or_else(|| Error::invalid("the tarball attachment has no data"))?;
    refuse_existing(call, &head).await?;
    let tarball = crate::blobs::file_stream(tokio::fs::File::from_std(spooled));
    store(call, &head, tarball).await?;
    Ok(ok(StatusCode::CREATED, &name))
}

/// What a tarball is stored as, known when its data begins.
#[derive(Debug)]
struct Head {
    name: String,
    version: String,
    manifest: Map<String, Value>,
    sha1: Option<String>,
    sha512: Option<String>,
    /// The dist-tags read so far (npm sends them before the tarball).
    tags: Vec<String>,
}

/// Checks what precedes a tarball: exactly one version, SemVer, a manifest naming it, digests
/// in `dist`, dist-tags that are not ranges and name that version. Pure.
fn head(name: &str, fields: &Map<String, Value>) -> Result<Head> {
    let Some(Value::Object(versions)) = fields.get("versions") else {
        return Err(Error::invalid("the body holds no versions"));
    };
    if versions.len() != 1 {
        return Err(Error::invalid(format!(
            "a publish holds exactly one version; this one holds {}",
            versions.len()
        )));
    }
    let (version, manifest) = versions.iter().next().expect("one version");
    check_version(version)?;
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
    Ok(Head {
        name: name.to_string(),
        version: version.clone(),
        manifest: manifest.clone(),
        sha1,
        sha512,
        tags,
    })
}

/// Checks a whole publish body: its `head`, and exactly one attachment named after the version
/// with data of the announced length. Pure.
fn new_version(name: &str, body: &PublishBody) -> Result<Head> {
    let head = head(name, &body.fields)?;
    let version = &head.version;
    let [attachment] = body.attachments.as_slice() else {
        return Err(Error::invalid(format!(
            "a publish holds exactly one tarball; this one holds {}",
            body.attachments.len()
        )));
    };
    let expected = [
        names::tarball_name(name, version),
        format!("{name}-{version}.tgz"),
    ];
    if !expected.contains(&attachment.name) {
        return Err(Error::invalid(format!(
            "attachment {:?} is not the tarball of {name} {version}",
            attachment.name
        )));
    }
    let decoded_len = attachment
        .decoded_len
        .ok_or_else(|| Error::invalid("the tarball attachment has no data"))?;
    if let Some(length) = attachment.length.filter(|&l| l != decoded_len) {
        return Err(Error::invalid(format!(
            "the tarball is {decoded_len} bytes, not the announced {length}"
        )));
    }
    Ok(head)
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

/// 409 for a version that exists, before its tarball is read (npm's own words). One indexed
/// lookup, whatever the version count.
async fn refuse_existing(call: &Call, head: &Head) -> Result<()> {
    let mut conn = call.state.registry.db.pool().acquire().await?;
    let Some(owner) = owners::find(&mut conn, &call.owner).await? else {
        return Ok(());
    };
    let Some(package) = packages::find_package(&mut conn, owner.id, FORMAT, &head.name).await?
    else {
        return Ok(());
    };
    if packages::find_version(&mut conn, package.id, &head.version)
        .await?
        .is_some()
    {
        return Err(Error::conflict(format!(
            "cannot publish over the previously published versions: {}",
            head.version
        )));
    }
    Ok(())
}

/// Stores the tarball as the version `head` names (checked against the announced digests),
/// with its dist-tags in the same commit.
async fn store<S, E>(call: &Call, head: &Head, tarball: S) -> Result<File>
where
    S: futures_util::Stream<Item = std::result::Result<Bytes, E>> + Send,
    E: std::fmt::Display,
{
    let file_name = names::tarball_name(&head.name, &head.version);
    let manifest = head.manifest.clone();
    let metadata_file = file_name.clone();
    call.state
        .registry
        .publish(
            Publish {
                at: FileCoord {
                    owner: &call.owner,
                    format: FORMAT,
                    package: &head.name,
                    version: &head.version,
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
                    max_size: call.state.config.max_upload_size,
                    expected_sha1: head.sha1.clone(),
                    expected_sha512: head.sha512.clone(),
                    ..PutOptions::default()
                },
                tags: head.tags.clone(),
            },
            tarball,
        )
        .await
}

/// Stores a tarball while its body is still arriving; the version commits only once the whole
/// body was read and checked (see `upload`).
async fn publish_streaming(
    call: &Call,
    head: Head,
    mut receiving: upload::Receiving<Head>,
) -> Result<()> {
    refuse_existing(call, &head).await?;
    let stored = store(call, &head, receiving.tarball()).await;
    match (stored, receiving.finish().await) {
        (Ok(file), Ok(scanned)) => {
            // Tags sent after the tarball (no client does) are set now.
            let whole = new_version(&head.name, &scanned.body)?;
            let late: Vec<String> = whole
                .tags
                .into_iter()
                .filter(|t| !head.tags.contains(t))
                .collect();
            apply_tags(call, &head.name, file.version_id, &late).await
        }
        (Ok(file), Err(e)) => {
            // The request body failed after its JSON ended (too large, cut off): not a publish.
            call.state.registry.remove_version(file.version_id).await?;
            Err(e)
        }
        // The body's own error explains a failed store: it is what ended the tarball's stream.
        (Err(_), Err(e)) | (Err(e), Ok(_)) => Err(e),
    }
}

/// Points the body's dist-tags at the new version.
async fn apply_tags(call: &Call, name: &str, version_id: i64, tags: &[String]) -> Result<()> {
    if tags.is_empty() {
        return Ok(());
    }
    let package_id = {
        let mut conn = call.state.registry.db.pool().acquire().await?;
        packages::package_of_version(&mut conn, version_id)
            .await?
            .ok_or_else(|| not_found(name))?
            .id
    };
    for tag in tags {
        call.state
            .registry
            .set_tag(package_id, tag, version_id)
            .await?;
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
    let parsed = read_whole(call, body).await?;
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
        super::super::body::scan(Cursor::new(text.into_bytes()), &mut |_| Ok(())).unwrap()
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
            &body(
                json!({"1.0.0": version("1.0.0")}),
                tarball("greet-1.0.0.tgz"),
                json!({"latest": "1.0.0", "beta": "1.0.0"}),
            ),
        )
        .unwrap();
        assert_eq!(new.version, "1.0.0");
        assert_eq!(new.tags, ["beta", "latest"]);
        assert_eq!(new.sha1.as_deref(), Some(SHA1));
        assert_eq!(new.sha512, Some("07".repeat(64)));
        // npm names the attachment after the scoped name too.
        new_version(
            "@acme/greet",
            &body(
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
            let result = new_version("@acme/greet", &body(versions, attachments, tags));
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
        assert!(new_version("@acme/greet", &two).is_err(), "two tarballs");
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
