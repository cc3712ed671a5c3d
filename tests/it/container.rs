//! Container (OCI distribution) registry on every backend: the spec's conformance workflows
//! re-implemented over raw HTTP (curl), each check citing the spec's workflow category and
//! endpoint id (distribution-spec v1.1, "Workflow Categories" and the endpoint table), then
//! skopeo as the real client.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use crate::common::{ADMIN, Reply, TestServer, api, backends, curl};
use cargoman::blobs::digest::sha256_hex;

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

fn digest(bytes: &[u8]) -> String {
    format!("sha256:{}", sha256_hex(bytes))
}

/// A client of one server with one set of credentials (the root token as Basic, or none).
struct Client<'a> {
    s: &'a TestServer,
    auth: Option<String>,
}

impl<'a> Client<'a> {
    fn admin(s: &'a TestServer) -> Self {
        Client {
            s,
            auth: Some(format!("admin:{ADMIN}")),
        }
    }

    fn anonymous(s: &'a TestServer) -> Self {
        Client { s, auth: None }
    }

    /// `method path` with extra curl arguments and an optional body sent as is.
    fn call(&self, method: &str, path: &str, extra: &[&str], body: Option<&[u8]>) -> Reply {
        // One file per call: calls may run in parallel.
        static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let file = self.s.dir.path().join(format!("body-{n}"));
        let mut args: Vec<String> = Vec::new();
        if method == "HEAD" {
            args.push("-I".into());
        } else {
            args.extend(["-X".into(), method.into()]);
        }
        if let Some(auth) = &self.auth {
            args.extend(["--user".into(), auth.clone()]);
        }
        if let Some(body) = body {
            std::fs::write(&file, body).unwrap();
            args.extend([
                "--data-binary".into(),
                format!("@{}", file.display()),
                "-H".into(),
                "Content-Type: application/octet-stream".into(),
            ]);
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        args.push(path.into());
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        self.s.curl(&refs)
    }

    fn get(&self, path: &str) -> Reply {
        self.call("GET", path, &[], None)
    }

    /// Pushes a blob monolithically (`POST ?digest=`); returns its digest.
    fn push_blob(&self, repo: &str, bytes: &[u8]) -> String {
        let d = digest(bytes);
        let r = self.call(
            "POST",
            &format!("/v2/{repo}/blobs/uploads/?digest={d}"),
            &[],
            Some(bytes),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        d
    }

    /// Pushes a manifest under `reference` with `media_type`; returns the reply.
    fn put_manifest(&self, repo: &str, reference: &str, media_type: &str, body: &[u8]) -> Reply {
        let content_type = format!("Content-Type: {media_type}");
        self.call(
            "PUT",
            &format!("/v2/{repo}/manifests/{reference}"),
            &["-H", &content_type],
            Some(body),
        )
    }
}

/// The spec's error body: `{"errors":[{"code","message","detail"}]}`; returns the first code.
fn error_code(r: &Reply) -> String {
    let body = r.json();
    let first = &body["errors"][0];
    assert!(first["message"].is_string(), "{body}");
    assert!(first.get("detail").is_some(), "{body}");
    first["code"].as_str().unwrap().to_string()
}

/// A small image: config, one layer, and its OCI manifest (bytes).
struct Image {
    config: Vec<u8>,
    layer: Vec<u8>,
    manifest: Vec<u8>,
}

fn image(seed: u8) -> Image {
    image_of(crate::common::pseudo_random(3000 + usize::from(seed), seed))
}

fn image_of(layer: Vec<u8>) -> Image {
    let config = json!({
        "architecture": "amd64", "os": "linux", "config": {},
        "rootfs": {"type": "layers", "diff_ids": [digest(&layer)]},
    });
    image_with(config, layer)
}

/// The image of one layer with `config` as its config.
fn image_with(config: Value, layer: Vec<u8>) -> Image {
    let config = config.to_string().into_bytes();
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest(&config), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest(&layer), "size": layer.len()}],
    })
    .to_string()
    .into_bytes();
    Image {
        config,
        layer,
        manifest,
    }
}

fn push_image(c: &Client, repo: &str, tag: &str, image: &Image) -> String {
    c.push_blob(repo, &image.config);
    c.push_blob(repo, &image.layer);
    let r = c.put_manifest(repo, tag, OCI_MANIFEST, &image.manifest);
    assert_eq!(r.status, 201, "{}", r.text());
    r.header("docker-content-digest").unwrap().to_string()
}

