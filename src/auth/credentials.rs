//! Reading a token from a request, in every form the seed clients send it.

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use base64::Engine;

use crate::error::{Error, Result};

/// The token a request presents, if any: `Authorization: Bearer …`, `Authorization: token …`,
/// HTTP Basic with the token as password (any username), or `X-Api-Key` (Vieter).
pub fn presented_token(headers: &HeaderMap) -> Result<Option<String>> {
    if let Some(value) = headers.get(AUTHORIZATION) {
        let value = value
            .to_str()
            .map_err(|_| Error::Unauthorized("Authorization header is not valid text".into()))?;
        let (scheme, rest) = value.trim().split_once(' ').unwrap_or((value, ""));
        let rest = rest.trim();
        let token = match scheme.to_ascii_lowercase().as_str() {
            "bearer" | "token" => rest.to_string(),
            "basic" => basic_password(rest)?,
            _ => {
                return Err(Error::Unauthorized(format!(
                    "unsupported authorization scheme {scheme:?}"
                )));
            }
        };
        if token.is_empty() {
            return Err(Error::Unauthorized("empty token".into()));
        }
        return Ok(Some(token));
    }
    if let Some(value) = headers.get("x-api-key") {
        let token = value
            .to_str()
            .map_err(|_| Error::Unauthorized("X-Api-Key is not valid text".into()))?
            .trim();
        if token.is_empty() {
            return Err(Error::Unauthorized("empty X-Api-Key".into()));
        }
        return Ok(Some(token.to_string()));
    }
    Ok(None)
}

fn basic_password(encoded: &str) -> Result<String> {
    let bad = || Error::Unauthorized("malformed Basic credentials".into());
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| bad())?;
    let text = String::from_utf8(decoded).map_err(|_| bad())?;
    let (_user, password) = text.split_once(':').ok_or_else(bad)?;
    Ok(password.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(name: &'static str, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn every_documented_form() {
        assert_eq!(
            presented_token(&headers("authorization", "Bearer abc")).unwrap(),
            Some("abc".into())
        );
        assert_eq!(
            presented_token(&headers("authorization", "token abc")).unwrap(),
            Some("abc".into())
        );
        // admin:secret
        assert_eq!(
            presented_token(&headers("authorization", "Basic YWRtaW46c2VjcmV0")).unwrap(),
            Some("secret".into())
        );
        assert_eq!(
            presented_token(&headers("x-api-key", "abc")).unwrap(),
            Some("abc".into())
        );
        assert_eq!(presented_token(&HeaderMap::new()).unwrap(), None);
    }

    #[test]
    fn malformed_credentials_are_refused() {
        for value in [
            "Basic !!!",
            "Basic YWRtaW4=",
            "Digest x",
            "Bearer ",
            "Bearer",
        ] {
            assert!(
                matches!(
                    presented_token(&headers("authorization", value)),
                    Err(Error::Unauthorized(_))
                ),
                "{value}"
            );
        }
    }
}
