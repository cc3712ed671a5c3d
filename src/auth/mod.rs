//! Who is calling and what they may do. Every route extracts a `Principal` and asks
//! `Principal::require` for one `Permission`; nothing else decides access.

mod authenticator;
mod credentials;
pub mod secret;

pub use authenticator::{Authenticator, RootToken};
pub use credentials::presented_token;

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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Download packages and read their metadata.
    ReadPackages,
    /// Publish and delete packages; create owners by publishing to them.
    WritePackages,
    /// Read the management API (owners, listings).
    ReadAdmin,
    /// Create and delete owners explicitly.
    ManageOwners,
    /// Create, list, rotate and revoke team tokens.
    ManageTeam,
}

impl Principal {
    pub fn allows(&self, permission: Permission) -> bool {
        use Permission::*;
        match self {
            Principal::Anonymous => false,
            Principal::Root => true,
            Principal::Team { level, .. } => match level {
                TeamLevel::Owner => true,
                TeamLevel::Admin => permission != ManageTeam,
                TeamLevel::Viewer => matches!(permission, ReadPackages | ReadAdmin),
            },
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
            Principal::Root => unreachable!("root is allowed everything"),
        }
    }

    /// Name recorded as the author of changes.
    pub fn display_name(&self) -> String {
        match self {
            Principal::Anonymous => "anonymous".into(),
            Principal::Root => "root".into(),
            Principal::Team { name, .. } => name.clone(),
        }
    }
}

impl Permission {
    fn describe(self) -> &'static str {
        match self {
            Permission::ReadPackages => "read packages",
            Permission::WritePackages => "publish or delete packages",
            Permission::ReadAdmin => "read the management API",
            Permission::ManageOwners => "manage owners",
            Permission::ManageTeam => "manage team tokens",
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
        let all = [
            ReadPackages,
            WritePackages,
            ReadAdmin,
            ManageOwners,
            ManageTeam,
        ];
        for p in all {
            assert!(Principal::Root.allows(p));
            assert!(team(TeamLevel::Owner).allows(p));
            assert!(!Principal::Anonymous.allows(p));
            assert_eq!(team(TeamLevel::Admin).allows(p), p != ManageTeam);
            assert_eq!(
                team(TeamLevel::Viewer).allows(p),
                matches!(p, ReadPackages | ReadAdmin)
            );
        }
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
