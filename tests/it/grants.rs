//! Customer access for every format, proven with Generic and curl (Generic's client): a grant
//! names `{"format", "owner", "package", "constraint"}`; a customer token reads exactly the
//! packages and versions its grants, collections, freezes and token scopes allow, and nothing
//! else. The same shapes work in collections, freezes, the reverse lookup and revocation.

use serde_json::{Value, json};

use crate::common::{Reply, TestServer, api, backends};

const TOOL_1: &str = "/api/packages/acme/generic/tool/1.0.0/tool.bin";
const TOOL_2: &str = "/api/packages/acme/generic/tool/2.0.0/tool.bin";
const OTHER: &str = "/api/packages/acme/generic/other/1.0.0/other.bin";
const ELSEWHERE: &str = "/api/packages/beta/generic/tool/1.0.0/tool.bin";

/// Publishes the four files above (team token); all owners stay private.
fn publish(s: &TestServer) {
    for (i, path) in [TOOL_1, TOOL_2, OTHER, ELSEWHERE].into_iter().enumerate() {
        let body = format!("file {i}");
        let r = s.admin(&["-X", "PUT", "--data-binary", &body, path]);
        assert_eq!(r.status, 201, "{path}: {}", r.text());
    }
}

fn tool(constraint: &str) -> Value {
    json!({"format": "generic", "owner": "acme", "package": "tool", "constraint": constraint})
}