#[test]
fn base_challenge_and_token() {
    for backend in backends() {
        let s = TestServer::start(backend);
        // end-1: GET /v2/ answers 200 with the API version to a caller with credentials...
        let ok = Client::admin(&s).get("/v2/");
        assert_eq!(ok.status, 200, "{backend:?}");
        assert_eq!(
            ok.header("docker-distribution-api-version"),
            Some("registry/2.0")
        );
        // ...and 401 with a Bearer challenge naming the token endpoint to a caller without.
        let anon = Client::anonymous(&s).get("/v2/");
        assert_eq!(anon.status, 401);
        let challenge = anon.header("www-authenticate").unwrap();
        let realm = format!("Bearer realm=\"{}/v2/token\"", s.base);
        assert!(challenge.starts_with(&realm), "{challenge}");
        assert!(challenge.contains("service=\"127.0.0.1:"), "{challenge}");
        assert_eq!(error_code(&anon), "UNAUTHORIZED");

        // The token endpoint: Basic with our token in, a short-lived Bearer token out.
        let token =
            Client::admin(&s).get("/v2/token?service=x&scope=repository:acme/app:pull,push");
        assert_eq!(token.status, 200, "{}", token.text());
        let body = token.json();
        let bearer = body["token"].as_str().unwrap().to_string();
        assert_eq!(body["access_token"], body["token"]);
        assert!(body["expires_in"].as_i64().unwrap() >= 60);
        assert!(body["issued_at"].as_str().unwrap().ends_with('Z'));
        let with_token = |path: &str, t: &str| {
            curl(&["-H", &format!("Authorization: Bearer {t}")], &s.url(path))
        };
        assert_eq!(with_token("/v2/", &bearer).status, 200);
        // It writes like the credentials it stands for.
        let layer = b"pushed with a delegated token";
        let d = digest(layer);
        let file = s.dir.path().join("layer");
        std::fs::write(&file, layer).unwrap();
        let pushed = curl(
            &[
                "-X",
                "POST",
                "-H",
                &format!("Authorization: Bearer {bearer}"),
                "--data-binary",
                &format!("@{}", file.display()),
            ],
            &s.url(&format!("/v2/acme/app/blobs/uploads/?digest={d}")),
        );
        assert_eq!(pushed.status, 201, "{}", pushed.text());

        // It does no more than its scope: no push elsewhere, and the refusal names the scope
        // to ask for next, as Docker clients expect.
        let elsewhere = curl(
            &[
                "-X",
                "POST",
                "-H",
                &format!("Authorization: Bearer {bearer}"),
                "--data-binary",
                &format!("@{}", file.display()),
            ],
            &s.url(&format!("/v2/acme/other/blobs/uploads/?digest={d}")),
        );
        assert_eq!(elsewhere.status, 401, "{}", elsewhere.text());
        let challenge = elsewhere.header("www-authenticate").unwrap();
        assert!(
            challenge.starts_with(&realm)
                && challenge.contains(r#"scope="repository:acme/other:pull,push""#)
                && challenge.contains(r#"error="insufficient_scope""#),
            "{challenge}"
        );
        let app_only = Client::admin(&s).get("/v2/token?scope=repository:acme/app:pull");
        let app_only = app_only.json()["token"].as_str().unwrap().to_string();
        assert_eq!(
            with_token(&format!("/v2/acme/app/blobs/{d}"), &app_only).status,
            200
        );
        let other = with_token("/v2/acme/other/tags/list", &app_only);
        assert_eq!(other.status, 401, "{}", other.text());
        // Trading it in at the token endpoint buys no other repository.
        let traded = curl(
            &["-H", &format!("Authorization: Bearer {app_only}")],
            &s.url("/v2/token?scope=repository:acme/other:pull,push"),
        );
        let traded = traded.json()["token"].as_str().unwrap().to_string();
        let still_refused = curl(
            &[
                "-X",
                "POST",
                "-H",
                &format!("Authorization: Bearer {traded}"),
            ],
            &s.url("/v2/acme/other/blobs/uploads/"),
        );
        assert_eq!(still_refused.status, 401, "{}", still_refused.text());
        // The catalog needs a token issued for it.
        let catalog = with_token("/v2/_catalog", &app_only);
        assert_eq!(catalog.status, 401, "{}", catalog.text());
        let challenge = catalog.header("www-authenticate").unwrap();
        assert!(
            challenge.contains(r#"scope="registry:catalog:*""#),
            "{challenge}"
        );
        let for_catalog = Client::admin(&s).get("/v2/token?scope=registry:catalog:*");
        let for_catalog = for_catalog.json()["token"].as_str().unwrap().to_string();
        assert_eq!(with_token("/v2/_catalog", &for_catalog).status, 200);

        // Anonymous callers get a token too; it reads nothing private.
        let anon_token = Client::anonymous(&s).get("/v2/token?scope=repository:acme/app:pull");
        assert_eq!(anon_token.status, 200);
        let anon_bearer = anon_token.json()["token"].as_str().unwrap().to_string();
        assert_eq!(with_token("/v2/", &anon_bearer).status, 200);
        let denied = with_token(&format!("/v2/acme/app/blobs/{d}"), &anon_bearer);
        assert_eq!(denied.status, 401, "{}", denied.text());
        let challenge = denied.header("www-authenticate").unwrap();
        assert!(
            challenge.contains(r#"scope="repository:acme/app:pull""#),
            "{challenge}"
        );
        // A token stands for its caller's credentials: revoking them ends it at once.
        let team = api(
            &s,
            "POST",
            "/api/v1/tokens",
            Some(&json!({"name": "ci", "level": "admin"})),
        );
        assert_eq!(team.status, 201, "{}", team.text());
        let (team_id, team_token) = {
            let data = &team.json()["data"];
            (
                data["id"].as_i64().unwrap(),
                data["token"].as_str().unwrap().to_string(),
            )
        };
        let ci = Client {
            s: &s,
            auth: Some(format!("ci:{team_token}")),
        };
        let ci_bearer = ci.get("/v2/token?scope=repository:acme/app:pull").json()["token"]
            .as_str()
            .unwrap()
            .to_string();
        let tags = "/v2/acme/app/tags/list";
        assert_ne!(with_token(tags, &ci_bearer).status, 401);
        let r = api(&s, "DELETE", &format!("/api/v1/tokens/{team_id}"), None);
        assert_eq!(r.status, 200, "{}", r.text());
        let revoked = with_token(tags, &ci_bearer);
        assert_eq!(revoked.status, 401, "{}", revoked.text());
        assert!(revoked.text().contains("revoked"), "{}", revoked.text());

        // Wrong credentials get no token; a forged one is refused.
        let wrong = Client {
            s: &s,
            auth: Some("admin:cmt_wrongwrongwrongwrongwrongwrong00".into()),
        };
        assert_eq!(wrong.get("/v2/token").status, 401);
        let mut forged = bearer.clone();
        forged.pop();
        forged.push(if bearer.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(with_token("/v2/", &forged).status, 401);
    }
}

#[test]
fn push_workflow() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let c = Client::admin(&s);
        let repo = "acme/team/app";

        // Push, end-4b: a monolithic POST ?digest= stores the blob (201, Location, digest).
        let one = b"monolithic".to_vec();
        let d1 = digest(&one);
        let r = c.call(
            "POST",
            &format!("/v2/{repo}/blobs/uploads/?digest={d1}"),
            &[],
            Some(&one),
        );
        assert_eq!(r.status, 201, "{backend:?}: {}", r.text());
        assert_eq!(
            r.header("location"),
            Some(format!("/v2/{repo}/blobs/{d1}").as_str())
        );
        assert_eq!(r.header("docker-content-digest"), Some(d1.as_str()));

        // Push, end-4a + end-6: POST opens a session (202), PUT ?digest= with the body ends it.
        let two = crate::common::pseudo_random(70_000, 2);
        let d2 = digest(&two);
        let session = c.call("POST", &format!("/v2/{repo}/blobs/uploads/"), &[], None);
        assert_eq!(session.status, 202, "{}", session.text());
        let location = session.header("location").unwrap().to_string();
        assert!(location.starts_with(&format!("/v2/{repo}/blobs/uploads/")));
        assert!(session.header("docker-upload-uuid").is_some());
        assert_eq!(session.header("range"), Some("0-0"));
        let put = c.call("PUT", &format!("{location}?digest={d2}"), &[], Some(&two));
        assert_eq!(put.status, 201, "{}", put.text());
        assert_eq!(put.header("docker-content-digest"), Some(d2.as_str()));

        // An empty blob, through a session with no chunk at all and monolithically.
        let empty = digest(b"");
        let session = c.call("POST", &format!("/v2/{repo}/blobs/uploads/"), &[], None);
        let location = session.header("location").unwrap().to_string();
        let put = c.call("PUT", &format!("{location}?digest={empty}"), &[], None);
        assert_eq!(put.status, 201, "{}", put.text());
        let r = c.get(&format!("/v2/{repo}/blobs/{empty}"));
        assert_eq!((r.status, r.body.len()), (200, 0));
        let r = c.call(
            "POST",
            &format!("/v2/acme/other/blobs/uploads/?digest={empty}"),
            &[],
            Some(b""),
        );
        assert_eq!(r.status, 201, "{}", r.text());

        // Push, end-4a + end-5 + end-13 + end-6: chunks with Content-Range, in order.
        let three = crate::common::pseudo_random(50_000, 3);
        let d3 = digest(&three);
        let location = c
            .call("POST", &format!("/v2/{repo}/blobs/uploads/"), &[], None)
            .header("location")
            .unwrap()
            .to_string();
        let chunk = c.call(
            "PATCH",
            &location,
            &["-H", "Content-Range: 0-19999"],
            Some(&three[..20_000]),
        );
        assert_eq!(chunk.status, 202, "{}", chunk.text());
        assert_eq!(chunk.header("range"), Some("0-19999"));
        let location = chunk.header("location").unwrap().to_string();
        // A chunk that does not start where the upload stands: 416, and the upload is unharmed.
        let skipped = c.call(
            "PATCH",
            &location,
            &["-H", "Content-Range: 30000-39999"],
            Some(&three[30_000..40_000]),
        );
        assert_eq!(skipped.status, 416, "{}", skipped.text());
        assert_eq!(skipped.header("range"), Some("0-19999"));
        let status = c.get(&location);
        assert_eq!(status.status, 204);
        assert_eq!(status.header("range"), Some("0-19999"));
        assert!(status.header("docker-upload-uuid").is_some());
        // A streamed chunk (no Content-Range) goes at the end.
        let streamed = c.call("PATCH", &location, &[], Some(&three[20_000..45_000]));
        assert_eq!(streamed.status, 202);
        assert_eq!(streamed.header("range"), Some("0-44999"));
        let last = c.call(
            "PUT",
            &format!("{location}?digest={d3}"),
            &["-H", "Content-Range: 45000-49999"],
            Some(&three[45_000..]),
        );
        assert_eq!(last.status, 201, "{}", last.text());
        let back = c.get(&format!("/v2/{repo}/blobs/{d3}"));
        assert_eq!(back.body, three);

        // A digest that does not match: 400 DIGEST_INVALID, nothing kept, the session gone.
        let wrong = digest(b"something else");
        let location = c
            .call("POST", &format!("/v2/{repo}/blobs/uploads/"), &[], None)
            .header("location")
            .unwrap()
            .to_string();
        let bad = c.call(
            "PUT",
            &format!("{location}?digest={wrong}"),
            &[],
            Some(b"content"),
        );
        assert_eq!(bad.status, 400);
        assert_eq!(error_code(&bad), "DIGEST_INVALID");
        assert_eq!(c.get(&location).status, 404);
        assert_eq!(
            c.call("HEAD", &format!("/v2/{repo}/blobs/{wrong}"), &[], None)
                .status,
            404
        );
        assert_eq!(
            c.call(
                "HEAD",
                &format!("/v2/{repo}/blobs/{}", digest(b"content")),
                &[],
                None
            )
            .status,
            404
        );
        let mono = c.call(
            "POST",
            &format!("/v2/{repo}/blobs/uploads/?digest={wrong}"),
            &[],
            Some(b"content"),
        );
        assert_eq!(mono.status, 400);
        assert_eq!(error_code(&mono), "DIGEST_INVALID");

        // Push, end-11: a mount from a repository the caller reads (201), without a session.
        let mounted = c.call(
            "POST",
            &format!("/v2/acme/other/blobs/uploads/?mount={d1}&from={repo}"),
            &[],
            None,
        );
        assert_eq!(mounted.status, 201, "{}", mounted.text());
        assert_eq!(c.get(&format!("/v2/acme/other/blobs/{d1}")).body, one);
        // A mount of a blob the source lacks falls back to an upload session (202).
        let fallback = c.call(
            "POST",
            &format!("/v2/acme/other/blobs/uploads/?mount={wrong}&from={repo}"),
            &[],
            None,
        );
        assert_eq!(fallback.status, 202);
        // A cancelled session is gone (end-13 after DELETE).
        let location = fallback.header("location").unwrap().to_string();
        assert_eq!(c.call("DELETE", &location, &[], None).status, 204);
        let gone = c.get(&location);
        assert_eq!(gone.status, 404);
        assert_eq!(error_code(&gone), "BLOB_UPLOAD_UNKNOWN");

        // Push, end-7: a manifest naming a blob the repository lacks is refused.
        let img = image(7);
        c.push_blob(repo, &img.config);
        let missing = c.put_manifest(repo, "v1", OCI_MANIFEST, &img.manifest);
        assert_eq!(missing.status, 400);
        assert_eq!(error_code(&missing), "MANIFEST_BLOB_UNKNOWN");
        c.push_blob(repo, &img.layer);
        let pushed = c.put_manifest(repo, "v1", OCI_MANIFEST, &img.manifest);
        assert_eq!(pushed.status, 201, "{}", pushed.text());
        let md = digest(&img.manifest);
        assert_eq!(pushed.header("docker-content-digest"), Some(md.as_str()));
        assert_eq!(
            pushed.header("location"),
            Some(format!("/v2/{repo}/manifests/{md}").as_str())
        );
        // By digest: the URL's digest must be the body's; `?tag=` tags it too (end-7b), each
        // tag confirmed by an `OCI-Tag` header.
        let tagged = format!("{md}?tag=1.0&tag=latest");
        let by_digest = c.put_manifest(repo, &tagged, OCI_MANIFEST, &img.manifest);
        assert_eq!(by_digest.status, 201);
        // (The harness keeps the last of repeated headers.)
        assert_eq!(by_digest.header("oci-tag"), Some("latest"));
        let tags = c.get(&format!("/v2/{repo}/tags/list")).json();
        assert_eq!(tags["tags"], json!(["1.0", "latest", "v1"]));
        let bad_tag = c.put_manifest(repo, &format!("{md}?tag=-bad"), OCI_MANIFEST, &img.manifest);
        assert_eq!(error_code(&bad_tag), "MANIFEST_INVALID");
        let mismatch = c.put_manifest(repo, &d1, OCI_MANIFEST, &img.manifest);
        assert_eq!(mismatch.status, 400);
        assert_eq!(error_code(&mismatch), "DIGEST_INVALID");
        // Layers stored elsewhere (non-distributable, with `urls`) are not asked for; a manifest
        // just under 4 MiB (the conformance data's "large manifest") is taken.
        let mut elsewhere: Value = serde_json::from_slice(&img.manifest).unwrap();
        elsewhere["layers"].as_array_mut().unwrap().push(json!({
            "mediaType": "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
            "digest": digest(b"never pushed"), "size": 123456,
            "urls": ["https://store.example.com/blobs/x"],
        }));
        let annotations: serde_json::Map<String, Value> = (0..390)
            .map(|i| (format!("large-annotation-{i}"), json!("A".repeat(10_000))))
            .collect();
        elsewhere["annotations"] = Value::Object(annotations);
        let large = serde_json::to_vec(&elsewhere).unwrap();
        assert!(large.len() > 3_900_000 && large.len() < 4 * 1024 * 1024);
        let r = c.put_manifest(repo, "large", OCI_MANIFEST, &large);
        assert_eq!(r.status, 201, "{}", r.text());
        assert_eq!(c.get(&format!("/v2/{repo}/manifests/large")).body, large);
        // Larger than 4 MiB: refused.
        let huge = vec![b' '; 4 * 1024 * 1024 + 1];
        let too_big = c.put_manifest(repo, "huge", OCI_MANIFEST, &huge);
        assert_eq!(too_big.status, 413);
        assert_eq!(error_code(&too_big), "MANIFEST_INVALID");
        let not_json = c.put_manifest(repo, "bad", OCI_MANIFEST, b"{");
        assert_eq!(error_code(&not_json), "MANIFEST_INVALID");
    }
}

#[test]
fn pull_workflow() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let c = Client::admin(&s);
        let repo = "acme/app";
        let img = image(1);
        let md = push_image(&c, repo, "latest", &img);

        // Pull, end-3: by tag and by digest, the bytes as pushed with the media type pushed.
        for reference in ["latest", md.as_str()] {
            let r = c.get(&format!("/v2/{repo}/manifests/{reference}"));
            assert_eq!(r.status, 200, "{backend:?} {reference}");
            assert_eq!(r.body, img.manifest);
            assert_eq!(r.header("content-type"), Some(OCI_MANIFEST));
            assert_eq!(r.header("docker-content-digest"), Some(md.as_str()));
            let head = c.call(
                "HEAD",
                &format!("/v2/{repo}/manifests/{reference}"),
                &[],
                None,
            );
            assert_eq!(head.status, 200);
            assert_eq!(
                head.header("content-length"),
                Some(img.manifest.len().to_string().as_str())
            );
            assert_eq!(head.header("docker-content-digest"), Some(md.as_str()));
        }
        // A Docker schema 2 manifest keeps its own media type.
        let docker_body = String::from_utf8(img.manifest.clone())
            .unwrap()
            .replace(OCI_MANIFEST, DOCKER_MANIFEST)
            .into_bytes();
        assert_eq!(
            c.put_manifest(repo, "docker", DOCKER_MANIFEST, &docker_body)
                .status,
            201
        );
        let docker = c.get(&format!("/v2/{repo}/manifests/docker"));
        assert_eq!(docker.header("content-type"), Some(DOCKER_MANIFEST));
        assert_eq!(docker.body, docker_body);

        // Pull, end-2: blobs with their digest, whole and by range.
        let layer = digest(&img.layer);
        let r = c.get(&format!("/v2/{repo}/blobs/{layer}"));
        assert_eq!(r.status, 200);
        assert_eq!(r.body, img.layer);
        assert_eq!(r.header("docker-content-digest"), Some(layer.as_str()));
        let head = c.call("HEAD", &format!("/v2/{repo}/blobs/{layer}"), &[], None);
        assert_eq!(head.status, 200);
        assert_eq!(
            head.header("content-length"),
            Some(img.layer.len().to_string().as_str())
        );
        let part = c.call(
            "GET",
            &format!("/v2/{repo}/blobs/{layer}"),
            &["-r", "10-19"],
            None,
        );
        assert_eq!(part.status, 206);
        assert_eq!(part.body, &img.layer[10..20]);

        // Unknown things: 404 with the spec's codes.
        let unknown = digest(b"never pushed");
        let r = c.get(&format!("/v2/{repo}/blobs/{unknown}"));
        assert_eq!((r.status, error_code(&r).as_str()), (404, "BLOB_UNKNOWN"));
        let r = c.get(&format!("/v2/{repo}/manifests/nope"));
        assert_eq!(
            (r.status, error_code(&r).as_str()),
            (404, "MANIFEST_UNKNOWN")
        );
        let r = c.get(&format!("/v2/{repo}/manifests/{unknown}"));
        assert_eq!(
            (r.status, error_code(&r).as_str()),
            (404, "MANIFEST_UNKNOWN")
        );
        let r = c.get("/v2/acme/nothing/manifests/latest");
        assert_eq!((r.status, error_code(&r).as_str()), (404, "NAME_UNKNOWN"));
        // A blob of another repository is not served here.
        c.push_blob("acme/elsewhere", b"elsewhere only");
        let r = c.get(&format!("/v2/{repo}/blobs/{}", digest(b"elsewhere only")));
        assert_eq!(r.status, 404);

        // Bad input: names, digests, methods.
        let r = c.get("/v2/acme/App/manifests/latest");
        assert_eq!((r.status, error_code(&r).as_str()), (400, "NAME_INVALID"));
        let r = c.get("/v2/single/manifests/latest");
        assert_eq!((r.status, error_code(&r).as_str()), (400, "NAME_INVALID"));
        let r = c.get(&format!("/v2/{repo}/blobs/sha256:short"));
        assert_eq!((r.status, error_code(&r).as_str()), (400, "DIGEST_INVALID"));
        let r = c.call("POST", &format!("/v2/{repo}/manifests/latest"), &[], None);
        assert_eq!((r.status, error_code(&r).as_str()), (405, "UNSUPPORTED"));
        let r = c.get(&format!("/v2/{repo}/unknown/thing"));
        assert_eq!(r.status, 404);
        error_code(&r);

        // A public owner is pulled without credentials, with an anonymous token or none.
        let public = api(
            &s,
            "PATCH",
            "/api/v1/owners/acme",
            Some(&json!({"visibility": "public"})),
        );
        assert_eq!(public.status, 200, "{}", public.text());
        let anon = Client::anonymous(&s);
        assert_eq!(
            anon.get(&format!("/v2/{repo}/manifests/latest")).body,
            img.manifest
        );
        assert_eq!(
            anon.get(&format!("/v2/{repo}/blobs/{layer}")).body,
            img.layer
        );
        // ...but not pushed to.
        let r = anon.call("POST", &format!("/v2/{repo}/blobs/uploads/"), &[], None);
        assert_eq!(r.status, 401);
        assert!(r.header("www-authenticate").unwrap().starts_with("Bearer "));
    }
}

#[test]
fn content_discovery_and_management() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let c = Client::admin(&s);
        let repo = "acme/app";
        let img = image(3);
        for tag in ["c", "a", "b", "1.0"] {
            push_image(&c, repo, tag, &img);
        }
        push_image(&c, "acme/zeta", "x", &image(4));
        push_image(&c, "other/app", "x", &image(5));

        // Content discovery, end-8a: all tags, sorted.
        let r = c.get(&format!("/v2/{repo}/tags/list"));
        assert_eq!(r.status, 200, "{backend:?}");
        assert_eq!(
            r.json(),
            json!({"name": repo, "tags": ["1.0", "a", "b", "c"]})
        );
        assert!(r.header("link").is_none());
        // end-8b: n and last, with a Link to the next page.
        let r = c.get(&format!("/v2/{repo}/tags/list?n=2"));
        assert_eq!(r.json()["tags"], json!(["1.0", "a"]));
        assert_eq!(
            r.header("link"),
            Some(format!("</v2/{repo}/tags/list?n=2&last=a>; rel=\"next\"").as_str())
        );
        let r = c.get(&format!("/v2/{repo}/tags/list?n=2&last=a"));
        assert_eq!(r.json()["tags"], json!(["b", "c"]));
        assert!(r.header("link").is_none());
        assert_eq!(
            c.get(&format!("/v2/{repo}/tags/list?n=0")).json()["tags"],
            json!([])
        );
        // The catalog: every repository the caller reads, paged the same way.
        let r = c.get("/v2/_catalog");
        assert_eq!(
            r.json()["repositories"],
            json!(["acme/app", "acme/zeta", "other/app"])
        );
        let r = c.get("/v2/_catalog?n=1&last=acme/app");
        assert_eq!(r.json()["repositories"], json!(["acme/zeta"]));
        assert!(r.header("link").is_some());
        assert_eq!(
            Client::anonymous(&s).get("/v2/_catalog").json()["repositories"],
            json!([])
        );

        // Referrers, end-12a/b: an artifact with a subject is listed under it.
        let subject = digest(&img.manifest);
        let empty = b"{}".to_vec();
        c.push_blob(repo, &empty);
        let sbom = b"an sbom".to_vec();
        c.push_blob(repo, &sbom);
        let artifact = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": "application/vnd.example.sbom",
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": digest(&empty), "size": 2},
            "layers": [{"mediaType": "text/plain", "digest": digest(&sbom), "size": sbom.len()}],
            "subject": {"mediaType": OCI_MANIFEST, "digest": subject, "size": img.manifest.len()},
            "annotations": {"org.example": "yes"},
        })
        .to_string()
        .into_bytes();
        let ad = digest(&artifact);
        let pushed = c.put_manifest(repo, &ad, OCI_MANIFEST, &artifact);
        assert_eq!(pushed.status, 201, "{}", pushed.text());
        assert_eq!(pushed.header("oci-subject"), Some(subject.as_str()));
        let r = c.get(&format!("/v2/{repo}/referrers/{subject}"));
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), Some(OCI_INDEX));
        let index = r.json();
        assert_eq!(index["mediaType"], OCI_INDEX);
        assert_eq!(index["manifests"].as_array().unwrap().len(), 1);
        let referrer = &index["manifests"][0];
        assert_eq!(referrer["digest"], ad.as_str());
        assert_eq!(referrer["artifactType"], "application/vnd.example.sbom");
        assert_eq!(referrer["size"], artifact.len());
        assert_eq!(referrer["annotations"]["org.example"], "yes");
        let filtered = c.get(&format!(
            "/v2/{repo}/referrers/{subject}?artifactType=other"
        ));
        assert_eq!(filtered.json()["manifests"], json!([]));
        assert_eq!(filtered.header("oci-filters-applied"), Some("artifactType"));

        // An index naming a manifest the repository lacks is refused; one naming its own is kept.
        let index_body = |d: &str| {
            json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
                {"mediaType": OCI_MANIFEST, "digest": d, "size": 1, "platform": {"architecture": "amd64", "os": "linux"}}
            ]})
            .to_string()
            .into_bytes()
        };
        let r = c.put_manifest(repo, "multi", OCI_INDEX, &index_body(&digest(b"absent")));
        assert_eq!(error_code(&r), "MANIFEST_BLOB_UNKNOWN");
        let r = c.put_manifest(repo, "multi", OCI_INDEX, &index_body(&subject));
        assert_eq!(r.status, 201, "{}", r.text());
        assert_eq!(
            c.get(&format!("/v2/{repo}/manifests/multi"))
                .header("content-type"),
            Some(OCI_INDEX)
        );

        // Content management, end-9: deleting a tag leaves the manifest...
        assert_eq!(
            c.call("DELETE", &format!("/v2/{repo}/manifests/c"), &[], None)
                .status,
            202
        );
        assert_eq!(c.get(&format!("/v2/{repo}/manifests/c")).status, 404);
        assert_eq!(
            c.get(&format!("/v2/{repo}/manifests/{subject}")).status,
            200
        );
        // ...deleting the manifest takes its tags with it.
        let r = c.call(
            "DELETE",
            &format!("/v2/{repo}/manifests/{subject}"),
            &[],
            None,
        );
        assert_eq!(r.status, 202, "{}", r.text());
        let r = c.get(&format!("/v2/{repo}/manifests/{subject}"));
        assert_eq!(
            (r.status, error_code(&r).as_str()),
            (404, "MANIFEST_UNKNOWN")
        );
        assert_eq!(c.get(&format!("/v2/{repo}/manifests/a")).status, 404);
        let r = c.call(
            "DELETE",
            &format!("/v2/{repo}/manifests/{subject}"),
            &[],
            None,
        );
        assert_eq!(r.status, 404);
        // end-10: the blobs the repository holds are deleted on their own.
        let layer = digest(&img.layer);
        assert_eq!(
            c.call("DELETE", &format!("/v2/{repo}/blobs/{layer}"), &[], None)
                .status,
            202
        );
        let r = c.get(&format!("/v2/{repo}/blobs/{layer}"));
        assert_eq!((r.status, error_code(&r).as_str()), (404, "BLOB_UNKNOWN"));
        assert_eq!(
            c.call("DELETE", &format!("/v2/{repo}/blobs/{layer}"), &[], None)
                .status,
            404
        );
        // Other repositories holding the same content keep it.
        let other = c.get("/v2/other/app/manifests/x");
        assert_eq!(other.status, 200);
    }
}

