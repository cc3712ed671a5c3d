//! Who is calling and what they may do. Every route extracts a `Principal` and asks
//! `Principal::require` for one `Permission`; nothing else decides access. Reads of an owner's
//! packages ask for `Permission::ReadOwner` with the owner's `Visibility`.

mod authenticator;
mod credentials;
pub mod delegated;
mod failures;
pub mod jwt;
pub mod secret;
mod verifier;
mod visibility;

pub use authenticator::{Authenticator, RootToken};
pub use credentials::presented_token;
pub use visibility::{OwnerVisibilities, Visibility};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TeamLevel {
    /// Everything, including the team's own tokens.
    Owner,
    /// Packages, owners and settings, not the team.
    Admin,
    /// Read only.
    Viewer,
}

impl TeamLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            TeamLevel::Owner => "owner",
            TeamLevel::Admin => "admin",
            TeamLevel::Viewer => "viewer",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "owner" => Some(TeamLevel::Owner),
            "admin" => Some(TeamLevel::Admin),
            "viewer" => Some(TeamLevel::Viewer),
            _ => None,
        }
    }
}

/// What a customer token may do (Cargoman's token scopes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CustomerScope {
    /// Everything a customer token can do: download, upload and webhook calls.
    Admin,
    /// Download and upload.
    Developer,
    /// Read-only downloads of granted packages.
    Download,
    /// Triggering syncs of granted packages only, as a Git provider integration does.
    Webhook,
}

impl CustomerScope {
    pub fn as_str(self) -> &'static str {
        match self {
            CustomerScope::Admin => "admin",
            CustomerScope::Developer => "developer",
            CustomerScope::Download => "download",
            CustomerScope::Webhook => "webhook",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "admin" => Some(CustomerScope::Admin),
            "developer" => Some(CustomerScope::Developer),
            "download" => Some(CustomerScope::Download),
            "webhook" => Some(CustomerScope::Webhook),
            _ => None,
        }
    }

    fn allows(self, permission: Permission) -> bool {
        use CustomerScope::*;
        match permission {
            Permission::ReadGranted => matches!(self, Admin | Developer | Download),
            Permission::UploadGranted => matches!(self, Admin | Developer),
            Permission::SyncGranted => matches!(self, Admin | Webhook),
            // Any authenticated reader reads a limited owner; a private one only through grants
            // (`ReadGranted`), never whole.
            Permission::ReadOwner(Visibility::Limited) => {
                matches!(self, Admin | Developer | Download)
            }
            _ => false,
        }
    }
}

/// A customer's lifecycle state (Cargoman's subscription states).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CustomerStatus {
    Active,
    Suspended,
    Frozen,
    Expired,
}

impl CustomerStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CustomerStatus::Active => "active",
            CustomerStatus::Suspended => "suspended",
            CustomerStatus::Frozen => "frozen",
            CustomerStatus::Expired => "expired",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "active" => Some(CustomerStatus::Active),
            "suspended" => Some(CustomerStatus::Suspended),
            "frozen" => Some(CustomerStatus::Frozen),
            "expired" => Some(CustomerStatus::Expired),
            _ => None,
        }
    }
}

/// A verified customer token, with the state of its customer read in the same query, so a
/// suspension or a grant change counts on the next request on every instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerToken {
    pub token_id: i64,
    pub customer_id: i64,
    /// The customer's public id (`cust_…`).
    pub customer: String,
    pub scope: CustomerScope,
    /// Globs narrowing the packages this token sees; empty means all the customer's packages.
    pub package_scopes: Vec<String>,
    /// The effective state: `expired` once the customer's `expires_at` has passed.
    pub status: CustomerStatus,
    pub status_reason: Option<String>,
    /// Grows with every change to what the customer may see; keys the caches of filtered views.
    pub access_version: i64,
    /// When `access_version` last moved: part of the `Last-Modified` of filtered metadata.
    pub access_changed_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Anonymous,
    /// The root `ADMIN_TOKEN`: owner rights everywhere.
    Root,
    Team {
        token_id: i64,
        name: String,
        level: TeamLevel,
    },
    /// A customer token: read access to granted packages only (of any format), never the
    /// management API.
    Customer(std::sync::Arc<CustomerToken>),
}

/// A verified caller, with the scope its delegated token was issued for (`auth::delegated`;
/// `None` for every other credential). The core keeps the scope as the client asked for it: the
/// format whose clients fetch such tokens reads it and narrows what the token may do.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub principal: Principal,
    pub delegated_scope: Option<String>,
}

