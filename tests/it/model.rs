//! The core model the next formats build on, driven through `Registry` on the server's own
//! database and storage (no route uses it yet): tags, blobs held without a file row (`gc` and
//! `fsck` count them), serving a blob by digest, and resumable upload sessions.

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use bytes::Bytes;

use cargoman::blobs::PutOptions;
use cargoman::config::Config;
use cargoman::error::Error;
use cargoman::maintenance;
use cargoman::model::blob_refs::{self, Holder};
use cargoman::model::packages::{File, FileCoord};
use cargoman::registry::{Publish, Registry, no_metadata};

use crate::common::{TestServer, backends};

fn body(content: &[u8]) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send {
    futures_util::stream::iter(vec![Ok(Bytes::copy_from_slice(content))])
}

fn sha256_hex(content: &[u8]) -> String {
    let mut h = cargoman::blobs::digest::MultiHasher::new(cargoman::blobs::ExtraDigests::NONE);
    h.update(content);
    h.finish().sha256
}

fn limit() -> PutOptions {
    PutOptions {
        max_size: 1 << 20,
        ..Default::default()
    }
}

/// Runs `test` on a registry opened on a fresh server's settings, on every backend; the
/// settings let a test open a second registry, as a restarted server would.
fn on_each_backend<F, Fut>(test: F)
where
    F: Fn(Registry, Config) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for backend in backends() {
        let s = TestServer::start(backend);
        let config =
            Config::from_lookup(|k| s.env.get(k).filter(|v| !v.is_empty()).cloned()).unwrap();
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async {
                let registry = cargoman::app::open_registry(&config).await.unwrap();
                test(registry, config.clone()).await;
            });
    }
}

async fn publish(registry: &Registry, package: &str, version: &str, content: &[u8]) -> File {
    let req = Publish {
        at: FileCoord {
            owner: "acme",
            format: "oci",
            package,
            version,
            file: "manifest.json",
        },
        create_owner: true,
        version_metadata: no_metadata(),
        file_properties: vec![],
        put: limit(),
        tags: Vec::new(),
    };
    registry.publish(req, body(content)).await.unwrap()
}

async fn package_id(registry: &Registry, version_id: i64) -> i64 {
    let mut conn = registry.db.pool().acquire().await.unwrap();
    sqlx::query_scalar::<_, i64>("SELECT package_id FROM versions WHERE id = $1")
        .bind(version_id)
        .fetch_one(&mut *conn)
        .await
        .unwrap()
}

#[test]
fn tags_move_atomically_and_go_with_their_version() {
    on_each_backend(|registry, _| async move {
        let v1 = publish(&registry, "app", "1.0", b"one").await.version_id;
        let v2 = publish(&registry, "app", "2.0", b"two").await.version_id;
        let other = publish(&registry, "other", "1.0", b"other")
            .await
            .version_id;
        let app = package_id(&registry, v1).await;

        registry.set_tag(app, "latest", v1).await.unwrap();
        registry.set_tag(app, "stable", v1).await.unwrap();
        assert_eq!(registry.tag(app, "latest").await.unwrap().version, "1.0");
        // Moving a tag replaces its target: still one tag of that name.
        registry.set_tag(app, "latest", v2).await.unwrap();
        let tags = registry.tags(app).await.unwrap();
        let names: Vec<_> = tags
            .iter()
            .map(|t| (t.name.as_str(), t.version.as_str()))
            .collect();
        assert_eq!(names, [("latest", "2.0"), ("stable", "1.0")]);

        // A tag never points into another package, and a hidden character is refused.
        assert!(matches!(
            registry.set_tag(app, "latest", other).await,
            Err(Error::NotFound(_))
        ));
        assert_eq!(registry.tag(app, "latest").await.unwrap().version, "2.0");
        assert!(matches!(
            registry.set_tag(app, "la\u{202e}test", v1).await,
            Err(Error::Validation(_))
        ));

        // Deleting a version deletes the tags on it; the others stay.
        registry
            .delete_version("acme", "oci", "app", "2.0")
            .await
            .unwrap();
        let names: Vec<_> = registry
            .tags(app)
            .await
            .unwrap()
            .into_iter()
            .map(|t| t.name)
            .collect();
        assert_eq!(names, ["stable"]);
        assert!(matches!(
            registry.tag(app, "latest").await,
            Err(Error::NotFound(_))
        ));

        registry.delete_tag(app, "stable").await.unwrap();
        assert!(matches!(
            registry.delete_tag(app, "stable").await,
            Err(Error::NotFound(_))
        ));
        assert_eq!(
            registry
                .find_file(FileCoord {
                    owner: "acme",
                    format: "oci",
                    package: "app",
                    version: "1.0",
                    file: "manifest.json",
                })
                .await
                .unwrap()
                .version_id,
            v1,
            "deleting a tag keeps its version"
        );
        // The last version takes the package's tags with it (nothing left to refuse the delete).
        registry.set_tag(app, "latest", v1).await.unwrap();
        registry.delete_package(app).await.unwrap();
    });
}