/// Writes an OCI image layout (the layout file, `index.json` naming `tag`, the blobs) of `img`.
fn write_layout(dir: &Path, img: &Image, tag: &str) {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    for bytes in [&img.config, &img.layer, &img.manifest] {
        std::fs::write(blobs.join(sha256_hex(bytes)), bytes).unwrap();
    }
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let index = json!({"schemaVersion": 2, "manifests": [{
        "mediaType": OCI_MANIFEST, "digest": digest(&img.manifest), "size": img.manifest.len(),
        "annotations": {"org.opencontainers.image.ref.name": tag},
    }]});
    std::fs::write(dir.join("index.json"), index.to_string()).unwrap();
}

fn skopeo(args: &[&str]) -> std::process::Output {
    let out = Command::new("skopeo")
        .arg("--insecure-policy")
        .args(args)
        .output()
        .expect("skopeo is installed (scripts/services.sh installs it)");
    assert!(
        out.status.success(),
        "skopeo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A layer that is a real tar, since skopeo reads what it copies.
/// `docker manifest inspect --insecure REFERENCE` with its own config folder, holding
/// `user:password` for `host` when given (`docker login` would need an engine). Fails the test
/// only when the CLI cannot run; the caller reads the outcome.
fn docker_manifest_inspect(
    host: &str,
    reference: &str,
    credentials: Option<&str>,
) -> std::process::Output {
    use base64::Engine as _;
    let docker = std::env::var("CARGOMAN_TEST_DOCKER")
        .expect("CARGOMAN_TEST_DOCKER is not set: run the suite with ./scripts/test.sh");
    let config = tempfile::tempdir().unwrap();
    if let Some(credentials) = credentials {
        let auth = base64::engine::general_purpose::STANDARD.encode(credentials);
        let file = json!({"auths": {host: {"auth": auth}}});
        std::fs::write(config.path().join("config.json"), file.to_string()).unwrap();
    }
    let out = Command::new(docker)
        .args(["manifest", "inspect", "--insecure", reference])
        .env("DOCKER_CONFIG", config.path())
        .env("HOME", config.path())
        .output()
        .expect("docker runs");
    if credentials.is_some() {
        assert!(
            out.status.success(),
            "docker manifest inspect {reference}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out
}

fn tar_layer(dir: &Path) -> Vec<u8> {
    let content = dir.join("content");
    std::fs::create_dir_all(&content).unwrap();
    std::fs::write(content.join("hello.txt"), "hello from cargoman\n").unwrap();
    let tar = dir.join("layer.tar");
    let status = Command::new("tar")
        .args(["--sort=name", "--mtime=@0", "--owner=0", "--group=0", "-cf"])
        .arg(&tar)
        .arg("-C")
        .arg(&content)
        .arg(".")
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::read(tar).unwrap()
}

#[test]
fn skopeo_copies_both_ways_inspects_lists_and_deletes() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let host = s.base.trim_start_matches("http://").to_string();
        let creds = format!("admin:{ADMIN}");
        let work = tempfile::tempdir().unwrap();
        let img = image_of(tar_layer(work.path()));
        let src = work.path().join("src");
        write_layout(&src, &img, "v1");

        // OCI layout → registry, through the Bearer token flow (as is: skopeo would compress
        // the uncompressed layer otherwise, changing the manifest).
        let dest = format!("docker://{host}/acme/tools/hello:v1");
        skopeo(&[
            "copy",
            "--preserve-digests",
            "--dest-tls-verify=false",
            "--dest-creds",
            &creds,
            &format!("oci:{}:v1", src.display()),
            &dest,
        ]);
        let c = Client::admin(&s);
        assert_eq!(
            c.get("/v2/acme/tools/hello/manifests/v1").body,
            img.manifest,
            "{backend:?}: stored byte for byte"
        );
        // A second tag of the same image: the blobs are known, only the manifest goes.
        skopeo(&[
            "copy",
            "--dest-tls-verify=false",
            "--dest-creds",
            &creds,
            &format!("oci:{}:v1", src.display()),
            &format!("docker://{host}/acme/tools/hello:v2"),
        ]);

        let inspect = skopeo(&["inspect", "--tls-verify=false", "--creds", &creds, &dest]);
        let inspected: Value = serde_json::from_slice(&inspect.stdout).unwrap();
        assert_eq!(inspected["Digest"], digest(&img.manifest).as_str());
        assert_eq!(inspected["Architecture"], "amd64");
        assert_eq!(inspected["Layers"], json!([digest(&img.layer)]));

        let tags = skopeo(&[
            "list-tags",
            "--tls-verify=false",
            "--creds",
            &creds,
            &format!("docker://{host}/acme/tools/hello"),
        ]);
        let tags: Value = serde_json::from_slice(&tags.stdout).unwrap();
        assert_eq!(tags["Tags"], json!(["v1", "v2"]));

        // Registry → OCI layout: the same manifest and blobs come back.
        let back = work.path().join("back");
        skopeo(&[
            "copy",
            "--preserve-digests",
            "--dest-oci-accept-uncompressed-layers",
            "--src-tls-verify=false",
            "--src-creds",
            &creds,
            &dest,
            &format!("oci:{}:v1", back.display()),
        ]);
        for bytes in [&img.config, &img.layer, &img.manifest] {
            let path = back.join("blobs/sha256").join(sha256_hex(bytes));
            assert_eq!(&std::fs::read(&path).unwrap(), bytes, "{}", path.display());
        }

        // A public owner's image is read without credentials (anonymous token).
        let public = api(
            &s,
            "PATCH",
            "/api/v1/owners/acme",
            Some(&json!({"visibility": "public"})),
        );
        assert_eq!(public.status, 200);
        skopeo(&["inspect", "--tls-verify=false", "--no-creds", &dest]);

        // skopeo delete wants exactly 202; the manifest and its tags are gone afterwards.
        skopeo(&[
            "delete",
            "--tls-verify=false",
            "--creds",
            &creds,
            &format!("docker://{host}/acme/tools/hello@{}", digest(&img.manifest)),
        ]);
        assert_eq!(c.get("/v2/acme/tools/hello/manifests/v1").status, 404);
    }
}

#[test]
fn customers_pull_the_tags_they_are_granted() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let c = Client::admin(&s);
        let v1 = image(1);
        push_image(&c, "acme/app", "v1.0", &v1);
        push_image(&c, "acme/app", "v1.1", &v1);
        let v2 = push_image(&c, "acme/app", "v2.0", &image(2));
        push_image(&c, "acme/secret", "v1.0", &image(3));
        let r = api(
            &s,
            "POST",
            "/api/v1/customers",
            Some(&json!({"name": "Shop"})),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        let (id, token) = {
            let data = &r.json()["data"];
            (
                data["id"].as_str().unwrap().to_string(),
                data["token"].as_str().unwrap().to_string(),
            )
        };
        let grant =
            json!({"format": "container", "owner": "acme", "package": "app", "constraint": "v1.*"});
        let r = api(
            &s,
            "POST",
            &format!("/api/v1/customers/{id}/packages"),
            Some(&grant),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        let customer = Client {
            s: &s,
            auth: Some(format!("ci:{token}")),
        };

        // The grant's constraint is a glob over tags: listed and pulled by tag accordingly.
        let tags = customer.get("/v2/acme/app/tags/list");
        assert_eq!(tags.status, 200, "{backend:?}: {}", tags.text());
        assert_eq!(tags.json()["tags"], json!(["v1.0", "v1.1"]));
        assert_eq!(
            customer.get("/v2/acme/app/manifests/v1.1").body,
            v1.manifest
        );
        let r = customer.get("/v2/acme/app/manifests/v2.0");
        assert_eq!((r.status, error_code(&r).as_str()), (403, "DENIED"));
        // Content addresses name no tag: the granted repository's content is read by digest.
        assert_eq!(
            customer.get(&format!("/v2/acme/app/manifests/{v2}")).status,
            200
        );
        assert_eq!(
            customer
                .get(&format!("/v2/acme/app/blobs/{}", digest(&v1.layer)))
                .body,
            v1.layer
        );
        // The catalog shows the granted repository only.
        let catalog = customer.get("/v2/_catalog");
        assert_eq!(catalog.json()["repositories"], json!(["acme/app"]));
        // Nothing outside the grant, and no pushing.
        for path in [
            "/v2/acme/secret/manifests/v1.0",
            "/v2/acme/secret/tags/list",
        ] {
            assert_eq!(customer.get(path).status, 403, "{path}");
        }
        let r = customer.call("POST", "/v2/acme/app/blobs/uploads/", &[], None);
        assert_eq!((r.status, error_code(&r).as_str()), (403, "DENIED"));

        // skopeo with the customer's token, through the token flow.
        let host = s.base.trim_start_matches("http://");
        let creds = format!("ci:{token}");
        let inspect = skopeo(&[
            "inspect",
            "--tls-verify=false",
            "--creds",
            &creds,
            &format!("docker://{host}/acme/app:v1.0"),
        ]);
        let inspected: Value = serde_json::from_slice(&inspect.stdout).unwrap();
        assert_eq!(inspected["Digest"], digest(&v1.manifest).as_str());
    }
}

/// Push, end-5 and end-13 across a restart: the chunks received are kept (stored segments and
/// the saved hash state), so the upload goes on from where it stood without resending them.
#[test]
fn a_chunked_upload_resumes_after_a_restart() {
    for backend in backends() {
        let mut s = TestServer::start(backend);
        let blob = crate::common::pseudo_random(200_000, 11);
        let d = digest(&blob);
        let location = {
            let c = Client::admin(&s);
            let started = c.call("POST", "/v2/acme/app/blobs/uploads/", &[], None);
            let location = started.header("location").unwrap().to_string();
            let first = c.call(
                "PATCH",
                &location,
                &["-H", "Content-Range: 0-99999"],
                Some(&blob[..100_000]),
            );
            assert_eq!(first.status, 202, "{backend:?}: {}", first.text());
            first.header("location").unwrap().to_string()
        };
        s.restart();
        let c = Client::admin(&s);
        let status = c.get(&location);
        assert_eq!(status.status, 204, "{backend:?}: {}", status.text());
        assert_eq!(status.header("range"), Some("0-99999"));
        let second = c.call(
            "PATCH",
            &location,
            &["-H", "Content-Range: 100000-199999"],
            Some(&blob[100_000..]),
        );
        assert_eq!(second.status, 202, "{}", second.text());
        let done = c.call("PUT", &format!("{location}?digest={d}"), &[], None);
        assert_eq!(done.status, 201, "{}", done.text());
        assert_eq!(c.get(&format!("/v2/acme/app/blobs/{d}")).body, blob);
    }
}

/// A container tool (`buildah`, `podman`) with its own storage under `dir`, no global state.
fn container_tool(tool: &str, dir: &Path, args: &[&str]) -> String {
    std::fs::create_dir_all(dir).unwrap();
    let policy = dir.join("policy.json");
    std::fs::write(
        &policy,
        r#"{"default":[{"type":"insecureAcceptAnything"}]}"#,
    )
    .unwrap();
    let mut command = Command::new(tool);
    command
        .arg("--root")
        .arg(dir.join("root"))
        .arg("--runroot")
        .arg(dir.join("run"))
        .args(["--storage-driver", "vfs"])
        .env("HOME", dir)
        .env("XDG_RUNTIME_DIR", dir.join("xdg"));
    let (command_name, rest) = args.split_first().expect("a command");
    command.arg(command_name);
    // The signature policy is an option of the commands that read or write images, before
    // their arguments.
    if ["from", "commit", "push", "pull"].contains(command_name) {
        command.arg("--signature-policy").arg(&policy);
    }
    command.args(rest);
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{tool} is installed (scripts/services.sh installs it): {e}"));
    assert!(
        out.status.success(),
        "{tool} {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn buildah_builds_and_pushes_podman_pulls_and_pushes() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let host = s.base.trim_start_matches("http://").to_string();
        let creds = format!("admin:{ADMIN}");
        let work = tempfile::tempdir().unwrap();
        let builder = work.path().join("buildah");
        let hello = work.path().join("hello.txt");
        std::fs::write(&hello, "built by buildah\n").unwrap();

        // buildah: from scratch, a file, commit, push (token flow, OCI manifest).
        let buildah = |args: &[&str]| container_tool("buildah", &builder, args);
        let ctr = buildah(&["from", "scratch"]);
        buildah(&["copy", &ctr, hello.to_str().unwrap(), "/hello.txt"]);
        buildah(&[
            "config",
            "--cmd",
            "/hello",
            "--label",
            "org.example=cargoman",
            &ctr,
        ]);
        buildah(&["commit", &ctr, "localhost/built:1"]);
        let image = format!("{host}/acme/built:1");
        buildah(&[
            "push",
            "--tls-verify=false",
            "--creds",
            &creds,
            "localhost/built:1",
            &format!("docker://{image}"),
        ]);
        let c = Client::admin(&s);
        let manifest = c.get("/v2/acme/built/manifests/1");
        assert_eq!(manifest.status, 200, "{backend:?}");

        // podman: pull it into a store of its own, tag it, push it under another name.
        let puller = work.path().join("podman");
        let podman = |args: &[&str]| container_tool("podman", &puller, args);
        podman(&["pull", "--tls-verify=false", "--creds", &creds, &image]);
        let label = podman(&[
            "image",
            "inspect",
            "--format",
            "{{index .Labels \"org.example\"}}",
            &image,
        ]);
        assert_eq!(label, "cargoman");
        let copy = format!("{host}/acme/copies/built:2");
        podman(&["tag", &image, &copy]);
        podman(&["push", "--tls-verify=false", "--creds", &creds, &copy]);
        let tags = c.get("/v2/acme/copies/built/tags/list");
        assert_eq!(tags.json()["tags"], json!(["2"]));
        // The layers were mounted or re-sent; either way the same content is served there.
        let pushed = c.get("/v2/acme/copies/built/manifests/2").json();
        let layer = pushed["layers"][0]["digest"].as_str().unwrap().to_string();
        assert_eq!(
            c.get(&format!("/v2/acme/copies/built/blobs/{layer}"))
                .status,
            200
        );
    }
}

/// oras-py's side of `oras_pushes_pulls_and_finds_referrers`: an artifact, a second one whose
/// subject is the first, the tags, and a pull of the first; prints what the test checks.
const ORAS_SCRIPT: &str = r#"
import json, os, sys
import oras.client, oras.oci
host, user, password, workdir = sys.argv[1:5]
os.chdir(workdir)
client = oras.client.OrasClient(hostname=host, insecure=True)
client.login(username=user, password=password, hostname=host, tls_verify=False)
with open("sbom.txt", "w") as f:
    f.write("an sbom\n")
client.push(target=f"{host}/acme/artifacts:v1", files=["sbom.txt"],
            manifest_annotations={"org.example": "one"}, do_chunked=True, quiet=True)
subject = oras.oci.Subject.from_manifest(client.get_manifest(f"{host}/acme/artifacts:v1"))
with open("sig.txt", "w") as f:
    f.write("a signature\n")
client.push(target=f"{host}/acme/artifacts:sig", files=["sig.txt"], subject=subject, quiet=True)
pulled = client.pull(target=f"{host}/acme/artifacts:v1", outdir="out")
print(json.dumps({"tags": client.get_tags(f"{host}/acme/artifacts"), "subject": subject.digest,
                  "pulled": [open(p).read() for p in pulled]}))
"#;

#[test]
fn oras_pushes_pulls_and_finds_referrers() {
    let python = std::env::var("CARGOMAN_TEST_ORAS_PYTHON")
        .expect("CARGOMAN_TEST_ORAS_PYTHON is not set: run the suite with ./scripts/test.sh");
    for backend in backends() {
        let s = TestServer::start(backend);
        let host = s.base.trim_start_matches("http://").to_string();
        let work = tempfile::tempdir().unwrap();
        let script = work.path().join("oras_client.py");
        std::fs::write(&script, ORAS_SCRIPT).unwrap();
        let out = Command::new(&python)
            .arg(&script)
            .args([host.as_str(), "admin", ADMIN])
            .arg(work.path())
            .output()
            .expect("oras-py's Python runs");
        assert!(
            out.status.success(),
            "{backend:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let report: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
        assert_eq!(report["tags"], json!(["sig", "v1"]));
        assert_eq!(report["pulled"], json!(["an sbom\n"]));

        // The signature is found through the referrers API under the artifact it signs.
        let subject = report["subject"].as_str().unwrap();
        let c = Client::admin(&s);
        let index = c
            .get(&format!("/v2/acme/artifacts/referrers/{subject}"))
            .json();
        let sig = c.get("/v2/acme/artifacts/manifests/sig");
        let sig_digest = sig.header("docker-content-digest").unwrap();
        assert_eq!(index["manifests"].as_array().unwrap().len(), 1, "{index}");
        assert_eq!(index["manifests"][0]["digest"], sig_digest);
        assert_eq!(sig.json()["subject"]["digest"], subject);
    }
}

/// Push under load: 16 images pushed at once into 4 repositories, all sharing one layer; every
/// manifest is then complete and the layer is served by every repository.
#[test]
fn concurrent_pushes_of_images_sharing_layers() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let shared = crate::common::pseudo_random(1 << 20, 42);
        let pushed: Vec<(String, String, Vec<u8>)> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..16u8)
                .map(|i| {
                    let (s, shared) = (&s, &shared);
                    scope.spawn(move || {
                        let c = Client::admin(s);
                        let repo = format!("acme/load/r{}", i % 4);
                        // Each image has a config of its own, and the one layer.
                        let config = json!({"architecture": "amd64", "os": "linux", "n": i});
                        let img = image_with(config, shared.clone());
                        let tag = format!("t{i}");
                        push_image(&c, &repo, &tag, &img);
                        (repo, tag, img.manifest)
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).collect()
        });
        let c = Client::admin(&s);
        for (repo, tag, manifest) in &pushed {
            let r = c.get(&format!("/v2/{repo}/manifests/{tag}"));
            assert_eq!(&r.body, manifest, "{backend:?} {repo}:{tag}");
        }
        for r in 0..4 {
            let layer = c.get(&format!("/v2/acme/load/r{r}/blobs/{}", digest(&shared)));
            assert_eq!(layer.body, shared, "{backend:?} r{r}");
            let tags = c.get(&format!("/v2/acme/load/r{r}/tags/list")).json();
            assert_eq!(tags["tags"].as_array().unwrap().len(), 4);
        }
    }
}

/// Push and pull of a multi-platform image: an OCI index of two images, copied whole both ways.
#[test]
fn skopeo_copies_a_multi_arch_index() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let host = s.base.trim_start_matches("http://").to_string();
        let creds = format!("admin:{ADMIN}");
        let work = tempfile::tempdir().unwrap();
        let src = work.path().join("src");
        let platforms = ["amd64", "arm64"];
        let images: Vec<Image> = platforms
            .iter()
            .enumerate()
            .map(|(i, arch)| {
                let layer = tar_layer(&work.path().join(arch));
                let config = json!({"architecture": arch, "os": "linux", "config": {}, "n": i,
                    "rootfs": {"type": "layers", "diff_ids": [digest(&layer)]}});
                image_with(config, layer)
            })
            .collect();
        for img in &images {
            write_layout(&src, img, "unused");
        }
        let index = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests":
            images.iter().zip(platforms).map(|(img, arch)| json!({
                "mediaType": OCI_MANIFEST, "digest": digest(&img.manifest), "size": img.manifest.len(),
                "platform": {"architecture": arch, "os": "linux"},
            })).collect::<Vec<_>>()})
        .to_string()
        .into_bytes();
        std::fs::write(src.join("blobs/sha256").join(sha256_hex(&index)), &index).unwrap();
        let layout_index = json!({"schemaVersion": 2, "manifests": [{
            "mediaType": OCI_INDEX, "digest": digest(&index), "size": index.len(),
            "annotations": {"org.opencontainers.image.ref.name": "multi"},
        }]});
        std::fs::write(src.join("index.json"), layout_index.to_string()).unwrap();

        let dest = format!("docker://{host}/acme/multi:1");
        let layout = format!("oci:{}:multi", src.display());
        skopeo(&[
            "copy",
            "--all",
            "--preserve-digests",
            "--dest-tls-verify=false",
            "--dest-creds",
            &creds,
            &layout,
            &dest,
        ]);
        let c = Client::admin(&s);
        let stored = c.get("/v2/acme/multi/manifests/1");
        assert_eq!(stored.body, index, "{backend:?}");
        assert_eq!(stored.header("content-type"), Some(OCI_INDEX));
        for img in &images {
            let child = c.get(&format!(
                "/v2/acme/multi/manifests/{}",
                digest(&img.manifest)
            ));
            assert_eq!(child.body, img.manifest);
        }
        // skopeo picks the platform it is asked for.
        let inspect = skopeo(&[
            "inspect",
            "--override-arch",
            "arm64",
            "--tls-verify=false",
            "--creds",
            &creds,
            &dest,
        ]);
        let inspected: Value = serde_json::from_slice(&inspect.stdout).unwrap();
        assert_eq!(inspected["Architecture"], "arm64");
        // (The digest shown is the index's, the reference's own.)
        assert_eq!(inspected["Digest"], digest(&index).as_str());

        let back = work.path().join("back");
        skopeo(&[
            "copy",
            "--all",
            "--preserve-digests",
            "--dest-oci-accept-uncompressed-layers",
            "--src-tls-verify=false",
            "--src-creds",
            &creds,
            &dest,
            &format!("oci:{}:multi", back.display()),
        ]);
        for bytes in std::iter::once(&index).chain(images.iter().map(|i| &i.manifest)) {
            let path = back.join("blobs/sha256").join(sha256_hex(bytes));
            assert_eq!(&std::fs::read(&path).unwrap(), bytes);
        }
    }
}

