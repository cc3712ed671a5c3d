//! Short-lived tokens that stand for the caller who asked for them: token-auth clients (OCI's
//! `GET /v2/token`, Docker's flow) exchange Basic credentials, or nothing for a public owner, for
//! a Bearer token they send on every later request. The token names its caller (a stored token
//! by id and lookup prefix, the root token, a customer JWT's customer, or nobody), never the
//! secret, and the caller's rights are read afresh on each use, so a revocation, rotation or
//! suspension counts at once. Signed with HS256 like customer JWTs but with its own issuer, so
//! neither kind passes for the other.

use crate::auth::{CustomerScope, Principal};
use crate::error::{Error, Result};

/// The `iss` of delegated tokens.
pub const ISSUER: &str = "cargoman-delegated";
/// How long one lives: token-auth clients fetch a new one when it is refused.
pub const TTL_SECS: i64 = 900;

/// Who a delegated token stands for (its `sub`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    Anonymous,
    Root,
    /// A stored team or customer token; a rotated token has a new lookup and no longer matches.
    Stored {
        id: i64,
        lookup: String,
    },
    /// A customer authenticated by a customer JWT (no token row).
    CustomerJwt {
        customer: String,
        scope: CustomerScope,
    },
}

impl Subject {
    pub fn encode(&self) -> String {
        match self {
            Subject::Anonymous => "anonymous".into(),
            Subject::Root => "root".into(),
            Subject::Stored { id, lookup } => format!("token:{id}:{lookup}"),
            Subject::CustomerJwt { customer, scope } => {
                format!("jwt:{}:{customer}", scope.as_str())
            }
        }
    }

    pub fn decode(sub: &str) -> Option<Subject> {
        match sub {
            "anonymous" => return Some(Subject::Anonymous),
            "root" => return Some(Subject::Root),
            _ => {}
        }
        let (kind, rest) = sub.split_once(':')?;
        let (first, second) = rest.split_once(':')?;
        match kind {
            "token" => Some(Subject::Stored {
                id: first.parse().ok()?,
                lookup: second.to_string(),
            }),
            "jwt" => Some(Subject::CustomerJwt {
                scope: CustomerScope::parse(first)?,
                customer: second.to_string(),
            }),
            _ => None,
        }
    }

    /// The subject of a caller that is not a stored token (those need their row's lookup).
    pub fn unstored(principal: &Principal) -> Option<Subject> {
        match principal {
            Principal::Anonymous => Some(Subject::Anonymous),
            Principal::Root => Some(Subject::Root),
            // Customer JWTs carry no token row (their token id is 0).
            Principal::Customer(token) if token.token_id == 0 => Some(Subject::CustomerJwt {
                customer: token.customer.clone(),
                scope: token.scope,
            }),
            _ => None,
        }
    }
}

/// A token handed out, with the times token-auth clients are told.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Delegated {
    pub token: String,
    pub expires_in: i64,
    pub issued_at: i64,
}

pub fn issue(key: &[u8], subject: &Subject, scope: &str, now: i64) -> Result<Delegated> {
    let token = super::jwt::issue_as(ISSUER, key, &subject.encode(), scope, now, TTL_SECS)?;
    Ok(Delegated {
        token,
        expires_in: TTL_SECS,
        issued_at: now,
    })
}

/// The subject of a valid delegated token and the scope it was issued for; `Ok(None)` when the
/// token is a JWT of another kind (another issuer, or signed with another key: a customer JWT),
/// for the caller to try next.
pub fn verify(key: &[u8], token: &str, now: i64) -> Result<Option<(Subject, String)>> {
    use super::jwt::JwtError;
    match super::jwt::verify_as(ISSUER, key, token, now) {
        Ok(claims) => Subject::decode(&claims.sub)
            .map(|subject| Some((subject, claims.scope)))
            .ok_or_else(|| Error::Unauthorized("invalid token: unknown subject".into())),
        Err(JwtError::WrongIssuer | JwtError::BadSignature) => Ok(None),
        Err(e) => Err(Error::Unauthorized(format!("invalid token: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";
    const NOW: i64 = 1_767_225_600;

    #[test]
    fn subjects_round_trip() {
        for subject in [
            Subject::Anonymous,
            Subject::Root,
            Subject::Stored {
                id: 42,
                lookup: "cmt_abcd1234".into(),
            },
            Subject::CustomerJwt {
                customer: "cust_4f9a".into(),
                scope: CustomerScope::parse("download").unwrap(),
            },
        ] {
            assert_eq!(Subject::decode(&subject.encode()), Some(subject));
        }
        for bad in ["", "token:x:y", "token:1", "jwt:nope:cust_1", "other:1:2"] {
            assert_eq!(Subject::decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn issued_tokens_verify_with_their_scope_until_they_expire() {
        let issued = issue(KEY, &Subject::Root, "repository:a/b:pull", NOW).unwrap();
        assert_eq!(issued.expires_in, TTL_SECS);
        assert_eq!(
            verify(KEY, &issued.token, NOW + 10).unwrap(),
            Some((Subject::Root, "repository:a/b:pull".to_string()))
        );
        let late = NOW + TTL_SECS + super::super::jwt::LEEWAY_SECS + 1;
        assert!(matches!(
            verify(KEY, &issued.token, late),
            Err(Error::Unauthorized(_))
        ));
    }

    #[test]
    fn customer_jwts_and_other_keys_are_not_delegated_tokens() {
        let customer = super::super::jwt::issue(KEY, "cust_1", "download", NOW, 60).unwrap();
        assert_eq!(verify(KEY, &customer, NOW).unwrap(), None);
        let issued = issue(b"another-key-another-key-another!", &Subject::Root, "", NOW).unwrap();
        assert_eq!(verify(KEY, &issued.token, NOW).unwrap(), None);
    }
}
