//! What one customer token may see: granted packages and, per package, the versions its grant
//! constraints (or the customer's frozen versions) allow, narrowed by the token's package scopes.
//! Pure logic over already loaded grants; `AccessCache` keeps one `Access` per customer until the
//! customer's `access_version` moves.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use bytes::Bytes;

use crate::auth::{CustomerStatus, CustomerToken, Principal};
use crate::db::Db;
use crate::error::Result;
use crate::formats::composer::constraint::Constraint;
use crate::glob::glob_matches;
use crate::model::customers;

/// The packages and versions of one customer, whatever token it uses.
#[derive(Debug, Default)]
pub struct Access {
    /// Package → the constraints of every grant naming it (directly or through a collection);
    /// a version is visible when any of them matches.
    grants: BTreeMap<String, Vec<Constraint>>,
    /// For a frozen customer: package → the only versions it keeps.
    frozen: Option<BTreeMap<String, BTreeSet<String>>>,
    /// `view_key` by package, computed once: it keys every filtered read.
    view_keys: Mutex<HashMap<String, Arc<str>>>,
}

impl Access {
    /// `grants`: (package, constraint text) pairs; `frozen`: (package, version) pairs, used only
    /// when the customer is frozen. A stored constraint that no longer parses grants nothing.
    pub fn new(
        status: CustomerStatus,
        grants: Vec<(String, String)>,
        frozen: Vec<(String, String)>,
    ) -> Access {
        let mut by_package: BTreeMap<String, Vec<Constraint>> = BTreeMap::new();
        for (package, text) in grants {
            let entry = by_package.entry(package).or_default();
            if let Ok(constraint) = Constraint::parse(&text) {
                entry.push(constraint);
            }
        }
        let frozen = (status == CustomerStatus::Frozen).then(|| {
            let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for (package, version) in frozen {
                map.entry(package).or_default().insert(version);
            }
            map
        });
        Access {
            grants: by_package,
            frozen,
            view_keys: Mutex::default(),
        }
    }

    /// Every package name the customer may see (before token scopes).
    pub fn packages(&self) -> Vec<&str> {
        match &self.frozen {
            Some(frozen) => frozen.keys().map(String::as_str).collect(),
            None => self.grants.keys().map(String::as_str).collect(),
        }
    }

    fn allows_package(&self, name: &str) -> bool {
        match &self.frozen {
            Some(frozen) => frozen.contains_key(name),
            None => self.grants.contains_key(name),
        }
    }

    /// `version` is the version's name (`1.2.0`, `dev-main`), `normalized` its normalized form.
    fn allows_version(&self, name: &str, version: &str, normalized: &str) -> bool {
        match &self.frozen {
            Some(frozen) => frozen.get(name).is_some_and(|v| v.contains(version)),
            None => self
                .grants
                .get(name)
                .is_some_and(|cs| cs.iter().any(|c| c.matches(normalized))),
        }
    }

    /// Text that is equal for two customers exactly when they see the same versions of `name`,
    /// so filtered documents can be shared between customers with the same grant.
    fn view_key(&self, name: &str) -> Arc<str> {
        let mut keys = self.view_keys.lock().expect("view keys");
        if let Some(key) = keys.get(name) {
            return key.clone();
        }
        let key: Arc<str> = match &self.frozen {
            Some(frozen) => {
                let versions: Vec<&str> = frozen
                    .get(name)
                    .map(|v| v.iter().map(String::as_str).collect())
                    .unwrap_or_default();
                format!("frozen:{}", versions.join("\u{1f}")).into()
            }
            None => {
                let constraints: Vec<&str> = self
                    .grants
                    .get(name)
                    .map(|cs| cs.iter().map(Constraint::as_str).collect())
                    .unwrap_or_default();
                format!("grant:{}", constraints.join("\u{1f}")).into()
            }
        };
        // Names come from granted packages' routes; an unbounded stream of other names is not
        // kept (a customer asking for packages it may not see never gets here).
        if keys.len() < MAX_ENTRIES {
            keys.insert(name.to_string(), key.clone());
        }
        key
    }
}

