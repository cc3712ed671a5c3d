//! Manifests (spec: "Pulling manifests", "Pushing manifests", "Deleting manifests", "Listing
//! referrers"). A manifest is a version of the repository named by its digest; its bytes are
//! the version's one file (`manifest`), served byte for byte with the media type it was pushed
//! with, and the version holds the blobs it names, so they live as long as it does. Tags are the
//! core's tags on those versions.

use std::convert::Infallible;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::content;
use super::errors::{Code, Failure, NotFoundAs, OciError};
use super::names::{Digest, Reference};
use super::{FORMAT, Request};
use crate::blobs::{ExtraDigests, PutOptions};
use crate::error::Error;
use crate::model::blob_refs::Holder;
use crate::model::packages::{File, FileCoord, FileDetails, Version};
use crate::registry::Publish;

/// The largest manifest accepted, as distribution and the spec's guidance have it.
const MAX_MANIFEST: usize = 4 * 1024 * 1024;
/// The one file of a manifest's version.
const MANIFEST_FILE: &str = "manifest";
const DIGEST_HEADER: &str = "docker-content-digest";

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const DOCKER_SCHEMA1: [&str; 2] = [
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
];

/// What the registry needs to know of a manifest: its media type, what it references, and
/// what the referrers API shows of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    pub media_type: String,
    /// Blobs that must be in the repository: the config and the layers.
    pub blobs: Vec<Digest>,
    /// Manifests that must be in the repository (an index's).
    pub manifests: Vec<Digest>,
    pub subject: Option<Digest>,
    /// `artifactType`, or else the config's media type (what referrers are filtered by).
    pub artifact_type: Option<String>,
    pub annotations: Option<Value>,
}

/// Reads a pushed manifest. `content_type` is the request's; when the body names its own
/// `mediaType` the two must agree. The stored media type is the request's, else the body's,
/// else an OCI manifest or index by shape.
pub fn parse(body: &[u8], content_type: Option<&str>) -> Result<Manifest, OciError> {
    let invalid = |why: String| OciError::new(Code::ManifestInvalid, why);
    let json: Value =
        serde_json::from_slice(body).map_err(|e| invalid(format!("manifest is not JSON: {e}")))?;
    let object = json
        .as_object()
        .ok_or_else(|| invalid("manifest is not a JSON object".into()))?;
    let content_type = content_type
        .map(|ct| ct.split(';').next().unwrap_or_default().trim())
        .filter(|ct| !ct.is_empty() && *ct != "application/octet-stream");
    let own = object.get("mediaType").and_then(Value::as_str);
    if let (Some(header), Some(own)) = (content_type, own)
        && header != own
    {
        return Err(invalid(format!(
            "Content-Type {header} differs from the manifest's mediaType {own}"
        )));
    }
    let descriptors = |field: &str| -> Result<Vec<&serde_json::Map<String, Value>>, OciError> {
        match object.get(field) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|d| {
                    d.as_object()
                        .ok_or_else(|| invalid(format!("{field} holds a non-object")))
                })
                .collect(),
            Some(_) => Err(invalid(format!("{field} is not an array"))),
        }
    };
    let digest_of = |descriptor: &serde_json::Map<String, Value>| -> Result<Digest, OciError> {
        let digest = descriptor
            .get("digest")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("a descriptor has no digest".into()))?;
        Digest::parse(digest)
    };
    let config = match object.get("config") {
        None => None,
        Some(Value::Object(config)) => Some(config),
        Some(_) => return Err(invalid("config is not an object".into())),
    };
    let layers = descriptors("layers")?;
    let children = descriptors("manifests")?;
    let mut blobs = Vec::new();
    for descriptor in config.into_iter().chain(layers) {
        let digest = digest_of(descriptor)?;
        if !non_distributable(descriptor) {
            blobs.push(digest);
        }
    }
    let manifests = children
        .into_iter()
        .map(digest_of)
        .collect::<Result<Vec<_>, _>>()?;
    let subject = match object.get("subject") {
        None | Some(Value::Null) => None,
        Some(Value::Object(subject)) => Some(digest_of(subject)?),
        Some(_) => return Err(invalid("subject is not an object".into())),
    };
    let shape = if object.contains_key("manifests") {
        OCI_INDEX
    } else {
        OCI_MANIFEST
    };
    let media_type = content_type.or(own).unwrap_or(shape).to_string();
    if DOCKER_SCHEMA1.contains(&media_type.as_str()) {
        return Err(OciError::new(
            Code::ManifestInvalid,
            "Docker schema 1 manifests are not supported",
        ));
    }
    let artifact_type = object
        .get("artifactType")
        .and_then(Value::as_str)
        .or_else(|| {
            config
                .and_then(|c| c.get("mediaType"))
                .and_then(Value::as_str)
        })
        .map(str::to_string);
    Ok(Manifest {
        media_type,
        blobs,
        manifests,
        subject,
        artifact_type,
        annotations: object.get("annotations").cloned(),
    })
}

