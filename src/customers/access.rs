//! What one customer token may see: granted packages of any format and, per package, the
//! versions its grant constraints (or the customer's frozen versions) allow, narrowed by the
//! token's package scopes. Constraints are read by each package's format (`PackageRules`).
//! Pure logic over already loaded grants; `AccessCache` keeps one `Access` per customer until
//! the customer's `access_version` moves.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use bytes::Bytes;

use super::scopes::PackageScope;
use crate::auth::{CustomerStatus, CustomerToken, Principal};
use crate::db::Db;
use crate::error::Result;
use crate::model::customers;
use crate::model::package_ref::PackageRef;
use crate::package_rules::{Rulebook, VersionRange};

/// One grant constraint: its text (which keys shared views) and what it matches.
struct Granted {
    text: String,
    /// None when the format no longer reads the stored text: such a grant allows no version.
    range: Option<Arc<dyn VersionRange>>,
}

/// What a customer may see in one repository (one owner's packages of one format).
pub struct Repository {
    owner: String,
    format: String,
    /// Package → the constraints of every grant naming it (directly or through a collection);
    /// a version is visible when any of them matches.
    grants: BTreeMap<String, Vec<Granted>>,
    /// For a frozen customer: package → the only versions it keeps.
    frozen: Option<BTreeMap<String, BTreeSet<String>>>,
    /// `view_key` by package, computed once: it keys every filtered read.
    view_keys: Mutex<HashMap<String, Arc<str>>>,
}

impl Repository {
    fn new(owner: &str, format: &str, frozen: bool) -> Repository {
        Repository {
            owner: owner.to_string(),
            format: format.to_string(),
            grants: BTreeMap::new(),
            frozen: frozen.then(BTreeMap::new),
            view_keys: Mutex::default(),
        }
    }

    fn allows_package(&self, name: &str) -> bool {
        match &self.frozen {
            Some(frozen) => frozen.contains_key(name),
            None => self.grants.contains_key(name),
        }
    }

    fn allows_version(&self, name: &str, version: &str) -> bool {
        match &self.frozen {
            Some(frozen) => frozen.get(name).is_some_and(|v| v.contains(version)),
            None => self.grants.get(name).is_some_and(|grants| {
                grants
                    .iter()
                    .any(|g| g.range.as_ref().is_some_and(|r| r.matches(version)))
            }),
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
                    .map(|gs| gs.iter().map(|g| g.text.as_str()).collect())
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

/// The packages and versions of one customer, whatever token it uses, by repository.
#[derive(Default)]
pub struct Access {
    repositories: Vec<Arc<Repository>>,
    /// The (format, owner) whose packages token scopes name bare (`vendor/*`).
    bare: Option<(&'static str, &'static str)>,
}

impl Access {
    /// `grants`: (package, constraint text) pairs; `frozen`: (package, version) pairs, used only
    /// when the customer is frozen. A stored constraint that no longer parses grants nothing.
    pub fn new(
        status: CustomerStatus,
        grants: Vec<(PackageRef, String)>,
        frozen: Vec<(PackageRef, String)>,
        rules: &Rulebook,
    ) -> Access {
        let is_frozen = status == CustomerStatus::Frozen;
        let mut repositories: BTreeMap<(String, String), Repository> = BTreeMap::new();
        fn repository<'a>(
            all: &'a mut BTreeMap<(String, String), Repository>,
            p: &PackageRef,
            is_frozen: bool,
        ) -> &'a mut Repository {
            all.entry((p.owner.clone(), p.format.clone()))
                .or_insert_with(|| Repository::new(&p.owner, &p.format, is_frozen))
        }
        for (package, text) in grants {
            let range = rules
                .get(&package.format)
                .and_then(|r| r.version_range(&text))
                .ok();
            let repo = repository(&mut repositories, &package, is_frozen);
            repo.grants
                .entry(package.name)
                .or_default()
                .push(Granted { text, range });
        }
        if is_frozen {
            for (package, version) in frozen {
                let repo = repository(&mut repositories, &package, is_frozen);
                if let Some(frozen) = &mut repo.frozen {
                    frozen.entry(package.name).or_default().insert(version);
                }
            }
        }
        Access {
            repositories: repositories.into_values().map(Arc::new).collect(),
            bare: rules.bare(),
        }
    }

    /// What `token` (one of this customer's) sees of `owner`'s packages of `format`.
    pub fn view(&self, token: &Arc<CustomerToken>, owner: &str, format: &str) -> View {
        let scopes = (!token.package_scopes.is_empty()).then(|| {
            token
                .package_scopes
                .iter()
                .filter_map(|s| PackageScope::parse(s))
                .filter(|s| s.applies_to(owner, format, self.bare))
                .collect()
        });
        View::Customer {
            token: token.clone(),
            repository: self
                .repositories
                .iter()
                .find(|r| r.owner == owner && r.format == format)
                .cloned(),
            scopes,
        }
    }
}

/// What a caller sees of one repository (one owner's packages of one format).
#[derive(Clone)]
pub enum View {
    /// Members and readers the owner's visibility lets in: everything.
    All,
    Customer {
        token: Arc<CustomerToken>,
        /// None: the customer holds nothing here.
        repository: Option<Arc<Repository>>,
        /// The token's package scopes that apply here; None when it has none (all packages).
        scopes: Option<Arc<[PackageScope]>>,
    },
}

impl View {
    pub fn allows_package(&self, name: &str) -> bool {
        match self {
            View::All => true,
            View::Customer {
                repository, scopes, ..
            } => {
                repository.as_ref().is_some_and(|r| r.allows_package(name))
                    && scopes
                        .as_ref()
                        .is_none_or(|scopes| scopes.iter().any(|s| s.matches_name(name)))
            }
        }
    }

