//! Upgrades: a database an older release left, holding real data, migrates at the next start
//! on SQLite and PostgreSQL, and the data means what it meant.

use serde_json::json;

use crate::common::{TestServer, api, backends};
use crate::customers::{add_core, p2_versions};

/// Schema 7 named a grant's, a collection member's and a frozen version's package by its bare
/// Composer name; schema 8 names (owner, format, name). Existing rows become packages of the
/// Git-synced registry (owner `cargoman`, format `composer`) and keep granting what they did.
#[test]
fn bare_composer_grants_migrate_to_package_refs() {
    for backend in backends() {
        let mut s = TestServer::start(backend);
        s.restart_from_schema(
            7,
            &[
                "INSERT INTO customers (id, public_id, name, status, created_at, updated_at) VALUES \
                 (1, 'cust_direct', 'Direct', 'active', 1, 1), \
                 (2, 'cust_bundle', 'Bundle', 'active', 1, 1), \
                 (3, 'cust_frozen', 'Frozen', 'frozen', 1, 1)",
                "INSERT INTO collections (id, slug, name, created_at, updated_at) \
                 VALUES (1, 'suite', 'Suite', 1, 1)",
                "INSERT INTO collection_packages (collection_id, package) VALUES (1, 'acme/core')",
                "INSERT INTO customer_grants (customer_id, package, collection_id, version_constraint, created_at) VALUES \
                 (1, 'acme/core', NULL, '^1.0', 1), \
                 (2, NULL, 1, '>=2.0', 1), \
                 (3, 'acme/core', NULL, '*', 1)",
                "INSERT INTO customer_frozen_versions (customer_id, package, version) \
                 VALUES (3, 'acme/core', '1.0.0')",
            ],
        );
        // The API shows the migrated rows in the bare shape it always had.
        let direct = api(&s, "GET", "/api/v1/customers/cust_direct/packages", None).json();
        assert_eq!(
            direct["data"][0]["package"], "acme/core",
            "{backend:?} {direct}"
        );
        assert_eq!(direct["data"][0]["constraint"], "^1.0");
        assert!(direct["data"][0].get("format").is_none(), "{direct}");
        let suite = api(&s, "GET", "/api/v1/collections/suite", None).json();
        assert_eq!(suite["data"]["packages"], json!(["acme/core"]), "{suite}");
        let frozen = api(&s, "GET", "/api/v1/customers/cust_frozen", None).json();
        assert_eq!(
            frozen["data"]["frozen_versions"],
            json!([{"package": "acme/core", "version": "1.0.0"}]),
            "{frozen}"
        );
        let holders = api(&s, "GET", "/api/v1/packages/acme/core/customers", None).json();
        assert_eq!(holders["data"].as_array().unwrap().len(), 3, "{holders}");

        // And they grant what they granted, once the package is synced.
        add_core(&s);
        let token = |id: &str| {
            let r = api(
                &s,
                "POST",
                &format!("/api/v1/customers/{id}/tokens"),
                Some(&json!({"name": "after upgrade", "scope": "download"})),
            );
            assert_eq!(r.status, 201, "{}", r.text());
            r.json()["data"]["plain_token"]
                .as_str()
                .unwrap()
                .to_string()
        };
        let seen = |id: &str| p2_versions(&s, &token(id), "acme/core");
        assert_eq!(seen("cust_direct"), ["1.1.0", "1.0.0"], "{backend:?}");
        assert_eq!(seen("cust_bundle"), ["2.0.0"]);
        assert_eq!(seen("cust_frozen"), ["1.0.0"]);
    }
}