/// `docker manifest inspect` (the Docker CLI alone, no engine) reads a Docker manifest list and
/// its children through the token flow, with the credentials of its config file for a private
/// owner, with an anonymous token for a public one, and nothing of a private owner without.
#[test]
fn docker_inspects_a_manifest_list() {
    const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
    for backend in backends() {
        let s = TestServer::start(backend);
        let c = Client::admin(&s);
        let host = s.base.trim_start_matches("http://").to_string();
        let repo = "acme/tool";
        let platforms = ["amd64", "arm64"];
        let mut children = Vec::new();
        for (i, arch) in platforms.iter().enumerate() {
            let layer = crate::common::pseudo_random(2000, i as u8);
            let config = json!({"architecture": arch, "os": "linux", "config": {},
                "rootfs": {"type": "layers", "diff_ids": [digest(&layer)]}})
            .to_string()
            .into_bytes();
            c.push_blob(repo, &config);
            c.push_blob(repo, &layer);
            let manifest = json!({"schemaVersion": 2, "mediaType": DOCKER_MANIFEST,
                "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                    "digest": digest(&config), "size": config.len()},
                "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "digest": digest(&layer), "size": layer.len()}]})
            .to_string()
            .into_bytes();
            let put = c.put_manifest(repo, &digest(&manifest), DOCKER_MANIFEST, &manifest);
            assert_eq!(put.status, 201, "{}", put.text());
            children.push((manifest, config, *arch));
        }
        let list = json!({"schemaVersion": 2, "mediaType": DOCKER_LIST, "manifests":
            children.iter().map(|(manifest, _, arch)| json!({
                "mediaType": DOCKER_MANIFEST, "digest": digest(manifest), "size": manifest.len(),
                "platform": {"architecture": arch, "os": "linux"},
            })).collect::<Vec<_>>()})
        .to_string()
        .into_bytes();
        let put = c.put_manifest(repo, "1", DOCKER_LIST, &list);
        assert_eq!(put.status, 201, "{}", put.text());

        let creds = format!("admin:{ADMIN}");
        let reference = format!("{host}/{repo}:1");
        let inspected = docker_manifest_inspect(&host, &reference, Some(&creds));
        let inspected: Value = serde_json::from_slice(&inspected.stdout).unwrap();
        assert_eq!(inspected["mediaType"], DOCKER_LIST, "{backend:?}");
        let listed = inspected["manifests"].as_array().unwrap();
        assert_eq!(listed.len(), 2, "{inspected}");
        for (entry, (manifest, _, arch)) in listed.iter().zip(&children) {
            assert_eq!(entry["digest"], digest(manifest).as_str());
            assert_eq!(entry["size"], manifest.len());
            assert_eq!(entry["platform"]["architecture"], *arch);
        }
        let (manifest, config, _) = &children[1];
        let child_ref = format!("{host}/{repo}@{}", digest(manifest));
        let child = docker_manifest_inspect(&host, &child_ref, Some(&creds));
        let child: Value = serde_json::from_slice(&child.stdout).unwrap();
        assert_eq!(child["config"]["digest"], digest(config).as_str());

        let refused = docker_manifest_inspect(&host, &reference, None);
        assert!(!refused.status.success());
        let said = String::from_utf8_lossy(&refused.stderr).to_lowercase();
        assert!(said.contains("unauthorized"), "{said}");
        let public = api(
            &s,
            "PATCH",
            "/api/v1/owners/acme",
            Some(&json!({"visibility": "public"})),
        );
        assert_eq!(public.status, 200, "{}", public.text());
        let anonymous = docker_manifest_inspect(&host, &reference, None);
        assert!(
            anonymous.status.success(),
            "{}",
            String::from_utf8_lossy(&anonymous.stderr)
        );
        let anonymous: Value = serde_json::from_slice(&anonymous.stdout).unwrap();
        assert_eq!(anonymous, inspected);
    }
}

/// Garbage collection (`cargoman gc`): layers no manifest names are released once older than
/// the grace period, those of a push still within it stay, and an image's own stay whole.
#[test]
fn gc_collects_layers_no_manifest_names() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let c = Client::admin(&s);
        let img = image(21);
        let manifest = push_image(&c, "acme/app", "v1", &img);
        let orphan = c.push_blob("acme/app", b"pushed, never named");
        let gc = |grace: &str| {
            let out = s.cli(&["--json", "gc", "--grace-seconds", grace]);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            serde_json::from_slice::<Value>(&out.stdout).unwrap()
        };
        // Within the grace period (a push in progress), nothing goes.
        assert_eq!(
            gc("3600")["released_by_format"]["container"],
            0,
            "{backend:?}"
        );
        assert_eq!(c.get(&format!("/v2/acme/app/blobs/{orphan}")).status, 200);
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let report = gc("0");
        assert_eq!(report["released_by_format"]["container"], 1, "{report}");
        assert_eq!(report["blob_rows_removed"], 1, "{report}");
        assert_eq!(c.get(&format!("/v2/acme/app/blobs/{orphan}")).status, 404);
        for blob in [&img.config, &img.layer] {
            assert_eq!(
                c.get(&format!("/v2/acme/app/blobs/{}", digest(blob))).body,
                *blob
            );
        }
        assert_eq!(c.get("/v2/acme/app/manifests/v1").body, img.manifest);

        // Once its manifest is deleted, an image's layers are garbage too.
        let r = c.call(
            "DELETE",
            &format!("/v2/acme/app/manifests/{manifest}"),
            &[],
            None,
        );
        assert_eq!(r.status, 202);
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let report = gc("0");
        assert_eq!(report["released_by_format"]["container"], 2, "{report}");
        assert_eq!(report["blob_rows_removed"], 2, "{report}");
        for blob in [&img.config, &img.layer] {
            assert_eq!(
                c.get(&format!("/v2/acme/app/blobs/{}", digest(blob)))
                    .status,
                404
            );
        }
        let fsck = s.cli(&["fsck"]);
        assert!(
            fsck.status.success(),
            "{}",
            String::from_utf8_lossy(&fsck.stdout)
        );
    }
}

