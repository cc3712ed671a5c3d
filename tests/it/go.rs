//! The Go module proxy driven by the real client: Debian's go 1.19 (installed by
//! `scripts/services.sh`) lists versions, downloads modules (its `Sum` and `GoModSum` checked
//! against hashes computed here from the uploaded zip), builds a consumer module and upgrades it
//! with `go get …@latest`, anonymously from a public owner over http, and with `.netrc`
//! credentials from a private owner over https (a customer limited by a SemVer range); plus raw
//! HTTP for bad input, conflicts, the case encoding and the parent-path probes.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine;
use cargoman::blobs::digest::sha256_hex;
use serde_json::json;

use crate::common::{ADMIN, Reply, TestServer, api, backends, describe, make_public};

const OWNER: &str = "acme";

fn path(rest: &str) -> String {
    format!("/api/packages/{OWNER}/go/{rest}")
}

/// A module zip as the go command lays one out: every file under `{module}@{version}/`.
fn module_zip(module: &str, version: &str, files: &[(&str, &str)]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, content) in files {
        writer
            .start_file(
                format!("{module}@{version}/{name}"),
                zip::write::SimpleFileOptions::default(),
            )
            .unwrap();
        writer.write_all(content.as_bytes()).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

fn go_mod(module: &str) -> String {
    format!("module {module}\n\ngo 1.19\n")
}

/// The zip of a greeting library saying `says`.
fn greet_zip(module: &str, version: &str, says: &str) -> Vec<u8> {
    module_zip(
        module,
        version,
        &[
            ("go.mod", &go_mod(module)),
            (
                "greet.go",
                &format!("package greet\n\nfunc Hello() string {{ return {says:?} }}\n"),
            ),
        ],
    )
}

fn upload(s: &TestServer, token: Option<&str>, body: &[u8]) -> Reply {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), body).unwrap();
    let data = format!("@{}", file.path().display());
    let auth = token.map(|t| format!("ci:{t}"));
    let mut args = vec!["-X", "PUT", "--data-binary", data.as_str()];
    if let Some(auth) = &auth {
        args.extend(["--user", auth.as_str()]);
    }
    let path = path("upload");
    args.push(&path);
    s.curl(&args)
}

fn get(s: &TestServer, token: Option<&str>, rest: &str) -> Reply {
    let auth = token.map(|t| format!("ci:{t}"));
    let mut args = Vec::new();
    if let Some(auth) = &auth {
        args.extend(["--user", auth.as_str()]);
    }
    let path = path(rest);
    args.push(path.as_str());
    s.curl(&args)
}

/// The go command's `h1:` hash of files (`dirhash.Hash1`): SHA-256 over the lines
/// `{sha256 hex}  {name}\n`, sorted by name, in base64.
fn h1(files: &mut [(String, Vec<u8>)]) -> String {
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let summary: String = files
        .iter()
        .map(|(name, content)| format!("{}  {name}\n", sha256_hex(content)))
        .collect();
    let hex = sha256_hex(summary.as_bytes());
    let raw: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    format!(
        "h1:{}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

/// `Sum` of a module zip: the hash of its files under their full names.
fn zip_sum(zip: &[u8]) -> String {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let mut files = Vec::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let mut content = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut content).unwrap();
        files.push((entry.name().unwrap().to_string(), content));
    }
    h1(&mut files)
}

/// `GoModSum`: the hash of the `.mod` as the one file `go.mod`.
fn go_mod_sum(go_mod: &[u8]) -> String {
    h1(&mut [("go.mod".to_string(), go_mod.to_vec())])
}

/// One user of the go command: its own HOME (`.netrc`), GOPATH, module and build caches.
struct Go {
    home: tempfile::TempDir,
    proxy: String,
    extra: Vec<(String, String)>,
}

impl Go {
    fn new(proxy: &str) -> Go {
        Go {
            home: tempfile::tempdir().unwrap(),
            proxy: proxy.to_string(),
            extra: Vec::new(),
        }
    }

    fn run(&self, args: &[&str], dir: &Path) -> Output {
        let home = self.home.path();
        Command::new("go")
            .args(args)
            .current_dir(dir)
            .env("HOME", home)
            .env("GOPATH", home.join("gopath"))
            .env("GOMODCACHE", home.join("modcache"))
            .env("GOCACHE", home.join("gocache"))
            .env("GOPROXY", &self.proxy)
            .env("GONOSUMDB", "example.com")
            .env("GOFLAGS", "-modcacherw")
            .env("GO111MODULE", "on")
            .env_remove("GOPRIVATE")
            .env_remove("GONOPROXY")
            .envs(self.extra.iter().map(|(k, v)| (k, v)))
            .output()
            .expect("go is installed (scripts/services.sh)")
    }