/// A customer with its initial (admin-scoped) token.
fn customer(s: &TestServer) -> (String, String) {
    let r = api(
        s,
        "POST",
        "/api/v1/customers",
        Some(&json!({"name": "Shop"})),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let data = &r.json()["data"];
    (
        data["id"].as_str().unwrap().to_string(),
        data["token"].as_str().unwrap().to_string(),
    )
}

fn grant(s: &TestServer, id: &str, body: &Value) -> Reply {
    api(
        s,
        "POST",
        &format!("/api/v1/customers/{id}/packages"),
        Some(body),
    )
}

/// A GET as curl sends it with `--user` (any user name, the token as password).
fn get_as(s: &TestServer, token: &str, path: &str) -> Reply {
    s.curl(&["--user", &format!("ci:{token}"), path])
}

/// The status of each of the four files for `token`.
fn statuses(s: &TestServer, token: &str) -> [u16; 4] {
    [TOOL_1, TOOL_2, OTHER, ELSEWHERE].map(|p| get_as(s, token, p).status)
}

#[test]
fn a_customer_reads_exactly_its_granted_generic_packages() {
    for backend in backends() {
        let s = TestServer::start(backend);
        publish(&s);
        let (id, token) = customer(&s);
        // Nothing granted: refused, saying so.
        assert_eq!(statuses(&s, &token), [403, 403, 403, 403], "{backend:?}");
        let refused = get_as(&s, &token, TOOL_1);
        assert!(refused.text().contains("not among your granted packages"));

        let r = grant(&s, &id, &tool("*"));
        assert_eq!(r.status, 201, "{}", r.text());
        assert_eq!(
            r.json()["data"][0],
            json!({"format": "generic", "owner": "acme", "package": "tool",
                   "constraint": "*", "created_at": r.json()["data"][0]["created_at"]}),
        );
        // Granted: both versions, with the bytes published; nothing else.
        assert_eq!(statuses(&s, &token), [200, 200, 403, 403], "{backend:?}");
        assert_eq!(get_as(&s, &token, TOOL_1).text(), "file 0");
        // Bearer works as well as Basic; no token at all gets the challenge.
        let bearer = s.curl(&["-H", &format!("Authorization: Bearer {token}"), TOOL_2]);
        assert_eq!(bearer.status, 200);
        let anonymous = s.curl(&[TOOL_1]);
        assert_eq!(anonymous.status, 401);
        assert!(anonymous.header("www-authenticate").is_some());

        // A constraint narrows the versions: a glob over version names.
        let r = grant(&s, &id, &tool("1.*"));
        assert_eq!(r.status, 201, "{}", r.text());
        assert_eq!(statuses(&s, &token), [200, 403, 403, 403]);
        let refused = get_as(&s, &token, TOOL_2);
        assert!(
            refused.text().contains("not within your grants"),
            "{}",
            refused.text()
        );

        // Suspended: refused with the reason, whatever the grants.
        let r = api(
            &s,
            "POST",
            &format!("/api/v1/customers/{id}/suspend"),
            Some(&json!({"reason": "unpaid"})),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let suspended = get_as(&s, &token, TOOL_1);
        assert_eq!(suspended.status, 403);
        assert!(suspended.text().contains("unpaid"), "{}", suspended.text());
        api(
            &s,
            "POST",
            &format!("/api/v1/customers/{id}/reactivate"),
            None,
        );
        assert_eq!(statuses(&s, &token), [200, 403, 403, 403]);

        // Revoked by the same names, as a query.
        let path =
            format!("/api/v1/customers/{id}/packages?format=generic&owner=acme&package=tool");
        assert_eq!(api(&s, "DELETE", &path, None).status, 204);
        assert_eq!(api(&s, "DELETE", &path, None).status, 404);
        assert_eq!(statuses(&s, &token), [403, 403, 403, 403]);
    }
}

#[test]
fn collections_freezes_scopes_and_lookups_name_any_format() {
    for backend in backends() {
        let s = TestServer::start(backend);
        publish(&s);
        let (id, token) = customer(&s);

        // A collection holding a Generic package, granted as a unit.
        let r = api(
            &s,
            "POST",
            "/api/v1/collections",
            Some(&json!({"name": "Tools", "slug": "tools",
                         "packages": [{"format": "generic", "owner": "Acme", "package": "tool"}]})),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        assert_eq!(
            r.json()["data"]["packages"],
            json!([{"format": "generic", "owner": "acme", "package": "tool"}])
        );
        let r = grant(
            &s,
            &id,
            &json!({"collection": "tools", "constraint": "2.0.0"}),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        assert_eq!(statuses(&s, &token), [403, 200, 403, 403], "{backend:?}");

        // The reverse lookup finds the holder through the collection.
        let holders = api(
            &s,
            "GET",
            "/api/v1/customers/by-package?format=generic&owner=acme&package=tool",
            None,
        );
        assert_eq!(holders.status, 200, "{}", holders.text());
        assert_eq!(holders.json()["data"][0]["id"], json!(id));
        assert_eq!(holders.json()["data"][0]["via_collection"], "tools");

        // A token scope narrows to packages of one owner and format by glob.
        let scoped = api(
            &s,
            "POST",
            &format!("/api/v1/customers/{id}/tokens"),
            Some(&json!({"name": "ci", "scope": "download",
                         "package_scopes": ["generic:acme/nothing-*"]})),
        );
        assert_eq!(scoped.status, 201, "{}", scoped.text());
        let scoped = scoped.json()["data"]["plain_token"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(statuses(&s, &scoped), [403, 403, 403, 403]);
        let matching = api(
            &s,
            "POST",
            &format!("/api/v1/customers/{id}/tokens"),
            Some(&json!({"name": "ci2", "scope": "download",
                         "package_scopes": ["generic:acme/too*"]})),
        );
        let matching = matching.json()["data"]["plain_token"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(statuses(&s, &matching), [403, 200, 403, 403]);

        // Frozen at tool 1.0.0: only that version, whatever the grants say.
        let r = api(
            &s,
            "POST",
            &format!("/api/v1/customers/{id}/freeze"),
            Some(&json!({"versions": [{"format": "generic", "owner": "acme",
                                       "package": "tool", "version": "1.0.0"}]})),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(
            r.json()["data"]["frozen_versions"],
            json!([{"format": "generic", "owner": "acme", "package": "tool", "version": "1.0.0"}])
        );
        assert_eq!(statuses(&s, &token), [200, 403, 403, 403]);
    }
}

#[test]
fn grants_of_other_formats_are_checked() {
    for backend in backends() {
        let s = TestServer::start(backend);
        publish(&s);
        let (id, _) = customer(&s);
        let cases = [
            (
                json!({"format": "nope", "owner": "acme", "package": "tool"}),
                400,
                "unknown format",
            ),
            (
                json!({"format": "generic", "package": "tool"}),
                400,
                "owner",
            ),
            (
                json!({"format": "generic", "owner": "../x", "package": "tool"}),
                400,
                "owner name",
            ),
            (
                json!({"format": "generic", "owner": "acme", "package": "a/b"}),
                400,
                "package name",
            ),
            (tool("1.0/x"), 400, "constraint"),
            (
                json!({"format": "generic", "owner": "acme", "package": "absent"}),
                404,
                "not found",
            ),
            (
                json!({"format": "generic", "owner": "acme", "collection": "x"}),
                400,
                "collection",
            ),
        ];
        for (body, status, message) in cases {
            let r = grant(&s, &id, &body);
            assert_eq!(r.status, status, "{backend:?} {body}: {}", r.text());
            assert!(r.text().contains(message), "{body}: {}", r.text());
        }
        let bad_scope = api(
            &s,
            "POST",
            &format!("/api/v1/customers/{id}/tokens"),
            Some(&json!({"name": "x", "package_scopes": ["gneric:acme/tool"]})),
        );
        assert_eq!(bad_scope.status, 400, "{}", bad_scope.text());
        assert!(
            bad_scope.text().contains("unknown format"),
            "{}",
            bad_scope.text()
        );
        // Nothing was stored by the refusals.
        let grants = api(&s, "GET", &format!("/api/v1/customers/{id}/packages"), None);
        assert_eq!(grants.json()["data"], json!([]));
    }
}