/// Pushes racing `gc` with a one-second grace period: each push waits about that long between
/// its layers and its manifest, so collections run while its layers are held by the repository
/// and named by no manifest yet. Whatever the interleaving, a manifest the registry accepted has
/// every blob it names, readable, afterwards; a push whose layer went before its manifest came is
/// refused with `MANIFEST_BLOB_UNKNOWN` (the client pushes the layer again), never accepted with
/// a hole.
#[test]
fn gc_racing_pushes_never_takes_a_blob_a_manifest_names() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;
    for backend in backends() {
        let s = TestServer::start(backend);
        let c = Client::admin(&s);
        let pushing = AtomicBool::new(true);
        let (accepted, refused, collections) = std::thread::scope(|scope| {
            let collector = scope.spawn(|| {
                let mut runs = 0;
                while pushing.load(Ordering::Relaxed) {
                    let out = s.cli(&["--json", "gc", "--grace-seconds", "1"]);
                    assert!(
                        out.status.success(),
                        "{}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                    runs += 1;
                }
                runs
            });
            // Stops the collector however the pushes end (a failed assertion included).
            struct Stop<'a>(&'a AtomicBool);
            impl Drop for Stop<'_> {
                fn drop(&mut self) {
                    self.0.store(false, Ordering::Relaxed);
                }
            }
            let stop = Stop(&pushing);
            let pushers: Vec<_> = (0..4u8)
                .map(|pusher| {
                    let c = &c;
                    scope.spawn(move || {
                        let (mut accepted, mut refused) = (Vec::new(), 0);
                        for n in 0..4u8 {
                            let i = pusher * 4 + n;
                            let img = image(100 + i);
                            let repo = format!("acme/race{pusher}");
                            c.push_blob(&repo, &img.config);
                            c.push_blob(&repo, &img.layer);
                            let wait = 900 + u64::from(i) * 37 % 400;
                            std::thread::sleep(Duration::from_millis(wait));
                            let tag = format!("t{i}");
                            let r = c.put_manifest(&repo, &tag, OCI_MANIFEST, &img.manifest);
                            match r.status {
                                201 => accepted.push((repo, tag, img)),
                                400 => {
                                    assert_eq!(error_code(&r), "MANIFEST_BLOB_UNKNOWN");
                                    refused += 1;
                                }
                                other => panic!("manifest push answered {other}: {}", r.text()),
                            }
                        }
                        (accepted, refused)
                    })
                })
                .collect();
            let (mut accepted, mut refused) = (Vec::new(), 0);
            for pusher in pushers {
                let (a, r) = pusher.join().unwrap();
                accepted.extend(a);
                refused += r;
            }
            drop(stop);
            (accepted, refused, collector.join().unwrap())
        });
        assert!(
            collections > 1,
            "gc ran {collections} times during the pushes"
        );
        eprintln!(
            "{backend:?}: {} manifests accepted, {refused} refused, {collections} collections",
            accepted.len()
        );
        // One more collection once the pushes are over takes nothing a manifest names.
        let out = s.cli(&["gc", "--grace-seconds", "1"]);
        assert!(out.status.success());
        for (repo, tag, img) in &accepted {
            assert_eq!(
                c.get(&format!("/v2/{repo}/manifests/{tag}")).body,
                img.manifest
            );
            for blob in [&img.config, &img.layer] {
                let r = c.get(&format!("/v2/{repo}/blobs/{}", digest(blob)));
                assert_eq!(r.status, 200, "{backend:?} {repo}:{tag}");
                assert_eq!(&r.body, blob);
            }
        }
        let fsck = s.cli(&["fsck"]);
        assert!(
            fsck.status.success(),
            "{}",
            String::from_utf8_lossy(&fsck.stdout)
        );
    }
}