/// Does a token package scope (`vendor/*`, `vendor/package`, `*`) cover a package?
pub fn scope_matches(scope: &str, package: &str) -> bool {
    scope == "*" || glob_matches(scope, package)
}

/// Checks a package scope when a token is created: `*` or `vendor/package` globs.
pub fn valid_scope(scope: &str) -> bool {
    if scope == "*" {
        return true;
    }
    let mut parts = scope.split('/');
    let ok_part = |p: Option<&str>| {
        p.is_some_and(|p| {
            p.bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphanumeric() || b"*?".contains(&b))
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-*?".contains(&b))
        })
    };
    ok_part(parts.next()) && ok_part(parts.next()) && parts.next().is_none()
}

/// What a caller sees of the Composer repository.
#[derive(Clone)]
pub enum View {
    /// Team and root tokens: everything.
    All,
    Customer {
        token: Arc<CustomerToken>,
        access: Arc<Access>,
    },
}

impl View {
    pub fn allows_package(&self, name: &str) -> bool {
        match self {
            View::All => true,
            View::Customer { token, access } => {
                access.allows_package(name)
                    && (token.package_scopes.is_empty()
                        || token.package_scopes.iter().any(|s| scope_matches(s, name)))
            }
        }
    }

    pub fn allows_version(&self, name: &str, version: &str, normalized: &str) -> bool {
        match self {
            View::All => true,
            View::Customer { access, .. } => {
                self.allows_package(name) && access.allows_version(name, version, normalized)
            }
        }
    }

    /// The visible subset of `names`.
    pub fn filter_names<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
        names
            .into_iter()
            .filter(|n| self.allows_package(n))
            .collect()
    }

    /// When the caller's view of a document last modified at `document_time` changed: a grant or
    /// state change must move `Last-Modified`, or Composer's `If-Modified-Since` keeps old data.
    pub fn last_modified(&self, document_time: i64) -> i64 {
        match self {
            View::All => document_time,
            View::Customer { token, .. } => document_time.max(token.access_changed_at),
        }
    }

    /// None when the caller sees every version of `name` (no filtering needed), else a key
    /// naming the versions it sees.
    pub fn version_key(&self, name: &str) -> Option<Arc<str>> {
        match self {
            View::All => None,
            View::Customer { access, .. } => Some(access.view_key(name)),
        }
    }
}

/// Beyond this many entries a cache starts over rather than grow without bound.
const MAX_ENTRIES: usize = 10_000;

/// Per-customer `Access`, and documents filtered for a view, kept in memory. Both are keyed so
/// that a stale entry is never used: accesses by the customer's `access_version` (read with the
/// token on every request), documents by the source document's `updated_at` and the view key.
#[derive(Default)]
pub struct AccessCache {
    accesses: Mutex<HashMap<i64, (i64, Arc<Access>)>>,
    documents: Mutex<HashMap<DocumentKey, Bytes>>,
}

/// A filtered document: which source document, as of when, seen through which view key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DocumentKey {
    pub package_id: i64,
    pub document: &'static str,
    pub updated_at: i64,
    pub view: Arc<str>,
}

impl AccessCache {
    /// What the caller may see; `principal` must already have been allowed `ReadGranted`.
    pub async fn view(&self, db: &Db, principal: &Principal) -> Result<View> {
        let Principal::Customer(token) = principal else {
            return Ok(View::All);
        };
        let cached = self
            .accesses
            .lock()
            .expect("access cache")
            .get(&token.customer_id)
            .filter(|(version, _)| *version == token.access_version)
            .map(|(_, access)| access.clone());
        let access = match cached {
            Some(access) => access,
            None => {
                let mut conn = db.pool().acquire().await?;
                let grants = customers::effective_grants(&mut conn, token.customer_id).await?;
                let frozen = customers::frozen_versions(&mut conn, token.customer_id).await?;
                let access = Arc::new(Access::new(token.status, grants, frozen));
                let mut accesses = self.accesses.lock().expect("access cache");
                if accesses.len() >= MAX_ENTRIES {
                    accesses.clear();
                }
                accesses.insert(token.customer_id, (token.access_version, access.clone()));
                access
            }
        };
        Ok(View::Customer {
            token: token.clone(),
            access,
        })
    }