    /// `version` is the version's name as the package stores it.
    pub fn allows_version(&self, name: &str, version: &str) -> bool {
        match self {
            View::All => true,
            View::Customer { repository, .. } => {
                self.allows_package(name)
                    && repository
                        .as_ref()
                        .is_some_and(|r| r.allows_version(name, version))
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
            View::Customer { repository, .. } => Some(match repository {
                Some(r) => r.view_key(name),
                None => Arc::from("none"),
            }),
        }
    }
}

/// Beyond this many entries a cache starts over rather than grow without bound.
const MAX_ENTRIES: usize = 10_000;

/// Per-customer `Access`, and documents filtered for a view, kept in memory. Both are keyed so
/// that a stale entry is never used: accesses by the customer's `access_version` (read with the
/// token on every request), documents by the source document's `updated_at` and the view key.
pub struct AccessCache {
    /// Every format's rules: they read grant constraints and package names.
    rules: Rulebook,
    accesses: Mutex<HashMap<i64, (i64, Arc<Access>)>>,
    documents: Mutex<HashMap<DocumentKey, Bytes>>,
}

/// A filtered document: which source document, as of when, seen through which view key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DocumentKey {
    pub package_id: i64,
    pub document: Arc<str>,
    pub updated_at: i64,
    pub view: Arc<str>,
}

impl AccessCache {
    pub fn new(rules: Rulebook) -> AccessCache {
        AccessCache {
            rules,
            accesses: Mutex::default(),
            documents: Mutex::default(),
        }
    }

    /// Every format's naming and versioning rules.
    pub fn rules(&self) -> &Rulebook {
        &self.rules
    }

    /// What the caller may see of `owner`'s packages of `format`; `principal` must already have
    /// been allowed `ReadGranted` (or be a member).
    pub async fn view(
        &self,
        db: &Db,
        principal: &Principal,
        owner: &str,
        format: &str,
    ) -> Result<View> {
        let Principal::Customer(token) = principal else {
            return Ok(View::All);
        };
        Ok(self.access(db, token).await?.view(token, owner, format))
    }

    async fn access(&self, db: &Db, token: &CustomerToken) -> Result<Arc<Access>> {
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
                let access = Arc::new(Access::new(token.status, grants, frozen, &self.rules));
                let mut accesses = self.accesses.lock().expect("access cache");
                if accesses.len() >= MAX_ENTRIES {
                    accesses.clear();
                }
                accesses.insert(token.customer_id, (token.access_version, access.clone()));
                access
            }
        };
        Ok(access)
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
    use crate::package_rules::{PackageRules, PlainRules};

