//! `POST /api/webhooks/stripe`: Stripe subscription events drive customer states. The
//! `Stripe-Signature` is checked against `STRIPE_WEBHOOK_SECRET` before anything is read; the
//! customer is the one whose `external_id` is the event's Stripe customer id.
//! `invoice.payment_failed` (and a subscription turning `past_due`/`unpaid`) suspends,
//! `invoice.paid` reactivates, `customer.subscription.deleted` freezes at the versions the
//! customer last downloaded. Each change is written to the audit log with the actor `stripe`.
//!
//! Stripe retries deliveries and promises no order, so each event id is applied once (a replay
//! is acknowledged and changes nothing), and an event created before the last one applied to the
//! same customer is acknowledged as stale: a late retry of `invoice.payment_failed` must not
//! suspend a customer whose `invoice.paid` came after it (`model::stripe_events`).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::HeaderMap;
use axum::routing::post;
use serde_json::{Value, json};

use crate::auth::CustomerStatus;
use crate::billing::stripe::{self, LifecycleEvent};
use crate::customers;
use crate::error::{Error, Result};
use crate::model::stripe_events::{self, Seen};
use crate::model::{audit, customers as rows};
use crate::state::AppState;

const PATH: &str = "/api/webhooks/stripe";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(PATH, post(receive))
        .layer(DefaultBodyLimit::max(1024 * 1024))
}

async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<axum::Json<Value>> {
    let secret = state
        .config
        .customers
        .stripe_webhook_secret
        .as_deref()
        .ok_or_else(|| {
            Error::Forbidden("STRIPE_WEBHOOK_SECRET is not set: Stripe webhooks are refused".into())
        })?;
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    stripe::verify(
        secret,
        signature,
        &body,
        crate::clock::now(),
        stripe::DEFAULT_TOLERANCE_SECS,
    )
    .map_err(|e| Error::invalid(format!("Stripe-Signature refused: {e}")))?;
    let event = stripe::parse_event(&body).map_err(|e| Error::invalid(e.to_string()))?;
    let outcome = apply(&state, &event).await?;
    Ok(axum::Json(
        json!({"received": true, "event": event.id, "outcome": outcome}),
    ))
}

/// Applies one verified event; events that concern no known customer are acknowledged (Stripe
/// retries anything but a 2xx).
async fn apply(state: &AppState, event: &stripe::Event) -> Result<Value> {
    if let LifecycleEvent::Other(kind) = &event.kind {
        return Ok(
            json!({"action": "ignored", "reason": format!("{kind} does not change customers")}),
        );
    }
    let Some(external_id) = event.customer.as_deref() else {
        return Ok(json!({"action": "ignored", "reason": "the event names no customer"}));
    };
    let customer = {
        let mut conn = state.registry.db.pool().acquire().await?;
        rows::get_by_external_id(&mut conn, external_id).await?
    };
    let Some(customer) = customer else {
        return Ok(
            json!({"action": "ignored", "reason": format!("no customer has external_id {external_id}")}),
        );
    };
    let db = &state.registry.db;
    // Whether an event is stale depends on those applied before it: one at a time.
    static APPLYING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _turn = APPLYING.lock().await;
    let seen = {
        let mut conn = db.pool().acquire().await?;
        stripe_events::check(&mut conn, &event.id, customer.id, event.created).await?
    };
    match seen {
        Seen::New => {}
        Seen::Replayed => {
            return Ok(
                json!({"action": "ignored", "reason": format!("event {} was applied already", event.id)}),
            );
        }
        Seen::Stale { last_created } => {
            return Ok(json!({"action": "ignored", "reason": format!(
                "event {} was created at {}, before the last event applied to {} ({})",
                event.id,
                crate::clock::rfc3339(event.created),
                customer.public_id,
                crate::clock::rfc3339(last_created),
            )}));
        }
    }
    let changed = match &event.kind {
        LifecycleEvent::PaymentFailed | LifecycleEvent::SubscriptionPastDue => {
            let reason = format!("payment failed (Stripe {})", event.event_type);
            let updated =
                customers::set_status(db, &customer, CustomerStatus::Suspended, Some(&reason))
                    .await?;
            Some(("suspended", updated))
        }
        // Already active: applied all the same, so older events stay stale.
        LifecycleEvent::Paid if customer.status == CustomerStatus::Active.as_str() => None,
        LifecycleEvent::Paid => {
            let updated =
                customers::set_status(db, &customer, CustomerStatus::Active, None).await?;
            Some(("reactivated", updated))
        }
        LifecycleEvent::SubscriptionDeleted => {
            let updated = customers::freeze_at_current_versions(&state.registry, &customer).await?;
            Some(("frozen", updated))
        }
        LifecycleEvent::Other(_) => unreachable!("handled above"),
    };
    // Remembered after the change: a crash in between lets Stripe's retry apply it again, which
    // is better than an event lost.
    let mut tx = db.begin_write().await?;
    stripe_events::record(&mut tx, &event.id, customer.id, event.created).await?;
    let Some((action, updated)) = changed else {
        tx.commit().await?;
        return Ok(
            json!({"action": "none", "customer": customer.public_id, "status": customer.status}),
        );
    };
    audit::record(
        &mut tx,
        &audit::NewEntry {
            actor: "stripe",
            action: &format!("stripe.{}", event.event_type),
            target: Some(&customer.public_id),
            details: Some(json!({"event": event.id, "status": updated.status})),
            ip: None,
            method: "POST",
            path: PATH,
            status: 200,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(json!({"action": action, "customer": updated.public_id, "status": updated.status}))
}
