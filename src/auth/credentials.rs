//! Reading a token from a request, in every form the seed clients send it.

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use base64::Engine;

use crate::error::{Error, Result};

/// Headers that carry a bare token: Vieter's `X-Api-Key` and NuGet's `X-NuGet-ApiKey`.
const API_KEY_HEADERS: [&str; 2] = ["x-api-key", "x-nuget-apikey"];

/// The token a request presents, if any: `Authorization: Bearer …`, `Authorization: token …`,
/// HTTP Basic with the token as password (any username), a bare `Authorization: <token>` (as
/// Cargo sends it), `X-Api-Key` (Vieter) or `X-NuGet-ApiKey` (NuGet push).
pub fn presented_token(headers: &HeaderMap) -> Result<Option<String>> {
    if let Some(value) = headers.get(AUTHORIZATION) {
        let value = value
            .to_str()
            .map_err(|_| Error::Unauthorized("Authorization header is not valid text".into()))?
            .trim();
        let token = match value.split_once(' ') {
            Some((scheme, rest)) => {
                let rest = rest.trim();
                match scheme.to_ascii_lowercase().as_str() {
                    "bearer" | "token" => rest.to_string(),
                    "basic" => basic_password(rest)?,
                    _ => {
                        return Err(Error::Unauthorized(format!(
                            "unsupported authorization scheme {scheme:?}"
                        )));
                    }
                }
            }
            // A scheme name alone is a scheme without its credentials, not a token.
            None if SCHEMES.contains(&value.to_ascii_lowercase().as_str()) => String::new(),
            None => value.to_string(),
        };
        if token.is_empty() {
            return Err(Error::Unauthorized("empty token".into()));
        }
        return Ok(Some(token));
    }
    for name in API_KEY_HEADERS {
        if let Some(value) = headers.get(name) {
            let token = value
                .to_str()
                .map_err(|_| Error::Unauthorized(format!("{name} is not valid text")))?
                .trim();
            if token.is_empty() {
                return Err(Error::Unauthorized(format!("empty {name}")));
            }
            return Ok(Some(token.to_string()));
        }
    }
    Ok(None)
}

/// Authorization schemes, in lower case.
const SCHEMES: [&str; 5] = ["bearer", "token", "basic", "digest", "negotiate"];

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
        assert_eq!(
            presented_token(&headers("x-nuget-apikey", "abc")).unwrap(),
            Some("abc".into())
        );
        // Cargo sends the token as the whole header value.
        assert_eq!(
            presented_token(&headers("authorization", "cma_abc")).unwrap(),
            Some("cma_abc".into())
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
            "basic",
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
