//! Symbol packages and the symbol server. A .snupkg is pushed after its .nupkg and stored in the
//! same version, with each portable PDB inside it as a file of its own (kind `pdb`, its
//! signature as qualifier), so a debugger's `GET symbols/{file}/{signature}/{file}` is one
//! lookup, after the caller's read check on the version that holds it.

use axum::response::Response;

use super::package::Inspected;
use super::read::nupkg_name;
use super::{Call, FORMAT, package};
use crate::blobs::{PutOptions, file_stream};
use crate::error::{Error, Result};
use crate::http::download::serve_file;
use crate::http::owner_access::{PackageRead, require_package_read};
use crate::model::packages::{FileCoord, FileDetails};
use crate::registry::{Publish, no_metadata};

const PDB: &str = "pdb";

fn pdb_file_name(signature: &str, name: &str) -> String {
    format!("symbols/{signature}/{name}")
}

/// Stores a symbol package and its PDBs into the version it belongs to (404 when that version
/// was never pushed); on any failure nothing of it stays.
pub(super) async fn store(call: &Call, file: tokio::fs::File, inspected: Inspected) -> Result<()> {
    let spec = &inspected.nuspec;
    let id = spec.id.to_lowercase();
    let version = spec.version.clone();
    let package = call
        .state
        .registry
        .find_package(&call.owner, FORMAT, &id)
        .await?;
    call.state
        .registry
        .find_version(package.id, &version)
        .await
        .map_err(|_| {
            Error::not_found(format!(
                "push {} {version} before its symbol package",
                spec.id
            ))
        })?;
    let snupkg = nupkg_name(&id, &version).replace(".nupkg", ".snupkg");
    let mut stored = Vec::new();
    let result = store_all(call, &id, &version, &snupkg, file, &inspected, &mut stored).await;
    if result.is_err() {
        // What this push stored before it failed goes with it.
        for name in &stored {
            let at = FileCoord {
                owner: &call.owner,
                format: FORMAT,
                package: &id,
                version: &version,
                file: name,
            };
            if let Err(e) = call.state.registry.delete_file(at).await {
                tracing::warn!(file = %name, error = %e, "could not remove a symbol file of a failed push");
            }
        }
    }
    result
}

/// Stores the .snupkg, then each PDB, recording in `stored` what it stored.
async fn store_all(
    call: &Call,
    id: &str,
    version: &str,
    snupkg: &str,
    file: tokio::fs::File,
    inspected: &Inspected,
    stored: &mut Vec<String>,
) -> Result<()> {
    let source = file.try_clone().await?.into_std().await;
    publish(call, id, version, snupkg, FileDetails::default(), file).await?;
    stored.push(snupkg.to_string());
    for pdb in &inspected.pdbs {
        let mut source = source.try_clone()?;
        let index = pdb.index;
        let extracted = tokio::task::spawn_blocking(move || {
            use std::io::Seek;
            source.rewind()?;
            let mut into = tempfile::tempfile()?;
            package::extract(source, index, &mut into)?;
            Ok::<_, Error>(into)
        })
        .await
        .map_err(Error::internal)??;
        let name = pdb_file_name(&pdb.signature, &pdb.name);
        let details = FileDetails {
            kind: PDB.into(),
            qualifier: pdb.signature.clone(),
            ..FileDetails::default()
        };
        let into = tokio::fs::File::from_std(extracted);
        publish(call, id, version, &name, details, into).await?;
        stored.push(name);
    }
    Ok(())
}

async fn publish(
    call: &Call,
    id: &str,
    version: &str,
    name: &str,
    details: FileDetails,
    mut file: tokio::fs::File,
) -> Result<()> {
    use tokio::io::AsyncSeekExt;
    file.rewind().await?;
    call.state
        .registry
        .publish_with(
            Publish {
                at: FileCoord {
                    owner: &call.owner,
                    format: FORMAT,
                    package: id,
                    version,
                    file: name,
                },
                create_owner: false,
                version_metadata: no_metadata(),
                file_properties: vec![("uploaded_by".into(), call.principal.display_name())],
                put: PutOptions {
                    max_size: call.state.config.max_upload_size,
                    ..PutOptions::default()
                },
                tags: Vec::new(),
            },
            details,
            file_stream(file),
        )
        .await
        .map(drop)
}

/// `GET symbols/{file}/{signature}/{file}`: a PDB by the signature a debugger asks for.
pub(super) async fn download(call: &Call, file: &str, signature: &str) -> Result<Response> {
    let missing = || Error::not_found(format!("symbol file {file} {signature} not found"));
    let signature = signature.to_lowercase();
    if !signature.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(missing());
    }
    super::read::view(call).await?;
    let wanted = pdb_file_name(&signature, &file.to_lowercase());
    let found = call
        .state
        .registry
        .files_by_qualifier(&call.owner, FORMAT, PDB, &signature)
        .await?
        .into_iter()
        .find(|f| f.file.name.eq_ignore_ascii_case(&wanted))
        .ok_or_else(missing)?;
    let read = PackageRead {
        owner: &call.owner,
        format: FORMAT,
        package: &found.package,
        version: &found.version,
    };
    require_package_read(&call.state, &call.principal, read).await?;
    serve_file(
        &call.state.registry,
        &found.file,
        &call.method,
        &call.headers,
        "application/octet-stream",
        call.principal.customer_id(),
    )
    .await
}