#[test]
fn a_blob_held_without_a_file_survives_gc_until_released() {
    on_each_backend(|registry, _| async move {
        let manifest = publish(&registry, "img", "sha256-m", b"{}").await;
        let package = package_id(&registry, manifest.version_id).await;
        let layer = b"layer bytes".repeat(1000);
        let sha = sha256_hex(&layer);

        // A wrong announced digest stores nothing.
        let wrong = PutOptions {
            expected_sha256: Some(sha256_hex(b"else")),
            ..limit()
        };
        let refused = registry
            .put_blob(body(&layer), &wrong, Holder::Package(package))
            .await;
        assert!(matches!(refused, Err(Error::Validation(_))), "{refused:?}");
        // So does a wrong SHA-1 or SHA-512, computed only because they were announced.
        for wrong in [
            PutOptions {
                expected_sha1: Some("0".repeat(40)),
                ..limit()
            },
            PutOptions {
                expected_sha512: Some("0".repeat(128)),
                ..limit()
            },
        ] {
            let refused = registry
                .put_blob(body(&layer), &wrong, Holder::Package(package))
                .await;
            assert!(
                matches!(&refused, Err(Error::Validation(m)) if m.contains("SHA-")),
                "{refused:?}"
            );
        }
        assert!(matches!(
            registry.find_blob(&sha).await,
            Err(Error::NotFound(_))
        ));

        // Pushed into the package, then named by the manifest's version.
        let verified = PutOptions {
            expected_sha256: Some(sha.to_uppercase()),
            ..limit()
        };
        let blob = registry
            .put_blob(body(&layer), &verified, Holder::Package(package))
            .await
            .unwrap();
        assert_eq!(
            (blob.sha256.as_str(), blob.size),
            (sha.as_str(), layer.len() as i64)
        );
        registry
            .link(&sha, Holder::Version(manifest.version_id))
            .await
            .unwrap();
        registry
            .unlink(&sha, Holder::Package(package))
            .await
            .unwrap();
        assert!(matches!(
            registry.unlink(&sha, Holder::Package(package)).await,
            Err(Error::NotFound(_))
        ));
        assert!(matches!(
            registry
                .link(&sha256_hex(b"never stored"), Holder::Package(package))
                .await,
            Err(Error::NotFound(_))
        ));

        let gc = maintenance::gc(&registry, 0).await.unwrap();
        assert_eq!((gc.blob_rows_removed, gc.objects_removed), (0, 0));
        let fsck = maintenance::fsck(&registry, true).await.unwrap();
        assert!(fsck.is_clean(), "{fsck:?}");
        assert_eq!(fsck.references.get("file"), Some(&1));
        assert_eq!(fsck.references.get("version"), Some(&1));
        let mut conn = registry.db.pool().acquire().await.unwrap();
        assert_eq!(
            blob_refs::held_by(&mut conn, Holder::Version(manifest.version_id))
                .await
                .unwrap(),
            std::slice::from_ref(&sha)
        );

        // Released without the blob being dropped (as a crash between the two would leave it):
        // gc removes it.
        blob_refs::unlink(&mut conn, &sha, Holder::Version(manifest.version_id))
            .await
            .unwrap();
        let gc = maintenance::gc(&registry, 0).await.unwrap();
        assert_eq!((gc.blob_rows_removed, gc.objects_removed), (1, 0));
        assert!(matches!(
            registry.find_blob(&sha).await,
            Err(Error::NotFound(_))
        ));

        // A holder that is deleted releases its blobs, and the blob goes with the last hold.
        registry
            .put_blob(body(&layer), &limit(), Holder::Version(manifest.version_id))
            .await
            .unwrap();
        registry.remove_version(manifest.version_id).await.unwrap();
        assert!(matches!(
            registry.find_blob(&sha).await,
            Err(Error::NotFound(_))
        ));

        // A reference whose holder is gone is reported, and keeps the blob from gc.
        let held = publish(&registry, "img", "sha256-n", b"{\"n\":1}").await;
        blob_refs::link(&mut conn, &held.blob.sha256, Holder::Version(i64::MAX))
            .await
            .unwrap();
        registry.remove_version(held.version_id).await.unwrap();
        let fsck = maintenance::fsck(&registry, false).await.unwrap();
        assert!(!fsck.is_clean());
        assert_eq!(
            fsck.dangling_references,
            [format!("version:{} {}", i64::MAX, held.blob.sha256)]
        );
        assert!(registry.find_blob(&held.blob.sha256).await.is_ok());
    });
}

