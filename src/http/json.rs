//! The JSON conventions of Cargoman's management API, for `api/` and for formats' own `/api/v1`
//! routes: the `{"data", "error"}` envelope, pagination, and extractors whose rejections are the
//! API's typed errors.

use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::Error;
use crate::model::{Listing, Page};

/// `{"data": …, "error": null}` with a status.
pub struct Data<T>(pub StatusCode, pub T);

impl<T: Serialize> IntoResponse for Data<T> {
    fn into_response(self) -> Response {
        (
            self.0,
            axum::Json(serde_json::json!({"data": self.1, "error": null})),
        )
            .into_response()
    }
}

pub fn ok<T: Serialize>(value: T) -> Data<T> {
    Data(StatusCode::OK, value)
}

/// A page of a list, with Cargoman's `pagination` block.
pub fn page<T: Serialize>(listing: Listing<T>) -> Response {
    let Listing { items, total, page } = listing;
    axum::Json(serde_json::json!({
        "data": items,
        "error": null,
        "pagination": pagination(page, total),
    }))
    .into_response()
}

/// `{"page", "per_page", "total", "total_pages"}`.
pub fn pagination(page: Page, total: i64) -> serde_json::Value {
    let per_page = i64::from(page.per_page);
    serde_json::json!({
        "page": page.page,
        "per_page": page.per_page,
        "total": total,
        "total_pages": (total + per_page - 1) / per_page,
    })
}

#[derive(Debug, serde::Deserialize)]
pub struct PageQuery {
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

impl PageQuery {
    pub fn page(&self) -> Page {
        Page::new(self.page, self.per_page)
    }
}

/// A JSON body, parsed when the handler asks for it: the permission check comes first, so an
/// anonymous caller gets 401 rather than a complaint about the body. Bad bodies are validation
/// errors in the envelope, not axum's plain text.
pub struct Json<T>(Result<T, Error>);

impl<T> Json<T> {
    pub fn parse(self) -> Result<T, Error> {
        self.0
    }
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = std::convert::Infallible;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Json(
            match axum::Json::<T>::from_request(req, state).await {
                Ok(axum::Json(value)) => Ok(value),
                Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(
                    Error::PayloadTooLarge("request body is larger than 1 MiB".into()),
                ),
                Err(rejection) => Err(Error::invalid(rejection.body_text())),
            },
        ))
    }
}

/// A JSON body that may be absent (lifecycle calls such as `suspend` take an optional reason):
/// an empty body is `None`, anything else must be JSON, whatever the Content-Type says.
pub struct OptionalJson<T>(Result<Option<T>, Error>);

impl<T> OptionalJson<T> {
    pub fn parse(self) -> Result<Option<T>, Error> {
        self.0
    }
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for OptionalJson<T> {
    type Rejection = std::convert::Infallible;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let parsed = match axum::body::Bytes::from_request(req, state).await {
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(
                Error::PayloadTooLarge("request body is larger than 1 MiB".into()),
            ),
            Err(rejection) => Err(Error::invalid(rejection.body_text())),
            Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => Ok(None),
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| Error::invalid(format!("invalid JSON body: {e}"))),
        };
        Ok(OptionalJson(parsed))
    }
}

/// Query string whose rejections are validation errors.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> axum::extract::FromRequestParts<S> for Query<T> {
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Error> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(rejection) => Err(Error::invalid(rejection.body_text())),
        }
    }
}

/// A time the API reads: RFC 3339, named after its field when it is not.
pub fn parse_time(field: &str, text: &str) -> Result<i64, Error> {
    crate::clock::parse_rfc3339(text)
        .ok_or_else(|| Error::invalid(format!("{field} {text:?} is not an RFC 3339 time")))
}