/// A layer that lives elsewhere (OCI non-distributable and Docker foreign layers, or any with
/// `urls`): it is not pushed, so the registry does not ask for it.
fn non_distributable(descriptor: &serde_json::Map<String, Value>) -> bool {
    let media_type = descriptor
        .get("mediaType")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let has_urls = descriptor
        .get("urls")
        .and_then(Value::as_array)
        .is_some_and(|urls| !urls.is_empty());
    has_urls || media_type.contains(".nondistributable.") || media_type.contains(".foreign.")
}

/// What a manifest's version records (the referrers API reads it back).
fn version_metadata(
    manifest: &Manifest,
    pushed_as: &Digest,
    children: &[String],
    size: usize,
) -> Value {
    json!({
        "digest": pushed_as.to_string(),
        // The versions an index names (garbage collection keeps them with it).
        "manifests": children,
        "mediaType": manifest.media_type,
        "artifactType": manifest.artifact_type,
        "subject": manifest.subject.as_ref().map(Digest::to_string),
        "size": size,
        // Only referrers show them; a large manifest's need not be copied otherwise.
        "annotations": manifest.subject.as_ref().and(manifest.annotations.as_ref()),
    })
}

/// The referrers' descriptors among a repository's manifest versions: those whose subject is
/// `subject`, of `artifact_type` when one is asked for.
pub fn referrer_descriptors(
    versions: &[Version],
    subject: &Digest,
    artifact_type: Option<&str>,
) -> Vec<Value> {
    let subject = subject.to_string();
    versions
        .iter()
        .filter(|v| v.metadata.get("subject").and_then(Value::as_str) == Some(&subject))
        .filter(|v| {
            artifact_type.is_none_or(|wanted| {
                v.metadata.get("artifactType").and_then(Value::as_str) == Some(wanted)
            })
        })
        .map(|v| {
            let mut descriptor = json!({
                "mediaType": v.metadata.get("mediaType"),
                // The digest it was pushed under (versions are named by SHA-256).
                "digest": v.metadata.get("digest").and_then(Value::as_str).unwrap_or(&v.version),
                "size": v.metadata.get("size"),
            });
            for field in ["artifactType", "annotations"] {
                if let Some(value) = v.metadata.get(field).filter(|x| !x.is_null()) {
                    descriptor[field] = value.clone();
                }
            }
            descriptor
        })
        .collect()
}

fn coord<'a>(req: &'a Request, version: &'a str) -> FileCoord<'a> {
    FileCoord {
        owner: &req.repo.owner,
        format: FORMAT,
        package: &req.repo.image,
        version,
        file: MANIFEST_FILE,
    }
}

/// The version a manifest digest names: versions are named by the manifest's SHA-256, and a
/// SHA-512 digest is resolved through the SHA-512 recorded with the manifest's bytes.
async fn version_of(req: &Request, digest: &Digest) -> crate::error::Result<String> {
    let sha256 = content::stored_sha256(&req.state.registry, digest).await?;
    Ok(format!("sha256:{sha256}"))
}

fn manifest_unknown(reference: &Reference) -> Failure {
    OciError::new(
        Code::ManifestUnknown,
        format!("manifest {reference} not found"),
    )
    .into()
}