#[test]
fn a_blob_is_served_by_digest_like_a_file() {
    use cargoman::http::download::serve_blob;
    on_each_backend(|registry, _| async move {
        let manifest = publish(&registry, "img", "1", b"{}").await;
        let content = b"0123456789".repeat(100);
        let blob = registry
            .put_blob(
                body(&content),
                &limit(),
                Holder::Version(manifest.version_id),
            )
            .await
            .unwrap();
        let found = registry
            .find_blob(&blob.sha256.to_uppercase())
            .await
            .unwrap();
        let serve = |headers: HeaderMap, method: Method| {
            let (registry, found) = (&registry, &found);
            async move {
                let response = serve_blob(
                    registry,
                    found,
                    &method,
                    &headers,
                    "application/octet-stream",
                )
                .await
                .unwrap();
                let status = response.status();
                let headers = response.headers().clone();
                let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                    .await
                    .unwrap();
                (status, headers, bytes)
            }
        };
        let etag = format!("\"{}\"", blob.sha256);

        let (status, headers, bytes) = serve(HeaderMap::new(), Method::GET).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(&bytes[..], &content[..]);
        assert_eq!(headers[header::ETAG], etag.as_str());
        assert_eq!(headers[header::CONTENT_LENGTH], "1000");
        assert!(headers.get(header::LAST_MODIFIED).is_some());
        assert!(
            headers.get(header::CONTENT_DISPOSITION).is_none(),
            "a bare blob has no name"
        );

        let mut range = HeaderMap::new();
        range.insert(header::RANGE, HeaderValue::from_static("bytes=10-19"));
        let (status, headers, bytes) = serve(range.clone(), Method::GET).await;
        assert_eq!(status, StatusCode::PARTIAL_CONTENT);
        assert_eq!(&bytes[..], b"0123456789");
        assert_eq!(headers[header::CONTENT_RANGE], "bytes 10-19/1000");

        range.insert(header::IF_RANGE, HeaderValue::from_static("\"stale\""));
        let (status, _, bytes) = serve(range, Method::GET).await;
        assert_eq!((status, bytes.len()), (StatusCode::OK, 1000));

        let mut beyond = HeaderMap::new();
        beyond.insert(header::RANGE, HeaderValue::from_static("bytes=5000-"));
        assert_eq!(
            serve(beyond, Method::GET).await.0,
            StatusCode::RANGE_NOT_SATISFIABLE
        );

        let mut cached = HeaderMap::new();
        cached.insert(header::IF_NONE_MATCH, HeaderValue::from_str(&etag).unwrap());
        let (status, _, bytes) = serve(cached, Method::GET).await;
        assert_eq!((status, bytes.len()), (StatusCode::NOT_MODIFIED, 0));

        let (status, headers, bytes) = serve(HeaderMap::new(), Method::HEAD).await;
        assert_eq!((status, bytes.len()), (StatusCode::OK, 0));
        assert_eq!(headers[header::CONTENT_LENGTH], "1000");
    });
}