    /// A filtered document from memory, or rendered by `render` and remembered.
    pub fn document(
        &self,
        key: DocumentKey,
        render: impl FnOnce() -> Result<Bytes>,
    ) -> Result<Bytes> {
        if let Some(body) = self.documents.lock().expect("document cache").get(&key) {
            return Ok(body.clone());
        }
        let body = render()?;
        let mut documents = self.documents.lock().expect("document cache");
        if documents.len() >= MAX_ENTRIES {
            documents.clear();
        }
        documents.insert(key, body.clone());
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(scopes: &[&str]) -> Arc<CustomerToken> {
        Arc::new(CustomerToken {
            token_id: 1,
            customer_id: 1,
            customer: "cust_x".into(),
            scope: crate::auth::CustomerScope::Download,
            package_scopes: scopes.iter().map(|s| s.to_string()).collect(),
            status: CustomerStatus::Active,
            status_reason: None,
            access_version: 0,
            access_changed_at: 0,
        })
    }

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn grants_filter_versions_and_union_constraints() {
        let access = Access::new(
            CustomerStatus::Active,
            pairs(&[
                ("acme/core", "^1.0"),
                ("acme/core", "3.0.0"),
                ("acme/ui", "*"),
            ]),
            pairs(&[("acme/core", "2.0.0")]),
        );
        let view = View::Customer {
            token: token(&[]),
            access: Arc::new(access),
        };
        assert!(view.allows_version("acme/core", "1.4.0", "1.4.0.0"));
        assert!(!view.allows_version("acme/core", "2.0.0", "2.0.0.0"));
        assert!(view.allows_version("acme/core", "3.0.0", "3.0.0.0"));
        assert!(view.allows_version("acme/ui", "dev-main", "dev-main"));
        assert!(!view.allows_package("acme/other"));
        assert_eq!(
            view.filter_names(["acme/ui", "acme/x", "acme/core"]),
            ["acme/ui", "acme/core"]
        );
    }

    #[test]
    fn frozen_customers_see_only_frozen_versions() {
        let access = Access::new(
            CustomerStatus::Frozen,
            pairs(&[("acme/core", "*"), ("acme/ui", "*")]),
            pairs(&[("acme/core", "1.2.0")]),
        );
        assert_eq!(access.packages(), ["acme/core"]);
        assert!(access.allows_version("acme/core", "1.2.0", "1.2.0.0"));
        assert!(!access.allows_version("acme/core", "1.3.0", "1.3.0.0"));
        assert!(!access.allows_package("acme/ui"));
    }

    #[test]
    fn token_scopes_narrow_packages() {
        let access = Arc::new(Access::new(
            CustomerStatus::Active,
            pairs(&[("acme/core", "*"), ("other/lib", "*")]),
            vec![],
        ));
        let view = View::Customer {
            token: token(&["acme/*"]),
            access,
        };
        assert!(view.allows_package("acme/core"));
        assert!(!view.allows_package("other/lib"));
        assert!(!view.allows_version("other/lib", "1.0.0", "1.0.0.0"));
    }

    #[test]
    fn equal_grants_share_view_keys() {
        let a = Access::new(CustomerStatus::Active, pairs(&[("a/b", "^1.0")]), vec![]);
        let b = Access::new(CustomerStatus::Active, pairs(&[("a/b", "^1.0")]), vec![]);
        let c = Access::new(CustomerStatus::Active, pairs(&[("a/b", "^2.0")]), vec![]);
        assert_eq!(a.view_key("a/b"), b.view_key("a/b"));
        assert_ne!(a.view_key("a/b"), c.view_key("a/b"));
    }

    #[test]
    fn scopes_are_validated() {
        assert!(valid_scope("vendor/*"));
        assert!(valid_scope("*"));
        assert!(valid_scope("vendor/pkg"));
        assert!(!valid_scope("vendor"));
        assert!(!valid_scope("../x"));
        assert!(!valid_scope("a/b/c"));
        assert!(scope_matches("*", "a/b"));
        assert!(scope_matches("acme/*", "acme/b"));
        assert!(!scope_matches("acme/*", "acmex/b"));
    }
}
