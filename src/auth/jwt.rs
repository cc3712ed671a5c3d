//! Short-lived HS256 credentials for a customer, issued by `POST /api/v1/customers/{id}/jwt` and
//! signed with `JWT_SECRET`. They let a customer's CI download without holding a long-lived token;
//! revocation is by expiry, so lifetimes stay short.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::Rng;

use crate::error::{Error, Result};

/// The `iss` of every token we issue; a token from any other issuer sharing the secret is refused.
pub const ISSUER: &str = "cargoman";
/// Clock skew tolerated past `exp`, for clients and replicas whose clocks drift.
pub const LEEWAY_SECS: i64 = 30;
/// The only algorithm accepted: trusting whichever algorithm the header names is the classic JWT hole.
const ALGORITHM: &str = "HS256";

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Claims {
    /// The customer's public id, `cust_…`.
    pub sub: String,
    /// What the token allows, e.g. `download`.
    pub scope: String,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    /// Unique per token, so a single token can be named in logs and audit entries.
    pub jti: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwtError {
    #[error("JWT verification is not configured (empty secret)")]
    NoSecret,
    #[error("not a JWT: {0}")]
    Malformed(String),
    #[error("JWT algorithm {0:?} is not accepted, only HS256")]
    Algorithm(String),
    #[error("JWT signature does not match")]
    BadSignature,
    #[error("JWT expired at {exp}")]
    Expired { exp: i64 },
    #[error("JWT was not issued by this server for this use")]
    WrongIssuer,
    #[error("JWT claims are invalid: {0}")]
    Claims(String),
}

/// Signs a token for `customer` valid from `now` for `ttl_secs`.
pub fn issue(
    secret: &[u8],
    customer: &str,
    scope: &str,
    now: i64,
    ttl_secs: i64,
) -> Result<String> {
    issue_as(ISSUER, secret, customer, scope, now, ttl_secs)
}

/// `issue` with another `iss`, for tokens of another kind signed with the same machinery (the
/// registry tokens of `auth::delegated`): a verifier expecting one issuer refuses the other.
pub fn issue_as(
    issuer: &str,
    secret: &[u8],
    subject: &str,
    scope: &str,
    now: i64,
    ttl_secs: i64,
) -> Result<String> {
    if secret.is_empty() {
        return Err(Error::internal("JWT secret is empty"));
    }
    if ttl_secs <= 0 {
        return Err(Error::invalid("JWT lifetime must be positive"));
    }
    let exp = now
        .checked_add(ttl_secs)
        .ok_or_else(|| Error::invalid("JWT lifetime is too long"))?;
    let claims = Claims {
        sub: subject.to_owned(),
        scope: scope.to_owned(),
        iat: now,
        exp,
        iss: issuer.to_owned(),
        jti: format!("{:032x}", rand::rng().random::<u128>()),
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret),
    )
    .map_err(Error::internal)
}

/// Checks signature, algorithm (HS256 only), issuer and expiry against `now` (unix seconds).
pub fn verify(secret: &[u8], token: &str, now: i64) -> Result<Claims, JwtError> {
    verify_as(ISSUER, secret, token, now)
}

/// `verify` for tokens issued by `issue_as(issuer, …)`.
pub fn verify_as(issuer: &str, secret: &[u8], token: &str, now: i64) -> Result<Claims, JwtError> {
    // An empty HMAC key is valid to the crypto library, and anyone could sign with it.
    if secret.is_empty() {
        return Err(JwtError::NoSecret);
    }
    // jsonwebtoken refuses other algorithms too, but its error for an unknown name such as "none"
    // is a JSON error; reading the header first gives the caller a plain answer.
    check_algorithm(token)?;

    let mut validation = Validation::new(Algorithm::HS256);
    // Expiry is checked below against the caller's clock, not the library's system clock.
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    validation.set_issuer(&[issuer]);
    let data =
        jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(secret), &validation)
            .map_err(from_library)?;
    let claims = data.claims;

    if claims.iss != issuer {
        return Err(JwtError::WrongIssuer);
    }
    if now > claims.exp.saturating_add(LEEWAY_SECS) {
        return Err(JwtError::Expired { exp: claims.exp });
    }
    Ok(claims)
}

/// Cheap shape test used before trying verification: three base64url segments separated by dots.
pub fn looks_like_jwt(token: &str) -> bool {
    let mut segments = 0;
    for segment in token.split('.') {
        segments += 1;
        if segments > 3
            || segment.is_empty()
            || !segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return false;
        }
    }
    segments == 3
}