/// Stored objects under `uploads/` (upload segments, or a one-part upload's blob).
async fn segment_objects(registry: &Registry) -> Vec<String> {
    let objects = registry.blobs.list().await.unwrap();
    objects
        .into_iter()
        .map(|o| o.key)
        .filter(|k| k.starts_with("uploads/"))
        .collect()
}

#[test]
fn an_upload_session_resumes_after_a_restart_and_ends_as_a_held_blob() {
    on_each_backend(|registry, config| async move {
        let manifest = publish(&registry, "img", "1", b"{}").await;
        let holder = Holder::Version(manifest.version_id);
        let content = b"0123456789abcdef".repeat(64 * 1024); // 1 MiB
        let (first, rest) = content.split_at(300_000);
        let session = registry.start_upload("acme", "oci", false).await.unwrap();
        let id = session.id.clone();
        let appended = registry
            .append_upload(&id, 0, body(first), 2 << 20)
            .await
            .unwrap();
        assert_eq!(appended.bytes_received, 300_000);
        assert!(matches!(
            registry
                .append_upload(&id, 0, body(b"again"), 2 << 20)
                .await,
            Err(Error::Conflict(_))
        ));

        // Another process (a restarted server) carries on from the saved offset and hash.
        let restarted = cargoman::app::open_registry(&config).await.unwrap();
        assert_eq!(
            restarted.upload_session(&id).await.unwrap().bytes_received,
            300_000
        );
        assert!(matches!(
            restarted
                .append_upload(&id, 300_000, body(rest), (1 << 20) - 1)
                .await,
            Err(Error::PayloadTooLarge(_))
        ));
        restarted
            .append_upload(&id, 300_000, body(rest), 2 << 20)
            .await
            .unwrap();
        restarted
            .append_upload(&id, content.len() as u64, body(b""), 2 << 20)
            .await
            .unwrap();

        // Segments in progress are neither garbage nor an inconsistency.
        assert_eq!(segment_objects(&registry).await.len(), 2);
        let gc = maintenance::gc(&registry, 0).await.unwrap();
        assert_eq!(gc.objects_removed, 0);
        assert!(
            maintenance::fsck(&registry, false)
                .await
                .unwrap()
                .is_clean()
        );

        let sha = sha256_hex(&content);
        assert!(matches!(
            registry
                .finish_upload(&id, Some(&sha256_hex(b"else")), holder)
                .await,
            Err(Error::Validation(_))
        ));
        let blob = registry
            .finish_upload(&id, Some(&sha.to_uppercase()), holder)
            .await
            .unwrap();
        assert_eq!(
            (blob.sha256.as_str(), blob.size),
            (sha.as_str(), content.len() as i64)
        );
        assert!(matches!(
            registry.upload_session(&id).await,
            Err(Error::NotFound(_))
        ));
        assert!(
            segment_objects(&registry).await.is_empty(),
            "parts are gone once copied"
        );
        let mut stored = Vec::new();
        let mut stream = registry.open_blob(&blob, None).await.unwrap();
        while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
            stored.extend_from_slice(&chunk.unwrap());
        }
        assert_eq!(stored, content);
        let gc = maintenance::gc(&registry, 0).await.unwrap();
        assert_eq!((gc.blob_rows_removed, gc.objects_removed), (0, 0));
        let fsck = maintenance::fsck(&registry, true).await.unwrap();
        assert!(fsck.is_clean(), "{fsck:?}");

        // A one-part upload keeps its part as the blob's object; the same content again is
        // kept once; an empty upload is an empty blob.
        let single = registry.start_upload("acme", "oci", false).await.unwrap();
        registry
            .append_upload(&single.id, 0, body(b"config"), 100)
            .await
            .unwrap();
        let config_blob = registry
            .finish_upload(&single.id, None, holder)
            .await
            .unwrap();
        assert_eq!(
            segment_objects(&registry).await,
            std::slice::from_ref(&config_blob.storage_key)
        );
        let again = registry.start_upload("acme", "oci", false).await.unwrap();
        registry
            .append_upload(&again.id, 0, body(b"config"), 100)
            .await
            .unwrap();
        let same = registry
            .finish_upload(&again.id, None, holder)
            .await
            .unwrap();
        assert_eq!(same.storage_key, config_blob.storage_key);
        assert_eq!(segment_objects(&registry).await.len(), 1);
        let empty = registry.start_upload("acme", "oci", false).await.unwrap();
        let empty = registry
            .finish_upload(&empty.id, None, holder)
            .await
            .unwrap();
        assert_eq!(empty.sha256, sha256_hex(b""));
        let fsck = maintenance::fsck(&registry, true).await.unwrap();
        assert!(fsck.is_clean(), "{fsck:?}");
        assert_eq!(fsck.references.get("version"), Some(&3));
    });
}

