//! `PUT upload`: a module zip as the body, spooled to a temporary file (never held in memory),
//! checked as the go command checks module zips (`module_zip`), then stored as the version's one
//! file, `{version}.zip`, with the `.mod` to serve kept on its row. The module and version come
//! from the zip's entries; a version that exists is a conflict (409).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::io::Seek;

use tokio::io::AsyncSeekExt;

use super::module_zip::{self, MAX_ZIP};
use super::{Call, FORMAT, zip_name};
use crate::auth::Permission;
use crate::blobs::{PutOptions, file_stream, spool};
use crate::error::{Error, Result};
use crate::http::upload_size::refuse_announced_over;
use crate::model::packages::{FileCoord, FileDetails};
use crate::registry::{Publish, no_metadata};
use crate::zip_check;

/// The core zip check's limits for a module zip: the go command's size limit, entries as many
/// as that allows in practice, the core's compression ratio, `go.mod` at its 16 MB.
const ZIP_LIMITS: zip_check::Limits = zip_check::Limits {
    max_entries: 200_000,
    max_uncompressed: MAX_ZIP,
    max_ratio: 200,
    max_manifest: 16 << 20,
};

pub async fn upload(call: &Call, body: axum::body::Body) -> Result<Response> {
    call.principal.require(Permission::WritePackages)?;
    let max_size = call.state.config.max_upload_size.min(MAX_ZIP);
    refuse_announced_over(&call.headers, max_size, 0, "the module zip")?;
    let (mut file, size) = spool(body.into_data_stream(), max_size).await?;
    let std_file = file.try_clone().await?.into_std().await;
    let checked = tokio::task::spawn_blocking(move || {
        let mut reader = std::io::BufReader::new(std_file);
        // First the core's safety check every uploaded zip passes (bombs, encrypted entries,
        // symlinks, hidden characters), answered as the go command's own rules are: 400.
        zip_check::check(&mut reader, size, &ZIP_LIMITS).map_err(|e| match e {
            Error::Unprocessable(message) => Error::invalid(message),
            other => other,
        })?;
        reader.rewind()?;
        module_zip::check(reader)
    })
    .await
    .map_err(Error::internal)??;
    file.rewind().await?;
    let version = checked.version.as_str();
    let name = zip_name(version);
    let publish = Publish {
        at: FileCoord {
            owner: &call.owner,
            format: FORMAT,
            package: &checked.module,
            version,
            file: &name,
        },
        create_owner: true,
        version_metadata: no_metadata(),
        file_properties: vec![("uploaded_by".into(), call.principal.display_name())],
        put: PutOptions {
            max_size,
            ..PutOptions::default()
        },
        tags: Vec::new(),
    };
    let details = FileDetails {
        kind: "zip".into(),
        qualifier: String::new(),
        metadata: serde_json::json!({"gomod": checked.go_mod, "has_go_mod": checked.has_go_mod}),
    };
    let stored = call
        .state
        .registry
        .publish_with(publish, details, file_stream(file))
        .await
        .map_err(|e| match e {
            Error::Conflict(_) => {
                Error::conflict(format!("{}@{version} already exists", checked.module))
            }
            other => other,
        })?;
    tracing::debug!(
        module = checked.module,
        version,
        size = stored.blob.size,
        "go module stored"
    );
    Ok((
        StatusCode::CREATED,
        format!("{}@{version} stored\n", checked.module),
    )
        .into_response())
}
