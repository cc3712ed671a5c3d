//! The npm registry driven by the real clients (npm, pnpm, yarn 1 and 4, installed into the tools
//! folder by `scripts/services.sh`), plus raw HTTP for what clients never send.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

use crate::common::{ADMIN, Reply, TestServer, api, backends, describe};

const OWNER: &str = "acme";

fn registry(s: &TestServer) -> String {
    s.url(&format!("/api/packages/{OWNER}/npm/"))
}

/// A folder standing for one user of one client: its home (with `.npmrc`), caches and projects.
struct User {
    home: tempfile::TempDir,
    registry: String,
    token: String,
}

impl User {
    fn new(s: &TestServer, token: &str) -> User {
        let user = User::anonymous(s);
        let auth_key = user.registry.trim_start_matches("http:");
        let npmrc = user.home.path().join(".npmrc");
        let mut text = std::fs::read_to_string(&npmrc).unwrap();
        text.push_str(&format!("{auth_key}:_authToken={token}\n"));
        std::fs::write(npmrc, text).unwrap();
        User {
            token: token.to_string(),
            ..user
        }
    }

    /// A user whose `.npmrc` holds no token.
    fn anonymous(s: &TestServer) -> User {
        let home = tempfile::tempdir().unwrap();
        let registry = registry(s);
        std::fs::write(
            home.path().join(".npmrc"),
            format!("registry={registry}\nfund=false\naudit=false\nupdate-notifier=false\n"),
        )
        .unwrap();
        User {
            home,
            registry,
            token: String::new(),
        }
    }

    fn path(&self, sub: &str) -> PathBuf {
        let p = self.home.path().join(sub);
        std::fs::create_dir_all(&p).unwrap();
        p
    }

    /// Runs `program` in `dir` with this user's home and caches and nothing from the machine's.
    fn run(&self, program: &str, args: &[&str], dir: &Path) -> Output {
        Command::new(program)
            .args(args)
            .current_dir(dir)
            .env("HOME", self.home.path())
            .env("npm_config_userconfig", self.home.path().join(".npmrc"))
            .env("npm_config_cache", self.home.path().join("npm-cache"))
            .env("XDG_CACHE_HOME", self.home.path().join("cache"))
            .env("XDG_DATA_HOME", self.home.path().join("data"))
            .env("YARN_CACHE_FOLDER", self.home.path().join("yarn-cache"))
            .env("COREPACK_ENABLE_STRICT", "0")
            .env_remove("npm_config_registry")
            .output()
            .unwrap_or_else(|e| panic!("{program}: {e}"))
    }