/// The conformance workflows' chunked variants (Push, end-5/end-6/end-13): a last chunk sent
/// with `PUT` and `Content-Range`, chunks out of order (skipping ahead or back to the start,
/// by `PATCH` or by `PUT`) answered 416 and recovered through the upload's status, and the
/// corner cases of reads: ranges past the end, a mount without `from`, an empty repository.
#[test]
fn chunked_uploads_out_of_order_and_read_corners() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let c = Client::admin(&s);
        let repo = "acme/chunks";
        let blob = crate::common::pseudo_random(3 * 1000 - 5, 7);
        let d = digest(&blob);
        let chunks = [(0, 999), (1000, 1999), (2000, blob.len() - 1)];
        let mut location = c
            .call(
                "POST",
                &format!("/v2/{repo}/blobs/uploads/"),
                &["-H", "Content-Length: 0"],
                None,
            )
            .header("location")
            .unwrap()
            .to_string();
        for (i, (start, end)) in chunks.into_iter().enumerate() {
            // Out of order first: the next chunk after this one, or the first again.
            let (bad_start, bad_end) = chunks[(i + 1) % chunks.len()];
            let last = i == chunks.len() - 1;
            let range = |a: usize, b: usize| format!("Content-Range: {a}-{b}");
            let bad = if bad_end == blob.len() - 1 {
                c.call(
                    "PUT",
                    &format!("{location}?digest={d}"),
                    &["-H", &range(bad_start, bad_end)],
                    Some(&blob[bad_start..=bad_end]),
                )
            } else {
                c.call(
                    "PATCH",
                    &location,
                    &["-H", &range(bad_start, bad_end)],
                    Some(&blob[bad_start..=bad_end]),
                )
            };
            assert_eq!(bad.status, 416, "{backend:?} chunk {i}: {}", bad.text());
            let status = c.get(&location);
            assert_eq!(status.status, 204);
            let expected = if start == 0 {
                "0-0".to_string()
            } else {
                format!("0-{}", start - 1)
            };
            assert_eq!(status.header("range"), Some(expected.as_str()));
            location = status.header("location").unwrap().to_string();
            let good = if last {
                c.call(
                    "PUT",
                    &format!("{location}?digest={d}"),
                    &["-H", &range(start, end)],
                    Some(&blob[start..=end]),
                )
            } else {
                c.call(
                    "PATCH",
                    &location,
                    &["-H", &range(start, end)],
                    Some(&blob[start..=end]),
                )
            };
            assert_eq!(good.status, if last { 201 } else { 202 }, "{}", good.text());
            location = good.header("location").unwrap().to_string();
        }
        assert_eq!(c.get(&format!("/v2/{repo}/blobs/{d}")).body, blob);

        // Pull, end-2 ranges: from an offset, the tail, past the end (all of it that exists),
        // beyond the end (416).
        let get = |range: &str| {
            c.call(
                "GET",
                &format!("/v2/{repo}/blobs/{d}"),
                &["-H", &format!("Range: bytes={range}")],
                None,
            )
        };
        let r = get("500-");
        assert_eq!((r.status, r.body.as_slice()), (206, &blob[500..]));
        let r = get("-500");
        assert_eq!(
            (r.status, r.body.as_slice()),
            (206, &blob[blob.len() - 500..])
        );
        let r = get("2000-5000");
        assert_eq!((r.status, r.body.as_slice()), (206, &blob[2000..]));
        assert_eq!(
            r.header("content-range"),
            Some(format!("bytes 2000-{}/{}", blob.len() - 1, blob.len()).as_str())
        );
        assert_eq!(get("5000-10000").status, 416);

        // Push, end-11 without `from`: an upload session (202), as a registry that does not
        // guess the source answers.
        let r = c.call(
            "POST",
            &format!("/v2/acme/other/blobs/uploads/?mount={d}"),
            &[],
            None,
        );
        assert_eq!(r.status, 202, "{}", r.text());

        // Content discovery on a repository with nothing: referrers are an empty index, tags
        // are unknown (404 NAME_UNKNOWN, which the workflow accepts).
        let subject = digest(b"nothing refers to this");
        let r = c.get(&format!("/v2/acme/empty/referrers/{subject}"));
        assert_eq!((r.status, r.json()["manifests"].clone()), (200, json!([])));
        let r = c.get("/v2/acme/empty/tags/list");
        assert_eq!((r.status, error_code(&r).as_str()), (404, "NAME_UNKNOWN"));
    }
}