/// `GET`/`HEAD /v2/{name}/manifests/{reference}`: the stored bytes with the stored media type.
pub async fn get(req: &Request, reference: &str) -> Result<Response, Failure> {
    let reference = Reference::parse(reference)?;
    let tag = match &reference {
        Reference::Tag(tag) => Some(tag.as_str()),
        Reference::Digest(_) => None,
    };
    req.require_read(tag).await?;
    let registry = &req.state.registry;
    let package = req.package().await.not_found_as(Code::NameUnknown)?;
    let version = match &reference {
        Reference::Digest(digest) => match version_of(req, digest).await {
            Ok(version) => version,
            Err(Error::NotFound(_)) => return Err(manifest_unknown(&reference)),
            Err(e) => return Err(e.into()),
        },
        Reference::Tag(tag) => match registry.tag(package.id, tag).await {
            Ok(tag) => tag.version,
            Err(Error::NotFound(_)) => return Err(manifest_unknown(&reference)),
            Err(e) => return Err(e.into()),
        },
    };
    let file = registry
        .find_file(coord(req, &version))
        .await
        .map_err(|e| match e {
            Error::NotFound(_) => manifest_unknown(&reference),
            other => other.into(),
        })?;
    let media_type = file
        .details
        .metadata
        .get("mediaType")
        .and_then(Value::as_str)
        .unwrap_or(OCI_MANIFEST)
        .to_string();
    let mut response = crate::http::download::serve_file(
        registry,
        &file,
        &req.method,
        &req.headers,
        &media_type,
        req.principal.customer_id(),
    )
    .await?;
    let headers = response.headers_mut();
    headers.remove(header::CONTENT_DISPOSITION);
    // The digest asked by, else the one it was first pushed under.
    let digest = match &reference {
        Reference::Digest(digest) => digest.to_string(),
        Reference::Tag(_) => pushed_digest(&file),
    };
    super::blobs::set(headers, DIGEST_HEADER, &digest);
    Ok(response)
}

/// `PUT /v2/{name}/manifests/{reference}`: stores the manifest once every blob and manifest it
/// names is in the repository, and points the tag at it when the reference is a tag.
pub async fn put(req: &Request, reference: &str, body: Body) -> Result<Response, Failure> {
    req.require_write()?;
    let reference = Reference::parse(reference)?;
    let tags = tags_to_set(req, &reference)?;
    let bytes = axum::body::to_bytes(body, MAX_MANIFEST)
        .await
        .map_err(|_| {
            OciError::new(Code::ManifestInvalid, "a manifest is at most 4 MiB")
                .with_status(StatusCode::PAYLOAD_TOO_LARGE)
        })?;
    let digest = Digest::of(&bytes);
    // Answered with the digest pushed by (SHA-512 too), else the registry's own.
    let shown = match &reference {
        Reference::Digest(named) if !named.matches(&bytes) => {
            return Err(OciError::new(
                Code::DigestInvalid,
                format!("the manifest's digest is {digest}, not {named}"),
            )
            .into());
        }
        Reference::Digest(named) => named.clone(),
        Reference::Tag(_) => digest.clone(),
    };
    let content_type = req
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let manifest = parse(&bytes, content_type)?;
    let registry = &req.state.registry;
    let package = req.ensure_package().await?;
    let mut held = Vec::new();
    for blob in &manifest.blobs {
        let unknown = || {
            OciError::new(
                Code::ManifestBlobUnknown,
                format!("blob {blob} is not in {}", req.repo.name()),
            )
        };
        let sha256 = match content::stored_sha256(registry, blob).await {
            Ok(sha256) => sha256,
            Err(Error::NotFound(_)) => return Err(unknown().into()),
            Err(e) => return Err(e.into()),
        };
        if !registry.package_holds(package.id, &sha256).await? {
            return Err(unknown().into());
        }
        held.push(sha256);
    }
    let mut children = Vec::new();
    for child in &manifest.manifests {
        let version = version_of(req, child)
            .await
            .not_found_as(Code::ManifestBlobUnknown)?;
        registry
            .find_version(package.id, &version)
            .await
            .not_found_as(Code::ManifestBlobUnknown)?;
        children.push(version);
    }
    let file = store(req, &digest, &shown, &manifest, &children, bytes).await?;
    let version_id = file.version_id;
    // A push by tag answers with the digest the manifest was first pushed under.
    let shown = match &reference {
        Reference::Digest(named) => named.to_string(),
        Reference::Tag(_) => pushed_digest(&file),
    };
    for sha256 in &held {
        registry
            .link(sha256, Holder::Version(version_id))
            .await
            .not_found_as(Code::ManifestBlobUnknown)?;
    }
    for tag in &tags {
        registry.set_tag(package.id, tag, version_id).await?;
    }
    let mut response = StatusCode::CREATED.into_response();
    let headers = response.headers_mut();
    // Tags pushed by `?tag=` are confirmed one `OCI-Tag` header each.
    if let Reference::Digest(_) = reference {
        for tag in &tags {
            if let Ok(value) = axum::http::HeaderValue::from_str(tag) {
                headers.append("oci-tag", value);
            }
        }
    }
    super::blobs::set(
        headers,
        header::LOCATION.as_str(),
        &req.url(&format!("manifests/{shown}")),
    );
    super::blobs::set(headers, DIGEST_HEADER, &shown);
    if let Some(subject) = &manifest.subject {
        super::blobs::set(headers, "oci-subject", &subject.to_string());
    }
    Ok(response)
}