#[test]
fn upload_sessions_expire_or_are_cancelled_with_their_parts() {
    on_each_backend(|registry, config| async move {
        let storage_root = match &config.storage {
            cargoman::config::StorageConfig::Filesystem { path } => Some(path.clone()),
            cargoman::config::StorageConfig::S3(_) => None,
        };
        assert!(matches!(
            registry.start_upload("nobody", "oci", false).await,
            Err(Error::NotFound(_))
        ));
        let old = registry.start_upload("acme", "oci", true).await.unwrap();
        registry
            .append_upload(&old.id, 0, body(b"stale"), 100)
            .await
            .unwrap();
        let live = registry.start_upload("acme", "oci", false).await.unwrap();
        registry
            .append_upload(&live.id, 0, body(b"live"), 100)
            .await
            .unwrap();
        let mut conn = registry.db.pool().acquire().await.unwrap();
        sqlx::query("UPDATE upload_sessions SET expires_at = $2 WHERE id = $1")
            .bind(&old.id)
            .bind(cargoman::clock::now() - 1)
            .execute(&mut *conn)
            .await
            .unwrap();
        assert!(matches!(
            registry.upload_session(&old.id).await,
            Err(Error::NotFound(_))
        ));
        assert_eq!(segment_objects(&registry).await.len(), 2);

        let report = maintenance::cleanup(
            &registry,
            maintenance::Retention {
                audit_days: 90,
                webhook_days: 30,
            },
        )
        .await
        .unwrap();
        assert_eq!(report.upload_sessions_expired, 1);
        let left = segment_objects(&registry).await;
        assert_eq!(left.len(), 1);
        assert!(left[0].starts_with(&format!("uploads/{}/", live.id)));

        registry.cancel_upload(&live.id).await.unwrap();
        assert!(segment_objects(&registry).await.is_empty());
        if let Some(root) = storage_root {
            let folders = std::fs::read_dir(root.join("uploads")).unwrap().count();
            assert_eq!(folders, 0, "a session's folder goes with its last segment");
        }
        assert!(matches!(
            registry.cancel_upload(&live.id).await,
            Err(Error::NotFound(_))
        ));
        assert!(
            maintenance::fsck(&registry, false)
                .await
                .unwrap()
                .is_clean()
        );
    });
}