    fn ok(&self, args: &[&str], dir: &Path) -> String {
        let out = self.run(args, dir);
        assert!(out.status.success(), "go {args:?}: {}", describe(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn fails(&self, args: &[&str], dir: &Path) -> String {
        let out = self.run(args, dir);
        assert!(
            !out.status.success(),
            "go {args:?} should fail: {}",
            describe(&out)
        );
        describe(&out)
    }

    /// A consumer module `example.com/app` requiring `requires` (module, version), whose
    /// `main` prints `greet.Hello()` of `import`.
    fn consumer(&self, requires: &[(&str, &str)], import: &str) -> PathBuf {
        let dir = self.home.path().join("app");
        std::fs::create_dir_all(&dir).unwrap();
        let require: String = requires
            .iter()
            .map(|(m, v)| format!("require {m} {v}\n"))
            .collect();
        std::fs::write(
            dir.join("go.mod"),
            format!("module example.com/app\n\ngo 1.19\n\n{require}"),
        )
        .unwrap();
        std::fs::write(
            dir.join("main.go"),
            format!(
                "package main\n\nimport (\n\t\"fmt\"\n\n\tgreet {import:?}\n)\n\n\
                 func main() {{ fmt.Println(greet.Hello()) }}\n"
            ),
        )
        .unwrap();
        dir
    }

    fn download(&self, module_version: &str, dir: &Path) -> serde_json::Value {
        let out = self.ok(&["mod", "download", "-json", module_version], dir);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
    }
}

/// Uploads v1.0.0, v1.1.0 of `example.com/greet` and v2.0.0 of `example.com/greet/v2`;
/// returns the zips by version.
fn publish_greet(s: &TestServer) -> Vec<(&'static str, Vec<u8>)> {
    let zips = vec![
        (
            "v1.0.0",
            greet_zip("example.com/greet", "v1.0.0", "hello 1.0.0"),
        ),
        (
            "v1.1.0",
            greet_zip("example.com/greet", "v1.1.0", "hello 1.1.0"),
        ),
        (
            "v2.0.0",
            greet_zip("example.com/greet/v2", "v2.0.0", "hello 2.0.0"),
        ),
    ];
    for (version, zip) in &zips {
        let r = upload(s, Some(ADMIN), zip);
        assert_eq!(r.status, 201, "{version}: {}", r.text());
    }
    zips
}

#[test]
fn go_lists_downloads_builds_and_upgrades_from_a_public_owner() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let zips = publish_greet(&s);
        let again = upload(&s, Some(ADMIN), &zips[0].1);
        assert_eq!(again.status, 409, "{}", again.text());
        assert!(
            again
                .text()
                .contains("example.com/greet@v1.0.0 already exists")
        );
        let tool = module_zip(
            "example.com/Acme/Tool",
            "v1.0.0-RC.1",
            &[
                ("go.mod", &go_mod("example.com/Acme/Tool")),
                ("t.go", "package tool\n"),
            ],
        );
        assert_eq!(upload(&s, Some(ADMIN), &tool).status, 201);

        // Over plain http the go command sends no credentials: the owner is public.
        let anonymous = get(&s, None, "example.com/greet/@v/list");
        assert_eq!(anonymous.status, 401, "private until made public");
        make_public(&s, OWNER);
        let list = get(&s, None, "example.com/greet/@v/list");
        assert_eq!(list.status, 200);
        assert_eq!(list.text(), "v1.0.0\nv1.1.0\n");
        // The parent paths the go command probes first are plain 404s.
        for probe in [
            "example.com/@v/list",
            "example.com/@latest",
            "example.com/@v/v1.0.0.info",
        ] {
            let r = get(&s, None, probe);
            assert_eq!(r.status, 404, "{backend:?} {probe}");
            assert!(r.header("content-type").unwrap().starts_with("text/plain"));
        }

        let proxy = s.url(&path("")).trim_end_matches('/').to_string();
        let go = Go::new(&proxy);
        let app = go.consumer(&[], "example.com/greet");
        let versions = go.ok(&["list", "-m", "-versions", "example.com/greet"], &app);
        assert_eq!(
            versions.trim(),
            "example.com/greet v1.0.0 v1.1.0",
            "{backend:?}"
        );
        let versions = go.ok(&["list", "-m", "-versions", "example.com/greet/v2"], &app);
        assert_eq!(versions.trim(), "example.com/greet/v2 v2.0.0");

        for (version, zip) in &zips {
            let module = if version.starts_with("v2") {
                "example.com/greet/v2"
            } else {
                "example.com/greet"
            };
            let info = go.download(&format!("{module}@{version}"), &app);
            assert_eq!(info["Version"], *version);
            assert_eq!(info["Sum"], zip_sum(zip), "{backend:?} {module}@{version}");
            let served_mod = get(&s, None, &format!("{module}/@v/{version}.mod")).body;
            assert_eq!(
                served_mod,
                go_mod(module).as_bytes(),
                "the zip's go.mod, as is"
            );
            assert_eq!(info["GoModSum"], go_mod_sum(&served_mod));
            let cached = std::fs::read(info["Zip"].as_str().unwrap()).unwrap();
            assert_eq!(&cached, zip, "the uploaded zip");
        }
        // Upper case in the path and version travels in the proxy's `!` encoding.
        let info = go.download("example.com/Acme/Tool@v1.0.0-RC.1", &app);
        assert_eq!(info["Sum"], zip_sum(&tool));
        assert_eq!(
            get(&s, None, "example.com/!acme/!tool/@v/v1.0.0-!r!c.1.info").json()["Version"],
            "v1.0.0-RC.1"
        );

        // A consumer builds against v1.1.0, then upgrades to the latest of each major.
        go.consumer(&[("example.com/greet", "v1.1.0")], "example.com/greet");
        go.ok(&["mod", "tidy"], &app);
        go.ok(&["build", "-o", "app", "."], &app);
        let said = Command::new(app.join("app")).output().unwrap();
        assert_eq!(String::from_utf8_lossy(&said.stdout), "hello 1.1.0\n");
        std::fs::write(app.join("go.mod"), "module example.com/app\n\ngo 1.19\n").unwrap();
        go.ok(&["get", "example.com/greet@latest"], &app);
        let manifest = std::fs::read_to_string(app.join("go.mod")).unwrap();
        assert!(manifest.contains("example.com/greet v1.1.0"), "{manifest}");
        go.ok(&["get", "example.com/greet/v2@latest"], &app);
        let manifest = std::fs::read_to_string(app.join("go.mod")).unwrap();
        assert!(
            manifest.contains("example.com/greet/v2 v2.0.0"),
            "{manifest}"
        );
        let latest = get(&s, None, "example.com/greet/@latest").json();
        assert_eq!(latest["Version"], "v1.1.0");
        assert!(latest["Time"].as_str().unwrap().ends_with('Z'));

        // Writes still need a token.
        let refused = upload(&s, None, &zips[0].1);
        assert_eq!(refused.status, 401);
        assert!(
            refused
                .header("www-authenticate")
                .unwrap_or_default()
                .starts_with("Basic realm=")
        );
    }
}

#[test]
fn go_downloads_a_private_module_over_https_with_netrc_within_a_customer_grant() {
    let certs = tempfile::tempdir().unwrap();
    let (ca, cert, key) = crate::tls::certificates(certs.path());
    for backend in backends() {
        let s = TestServer::start_with(
            backend,
            &[
                ("TLS_CERT_PATH", cert.to_str().unwrap()),
                ("TLS_KEY_PATH", key.to_str().unwrap()),
            ],
        );
        let https = s.base.replace("http://", "https://");
        let zips = {
            // The harness's curl speaks http; upload with the CA instead.
            let mut zips = Vec::new();
            for (module, version, says) in [
                ("example.com/greet", "v1.0.0", "hello 1.0.0"),
                ("example.com/greet", "v1.1.0", "hello 1.1.0"),
            ] {
                let zip = greet_zip(module, version, says);
                let file = tempfile::NamedTempFile::new().unwrap();
                std::fs::write(file.path(), &zip).unwrap();
                let r = crate::common::curl(
                    &[
                        "--cacert",
                        ca.to_str().unwrap(),
                        "--user",
                        &format!("ci:{ADMIN}"),
                        "-X",
                        "PUT",
                        "--data-binary",
                        &format!("@{}", file.path().display()),
                    ],
                    &format!("{https}{}", path("upload")),
                );
                assert_eq!(r.status, 201, "{}", r.text());
                zips.push(zip);
            }
            zips
        };
        // A customer granted the 1.0 series only.
        let r = crate::common::curl(
            &[
                "--cacert",
                ca.to_str().unwrap(),
                "-H",
                &format!("Authorization: Bearer {ADMIN}"),
                "-H",
                "Content-Type: application/json",
                "-d",
                r#"{"name":"Shop"}"#,
            ],
            &format!("{https}/api/v1/customers"),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        let customer = r.json()["data"]["id"].as_str().unwrap().to_string();
        let token = r.json()["data"]["token"].as_str().unwrap().to_string();
        // Its .netrc line comes with the token.
        let netrc = r.json()["data"]["go_netrc"].as_str().unwrap().to_string();
        assert_eq!(
            netrc,
            format!("machine 127.0.0.1 login customer password {token}\n")
        );
        let grant = json!({"format": "go", "owner": OWNER, "package": "example.com/greet",
                           "constraint": "~1.0.0"});
        let r = crate::common::curl(
            &[
                "--cacert",
                ca.to_str().unwrap(),
                "-H",
                &format!("Authorization: Bearer {ADMIN}"),
                "-H",
                "Content-Type: application/json",
                "-d",
                &grant.to_string(),
            ],
            &format!("{https}/api/v1/customers/{customer}/packages"),
        );
        assert_eq!(r.status, 201, "{}", r.text());

        let proxy = format!("{https}{}", path(""))
            .trim_end_matches('/')
            .to_string();
        let with_netrc = |netrc: Option<&str>| {
            let mut go = Go::new(&proxy);
            go.extra
                .push(("SSL_CERT_FILE".into(), ca.display().to_string()));
            if let Some(netrc) = netrc {
                std::fs::write(go.home.path().join(".netrc"), netrc).unwrap();
            }
            go
        };

        // A team token reads the private owner whole.
        let team = with_netrc(Some(&format!(
            "machine 127.0.0.1 login ci password {ADMIN}\n"
        )));
        let app = team.consumer(&[], "example.com/greet");
        let versions = team.ok(&["list", "-m", "-versions", "example.com/greet"], &app);
        assert_eq!(
            versions.trim(),
            "example.com/greet v1.0.0 v1.1.0",
            "{backend:?}"
        );
        let info = team.download("example.com/greet@v1.1.0", &app);
        assert_eq!(info["Sum"], zip_sum(&zips[1]));
        assert_eq!(
            info["GoModSum"],
            go_mod_sum(go_mod("example.com/greet").as_bytes())
        );
        team.consumer(&[("example.com/greet", "v1.1.0")], "example.com/greet");
        team.ok(&["mod", "tidy"], &app);
        team.ok(&["build", "-o", "app", "."], &app);

        // The customer sees only what its range allows.
        let shop = with_netrc(Some(&netrc));
        let app = shop.consumer(&[], "example.com/greet");
        let versions = shop.ok(&["list", "-m", "-versions", "example.com/greet"], &app);
        assert_eq!(versions.trim(), "example.com/greet v1.0.0", "{backend:?}");
        shop.ok(&["get", "example.com/greet@latest"], &app);
        let manifest = std::fs::read_to_string(app.join("go.mod")).unwrap();
        assert!(manifest.contains("example.com/greet v1.0.0"), "{manifest}");
        let refused = shop.fails(&["mod", "download", "example.com/greet@v1.1.0"], &app);
        assert!(refused.contains("404"), "{refused}");

        // Without credentials the private owner is closed.
        let stranger = with_netrc(None);
        let app = stranger.consumer(&[], "example.com/greet");
        let refused = stranger.fails(&["list", "-m", "-versions", "example.com/greet"], &app);
        assert!(refused.contains("401"), "{refused}");
    }
}

#[test]
fn bad_module_zips_are_refused_and_nothing_is_stored() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            (
                "mismatched module path",
                module_zip(
                    "example.com/bad",
                    "v1.0.0",
                    &[("go.mod", &go_mod("example.com/other"))],
                ),
                "go.mod declares module \"example.com/other\"",
            ),
            (
                "version against the major suffix",
                greet_zip("example.com/bad/v2", "v1.0.0", "x"),
                "should be v2, not v1",
            ),
            (
                "v2 without the suffix",
                greet_zip("example.com/bad", "v2.0.0", "x"),
                "should be v0 or v1, not v2",
            ),
            (
                "entries outside the prefix",
                {
                    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
                    let options = zip::write::SimpleFileOptions::default();
                    writer
                        .start_file("example.com/bad@v1.0.0/go.mod", options)
                        .unwrap();
                    writer
                        .write_all(go_mod("example.com/bad").as_bytes())
                        .unwrap();
                    writer.start_file("elsewhere/x.go", options).unwrap();
                    writer.finish().unwrap().into_inner()
                },
                "does not have prefix",
            ),
            (
                "a path leading out of the module",
                module_zip("example.com/bad", "v1.0.0", &[("../../escape", "x")]),
                "'..' leads outside",
            ),
            (
                "not a zip",
                b"just some text".to_vec(),
                "not a readable zip",
            ),
            (
                "a zip bomb (the core's zip check)",
                module_zip(
                    "example.com/bad",
                    "v1.0.0",
                    &[("zeros.txt", &"0".repeat(20 << 20))],
                ),
                "looks like a zip bomb",
            ),
        ];
        for (what, body, expected) in &cases {
            let r = upload(&s, Some(ADMIN), body);
            assert_eq!(r.status, 400, "{backend:?} {what}: {}", r.text());
            assert!(r.text().contains(expected), "{what}: {}", r.text());
        }
        for rest in [
            "example.com/bad/@v/list",
            "example.com/bad/v2/@v/list",
            "example.com/bad/@v/v1.0.0.info",
        ] {
            assert_eq!(get(&s, Some(ADMIN), rest).status, 404, "{rest} stored");
        }
        let r = api(&s, "GET", &format!("/api/v1/owners/{OWNER}/packages"), None);
        assert!(
            !r.text().contains("example.com/bad"),
            "nothing stored: {}",
            r.text()
        );

