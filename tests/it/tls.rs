//! https (`TLS_CERT_PATH`, `TLS_KEY_PATH`): a certificate signed by a throwaway CA (made with
//! openssl here) is served to curl, which trusts only that CA; uploads and downloads go over it,
//! and the port speaks nothing else.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{ADMIN, TestServer, backends, curl};

/// A CA and a certificate for 127.0.0.1 signed by it: (CA certificate, certificate, key).
pub fn certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl runs");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let ca = [
        &["req", "-x509"][..],
        &ec,
        &["-keyout", "ca.key", "-out", "ca.pem"],
    ];
    openssl(
        &[
            ca.concat().as_slice(),
            &["-days", "2", "-subj", "/CN=Cargoman test CA"],
        ]
        .concat(),
    );
    let csr = [
        &["req"][..],
        &ec,
        &["-keyout", "server.key", "-out", "server.csr"],
    ];
    openssl(&[csr.concat().as_slice(), &["-subj", "/CN=127.0.0.1"]].concat());
    std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "san.ext",
    ]);
    (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server.key"),
    )
}

#[test]
fn serves_https_with_the_configured_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = certificates(dir.path());
    for backend in backends() {
        let s = TestServer::start_with(
            backend,
            &[
                ("TLS_CERT_PATH", cert.to_str().unwrap()),
                ("TLS_KEY_PATH", key.to_str().unwrap()),
            ],
        );
        let https = s.base.replace("http://", "https://");
        let url = format!("{https}/api/packages/acme/generic/tool/1.0/tool.bin");
        let file = s.make_file("tool.bin", 300_000, 9);
        let ca = ca.to_str().unwrap();
        let bearer = format!("Authorization: Bearer {ADMIN}");
        let put = curl(
            &["--cacert", ca, "-H", &bearer, "-T", file.to_str().unwrap()],
            &url,
        );
        assert_eq!(put.status, 201, "{backend:?}: {}", put.text());
        let got = curl(&["--cacert", ca, "-H", &bearer], &url);
        assert_eq!(got.status, 200);
        assert_eq!(got.body, std::fs::read(&file).unwrap());

        // curl trusts the certificate only through the test CA: it is the one served.
        let untrusted = curl(&["-H", &bearer], &url);
        assert_eq!(
            untrusted.status, 0,
            "{backend:?}: TLS verified without the CA"
        );
        // The port speaks TLS only.
        let plain = curl(&["-H", &bearer], &s.url("/health"));
        assert_ne!(plain.status, 200);
    }
}