#[test]
fn files_carry_their_kind_qualifier_and_metadata_and_properties_are_found_by_value() {
    use cargoman::model::packages::{self, FileDetails};
    use cargoman::model::properties::{self, RefType};
    on_each_backend(|registry, _| async move {
        let maven = |file: &'static str, kind: &str, qualifier: &str| {
            let req = Publish {
                at: FileCoord {
                    owner: "acme",
                    format: "maven",
                    package: "org.acme:lib",
                    version: "1.0",
                    file,
                },
                create_owner: true,
                version_metadata: no_metadata(),
                file_properties: vec![],
                put: limit(),
                tags: Vec::new(),
            };
            let details = FileDetails {
                kind: kind.to_string(),
                qualifier: qualifier.to_string(),
                metadata: serde_json::json!({ "file": file }),
            };
            let registry = &registry;
            async move {
                registry
                    .publish_with(req, details, body(file.as_bytes()))
                    .await
                    .unwrap()
            }
        };
        let jar = maven("lib-1.0.jar", "jar", "").await;
        maven("lib-1.0-sources.jar", "jar", "sources").await;
        maven("lib-1.0.pom", "pom", "").await;

        let found = registry
            .find_file(FileCoord {
                owner: "acme",
                format: "maven",
                package: "org.acme:lib",
                version: "1.0",
                file: "LIB-1.0-SOURCES.JAR",
            })
            .await
            .unwrap();
        assert_eq!(
            (
                found.details.kind.as_str(),
                found.details.qualifier.as_str()
            ),
            ("jar", "sources")
        );
        assert_eq!(found.details.metadata["file"], "lib-1.0-sources.jar");

        let mut conn = registry.db.pool().acquire().await.unwrap();
        let names = |files: Vec<File>| files.into_iter().map(|f| f.name).collect::<Vec<_>>();
        let jars = packages::list_files_of_kind(&mut conn, jar.version_id, "jar", None)
            .await
            .unwrap();
        assert_eq!(names(jars), ["lib-1.0-sources.jar", "lib-1.0.jar"]);
        let main = packages::list_files_of_kind(&mut conn, jar.version_id, "jar", Some(""))
            .await
            .unwrap();
        assert_eq!(names(main), ["lib-1.0.jar"]);

        // A plain publish records no details, and the file's JSON shows none.
        let plain = publish(&registry, "img", "1", b"{}").await;
        assert_eq!(*plain.details, FileDetails::default());
        let json = serde_json::to_value(&plain).unwrap();
        assert!(
            json.get("kind").is_none() && json.get("metadata").is_none(),
            "{json}"
        );

        // Values longer than any index entry may be are found by exact value.
        let long = "x".repeat(10_000);
        for (id, value) in [
            (jar.id, long.as_str()),
            (plain.id, "y"),
            (found.id, long.as_str()),
        ] {
            properties::add(&mut conn, RefType::File, id, "provides", value)
                .await
                .unwrap();
        }
        let mut holders = vec![jar.id, found.id];
        holders.sort();
        assert_eq!(
            properties::find_refs(&mut conn, RefType::File, "provides", &long)
                .await
                .unwrap(),
            holders
        );
        let prefix_only = format!("{long}z");
        assert!(
            properties::find_refs(&mut conn, RefType::File, "provides", &prefix_only)
                .await
                .unwrap()
                .is_empty()
        );
    });
}