/// Most tags one push by digest may set (`?tag=`; the spec asks for at least 10).
const MAX_TAGS_PER_PUSH: usize = 100;

/// The tags a push sets: its reference when that is a tag, else the `tag` parameters of a push
/// by digest (distribution spec, "Pushing manifests with tags"), checked before the body is read.
fn tags_to_set(req: &Request, reference: &Reference) -> Result<Vec<String>, Failure> {
    let tags: Vec<String> = match reference {
        Reference::Tag(tag) => vec![tag.clone()],
        Reference::Digest(_) => req.query.all("tag").map(str::to_string).collect(),
    };
    if tags.len() > MAX_TAGS_PER_PUSH {
        return Err(OciError::new(
            Code::ManifestInvalid,
            format!("at most {MAX_TAGS_PER_PUSH} tags per push"),
        )
        .with_status(StatusCode::URI_TOO_LONG)
        .into());
    }
    if let Some(bad) = tags.iter().find(|t| !super::names::is_tag(t)) {
        return Err(OciError::new(Code::ManifestInvalid, format!("{bad:?} is not a tag")).into());
    }
    Ok(tags)
}

/// The digest a manifest was first pushed under (SHA-512 digests stay SHA-512 for its tags).
fn pushed_digest(file: &File) -> String {
    file.details
        .metadata
        .get("digest")
        .and_then(Value::as_str)
        .map_or_else(|| format!("sha256:{}", file.blob.sha256), str::to_string)
}

/// The manifest's version, published unless the same manifest is already there; `pushed_as` is
/// the digest its push named (what its tags answer with).
async fn store(
    req: &Request,
    digest: &Digest,
    pushed_as: &Digest,
    manifest: &Manifest,
    children: &[String],
    bytes: Bytes,
) -> Result<File, Failure> {
    let registry = &req.state.registry;
    let name = digest.to_string();
    if let Ok(file) = registry.find_file(coord(req, &name)).await {
        return Ok(file);
    }
    let metadata = version_metadata(manifest, pushed_as, children, bytes.len());
    let details = FileDetails {
        kind: "manifest".into(),
        metadata: json!({ "mediaType": manifest.media_type, "digest": pushed_as.to_string() }),
        ..Default::default()
    };
    let publish = Publish {
        at: coord(req, &name),
        create_owner: true,
        version_metadata: Box::new(move |_| metadata),
        file_properties: vec![("uploaded_by".into(), req.principal.display_name())],
        put: PutOptions {
            max_size: MAX_MANIFEST as u64,
            expected_sha256: Some(digest.hex.clone()),
            // Recorded so the manifest can be asked for by its SHA-512 digest too.
            extra_digests: ExtraDigests {
                sha512: true,
                ..ExtraDigests::NONE
            },
            ..Default::default()
        },
        // Tags are set after, whether the manifest is new or not.
        tags: Vec::new(),
    };
    let body = futures_util::stream::once(async move { Ok::<_, Infallible>(bytes) });
    match registry.publish_with(publish, details, body).await {
        Ok(file) => Ok(file),
        // Pushed by someone else meanwhile: the same bytes.
        Err(Error::Conflict(_)) => Ok(registry.find_file(coord(req, &name)).await?),
        Err(e) => Err(e.into()),
    }
}