fn digest512(bytes: &[u8]) -> String {
    format!("sha512:{}", cargoman::blobs::digest::sha512_hex(bytes))
}

/// SHA-512 digests (the conformance workflows' "sha512" variants): blobs pushed monolithically
/// and in parts, checked, served, mounted and deleted by their SHA-512; a manifest of such
/// blobs pushed, pulled and deleted by its own SHA-512; a wrong SHA-512 keeps nothing.
#[test]
fn sha512_digests() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let c = Client::admin(&s);
        let repo = "acme/five12";
        let layer = crate::common::pseudo_random(40_000, 12);
        let config = br#"{"architecture":"amd64","os":"linux"}"#.to_vec();
        let (dl, dc) = (digest512(&layer), digest512(&config));

        // Monolithic.
        let r = c.call(
            "POST",
            &format!("/v2/{repo}/blobs/uploads/?digest={dc}"),
            &[],
            Some(&config),
        );
        assert_eq!(r.status, 201, "{backend:?}: {}", r.text());
        assert_eq!(r.header("docker-content-digest"), Some(dc.as_str()));
        // In parts.
        let location = c
            .call("POST", &format!("/v2/{repo}/blobs/uploads/"), &[], None)
            .header("location")
            .unwrap()
            .to_string();
        let part = c.call(
            "PATCH",
            &location,
            &["-H", "Content-Range: 0-19999"],
            Some(&layer[..20_000]),
        );
        let location = part.header("location").unwrap().to_string();
        let done = c.call(
            "PUT",
            &format!("{location}?digest={dl}"),
            &["-H", "Content-Range: 20000-39999"],
            Some(&layer[20_000..]),
        );
        assert_eq!(done.status, 201, "{}", done.text());
        assert_eq!(
            done.header("location"),
            Some(format!("/v2/{repo}/blobs/{dl}").as_str())
        );
        let r = c.get(&format!("/v2/{repo}/blobs/{dl}"));
        assert_eq!(
            (r.status, r.header("docker-content-digest")),
            (200, Some(dl.as_str()))
        );
        assert_eq!(r.body, layer);
        assert_eq!(
            c.get(&format!("/v2/{repo}/blobs/{}", digest(&layer))).body,
            layer
        );
        let head = c.call("HEAD", &format!("/v2/{repo}/blobs/{dc}"), &[], None);
        assert_eq!(head.status, 200);

        // Wrong SHA-512, either way: 400 DIGEST_INVALID and the content is not kept.
        let wrong = digest512(b"not this");
        let r = c.call(
            "POST",
            &format!("/v2/{repo}/blobs/uploads/?digest={wrong}"),
            &[],
            Some(b"other content"),
        );
        assert_eq!((r.status, error_code(&r).as_str()), (400, "DIGEST_INVALID"));
        let location = c
            .call("POST", &format!("/v2/{repo}/blobs/uploads/"), &[], None)
            .header("location")
            .unwrap()
            .to_string();
        let r = c.call(
            "PUT",
            &format!("{location}?digest={wrong}"),
            &[],
            Some(b"other content"),
        );
        assert_eq!((r.status, error_code(&r).as_str()), (400, "DIGEST_INVALID"));
        let r = c.get(&format!("/v2/{repo}/blobs/{}", digest(b"other content")));
        assert_eq!(r.status, 404);

        // A manifest of SHA-512 descriptors, pushed and pulled by its own SHA-512.
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": dc, "size": config.len()},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": dl, "size": layer.len()}],
        })
        .to_string()
        .into_bytes();
        let dm = digest512(&manifest);
        let r = c.put_manifest(repo, &format!("{dm}?tag=v512"), OCI_MANIFEST, &manifest);
        assert_eq!(r.status, 201, "{}", r.text());
        assert_eq!(r.header("docker-content-digest"), Some(dm.as_str()));
        let r = c.get(&format!("/v2/{repo}/manifests/{dm}"));
        assert_eq!(
            (r.status, r.header("docker-content-digest")),
            (200, Some(dm.as_str()))
        );
        assert_eq!(r.body, manifest);
        // Its tags answer with the digest it was pushed under, pushed or pulled by tag.
        let by_tag = c.get(&format!("/v2/{repo}/manifests/v512"));
        assert_eq!(by_tag.body, manifest);
        assert_eq!(by_tag.header("docker-content-digest"), Some(dm.as_str()));
        let r = c.put_manifest(repo, "again", OCI_MANIFEST, &manifest);
        assert_eq!(r.header("docker-content-digest"), Some(dm.as_str()));
        let wrong_manifest = c.put_manifest(repo, &wrong, OCI_MANIFEST, &manifest);
        assert_eq!(error_code(&wrong_manifest), "DIGEST_INVALID");

        // Mounted elsewhere, deleted here, by SHA-512.
        let r = c.call(
            "POST",
            &format!("/v2/acme/elsewhere/blobs/uploads/?mount={dl}&from={repo}"),
            &[],
            None,
        );
        assert_eq!(r.status, 201, "{}", r.text());
        let r = c.call("DELETE", &format!("/v2/{repo}/manifests/{dm}"), &[], None);
        assert_eq!(r.status, 202, "{}", r.text());
        assert_eq!(c.get(&format!("/v2/{repo}/manifests/{dm}")).status, 404);
        let r = c.call("DELETE", &format!("/v2/{repo}/blobs/{dl}"), &[], None);
        assert_eq!(r.status, 202, "{}", r.text());
        assert_eq!(c.get(&format!("/v2/{repo}/blobs/{dl}")).status, 404);
        assert_eq!(c.get(&format!("/v2/acme/elsewhere/blobs/{dl}")).body, layer);
    }
}