fn check_algorithm(token: &str) -> Result<(), JwtError> {
    #[derive(serde::Deserialize)]
    struct AlgOnly {
        alg: Option<String>,
    }
    let (header, _) = token
        .split_once('.')
        .ok_or_else(|| JwtError::Malformed("expected three dot-separated segments".into()))?;
    let json = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| JwtError::Malformed("header is not base64url".into()))?;
    let header: AlgOnly = serde_json::from_slice(&json)
        .map_err(|_| JwtError::Malformed("header is not a JSON object".into()))?;
    match header.alg {
        Some(alg) if alg == ALGORITHM => Ok(()),
        Some(alg) => Err(JwtError::Algorithm(alg)),
        None => Err(JwtError::Algorithm("(missing)".into())),
    }
}

fn from_library(err: jsonwebtoken::errors::Error) -> JwtError {
    match err.kind() {
        ErrorKind::InvalidSignature => JwtError::BadSignature,
        ErrorKind::InvalidIssuer => JwtError::WrongIssuer,
        ErrorKind::InvalidAlgorithm
        | ErrorKind::InvalidAlgorithmName
        | ErrorKind::MissingAlgorithm
        | ErrorKind::UnsupportedAlgorithm => JwtError::Algorithm(err.to_string()),
        ErrorKind::InvalidToken | ErrorKind::Base64(_) | ErrorKind::Utf8(_) => {
            JwtError::Malformed(err.to_string())
        }
        _ => JwtError::Claims(err.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
    const NOW: i64 = 1_767_225_600;

    fn token(ttl: i64) -> String {
        issue(SECRET, "cust_4f9a", "download", NOW, ttl).unwrap()
    }

    fn b64(json: &str) -> String {
        URL_SAFE_NO_PAD.encode(json)
    }

    fn segments(token: &str) -> Vec<String> {
        token.split('.').map(str::to_owned).collect()
    }

    #[test]
    fn round_trip() {
        let token = token(3600);
        assert!(looks_like_jwt(&token));
        let claims = verify(SECRET, &token, NOW + 10).unwrap();
        assert_eq!(claims.sub, "cust_4f9a");
        assert_eq!(claims.scope, "download");
        assert_eq!(claims.iat, NOW);
        assert_eq!(claims.exp, NOW + 3600);
        assert_eq!(claims.iss, ISSUER);
        assert_eq!(claims.jti.len(), 32);
    }

    #[test]
    fn header_is_hs256() {
        let header = jsonwebtoken::decode_header(token(60)).unwrap();
        assert_eq!(header.alg, Algorithm::HS256);
    }

    #[test]
    fn every_token_has_its_own_jti() {
        let a = verify(SECRET, &token(60), NOW).unwrap();
        let b = verify(SECRET, &token(60), NOW).unwrap();
        assert_ne!(a.jti, b.jti);
    }

    #[test]
    fn expired_is_refused_after_the_leeway() {
        let token = token(60);
        assert!(verify(SECRET, &token, NOW + 60).is_ok());
        assert!(verify(SECRET, &token, NOW + 60 + LEEWAY_SECS).is_ok());
        assert_eq!(
            verify(SECRET, &token, NOW + 61 + LEEWAY_SECS),
            Err(JwtError::Expired { exp: NOW + 60 })
        );
    }

    #[test]
    fn wrong_secret_is_refused() {
        assert_eq!(
            verify(b"another-secret-another-secret!!", &token(60), NOW),
            Err(JwtError::BadSignature)
        );
    }

    #[test]
    fn empty_secret_is_refused_both_ways() {
        assert!(issue(b"", "cust_1", "download", NOW, 60).is_err());
        let forged = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &Claims {
                sub: "cust_1".into(),
                scope: "download".into(),
                iat: NOW,
                exp: NOW + 60,
                iss: ISSUER.into(),
                jti: "x".into(),
            },
            &EncodingKey::from_secret(b""),
        )
        .unwrap();
        assert_eq!(verify(b"", &forged, NOW), Err(JwtError::NoSecret));
    }

    #[test]
    fn non_positive_ttl_is_refused() {
        assert!(issue(SECRET, "cust_1", "download", NOW, 0).is_err());
        assert!(issue(SECRET, "cust_1", "download", NOW, -5).is_err());
        assert!(issue(SECRET, "cust_1", "download", i64::MAX, 5).is_err());
    }

    #[test]
    fn tampered_payload_is_refused() {
        let parts = segments(&token(60));
        let mut claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
        claims["sub"] = "cust_someone_else".into();
        let forged = format!("{}.{}.{}", parts[0], b64(&claims.to_string()), parts[2]);
        assert_eq!(verify(SECRET, &forged, NOW), Err(JwtError::BadSignature));

        let mut signature = parts[2].clone().into_bytes();
        signature[0] = if signature[0] == b'A' { b'B' } else { b'A' };
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            parts[1],
            String::from_utf8(signature).unwrap()
        );
        assert_eq!(verify(SECRET, &forged, NOW), Err(JwtError::BadSignature));
    }

    #[test]
    fn alg_none_is_refused() {
        let payload = segments(&token(60))[1].clone();
        for header in [r#"{"alg":"none","typ":"JWT"}"#, r#"{"alg":"None"}"#] {
            let unsigned = format!("{}.{payload}.", b64(header));
            assert!(
                matches!(verify(SECRET, &unsigned, NOW), Err(JwtError::Algorithm(_))),
                "{header}"
            );
        }
        let no_alg = format!("{}.{payload}.", b64(r#"{"typ":"JWT"}"#));
        assert!(matches!(
            verify(SECRET, &no_alg, NOW),
            Err(JwtError::Algorithm(_))
        ));
    }

    #[test]
    fn other_algorithms_are_refused_even_with_the_right_secret() {
        let claims = verify(SECRET, &token(60), NOW).unwrap();
        for alg in [Algorithm::HS384, Algorithm::HS512] {
            let other = jsonwebtoken::encode(
                &Header::new(alg),
                &claims,
                &EncodingKey::from_secret(SECRET),
            )
            .unwrap();
            assert!(
                matches!(verify(SECRET, &other, NOW), Err(JwtError::Algorithm(_))),
                "{alg:?}"
            );
        }
    }

    #[test]
    fn wrong_issuer_is_refused() {
        let mut claims = verify(SECRET, &token(60), NOW).unwrap();
        claims.iss = "someone-else".into();
        let other = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(SECRET),
        )
        .unwrap();
        assert_eq!(verify(SECRET, &other, NOW), Err(JwtError::WrongIssuer));
    }

    #[test]
    fn missing_claims_are_refused() {
        let other = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &serde_json::json!({ "sub": "cust_1", "iss": ISSUER, "exp": NOW + 60 }),
            &EncodingKey::from_secret(SECRET),
        )
        .unwrap();
        assert!(matches!(
            verify(SECRET, &other, NOW),
            Err(JwtError::Claims(_))
        ));
    }

    #[test]
    fn garbage_is_malformed() {
        for garbage in [
            "",
            "cma_abcdefgh12345678abcdefgh12345678",
            "a.b.c",
            "...",
            "eyJ.eyJ.sig",
            "not a token at all",
            &format!("{}.{}.c.d", b64(r#"{"alg":"HS256"}"#), b64("{}")),
            &format!("{}.{}", b64(r#"{"alg":"HS256"}"#), b64("{}")),
        ] {
            assert!(
                matches!(verify(SECRET, garbage, NOW), Err(JwtError::Malformed(_))),
                "{garbage:?} → {:?}",
                verify(SECRET, garbage, NOW)
            );
        }
    }

    #[test]
    fn signature_is_checked_before_the_payload_is_read() {
        let garbage_payload = format!("{}.%%%.sig", b64(r#"{"alg":"HS256"}"#));
        assert_eq!(
            verify(SECRET, &garbage_payload, NOW),
            Err(JwtError::BadSignature)
        );
    }

    #[test]
    fn looks_like_jwt_shapes() {
        assert!(looks_like_jwt(&token(60)));
        assert!(looks_like_jwt("a.b.c"));
        assert!(looks_like_jwt("eyJhbGciOiJIUzI1NiJ9.e30.Zm9v-_"));
        for not in [
            "",
            "abc",
            "a.b",
            "a.b.c.d",
            "a..c",
            ".b.c",
            "a.b.",
            "a.b.c=",
            "a+b.c.d",
            "a/b.c.d",
            "a.b c.d",
            "cma_abcdefgh12345678abcdefgh12345678",
        ] {
            assert!(!looks_like_jwt(not), "{not:?}");
        }
    }
}