impl From<Principal> for Authenticated {
    fn from(principal: Principal) -> Self {
        Authenticated {
            principal,
            delegated_scope: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Download packages and read their metadata, in every format.
    ReadPackages,
    /// Read the packages of an owner with this visibility: what `ReadPackages` allows for a
    /// private one, any authenticated reader for a limited one, anyone for a public one.
    ReadOwner(Visibility),
    /// Read granted packages: everything for team tokens, the granted packages (of any format)
    /// for customer tokens (which never get `ReadPackages`).
    ReadGranted,
    /// Publish and delete packages; create owners by publishing to them.
    WritePackages,
    /// Read the management API (owners, listings).
    ReadAdmin,
    /// Create and delete owners explicitly.
    ManageOwners,
    /// Create, list, rotate and revoke team tokens.
    ManageTeam,
    /// Create and change customers, their tokens and grants, and collections.
    ManageCustomers,
    /// Upload to a package the customer is granted (customer developer and admin scopes).
    UploadGranted,
    /// Trigger a sync of a package the customer is granted (customer webhook and admin scopes).
    SyncGranted,
}

impl Principal {
    pub fn allows(&self, permission: Permission) -> bool {
        use Permission::*;
        // A public owner is read by anyone, whatever token comes along: a token of a suspended
        // customer gets no less than no token at all.
        if permission == ReadOwner(Visibility::Public) {
            return true;
        }
        match self {
            Principal::Anonymous => false,
            Principal::Root => true,
            Principal::Team { level, .. } => match level {
                TeamLevel::Owner => true,
                TeamLevel::Admin => permission != ManageTeam,
                TeamLevel::Viewer => matches!(
                    permission,
                    ReadPackages | ReadGranted | ReadAdmin | ReadOwner(_)
                ),
            },
            Principal::Customer(token) => {
                token.status_allows_access() && token.scope.allows(permission)
            }
        }
    }

    /// Ok when allowed; 401 for an anonymous caller, 403 for a known caller without the right.
    pub fn require(&self, permission: Permission) -> Result<()> {
        if self.allows(permission) {
            return Ok(());
        }
        match self {
            Principal::Anonymous => Err(Error::Unauthorized(
                "authentication required: send a token (Bearer, token, Basic password or X-Api-Key)"
                    .into(),
            )),
            Principal::Team { level, .. } => Err(Error::Forbidden(format!(
                "a {} token may not {}",
                level.as_str(),
                permission.describe()
            ))),
            Principal::Customer(token) if !token.status_allows_access() => {
                Err(Error::Forbidden(token.refusal()))
            }
            Principal::Customer(token) => Err(Error::Forbidden(format!(
                "a customer token with scope {} may not {}",
                token.scope.as_str(),
                permission.describe()
            ))),
            Principal::Root => unreachable!("root is allowed everything"),
        }
    }

    /// Name recorded as the author of changes.
    pub fn display_name(&self) -> String {
        match self {
            Principal::Anonymous => "anonymous".into(),
            Principal::Root => "root".into(),
            Principal::Team { name, .. } => name.clone(),
            Principal::Customer(token) => {
                format!("customer {} token {}", token.customer, token.token_id)
            }
        }
    }

    /// The internal id of the calling customer, for download statistics.
    pub fn customer_id(&self) -> Option<i64> {
        match self {
            Principal::Customer(token) => Some(token.customer_id),
            _ => None,
        }
    }
}

impl CustomerToken {
    fn status_allows_access(&self) -> bool {
        matches!(self.status, CustomerStatus::Active | CustomerStatus::Frozen)
    }

    /// The message a suspended or expired customer's client shows.
    fn refusal(&self) -> String {
        let state = match self.status {
            CustomerStatus::Suspended => "suspended",
            _ => "expired",
        };
        match &self.status_reason {
            Some(reason) if !reason.is_empty() => {
                format!(
                    "access denied: customer account {} is {state} ({reason})",
                    self.customer
                )
            }
            _ => format!(
                "access denied: customer account {} is {state}",
                self.customer
            ),
        }
    }
}

impl Permission {
    fn describe(self) -> &'static str {
        match self {
            Permission::ReadPackages => "read packages",
            Permission::ReadOwner(Visibility::Private) => "read this owner's packages",
            Permission::ReadOwner(_) => "read packages",
            Permission::ReadGranted => "read packages",
            Permission::WritePackages => "publish or delete packages",
            Permission::ReadAdmin => "read the management API",
            Permission::ManageOwners => "manage owners",
            Permission::ManageTeam => "manage team tokens",
            Permission::ManageCustomers => "manage customers",
            Permission::UploadGranted => "upload packages",
            Permission::SyncGranted => "trigger package syncs",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn team(level: TeamLevel) -> Principal {
        Principal::Team {
            token_id: 1,
            name: "t".into(),
            level,
        }
    }

    #[test]
    fn levels_grant_what_the_docs_say() {
        use Permission::*;
        for p in ALL {
            assert!(Principal::Root.allows(p));
            assert!(team(TeamLevel::Owner).allows(p));
            assert_eq!(
                Principal::Anonymous.allows(p),
                p == ReadOwner(Visibility::Public)
            );
            assert_eq!(team(TeamLevel::Admin).allows(p), p != ManageTeam);
            assert_eq!(
                team(TeamLevel::Viewer).allows(p),
                matches!(p, ReadPackages | ReadGranted | ReadAdmin | ReadOwner(_))
            );
        }
    }

    const ALL: [Permission; 12] = {
        use Permission::*;
        [
            ReadPackages,
            ReadOwner(Visibility::Public),
            ReadOwner(Visibility::Limited),
            ReadOwner(Visibility::Private),
            ReadGranted,
            WritePackages,
            ReadAdmin,
            ManageOwners,
            ManageTeam,
            ManageCustomers,
            UploadGranted,
            SyncGranted,
        ]
    };

    fn customer(scope: CustomerScope, status: CustomerStatus) -> Principal {
        Principal::Customer(std::sync::Arc::new(CustomerToken {
            token_id: 1,
            customer_id: 1,
            customer: "cust_a".into(),
            scope,
            package_scopes: Vec::new(),
            status,
            status_reason: Some("payment failed".into()),
            access_version: 0,
            access_changed_at: 0,
        }))
    }

    #[test]
    fn customer_scopes_never_reach_the_management_api() {
        use CustomerScope::*;
        use Permission::*;
        for scope in [Admin, Developer, Download, Webhook] {
            let active = customer(scope, CustomerStatus::Active);
            for p in ALL {
                let public = p == ReadOwner(Visibility::Public);
                let expected = match p {
                    ReadGranted | ReadOwner(Visibility::Limited) => scope != Webhook,
                    UploadGranted => matches!(scope, Admin | Developer),
                    SyncGranted => matches!(scope, Admin | Webhook),
                    _ => public,
                };
                assert_eq!(active.allows(p), expected, "{scope:?} {p:?}");
                assert_eq!(customer(scope, CustomerStatus::Frozen).allows(p), expected);
                // A dead account's token reads what no token reads, nothing more.
                assert_eq!(customer(scope, CustomerStatus::Suspended).allows(p), public);
                assert_eq!(customer(scope, CustomerStatus::Expired).allows(p), public);
            }
        }
        assert!(matches!(
            customer(Download, CustomerStatus::Suspended).require(ReadGranted),
            Err(Error::Forbidden(m)) if m.contains("suspended") && m.contains("payment failed")
        ));
        assert!(matches!(
            customer(Download, CustomerStatus::Active).require(WritePackages),
            Err(Error::Forbidden(m)) if m.contains("download")
        ));
    }

    #[test]
    fn owner_visibility_decides_who_reads() {
        use Visibility::*;
        let download = customer(CustomerScope::Download, CustomerStatus::Active);
        // Private: members only; an outsider keeps the refusal it had (401 or 403).
        assert!(team(TeamLevel::Viewer).allows(Permission::ReadOwner(Private)));
        assert!(matches!(
            Principal::Anonymous.require(Permission::ReadOwner(Private)),
            Err(Error::Unauthorized(_))
        ));
        assert!(matches!(
            download.require(Permission::ReadOwner(Private)),
            Err(Error::Forbidden(_))
        ));
        // Limited: any authenticated reader, never anonymous.
        assert!(download.allows(Permission::ReadOwner(Limited)));
        assert!(matches!(
            Principal::Anonymous.require(Permission::ReadOwner(Limited)),
            Err(Error::Unauthorized(_))
        ));
        // Public: anyone reads, nobody writes without a token.
        assert!(Principal::Anonymous.allows(Permission::ReadOwner(Public)));
        assert!(!Principal::Anonymous.allows(Permission::WritePackages));
    }

    #[test]
    fn refusals_distinguish_401_from_403() {
        assert!(matches!(
            Principal::Anonymous.require(Permission::ReadPackages),
            Err(Error::Unauthorized(_))
        ));
        assert!(matches!(
            team(TeamLevel::Viewer).require(Permission::WritePackages),
            Err(Error::Forbidden(m)) if m.contains("viewer")
        ));
    }
}
