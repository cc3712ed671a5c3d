//! https for `cargoman serve` (`TLS_CERT_PATH`, `TLS_KEY_PATH`): rustls with the aws-lc-rs
//! provider the rest of the binary already uses for its outgoing connections. Some clients send
//! credentials only over https (the go command's `.netrc`), so a registry reached without a
//! terminating proxy needs it. Plain http stays the default.

use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;

use crate::config::TlsFiles;
use crate::error::{Error, Result};

/// The acceptor for `files`; an error names the file and what is wrong with it, so a bad setup
/// stops the server at start rather than at the first connection.
pub fn acceptor(files: &TlsFiles) -> Result<TlsAcceptor> {
    let unreadable = |what: &str, path: &std::path::Path, e: &dyn std::fmt::Display| {
        Error::invalid(format!("{what} {}: {e}", path.display()))
    };
    let chain = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| unreadable("TLS_CERT_PATH", &files.cert, &e))?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| unreadable("TLS_CERT_PATH", &files.cert, &e))?;
    if chain.is_empty() {
        return Err(unreadable(
            "TLS_CERT_PATH",
            &files.cert,
            &"no PEM certificate in it",
        ));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| unreadable("TLS_KEY_PATH", &files.key, &e))?;
    let mut config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| Error::invalid(format!("TLS_CERT_PATH and TLS_KEY_PATH: {e}")))?;
    // The server speaks HTTP/1.1 only; saying so lets clients skip asking for h2.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(dir: &std::path::Path, cert: &str, key: &str) -> TlsFiles {
        std::fs::write(dir.join("cert.pem"), cert).unwrap();
        std::fs::write(dir.join("key.pem"), key).unwrap();
        TlsFiles {
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
        }
    }

    fn refusal(files: &TlsFiles) -> String {
        match acceptor(files) {
            Ok(_) => panic!("{files:?} accepted"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn bad_files_are_refused_with_the_variable_that_names_them() {
        let dir = tempfile::tempdir().unwrap();
        let missing = TlsFiles {
            cert: dir.path().join("nope.pem"),
            key: dir.path().join("nope.key"),
        };
        let err = refusal(&missing);
        assert!(
            err.contains("TLS_CERT_PATH") && err.contains("nope.pem"),
            "{err}"
        );

        let err = refusal(&files(dir.path(), "not a certificate", ""));
        assert!(err.contains("no PEM certificate"), "{err}");

        let cert = "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n";
        let err = refusal(&files(dir.path(), cert, "no key here"));
        assert!(err.contains("TLS_KEY_PATH"), "{err}");
    }
}
