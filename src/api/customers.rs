//! Customers: `GET|POST /customers`, `GET|PATCH|DELETE /customers/{id}`,
//! `GET /customers/by-external/{external_id}` and the lifecycle
//! `POST /customers/{id}/suspend|reactivate|freeze|expire`.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::customer_tokens::with_client_setup;
use super::{Data, Json, OptionalJson, PageQuery, Query, ok, parse_time};
use crate::auth::{CustomerStatus, Permission, Principal};
use crate::customers;
use crate::error::{Error, Result};
use crate::model::customers::{self as rows, Customer, Fields};
use crate::package_rules::PackageName;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/customers", get(list).post(create))
        .route("/customers/by-external/{external_id}", get(by_external))
        .route("/customers/{id}", get(show).patch(update).delete(remove))
        .route(
            "/customers/{id}/suspend",
            lifecycle_route(CustomerStatus::Suspended),
        )
        .route(
            "/customers/{id}/reactivate",
            lifecycle_route(CustomerStatus::Active),
        )
        .route(
            "/customers/{id}/expire",
            lifecycle_route(CustomerStatus::Expired),
        )
        .route("/customers/{id}/freeze", post(freeze))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateCustomer {
    name: String,
    email: Option<String>,
    external_id: Option<String>,
    /// RFC 3339 end of the subscription; past it the customer is `expired`.
    expires_at: Option<String>,
}

async fn create(
    State(state): State<AppState>,
    principal: Principal,
    body: Json<CreateCustomer>,
) -> Result<Data<Value>> {
    principal.require(Permission::ManageCustomers)?;
    let req = body.parse()?;
    let fields = Fields {
        name: req.name.trim().to_string(),
        email: req.email,
        external_id: req.external_id,
        expires_at: req
            .expires_at
            .as_deref()
            .map(|t| parse_time("expires_at", t))
            .transpose()?,
    };
    let (customer, token, plain) = customers::create(
        &state.registry.db,
        state.access.rules(),
        &fields,
        state.config.customers.max_tokens,
    )
    .await?;
    let mut body = customer_json(&customer);
    body["token"] = json!(plain);
    body["token_id"] = json!(token.id);
    Ok(Data(
        StatusCode::CREATED,
        with_client_setup(&state, &plain, body),
    ))
}

fn customer_json(customer: &Customer) -> Value {
    serde_json::to_value(customer).unwrap_or_default()
}

#[derive(Deserialize)]
struct ListQuery {
    status: Option<String>,
    page: Option<u32>,
    per_page: Option<u32>,
}

async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<ListQuery>,
) -> Result<Response> {
    principal.require(Permission::ReadAdmin)?;
    if let Some(status) = &q.status
        && CustomerStatus::parse(status).is_none()
    {
        return Err(Error::invalid(format!(
            "status {status:?} is not one of active, suspended, frozen, expired"
        )));
    }
    let page = PageQuery {
        page: q.page,
        per_page: q.per_page,
    }
    .page();
    let mut conn = state.registry.db.pool().acquire().await?;
    Ok(super::page(
        rows::list(&mut conn, q.status.as_deref(), page).await?,
    ))
}

/// A customer with its grants, token count and frozen versions: what an admin looks at.
async fn detail(state: &AppState, customer: &Customer) -> Result<Value> {
    let mut conn = state.registry.db.pool().acquire().await?;
    let mut body = customer_json(customer);
    let rules = state.access.rules();
    body["packages"] = customers::grants_json(&state.registry.db, rules, customer).await?;
    body["tokens"] =
        json!(crate::model::tokens::count_live_for_customer(&mut conn, customer.id).await?);
    let frozen: Vec<Value> = rows::frozen_versions(&mut conn, customer.id)
        .await?
        .into_iter()
        .map(|(package, version)| {
            let mut fields = rules.fields(&package);
            fields.insert("version".into(), json!(version));
            Value::Object(fields)
        })
        .collect();
    body["frozen_versions"] = json!(frozen);
    Ok(body)
}