    fn npm(&self, args: &[&str], dir: &Path) -> String {
        let out = self.run("npm", args, dir);
        assert!(out.status.success(), "npm {args:?}: {}", describe(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn npm_fails(&self, args: &[&str], dir: &Path) -> String {
        let out = self.run("npm", args, dir);
        assert!(
            !out.status.success(),
            "npm {args:?} succeeded: {}",
            describe(&out)
        );
        describe(&out)
    }

    /// Runs a JavaScript client from the tools folder with node.
    fn node_client(&self, script: &str, args: &[&str], dir: &Path) -> String {
        let mut all = vec![script];
        all.extend_from_slice(args);
        let out = self.run("node", &all, dir);
        assert!(
            out.status.success(),
            "{script} {args:?}: {}",
            describe(&out)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// Where `scripts/services.sh` installed pnpm and the yarns; missing is a failure, not a skip.
fn node_client(relative: &str) -> String {
    let dir = std::env::var("CARGOMAN_TEST_NODE_CLIENTS").expect(
        "CARGOMAN_TEST_NODE_CLIENTS is not set: run the suite with ./scripts/test.sh (services_install, services_start)",
    );
    let path = Path::new(&dir).join(relative);
    assert!(
        path.exists(),
        "{} is missing: run services_install",
        path.display()
    );
    path.to_string_lossy().into_owned()
}

/// Writes a package's sources into a fresh folder and returns it.
fn package_dir(user: &User, name: &str, version: &str, dependencies: Value) -> PathBuf {
    let dir = user.path(&format!("src/{}-{version}", name.replace('/', "+")));
    let manifest = json!({
        "name": name,
        "version": version,
        "description": format!("{name} at {version}"),
        "main": "index.js",
        "license": "MIT",
        "dependencies": dependencies,
    });
    std::fs::write(
        dir.join("package.json"),
        serde_json::to_string_pretty(&manifest).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.join("index.js"),
        format!("module.exports = {:?};\n", format!("{name}@{version}")),
    )
    .unwrap();
    std::fs::write(
        dir.join("README.md"),
        format!("# {name}\n\nversion {version}\n"),
    )
    .unwrap();
    dir
}

fn publish(user: &User, name: &str, version: &str, extra: &[&str]) {
    let dir = package_dir(user, name, version, json!({}));
    let mut args = vec!["publish"];
    args.extend_from_slice(extra);
    user.npm(&args, &dir);
}

/// A consumer project with `package.json` only.
fn project(user: &User, name: &str) -> PathBuf {
    let dir = user.path(&format!("projects/{name}"));
    std::fs::write(
        dir.join("package.json"),
        json!({"name": name, "version": "1.0.0", "private": true}).to_string(),
    )
    .unwrap();
    dir
}

/// The version of `package` installed in a project's node_modules.
fn installed(dir: &Path, package: &str) -> String {
    let manifest = dir.join("node_modules").join(package).join("package.json");
    let text = std::fs::read_to_string(&manifest)
        .unwrap_or_else(|e| panic!("{}: {e}", manifest.display()));
    serde_json::from_str::<Value>(&text).unwrap()["version"]
        .as_str()
        .unwrap()
        .to_string()
}

fn get(s: &TestServer, token: Option<&str>, path: &str, extra: &[&str]) -> Reply {
    let auth = token.map(|t| format!("Authorization: Bearer {t}"));
    let mut args: Vec<&str> = Vec::new();
    if let Some(a) = &auth {
        args.extend(["-H", a]);
    }
    args.extend_from_slice(extra);
    let path = format!("/api/packages/{OWNER}/npm{path}");
    args.push(&path);
    s.curl(&args)
}

#[test]
fn npm_publishes_installs_tags_deprecates_and_unpublishes() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let user = User::new(&s, ADMIN);
        publish(&user, "greet", "1.0.0", &[]);
        publish(&user, "greet", "1.1.0", &[]);
        publish(&user, "greet", "2.0.0", &["--tag", "next"]);
        // A scoped package depending on an unscoped one of ours.
        let hello = package_dir(&user, "@acme/hello", "1.0.0", json!({"greet": "^1.0.0"}));
        user.npm(&["publish"], &hello);

        let tags: Value = serde_json::from_str(
            &user.npm(&["view", "greet", "dist-tags", "--json"], &user.path(".")),
        )
        .unwrap();
        assert_eq!(
            tags,
            json!({"latest": "1.1.0", "next": "2.0.0"}),
            "{backend:?}"
        );

        // npm refuses a version that exists on its own; the server says 409 (seen with --force).
        let again = package_dir(&user, "greet", "1.0.0", json!({}));
        user.npm_fails(&["publish"], &again);
        let forced = user.npm_fails(&["publish", "--force"], &again);
        assert!(
            forced.contains("409") || forced.contains("previously published"),
            "{forced}"
        );

        let app = project(&user, "app");
        user.npm(&["install", "@acme/hello"], &app);
        assert_eq!(installed(&app, "@acme/hello"), "1.0.0");
        assert_eq!(installed(&app, "greet"), "1.1.0", "transitive, ^1.0.0");
        // npm ci from the lockfile, in a clean copy.
        std::fs::remove_dir_all(app.join("node_modules")).unwrap();
        user.npm(&["ci"], &app);
        assert_eq!(installed(&app, "greet"), "1.1.0");

        user.npm(&["dist-tag", "add", "greet@2.0.0", "stable"], &app);
        let ls = user.npm(&["dist-tag", "ls", "greet"], &app);
        assert!(
            ls.contains("stable: 2.0.0") && ls.contains("latest: 1.1.0"),
            "{ls}"
        );
        user.npm(&["dist-tag", "rm", "greet", "stable"], &app);
        let ls = user.npm(&["dist-tag", "ls", "greet"], &app);
        assert!(!ls.contains("stable"), "{ls}");

        user.npm(&["deprecate", "greet@1.0.0", "use 1.1"], &app);
        let doc = get(&s, Some(ADMIN), "/greet", &[]).json();
        assert_eq!(doc["versions"]["1.0.0"]["deprecated"], "use 1.1");
        assert!(doc["versions"]["1.1.0"].get("deprecated").is_none());

        user.npm(&["unpublish", "greet@2.0.0"], &app);
        let doc = get(&s, Some(ADMIN), "/greet", &[]).json();
        let versions: Vec<&String> = doc["versions"].as_object().unwrap().keys().collect();
        assert_eq!(versions, ["1.0.0", "1.1.0"], "{backend:?}");
        assert!(
            doc["dist-tags"].get("next").is_none(),
            "{}",
            doc["dist-tags"]
        );
        assert_eq!(
            get(&s, Some(ADMIN), "/greet/-/greet-2.0.0.tgz", &[]).status,
            404
        );

        let whoami = user.npm(&["whoami"], &app);
        assert_eq!(whoami.trim(), "root");
        user.npm(&["ping"], &app);
        let found = user.npm(&["search", "--json", "hel"], &app);
        let found: Value = serde_json::from_str(&found).unwrap();
        assert_eq!(found[0]["name"], "@acme/hello", "{found}");

        user.npm(&["unpublish", "@acme/hello", "--force"], &app);
        assert_eq!(get(&s, Some(ADMIN), "/@acme%2fhello", &[]).status, 404);
    }
}

#[test]
fn documents_follow_the_protocol() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let user = User::new(&s, ADMIN);
        publish(&user, "@acme/greet", "1.0.0", &[]);
        let tarball = format!("{}@acme/greet/-/greet-1.0.0.tgz", user.registry);

        // Full document: absolute tarball URL, both digests, times, readme.
        let full = get(&s, Some(ADMIN), "/@acme%2Fgreet", &[]);
        assert_eq!(full.status, 200, "{}", full.text());
        let doc = full.json();
        let dist = &doc["versions"]["1.0.0"]["dist"];
        assert_eq!(dist["tarball"], tarball.as_str());
        assert_eq!(dist["shasum"].as_str().unwrap().len(), 40);
        assert!(dist["integrity"].as_str().unwrap().starts_with("sha512-"));
        assert!(doc["time"]["created"].is_string() && doc["time"]["1.0.0"].is_string());
        assert!(
            doc["readme"].as_str().unwrap().contains("version 1.0.0"),
            "{doc}"
        );

        // The abbreviated one for install clients, with q-values; same under every name spelling.
        let npm_accept =
            "Accept: application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*";
        for path in ["/@acme%2fgreet", "/@acme/greet", "/%40acme%2Fgreet"] {
            let short = get(&s, Some(ADMIN), path, &["-H", npm_accept]);
            assert_eq!(short.status, 200, "{path}");
            assert_eq!(
                short.header("content-type"),
                Some("application/vnd.npm.install-v1+json")
            );
            let doc = short.json();
            assert!(doc.get("readme").is_none() && doc["modified"].is_string());
            assert_eq!(
                doc["versions"]["1.0.0"]["dist"]["tarball"],
                tarball.as_str()
            );
        }

        // ETag and 304.
        let etag = full.header("etag").unwrap().to_string();
        let again = get(
            &s,
            Some(ADMIN),
            "/@acme%2Fgreet",
            &["-H", &format!("If-None-Match: {etag}")],
        );
        assert_eq!(again.status, 304);

        // One version, by name and by tag; the tarball under both URL forms.
        assert_eq!(
            get(&s, Some(ADMIN), "/@acme%2fgreet/1.0.0", &[]).json()["version"],
            "1.0.0"
        );
        assert_eq!(
            get(&s, Some(ADMIN), "/@acme%2fgreet/latest", &[]).json()["version"],
            "1.0.0"
        );
        assert_eq!(
            get(&s, Some(ADMIN), "/@acme%2fgreet/9.9.9", &[]).status,
            404
        );
        for path in [
            "/@acme/greet/-/greet-1.0.0.tgz",
            "/@acme%2fgreet/-/1.0.0/greet-1.0.0.tgz",
        ] {
            let r = get(&s, Some(ADMIN), path, &[]);
            assert_eq!(r.status, 200, "{path}");
            assert_eq!(r.body[..2], [0x1f, 0x8b], "a gzip");
        }

        // Unknown packages are 404 (npm publishes only after that), in npm's error shape.
        let missing = get(&s, Some(ADMIN), "/nothing-here", &[]);
        assert_eq!(missing.status, 404);
        assert!(missing.json()["error"].is_string(), "{}", missing.text());
        // Tools.
        assert_eq!(get(&s, Some(ADMIN), "/-/ping", &[]).status, 200);
        let audit = get(
            &s,
            Some(ADMIN),
            "/-/npm/v1/security/audits/quick",
            &["-X", "POST", "-d", "{}"],
        );
        assert_eq!(audit.json()["advisories"], json!({}));
        // Anonymous readers of a private owner are asked for credentials.
        let anonymous = get(&s, None, "/@acme%2fgreet", &[]);
        assert_eq!(anonymous.status, 401);
        assert!(
            anonymous
                .header("www-authenticate")
                .unwrap()
                .starts_with("Basic")
        );
    }
}

/// A publish body as npm sends it.
fn publish_body(name: &str, versions: &[&str], tarball: &[u8], tags: Value) -> Value {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(tarball);
    let unscoped = name.rsplit('/').next().unwrap();
    let mut all = serde_json::Map::new();
    for v in versions {
        all.insert(v.to_string(), json!({"name": name, "version": v}));
    }
    let first = versions.first().copied().unwrap_or("1.0.0");
    json!({
        "_id": name, "name": name, "dist-tags": tags, "versions": all,
        "_attachments": {format!("{unscoped}-{first}.tgz"):
            {"content_type": "application/octet-stream", "data": b64, "length": tarball.len()}},
    })
}

/// A JSON object's text with npm's key order: `_attachments` last, after the versions.
fn npm_order(text: &str) -> Option<String> {
    let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(text) else {
        return None;
    };
    let parts: Vec<String> = fields
        .iter()
        .filter(|(k, _)| k.as_str() != "_attachments")
        .chain(fields.get_key_value("_attachments"))
        .map(|(k, v)| format!("{}:{v}", json!(k)))
        .collect();
    Some(format!("{{{}}}", parts.join(",")))
}

fn put(s: &TestServer, token: Option<&str>, path: &str, body: &str) -> Reply {
    let auth = token.map(|t| format!("Authorization: Bearer {t}"));
    let mut args: Vec<&str> = vec![
        "-X",
        "PUT",
        "-H",
        "Content-Type: application/json",
        "--data-binary",
        body,
    ];
    if let Some(a) = &auth {
        args.extend(["-H", a]);
    }
    let path = format!("/api/packages/{OWNER}/npm{path}");
    args.push(&path);
    s.curl(&args)
}

#[test]
fn bad_publishes_store_nothing() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let (_, viewer) = team_token(&s, "viewer");
        let good = publish_body("tool", &["1.0.0"], b"tarball", json!({"latest": "1.0.0"}));
        let mut wrong_integrity = good.clone();
        wrong_integrity["versions"]["1.0.0"]["dist"] =
            json!({"integrity": format!("sha512-{}", "A".repeat(86) + "==")});
        let mut wrong_shasum = good.clone();
        wrong_shasum["versions"]["1.0.0"]["dist"] = json!({"shasum": "0".repeat(40)});
        let mut mismatch = good.clone();
        mismatch["_attachments"] =
            json!({"tool-1.0.1.tgz": good["_attachments"]["tool-1.0.0.tgz"]});
        let mut wrong_length = good.clone();
        wrong_length["_attachments"]["tool-1.0.0.tgz"]["length"] = json!(99);
        let cases: Vec<(String, &str, Option<&str>, u16)> = vec![
            ("{not json".into(), "/tool", Some(ADMIN), 400),
            (wrong_length.to_string(), "/tool", Some(ADMIN), 400),
            (
                publish_body("tool", &[], b"x", json!({})).to_string(),
                "/tool",
                Some(ADMIN),
                400,
            ),
            (
                publish_body("tool", &["1.0.0", "1.0.1"], b"x", json!({})).to_string(),
                "/tool",
                Some(ADMIN),
                400,
            ),
            (mismatch.to_string(), "/tool", Some(ADMIN), 400),
            (wrong_integrity.to_string(), "/tool", Some(ADMIN), 400),
            (wrong_shasum.to_string(), "/tool", Some(ADMIN), 400),
            (
                publish_body("tool", &["1.0.0"], b"x", json!({"1.x": "1.0.0"})).to_string(),
                "/tool",
                Some(ADMIN),
                400,
            ),
            (
                publish_body("Tool", &["1.0.0"], b"x", json!({})).to_string(),
                "/Tool",
                Some(ADMIN),
                400,
            ),
            (
                publish_body("..", &["1.0.0"], b"x", json!({})).to_string(),
                "/%2e%2e",
                Some(ADMIN),
                400,
            ),
            (
                publish_body("_x", &["1.0.0"], b"x", json!({})).to_string(),
                "/_x",
                Some(ADMIN),
                400,
            ),
            (
                publish_body(".x", &["1.0.0"], b"x", json!({})).to_string(),
                "/.x",
                Some(ADMIN),
                400,
            ),
            (good.to_string(), "/other", Some(ADMIN), 400),
            (good.to_string(), "/tool", None, 401),
            (good.to_string(), "/tool", Some(&viewer), 403),
        ];
        // Each body as serde_json writes it (keys sorted: the tarball first, so it is spooled)
        // and in npm's order (the tarball last, so it streams into storage before the refusal).
        let both_orders = cases.iter().flat_map(|(body, path, token, status)| {
            let npm = npm_order(body).map(|b| (b, *path, *token, *status));
            std::iter::once((body.clone(), *path, *token, *status)).chain(npm)
        });
        for (body, path, token, status) in both_orders {
            let (body, token) = (&body, &token);
            let r = put(&s, *token, path, body);
            assert_eq!(
                r.status,
                status,
                "{backend:?} {path} {body:.80}: {}",
                r.text()
            );
            assert!(r.json()["error"].is_string(), "{}", r.text());
        }
        let long = "a".repeat(215);
        let r = put(
            &s,
            Some(ADMIN),
            &format!("/{long}"),
            &publish_body(&long, &["1.0.0"], b"x", json!({})).to_string(),
        );
        assert_eq!(r.status, 400);
        // Nothing was stored: the package does not exist, and no blob is left behind.
        assert_eq!(get(&s, Some(ADMIN), "/tool", &[]).status, 404);
        let owners = api(&s, "GET", "/api/v1/owners", None).json();
        assert_eq!(owners["data"], json!([]), "{owners}");

        // Oversize bodies are refused while they arrive.
        let small = TestServer::start_with(backend, &[("MAX_UPLOAD_SIZE", "1000")]);
        let big = publish_body("tool", &["1.0.0"], &[7u8; 2000], json!({}));
        assert_eq!(
            put(&small, Some(ADMIN), "/tool", &big.to_string()).status,
            413
        );

        // The good body publishes; the same version again is 409.
        assert_eq!(put(&s, Some(ADMIN), "/tool", &good.to_string()).status, 201);
        let again = put(&s, Some(ADMIN), "/tool", &good.to_string());
        assert_eq!(again.status, 409);
        assert!(
            again.json()["error"]
                .as_str()
                .unwrap()
                .contains("previously published")
        );
        // The seed's form names the package in the body only, and streams the same way.
        let seed_form = publish_body("tool", &["1.1.0"], b"tarball 2", json!({"next": "1.1.0"}));
        let r = put(
            &s,
            Some(ADMIN),
            "/-/package",
            &npm_order(&seed_form.to_string()).unwrap(),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        assert_eq!(
            get(&s, Some(ADMIN), "/tool/next", &[]).json()["version"],
            "1.1.0"
        );
        // Tags: not a range, latest stays.
        let r = put(
            &s,
            Some(ADMIN),
            "/-/package/tool/dist-tags/2.x",
            "\"1.0.0\"",
        );
        assert_eq!(r.status, 400, "{}", r.text());
        let r = get(
            &s,
            Some(ADMIN),
            "/-/package/tool/dist-tags/latest",
            &["-X", "DELETE"],
        );
        assert_eq!(r.status, 400, "{}", r.text());
        let r = put(&s, Some(ADMIN), "/tool/-disttag/beta", "\"1.0.0\"");
        assert_eq!(r.status, 201, "{}", r.text());
        let tags = get(&s, Some(ADMIN), "/-/package/tool/dist-tags", &[]).json();
        assert_eq!(
            tags,
            json!({"beta": "1.0.0", "latest": "1.0.0", "next": "1.1.0"})
        );
    }
}

fn team_token(s: &TestServer, level: &str) -> (i64, String) {
    let r = api(
        s,
        "POST",
        "/api/v1/tokens",
        Some(&json!({"name": level, "level": level})),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let data = &r.json()["data"];
    (
        data["id"].as_i64().unwrap(),
        data["token"].as_str().unwrap().to_string(),
    )
}

#[test]
fn a_customer_sees_only_its_granted_versions() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let team = User::new(&s, ADMIN);
        for v in ["1.0.0", "1.2.0", "1.3.0-beta.1", "2.0.0"] {
            let tag: &[&str] = if v.contains('-') {
                &["--tag", "beta"]
            } else {
                &[]
            };
            publish(&team, "kit", v, tag);
        }
        publish(&team, "secret", "1.0.0", &[]);
        let r = api(
            &s,
            "POST",
            "/api/v1/customers",
            Some(&json!({"name": "Shop"})),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        let id = r.json()["data"]["id"].as_str().unwrap().to_string();
        let token = r.json()["data"]["token"].as_str().unwrap().to_string();
        // The answer carries the client's setup: an .npmrc with the token.
        let npmrc = r.json()["data"]["npmrc"].as_str().unwrap().to_string();
        assert!(npmrc.contains(&format!(":_authToken={token}")), "{npmrc}");
        let grant =
            json!({"format": "npm", "owner": OWNER, "package": "kit", "constraint": "^1.0"});
        let r = api(
            &s,
            "POST",
            &format!("/api/v1/customers/{id}/packages"),
            Some(&grant),
        );
        assert!(r.status == 200 || r.status == 201, "{}", r.text());

        let doc = get(&s, Some(&token), "/kit", &[]).json();
        let versions: Vec<&String> = doc["versions"].as_object().unwrap().keys().collect();
        assert_eq!(versions, ["1.0.0", "1.2.0"], "{backend:?}");
        assert_eq!(doc["dist-tags"], json!({"latest": "1.2.0"}));
        assert_eq!(
            get(&s, Some(&token), "/kit/-/kit-1.2.0.tgz", &[]).status,
            200
        );
        assert_eq!(
            get(&s, Some(&token), "/kit/-/kit-2.0.0.tgz", &[]).status,
            403
        );
        assert_eq!(get(&s, Some(&token), "/secret", &[]).status, 404);
        assert_eq!(
            get(&s, Some(&token), "/secret/-/secret-1.0.0.tgz", &[]).status,
            403
        );

        // npm itself, with the customer's token: `^1` resolves within the grant.
        let customer = User::new(&s, &token);
        let app = project(&customer, "shop");
        customer.npm(&["install", "kit"], &app);
        assert_eq!(installed(&app, "kit"), "1.2.0");
        let refused = customer.npm_fails(&["install", "kit@2.0.0"], &app);
        assert!(
            refused.contains("ETARGET") || refused.contains("No matching version"),
            "{refused}"
        );
        // Customers never write.
        let body = publish_body("kit", &["9.0.0"], b"x", json!({}));
        let r = put(&s, Some(&token), "/kit", &body.to_string());
        assert_eq!(r.status, 403, "{}", r.text());
    }
}

#[test]
fn pnpm_and_yarn_install_and_publish() {
    let pnpm = node_client("pnpm/bin/pnpm.mjs");
    let yarn1 = node_client("yarn/bin/yarn.js");
    let yarn4 = node_client("@yarnpkg/cli-dist/bin/yarn.js");
    for backend in backends() {
        let s = TestServer::start(backend);
        let user = User::new(&s, ADMIN);
        publish(&user, "@acme/base", "1.0.0", &[]);

        // pnpm publishes and adds.
        let lib = package_dir(&user, "@acme/lib", "1.0.0", json!({"@acme/base": "^1.0.0"}));
        user.node_client(&pnpm, &["publish", "--no-git-checks"], &lib);
        let app = project(&user, "pnpm-app");
        std::fs::write(
            app.join("pnpm-workspace.yaml"),
            "minimumReleaseAge: 0\nfetchRetries: 0\n",
        )
        .unwrap();
        user.node_client(&pnpm, &["add", "@acme/lib"], &app);
        assert_eq!(installed(&app, "@acme/lib"), "1.0.0");

        // yarn 1 adds (it reads .npmrc).
        let app = project(&user, "yarn1-app");
        user.node_client(&yarn1, &["add", "@acme/lib", "--non-interactive"], &app);
        assert_eq!(installed(&app, "@acme/lib"), "1.0.0");
        assert_eq!(installed(&app, "@acme/base"), "1.0.0");

        // yarn 4 adds and publishes.
        let app = project(&user, "yarn4-app");
        std::fs::write(app.join("yarn.lock"), "").unwrap();
        // `enableImmutableInstalls: false`: under CI=true yarn 4 refuses to write the lockfile
        // this install is meant to write.
        let yarnrc = format!(
            "npmRegistryServer: \"{}\"\nunsafeHttpWhitelist: [\"127.0.0.1\"]\nnpmMinimalAgeGate: 0\nnpmAuthToken: \"{}\"\nnodeLinker: node-modules\nenableTelemetry: false\nenableImmutableInstalls: false\n",
            user.registry, user.token
        );
        std::fs::write(app.join(".yarnrc.yml"), &yarnrc).unwrap();
        user.node_client(&yarn4, &["add", "@acme/lib"], &app);
        assert_eq!(installed(&app, "@acme/lib"), "1.0.0");
        let own = package_dir(&user, "@acme/from-yarn", "1.0.0", json!({}));
        std::fs::write(own.join(".yarnrc.yml"), &yarnrc).unwrap();
        std::fs::write(own.join("yarn.lock"), "").unwrap();
        user.node_client(&yarn4, &["install"], &own);
        user.node_client(&yarn4, &["npm", "publish"], &own);
        let doc = get(&s, Some(ADMIN), "/@acme%2ffrom-yarn", &[]).json();
        assert!(
            doc["versions"]["1.0.0"]["dist"]["integrity"].is_string(),
            "{doc}"
        );
    }
}

#[test]
fn public_owners_install_anonymously_and_login_takes_a_team_token() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let team = User::new(&s, ADMIN);
        publish(&team, "@acme/open", "1.0.0", &[]);
        let stranger = User::anonymous(&s);
        let app = project(&stranger, "app");
        stranger.npm_fails(&["install", "@acme/open"], &app);
        let r = api(
            &s,
            "PATCH",
            &format!("/api/v1/owners/{OWNER}"),
            Some(&json!({"visibility": "public"})),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        stranger.npm(&["install", "@acme/open"], &app);
        assert_eq!(installed(&app, "@acme/open"), "1.0.0");
        // Reading is all an anonymous caller may do: every read route answers, every write asks
        // for credentials (the public-owner column of the auth matrix).
        for path in [
            "/@acme%2fopen",
            "/@acme%2fopen/1.0.0",
            "/@acme%2fopen/latest",
            "/@acme/open/-/open-1.0.0.tgz",
            "/@acme/open/-/1.0.0/open-1.0.0.tgz",
            "/-/package/@acme%2fopen/dist-tags",
            "/-/v1/search?text=open",
            "/-/ping",
        ] {
            let r = get(&s, None, path, &[]);
            assert_eq!(r.status, 200, "anonymous {path}: {}", r.text());
        }
        for (method, path) in [
            ("PUT", "/@acme%2fopen/-rev/1-x"),
            ("DELETE", "/@acme%2fopen/-rev/1-x"),
            ("DELETE", "/@acme/open/-/open-1.0.0.tgz/-rev/1-x"),
            ("PUT", "/-/package/@acme%2fopen/dist-tags/beta"),
            ("DELETE", "/-/package/@acme%2fopen/dist-tags/beta"),
            ("PUT", "/@acme%2fopen/-disttag/beta"),
        ] {
            let r = get(
                &s,
                None,
                path,
                &["-X", method, "--data-binary", "\"1.0.0\""],
            );
            assert_eq!(r.status, 401, "anonymous {method} {path}: {}", r.text());
        }
        assert_eq!(get(&s, None, "/-/whoami", &[]).status, 401);
        let body = publish_body("@acme/open", &["2.0.0"], b"x", json!({}));
        assert_eq!(
            put(&s, None, "/@acme%2fopen", &body.to_string()).status,
            401
        );

        // `npm login` (legacy): the password must be a team token, which becomes npm's token.
        let login = |password: &str| {
            put(
                &s,
                None,
                "/-/user/org.couchdb.user:alice",
                &json!({"_id": "org.couchdb.user:alice", "name": "alice", "password": password,
                        "type": "user", "roles": []})
                .to_string(),
            )
        };
        let ok = login(ADMIN);
        assert_eq!(ok.status, 201, "{}", ok.text());
        assert_eq!(ok.json()["token"], ADMIN);
        let (_, viewer) = team_token(&s, "viewer");
        assert_eq!(login(&viewer).status, 201);
        let refused = login("not-a-token");
        assert_eq!(refused.status, 401, "{}", refused.text());
        assert!(refused.json()["error"].is_string());

        // npm itself: `npm login` writes the token into .npmrc, `npm whoami` then names it.
        let user = User::anonymous(&s);
        let out = npm_login(&user, "alice", &viewer);
        assert!(out.status.success(), "npm login: {}", describe(&out));
        let npmrc = std::fs::read_to_string(user.home.path().join(".npmrc")).unwrap();
        assert!(npmrc.contains(&format!(":_authToken={viewer}")), "{npmrc}");
        assert_eq!(user.npm(&["whoami"], &user.path(".")).trim(), "viewer");
        let out = npm_login(&User::anonymous(&s), "alice", "not-a-token");
        assert!(
            !out.status.success(),
            "npm login with a bad password: {}",
            describe(&out)
        );
    }
}