    /// A format whose bare names live under owner `house`, with glob constraints.
    struct Bare;
    impl PackageRules for Bare {
        fn format(&self) -> &'static str {
            "bare"
        }
        fn bare_name_owner(&self) -> Option<&'static str> {
            Some("house")
        }
    }

    fn rules() -> Rulebook {
        Rulebook::new([
            Arc::new(Bare) as Arc<dyn PackageRules>,
            Arc::new(PlainRules("plain")),
        ])
    }

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

    fn bare(name: &str) -> PackageRef {
        package("house", "bare", name)
    }

    fn package(owner: &str, format: &str, name: &str) -> PackageRef {
        PackageRef {
            owner: owner.into(),
            format: format.into(),
            name: name.into(),
        }
    }

    fn pairs(items: &[(PackageRef, &str)]) -> Vec<(PackageRef, String)> {
        items
            .iter()
            .map(|(p, b)| (p.clone(), b.to_string()))
            .collect()
    }

    fn access(status: CustomerStatus, grants: &[(PackageRef, &str)]) -> Access {
        Access::new(status, pairs(grants), vec![], &rules())
    }

    #[test]
    fn grants_filter_versions_and_union_constraints() {
        let access = access(
            CustomerStatus::Active,
            &[
                (bare("acme/core"), "1.*"),
                (bare("acme/core"), "3.0.0"),
                (bare("acme/ui"), "*"),
            ],
        );
        let view = access.view(&token(&[]), "house", "bare");
        assert!(view.allows_version("acme/core", "1.4.0"));
        assert!(!view.allows_version("acme/core", "2.0.0"));
        assert!(view.allows_version("acme/core", "3.0.0"));
        assert!(view.allows_version("acme/ui", "dev-main"));
        assert!(!view.allows_package("acme/other"));
        assert_eq!(
            view.filter_names(["acme/ui", "acme/x", "acme/core"]),
            ["acme/ui", "acme/core"]
        );
    }

    #[test]
    fn grants_belong_to_their_repository() {
        let access = access(
            CustomerStatus::Active,
            &[(package("acme", "plain", "tool"), "*")],
        );
        let token = token(&[]);
        assert!(
            access
                .view(&token, "acme", "plain")
                .allows_version("tool", "1.0")
        );
        for (owner, format) in [("other", "plain"), ("acme", "bare"), ("house", "bare")] {
            let view = access.view(&token, owner, format);
            assert!(!view.allows_package("tool"), "{owner} {format}");
            assert!(view.version_key("tool").is_some());
        }
    }

    #[test]
    fn frozen_customers_see_only_frozen_versions() {
        let access = Access::new(
            CustomerStatus::Frozen,
            pairs(&[(bare("acme/core"), "*"), (bare("acme/ui"), "*")]),
            pairs(&[(bare("acme/core"), "1.2.0")]),
            &rules(),
        );
        let view = access.view(&token(&[]), "house", "bare");
        assert!(view.allows_version("acme/core", "1.2.0"));
        assert!(!view.allows_version("acme/core", "1.3.0"));
        assert!(!view.allows_package("acme/ui"));
    }

    #[test]
    fn token_scopes_narrow_packages() {
        let access = access(
            CustomerStatus::Active,
            &[
                (bare("acme/core"), "*"),
                (bare("other/lib"), "*"),
                (package("acme", "plain", "tool"), "*"),
                (package("acme", "plain", "kit"), "*"),
            ],
        );
        let view = access.view(&token(&["acme/*"]), "house", "bare");
        assert!(view.allows_package("acme/core"));
        assert!(!view.allows_package("other/lib"));
        assert!(!view.allows_version("other/lib", "1.0.0"));
        // A bare scope says nothing of other repositories: the token sees none of them.
        let elsewhere = access.view(&token(&["acme/*"]), "acme", "plain");
        assert!(!elsewhere.allows_package("tool"));
        let scoped = access.view(&token(&["plain:acme/t*"]), "acme", "plain");
        assert!(scoped.allows_package("tool") && !scoped.allows_package("kit"));
        let all = access.view(&token(&["*"]), "acme", "plain");
        assert!(all.allows_package("kit"));
    }

    #[test]
    fn equal_grants_share_view_keys() {
        let key = |constraint: &str| {
            access(CustomerStatus::Active, &[(bare("a/b"), constraint)])
                .view(&token(&[]), "house", "bare")
                .version_key("a/b")
        };
        assert_eq!(key("1.*"), key("1.*"));
        assert_ne!(key("1.*"), key("2.*"));
    }

    #[test]
    fn unreadable_constraints_grant_the_package_but_no_version() {
        let access = access(CustomerStatus::Active, &[(bare("a/b"), "a/b")]);
        let view = access.view(&token(&[]), "house", "bare");
        assert!(view.allows_package("a/b"));
        assert!(!view.allows_version("a/b", "1.0"));
    }
}