        // A zip without go.mod is a module from before modules: its .mod is made up.
        let legacy = module_zip(
            "example.com/legacy",
            "v1.0.0",
            &[("l.go", "package legacy\n")],
        );
        let r = upload(&s, Some(ADMIN), &legacy);
        assert_eq!(r.status, 201, "{}", r.text());
        let served = get(&s, Some(ADMIN), "example.com/legacy/@v/v1.0.0.mod");
        assert_eq!(served.status, 200);
        assert_eq!(served.text(), "module example.com/legacy\n");
        let zip = get(&s, Some(ADMIN), "example.com/legacy/@v/v1.0.0.zip");
        assert_eq!(zip.body, legacy);
        assert_eq!(zip.header("content-type"), Some("application/zip"));
    }
}

#[test]
fn pseudo_versions_stay_out_of_the_list_until_nothing_else_is_latest() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let pseudo = "v0.0.0-20240102030405-abcdef123456";
        let zip = greet_zip("example.com/snap", pseudo, "snapshot");
        assert_eq!(upload(&s, Some(ADMIN), &zip).status, 201);
        let list = get(&s, Some(ADMIN), "example.com/snap/@v/list");
        assert_eq!(
            (list.status, list.text().as_str()),
            (200, ""),
            "{backend:?}"
        );
        let latest = get(&s, Some(ADMIN), "example.com/snap/@latest").json();
        assert_eq!(latest["Version"], pseudo);
        let info = get(
            &s,
            Some(ADMIN),
            &format!("example.com/snap/@v/{pseudo}.info"),
        );
        assert_eq!(info.json()["Version"], pseudo);

        let tagged = greet_zip("example.com/snap", "v0.1.0", "tagged");
        assert_eq!(upload(&s, Some(ADMIN), &tagged).status, 201);
        assert_eq!(
            get(&s, Some(ADMIN), "example.com/snap/@v/list").text(),
            "v0.1.0\n"
        );
        let latest = get(&s, Some(ADMIN), "example.com/snap/@latest").json();
        assert_eq!(latest["Version"], "v0.1.0", "{backend:?}");

        // The management API deletes a version (the module path's `/` written `%2F`), and the
        // rendered list and latest follow.
        let deleted = crate::common::api(
            &s,
            "DELETE",
            "/api/v1/owners/acme/packages/go/example.com%2Fsnap/versions/v0.1.0",
            None,
        );
        assert_eq!(deleted.status, 204, "{}", deleted.text());
        assert_eq!(get(&s, Some(ADMIN), "example.com/snap/@v/list").text(), "");
        let latest = get(&s, Some(ADMIN), "example.com/snap/@latest").json();
        assert_eq!(latest["Version"], pseudo, "{backend:?}");
    }
}