/// Answers the prompts of `npm login --auth-type=legacy`, which reads the password from a
/// terminal only: python's pty module gives it one.
const NPM_LOGIN_DRIVER: &str = r#"
import os, pty, select, sys, time
user, password = sys.argv[1], sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    os.execvp("npm", ["npm", "login", "--auth-type=legacy"])
answers = [(b"Username:", user), (b"Password:", password), (b"Email", "npm@example.org")]
seen = b""
deadline = time.time() + 60
status = None
while time.time() < deadline and status is None:
    if select.select([fd], [], [], 0.2)[0]:
        try:
            data = os.read(fd, 4096)
        except OSError:
            data = b""
        seen += data
        sys.stdout.write(data.decode(errors="replace"))
        while answers and answers[0][0] in seen:
            prompt, answer = answers.pop(0)
            seen = seen.split(prompt, 1)[1]
            os.write(fd, answer.encode() + b"\n")
    done, code = os.waitpid(pid, os.WNOHANG)
    if done:
        status = os.waitstatus_to_exitcode(code)
sys.exit(1 if status is None else status)
"#;

fn npm_login(user: &User, name: &str, password: &str) -> Output {
    user.run(
        "python3",
        &["-c", NPM_LOGIN_DRIVER, name, password],
        &user.path("."),
    )
}