/// With `GC_COLLECT_UNTAGGED`, garbage collection also removes the manifests no tag points at,
/// unless a kept index names them or they refer to a kept manifest; their layers go with them.
#[test]
fn gc_collects_untagged_manifests_when_asked() {
    for backend in backends() {
        let s = TestServer::start_with(backend, &[("GC_COLLECT_UNTAGGED", "true")]);
        let c = Client::admin(&s);
        let repo = "acme/app";
        let tagged = image(31);
        push_image(&c, repo, "v1", &tagged);
        // Untagged: pushed by digest only.
        let loose = image(32);
        c.push_blob(repo, &loose.config);
        c.push_blob(repo, &loose.layer);
        let loose_digest = digest(&loose.manifest);
        assert_eq!(
            c.put_manifest(repo, &loose_digest, OCI_MANIFEST, &loose.manifest)
                .status,
            201
        );
        // Untagged but named by a tagged index.
        let child = image(33);
        c.push_blob(repo, &child.config);
        c.push_blob(repo, &child.layer);
        let child_digest = digest(&child.manifest);
        assert_eq!(
            c.put_manifest(repo, &child_digest, OCI_MANIFEST, &child.manifest)
                .status,
            201
        );
        let index = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
            {"mediaType": OCI_MANIFEST, "digest": child_digest, "size": child.manifest.len()}]})
        .to_string()
        .into_bytes();
        assert_eq!(c.put_manifest(repo, "multi", OCI_INDEX, &index).status, 201);
        // Untagged but a referrer of the tagged image.
        let empty = b"{}".to_vec();
        c.push_blob(repo, &empty);
        let referrer = json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "artifactType": "application/vnd.example.sig",
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": digest(&empty), "size": 2},
            "layers": [{"mediaType": "application/vnd.oci.empty.v1+json", "digest": digest(&empty), "size": 2}],
            "subject": {"mediaType": OCI_MANIFEST, "digest": digest(&tagged.manifest), "size": tagged.manifest.len()}})
        .to_string()
        .into_bytes();
        let referrer_digest = digest(&referrer);
        assert_eq!(
            c.put_manifest(repo, &referrer_digest, OCI_MANIFEST, &referrer)
                .status,
            201
        );

        std::thread::sleep(std::time::Duration::from_millis(1100));
        let out = s.cli(&["--json", "gc", "--grace-seconds", "0"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        // The loose manifest (its bytes go with it), then the holds on its config and layer,
        // whose blobs gc's own pass removes.
        assert_eq!(
            report["released_by_format"]["container"], 3,
            "{backend:?}: {report}"
        );
        assert_eq!(report["blob_rows_removed"], 2, "{report}");

        let r = c.get(&format!("/v2/{repo}/manifests/{loose_digest}"));
        assert_eq!(r.status, 404, "{backend:?}");
        for blob in [&loose.config, &loose.layer] {
            assert_eq!(
                c.get(&format!("/v2/{repo}/blobs/{}", digest(blob))).status,
                404
            );
        }
        for kept in [&child_digest, &referrer_digest, &digest(&tagged.manifest)] {
            assert_eq!(
                c.get(&format!("/v2/{repo}/manifests/{kept}")).status,
                200,
                "{kept}"
            );
        }
        assert_eq!(
            c.get(&format!("/v2/{repo}/blobs/{}", digest(&child.layer)))
                .body,
            child.layer
        );
    }
}
