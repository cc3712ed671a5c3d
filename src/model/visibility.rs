//! Who may read an owner's packages, as Gitea's organisation visibility has it: the value stored
//! with an owner (`owners.visibility`) and checked by `auth`.

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Anyone, without a token: open-source packages, `go get`, `docker pull` of public images.
    Public,
    /// Any authenticated caller.
    Limited,
    /// Team tokens only (and customer tokens through their grants); the default.
    Private,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Limited => "limited",
            Visibility::Private => "private",
        }
    }

    /// Parses a stored or requested value; a wrong one is a 400 naming the allowed values.
    pub fn parse(value: &str) -> Result<Self> {
        match value {
            "public" => Ok(Visibility::Public),
            "limited" => Ok(Visibility::Limited),
            "private" => Ok(Visibility::Private),
            other => Err(Error::invalid(format!(
                "visibility must be public, limited or private, got {other:?}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Visibility;

    #[test]
    fn values_round_trip_and_others_are_refused() {
        for v in [Visibility::Public, Visibility::Limited, Visibility::Private] {
            assert_eq!(Visibility::parse(v.as_str()).unwrap(), v);
        }
        let refused = Visibility::parse("internal").unwrap_err().to_string();
        assert!(refused.contains("public, limited or private"), "{refused}");
        assert!(Visibility::parse("Public").is_err());
    }
}