#[test]
fn one_hook_re_renders_repository_documents_on_every_change() {
    use cargoman::http::download::serve_document;
    use cargoman::model::packages;
    use std::sync::{Arc, Mutex};
    on_each_backend(|registry, _| async move {
        // A pacman-like repository database: binary, listing every package of the owner.
        let calls: Arc<Mutex<Vec<String>>> = Arc::default();
        let seen = calls.clone();
        registry.on_change(
            "pacman",
            Arc::new(
                move |registry: Registry, change: cargoman::registry::Change| {
                    seen.lock().unwrap().push(change.package.clone());
                    Box::pin(async move {
                        let names = {
                            let mut conn = registry.db.pool().acquire().await?;
                            packages::package_names(&mut conn, change.owner_id, &change.format)
                                .await?
                        };
                        let mut db = vec![0x1f, 0x8b, 0x00];
                        db.extend_from_slice(names.join("\n").as_bytes());
                        registry
                            .put_repository_document(
                                change.owner_id,
                                &change.format,
                                "core.db",
                                &db,
                            )
                            .await
                    })
                },
            ),
        );
        let pkg = |package: &'static str, version: &'static str| {
            let req = Publish {
                at: FileCoord {
                    owner: "arch",
                    format: "pacman",
                    package,
                    version,
                    file: "pkg.tar.zst",
                },
                create_owner: true,
                version_metadata: no_metadata(),
                file_properties: vec![],
                put: limit(),
                tags: Vec::new(),
            };
            let registry = &registry;
            async move {
                registry
                    .publish(req, body(package.as_bytes()))
                    .await
                    .unwrap()
            }
        };
        let bash = pkg("bash", "5.2-1").await;
        let vim = pkg("vim", "9.1-1").await;
        pkg("vim", "9.1-2").await;
        let owner_id = {
            let mut conn = registry.db.pool().acquire().await.unwrap();
            cargoman::model::owners::find(&mut conn, "arch")
                .await
                .unwrap()
                .unwrap()
                .id
        };
        let document = registry
            .repository_document(owner_id, "pacman", "core.db")
            .await
            .unwrap();
        assert_eq!(&document.body[3..], b"bash\nvim");
        assert_eq!(document.body[..3], [0x1f, 0x8b, 0x00]);
        assert_eq!(*calls.lock().unwrap(), ["bash", "vim", "vim"]);

        // Tags and deletes go through the same hook.
        let vim_id = package_id(&registry, vim.version_id).await;
        registry
            .set_tag(vim_id, "latest", vim.version_id)
            .await
            .unwrap();
        registry.delete_tag(vim_id, "latest").await.unwrap();
        registry.remove_version(bash.version_id).await.unwrap();
        assert_eq!(calls.lock().unwrap().len(), 6);
        let document = registry
            .repository_document(owner_id, "pacman", "core.db")
            .await
            .unwrap();
        assert_eq!(&document.body[3..], b"vim");
        registry.delete_package(vim_id).await.unwrap();
        assert_eq!(calls.lock().unwrap().len(), 7);
        let empty = registry
            .repository_document(owner_id, "pacman", "core.db")
            .await
            .unwrap();
        assert_eq!(empty.body, [0x1f, 0x8b, 0x00]);
        assert!(
            empty.updated_at > document.updated_at,
            "a changed body is newer"
        );

        // Served whole with an ETag, and revalidated.
        let response = serve_document(
            Bytes::from(empty.body.clone()),
            &empty.sha256,
            empty.updated_at,
            &Method::GET,
            &HeaderMap::new(),
            "application/octet-stream",
        );
        assert_eq!(response.status(), StatusCode::OK);
        let etag = response.headers()[header::ETAG].clone();
        assert_eq!(
            etag.to_str().unwrap(),
            format!("\"{}\"", sha256_hex(&empty.body))
        );
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        assert_eq!(&body[..], &empty.body[..]);
        let mut current = HeaderMap::new();
        current.insert(header::IF_NONE_MATCH, etag);
        let response = serve_document(
            Bytes::from(empty.body.clone()),
            &empty.sha256,
            empty.updated_at,
            &Method::GET,
            &current,
            "application/octet-stream",
        );
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    });
}