async fn show(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Data<Value>> {
    principal.require(Permission::ReadAdmin)?;
    let customer = customers::find(&state.registry.db, &id).await?;
    Ok(ok(detail(&state, &customer).await?))
}

async fn by_external(
    State(state): State<AppState>,
    principal: Principal,
    Path(external_id): Path<String>,
) -> Result<Data<Value>> {
    principal.require(Permission::ReadAdmin)?;
    let customer = {
        let mut conn = state.registry.db.pool().acquire().await?;
        rows::get_by_external_id(&mut conn, &external_id)
            .await?
            .ok_or_else(|| {
                Error::not_found(format!("no customer has external_id {external_id:?}"))
            })?
    };
    Ok(ok(detail(&state, &customer).await?))
}

/// `PATCH`: the fields present change; `null` clears an optional one.
async fn update(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    body: Json<Map<String, Value>>,
) -> Result<Data<Value>> {
    principal.require(Permission::ManageCustomers)?;
    let patch = body.parse()?;
    let customer = customers::find(&state.registry.db, &id).await?;
    let mut fields = Fields {
        name: customer.name.clone(),
        email: customer.email.clone(),
        external_id: customer.external_id.clone(),
        expires_at: customer.expires_at,
    };
    for (key, value) in &patch {
        let text = match value {
            Value::Null => None,
            Value::String(s) => Some(s.trim().to_string()),
            _ => return Err(Error::invalid(format!("{key} must be a string or null"))),
        };
        match key.as_str() {
            "name" => {
                fields.name = text.ok_or_else(|| Error::invalid("name cannot be null"))?;
            }
            "email" => fields.email = text,
            "external_id" => fields.external_id = text,
            "expires_at" => {
                fields.expires_at = text
                    .as_deref()
                    .map(|t| parse_time("expires_at", t))
                    .transpose()?;
            }
            other => {
                return Err(Error::invalid(format!(
                    "unknown field {other:?}: expected name, email, external_id or expires_at"
                )));
            }
        }
    }
    customers::check_fields(&fields)?;
    let mut tx = state.registry.db.begin_write().await?;
    rows::update(&mut tx, customer.id, &fields).await?;
    tx.commit().await?;
    let customer = customers::find(&state.registry.db, &id).await?;
    Ok(ok(detail(&state, &customer).await?))
}

async fn remove(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    principal.require(Permission::ManageCustomers)?;
    let customer = customers::find(&state.registry.db, &id).await?;
    let mut tx = state.registry.db.begin_write().await?;
    rows::delete(&mut tx, customer.id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Reason {
    reason: Option<String>,
}

/// The body of a lifecycle call is optional; an empty one means no reason.
fn optional_reason(body: OptionalJson<Reason>) -> Result<Option<String>> {
    Ok(body
        .parse()?
        .and_then(|r| r.reason)
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty()))
}

/// `suspend`, `expire` and `reactivate`: one state change each, with an optional reason.
async fn lifecycle(
    state: AppState,
    principal: Principal,
    id: String,
    body: OptionalJson<Reason>,
    status: CustomerStatus,
) -> Result<Data<Value>> {
    principal.require(Permission::ManageCustomers)?;
    let reason = optional_reason(body)?.filter(|_| status != CustomerStatus::Active);
    let customer = customers::find(&state.registry.db, &id).await?;
    let customer =
        customers::set_status(&state.registry.db, &customer, status, reason.as_deref()).await?;
    Ok(ok(detail(&state, &customer).await?))
}

fn lifecycle_route(status: CustomerStatus) -> axum::routing::MethodRouter<AppState> {
    post(
        move |State(state): State<AppState>,
              principal: Principal,
              Path(id): Path<String>,
              body: OptionalJson<Reason>| lifecycle(state, principal, id, body, status),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FrozenVersion {
    format: Option<String>,
    owner: Option<String>,
    package: String,
    version: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Freeze {
    versions: Vec<FrozenVersion>,
}

async fn freeze(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    body: Json<Freeze>,
) -> Result<Data<Value>> {
    principal.require(Permission::ManageCustomers)?;
    let req = body.parse()?;
    let versions = req
        .versions
        .into_iter()
        .map(|v| {
            let name = PackageName {
                format: v.format,
                owner: v.owner,
                package: v.package,
            };
            Ok((
                state.access.rules().resolve(&name)?,
                v.version.trim().to_string(),
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    let customer = customers::find(&state.registry.db, &id).await?;
    let customer = customers::freeze(&state.registry.db, &customer, &versions).await?;
    Ok(ok(detail(&state, &customer).await?))
}