#[test]
fn a_range_picks_the_right_version_among_hundreds() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let mut versions = Vec::new();
        for major in 1..=3 {
            for minor in 0..10 {
                for patch in 0..10 {
                    versions.push(format!("{major}.{minor}.{patch}"));
                }
            }
        }
        let work = tempfile::tempdir().unwrap();
        for v in &versions {
            let tarball = tarball_of(work.path(), "many", v);
            let body = publish_body("many", &[v], &tarball, json!({"latest": v}));
            let r = put(
                &s,
                Some(ADMIN),
                "/many",
                &npm_order(&body.to_string()).unwrap(),
            );
            assert_eq!(r.status, 201, "{v}: {}", r.text());
        }
        let doc = get(&s, Some(ADMIN), "/many", &[]).json();
        assert_eq!(doc["versions"].as_object().unwrap().len(), 300);
        assert_eq!(doc["dist-tags"]["latest"], "3.9.9");
        let user = User::new(&s, ADMIN);
        let app = project(&user, "app");
        user.npm(&["install", "many@^2.1"], &app);
        assert_eq!(installed(&app, "many"), "2.9.9", "{backend:?}");
    }
}

/// A minimal npm tarball (`package/package.json`) made with tar, as `npm pack` lays it out.
fn tarball_of(work: &Path, name: &str, version: &str) -> Vec<u8> {
    let dir = work.join(version);
    std::fs::create_dir_all(dir.join("package")).unwrap();
    std::fs::write(
        dir.join("package/package.json"),
        json!({"name": name, "version": version}).to_string(),
    )
    .unwrap();
    let out = Command::new("tar")
        .args(["-czf", "-", "-C"])
        .arg(&dir)
        .arg("package")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    out.stdout
}

#[test]
fn concurrent_publishes_all_reach_the_packument() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let bodies: Vec<String> = (0..12)
            .map(|i| {
                let v = format!("1.0.{i}");
                publish_body("race", &[&v], v.as_bytes(), json!({"latest": v})).to_string()
            })
            .collect();
        std::thread::scope(|scope| {
            for body in &bodies {
                let s = &s;
                scope.spawn(move || {
                    let r = put(s, Some(ADMIN), "/race", body);
                    assert_eq!(r.status, 201, "{}", r.text());
                });
            }
        });
        let doc = get(&s, Some(ADMIN), "/race", &[]).json();
        assert_eq!(
            doc["versions"].as_object().unwrap().len(),
            12,
            "{backend:?}: {}",
            doc["versions"]
        );
    }
}