#[test]
fn package_and_repository_documents_share_one_upsert() {
    use cargoman::model::documents::{self, Scope};
    use cargoman::model::{owners, packages};
    on_each_backend(|registry, _| async move {
        let file = publish(&registry, "app", "1.0", b"manifest").await;
        let mut conn = registry.db.pool().acquire().await.unwrap();
        let package =
            packages::get_package(&mut conn, package_id(&registry, file.version_id).await)
                .await
                .unwrap()
                .unwrap();
        let of_package = package.document_scope();
        let of_repository = Scope::repository(package.owner_id, &package.format);
        async fn get(scope: Scope<'_>, conn: &mut sqlx::AnyConnection) -> documents::Document {
            documents::get(conn, scope, "index").await.unwrap().unwrap()
        }

        // The same name at both levels: two documents, text and binary.
        let text = "{\"name\": \"Café \\\\ app\"}".as_bytes();
        let binary = [0x00, 0xff, 0xfe, b'\n', 0x80];
        documents::put(&mut conn, of_package, "index", text)
            .await
            .unwrap();
        documents::put(&mut conn, of_repository, "index", &binary)
            .await
            .unwrap();
        let first = get(of_package, &mut conn).await;
        assert_eq!(first.body, text);
        assert_eq!(first.sha256, sha256_hex(text));
        let repository = get(of_repository, &mut conn).await;
        assert_eq!(repository.body, binary);
        assert_eq!(repository.sha256, sha256_hex(&binary));

        // Unchanged keeps its time; each change within the same second is a second later.
        documents::put(&mut conn, of_package, "index", text)
            .await
            .unwrap();
        assert_eq!(
            get(of_package, &mut conn).await.updated_at,
            first.updated_at
        );
        documents::put(&mut conn, of_package, "index", b"{}")
            .await
            .unwrap();
        documents::put(&mut conn, of_package, "index", b"[]")
            .await
            .unwrap();
        let changed = get(of_package, &mut conn).await;
        assert_eq!(changed.body, b"[]");
        assert_eq!(changed.sha256, sha256_hex(b"[]"));
        assert!(changed.updated_at >= first.updated_at + 2, "{changed:?}");
        assert_eq!(get(of_repository, &mut conn).await.body, binary);

        // Deleting a package's documents leaves the repository's.
        documents::delete_all(&mut conn, package.id).await.unwrap();
        assert!(
            documents::get(&mut conn, of_package, "index")
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(get(of_repository, &mut conn).await.body, binary);

        // An owner left without packages goes with its repository documents.
        registry.delete_package(package.id).await.unwrap();
        let owner = owners::find(&mut conn, "acme").await.unwrap().unwrap();
        owners::delete_empty(&mut conn, &owner).await.unwrap();
        assert!(
            documents::get(&mut conn, of_repository, "index")
                .await
                .unwrap()
                .is_none()
        );
    });
}

/// Whether the database plans `query` through `index` (on PostgreSQL with sequential scans off:
/// the test tables are tiny).
async fn plan_uses(registry: &cargoman::registry::Registry, query: &str, index: &str) -> bool {
    use cargoman::db::Backend;
    use sqlx::Row;
    let mut conn = registry.db.pool().acquire().await.unwrap();
    let (explain, column) = match registry.db.backend() {
        Backend::Sqlite => (format!("EXPLAIN QUERY PLAN {query}"), "detail"),
        Backend::Postgres => {
            sqlx::query("SET enable_seqscan = off")
                .execute(&mut *conn)
                .await
                .unwrap();
            (format!("EXPLAIN {query}"), "QUERY PLAN")
        }
    };
    let rows = sqlx::query(sqlx::AssertSqlSafe(explain))
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    let plan: Vec<String> = rows.iter().map(|row| row.get(column)).collect();
    let found = plan.iter().any(|line| line.contains(index));
    if !found {
        eprintln!("plan of {query}: {plan:?}");
    }
    found
}

/// Lookups that would otherwise scan a table go through their indexes: blobs by SHA-512 (OCI
/// `sha512:` digests), files by kind and qualifier (NuGet PDBs, pacman arch-repos), documents by
/// name across packages (pacman databases).
#[test]
fn lookups_go_through_their_indexes() {
    on_each_backend(|registry, _| async move {
        for (query, index) in [
            (
                "SELECT sha256 FROM blobs WHERE sha512 = 'x'",
                "blobs_sha512",
            ),
            (
                "SELECT id FROM files WHERE kind = 'pdb' AND qualifier = 'x'",
                "files_qualifier",
            ),
            (
                "SELECT body FROM rendered_documents WHERE owner_id = 1 AND format = 'pacman' \
                 AND name = 'db:core/x86_64' AND package_id <> 0",
                "rendered_documents_by_name",
            ),
        ] {
            assert!(
                plan_uses(&registry, query, index).await,
                "{query} uses {index}"
            );
        }
    });
}