/// `DELETE /v2/{name}/manifests/{reference}`: a tag goes alone; a digest takes its version, its
/// tags and its holds on blobs with it (202).
pub async fn delete(req: &Request, reference: &str) -> Result<Response, Failure> {
    req.require_write()?;
    let reference = Reference::parse(reference)?;
    let registry = &req.state.registry;
    let package = req.package().await.not_found_as(Code::NameUnknown)?;
    let deleted = match &reference {
        Reference::Tag(tag) => registry.delete_tag(package.id, tag).await,
        Reference::Digest(digest) => match version_of(req, digest).await {
            Ok(version) => {
                registry
                    .delete_version(&req.repo.owner, FORMAT, &req.repo.image, &version)
                    .await
            }
            Err(e) => Err(e),
        },
    };
    deleted.not_found_as(Code::ManifestUnknown)?;
    Ok(StatusCode::ACCEPTED.into_response())
}

/// `GET /v2/{name}/referrers/{digest}?artifactType=`: an OCI index of the manifests whose
/// subject is `digest` (empty when there are none, or no such repository).
pub async fn referrers(req: &Request, digest: &str) -> Result<Response, Failure> {
    let digest = Digest::parse(digest)?;
    req.require_read(None).await?;
    let registry = &req.state.registry;
    let artifact_type = req.query.get("artifactType");
    let manifests = match req.package().await {
        Ok(package) => {
            let versions = registry.versions(package.id).await?;
            referrer_descriptors(&versions, &digest, artifact_type)
        }
        Err(Error::NotFound(_)) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    let body = json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": manifests,
    });
    let mut headers = HeaderMap::new();
    super::blobs::set(&mut headers, header::CONTENT_TYPE.as_str(), OCI_INDEX);
    if artifact_type.is_some() {
        super::blobs::set(&mut headers, "oci-filters-applied", "artifactType");
    }
    Ok((StatusCode::OK, headers, body.to_string()).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(c: char) -> String {
        format!("sha256:{}", c.to_string().repeat(64))
    }

    fn image(extra: Value) -> Vec<u8> {
        let mut manifest = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest('a'), "size": 2},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digest('b'), "size": 3}],
        });
        for (k, v) in extra.as_object().unwrap() {
            manifest[k] = v.clone();
        }
        serde_json::to_vec(&manifest).unwrap()
    }

    #[test]
    fn an_image_manifest_names_its_config_and_layers() {
        let parsed = parse(&image(json!({})), Some(OCI_MANIFEST)).unwrap();
        assert_eq!(parsed.media_type, OCI_MANIFEST);
        let blobs: Vec<String> = parsed.blobs.iter().map(Digest::to_string).collect();
        assert_eq!(blobs, [digest('a'), digest('b')]);
        assert!(parsed.manifests.is_empty());
        assert_eq!(parsed.subject, None);
        assert_eq!(
            parsed.artifact_type.as_deref(),
            Some("application/vnd.oci.image.config.v1+json")
        );
    }

    #[test]
    fn layers_stored_elsewhere_are_not_asked_for() {
        let body = image(json!({"layers": [
            {"mediaType": "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", "digest": digest('c'), "size": 1},
            {"mediaType": "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", "digest": digest('d'), "size": 1},
            {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest('e'), "size": 1, "urls": ["https://example.com/e"]},
            {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest('f'), "size": 1},
        ]}));
        let blobs: Vec<String> = parse(&body, None)
            .unwrap()
            .blobs
            .iter()
            .map(Digest::to_string)
            .collect();
        assert_eq!(blobs, [digest('a'), digest('f')]);
    }

    #[test]
    fn an_index_names_its_manifests() {
        let body = json!({
            "schemaVersion": 2,
            "manifests": [{"mediaType": OCI_MANIFEST, "digest": digest('c'), "size": 1}],
        });
        let parsed = parse(body.to_string().as_bytes(), None).unwrap();
        assert_eq!(parsed.media_type, OCI_INDEX, "by shape");
        assert_eq!(parsed.manifests[0].to_string(), digest('c'));
        assert!(parsed.blobs.is_empty());
    }

    #[test]
    fn artifacts_have_a_type_and_a_subject() {
        let body = image(json!({
            "artifactType": "application/vnd.example.sbom",
            "subject": {"mediaType": OCI_MANIFEST, "digest": digest('d'), "size": 9},
        }));
        let parsed = parse(&body, None).unwrap();
        assert_eq!(parsed.subject.unwrap().to_string(), digest('d'));
        assert_eq!(
            parsed.artifact_type.as_deref(),
            Some("application/vnd.example.sbom")
        );
    }

    #[test]
    fn the_stored_media_type_is_the_requests() {
        let body = json!({"schemaVersion": 2, "layers": []}).to_string();
        let docker = "application/vnd.docker.distribution.manifest.v2+json";
        let parsed = parse(body.as_bytes(), Some(&format!("{docker}; charset=utf-8"))).unwrap();
        assert_eq!(parsed.media_type, docker);
    }

    #[test]
    fn bad_manifests_are_refused() {
        let docker = "application/vnd.docker.distribution.manifest.v2+json";
        let cases: Vec<(Vec<u8>, Option<&str>)> = vec![
            (b"not json".to_vec(), None),
            (b"[1]".to_vec(), None),
            (image(json!({})), Some(docker)),
            (image(json!({"layers": {}})), None),
            (image(json!({"layers": [1]})), None),
            (image(json!({"layers": [{"size": 1}]})), None),
            (image(json!({"config": "x"})), None),
            (image(json!({"subject": 5})), None),
            (br#"{"schemaVersion":1}"#.to_vec(), Some(DOCKER_SCHEMA1[1])),
        ];
        for (body, content_type) in cases {
            let err = parse(&body, content_type).unwrap_err();
            assert_eq!(
                err.code,
                Code::ManifestInvalid,
                "{}",
                String::from_utf8_lossy(&body)
            );
        }
        let bad_digest = image(json!({"layers": [{"digest": "sha256:short"}]}));
        assert_eq!(
            parse(&bad_digest, None).unwrap_err().code,
            Code::DigestInvalid
        );
    }

    #[test]
    fn referrers_are_filtered_by_subject_and_type() {
        let version = |name: &str, subject: Option<String>, kind: &str| Version {
            id: 1,
            package_id: 1,
            version: name.into(),
            metadata: json!({
                "mediaType": OCI_MANIFEST, "subject": subject, "artifactType": kind,
                "size": 10, "annotations": null,
            }),
            download_count: 0,
            created_at: 0,
        };
        let subject = Digest::parse(&digest('e')).unwrap();
        let versions = [
            version("sha256:1", Some(digest('e')), "sbom"),
            version("sha256:2", Some(digest('e')), "sig"),
            version("sha256:3", Some(digest('f')), "sbom"),
            version("sha256:4", None, "sbom"),
        ];
        let all = referrer_descriptors(&versions, &subject, None);
        assert_eq!(all.len(), 2);
        assert_eq!(all[0]["digest"], "sha256:1");
        assert_eq!(all[0]["size"], 10);
        assert_eq!(all[0]["artifactType"], "sbom");
        assert!(all[0].get("annotations").is_none());
        let sboms = referrer_descriptors(&versions, &subject, Some("sig"));
        assert_eq!(sboms.len(), 1);
        assert_eq!(sboms[0]["digest"], "sha256:2");
    }
}
