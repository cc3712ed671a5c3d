//! Stripe events applied to customers (`api::stripe_webhook`). Stripe retries a delivery until
//! it gets a 2xx and promises no order, so each event id counts once, and an event created before
//! the last one applied to the same customer is stale: a late `invoice.payment_failed` must not
//! undo the `invoice.paid` that followed it. Purged with webhook deliveries.

use sqlx::AnyConnection;

use crate::error::Result;

/// What an event is, measured against those applied before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    New,
    /// This event id was applied already.
    Replayed,
    /// The customer's last applied event was created at `last_created`, after this one.
    Stale {
        last_created: i64,
    },
}

pub async fn check(
    conn: &mut AnyConnection,
    event_id: &str,
    customer_id: i64,
    created: i64,
) -> Result<Seen> {
    let replayed: Option<i64> =
        sqlx::query_scalar("SELECT customer_id FROM stripe_events WHERE event_id = $1")
            .bind(event_id)
            .fetch_optional(&mut *conn)
            .await?;
    if replayed.is_some() {
        return Ok(Seen::Replayed);
    }
    let last: Option<i64> =
        sqlx::query_scalar("SELECT MAX(created) FROM stripe_events WHERE customer_id = $1")
            .bind(customer_id)
            .fetch_one(conn)
            .await?;
    Ok(match last {
        Some(last_created) if created < last_created => Seen::Stale { last_created },
        _ => Seen::New,
    })
}

/// Remembers an applied event; a concurrent delivery of the same event may have done so first.
pub async fn record(
    conn: &mut AnyConnection,
    event_id: &str,
    customer_id: i64,
    created: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO stripe_events (event_id, customer_id, created, received_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(event_id)
    .bind(customer_id)
    .bind(created)
    .bind(crate::clock::now())
    .execute(conn)
    .await?;
    Ok(())
}

/// Forgets events received before `epoch`; returns how many.
pub async fn purge_older_than(conn: &mut AnyConnection, epoch: i64) -> Result<u64> {
    Ok(
        sqlx::query("DELETE FROM stripe_events WHERE received_at < $1")
            .bind(epoch)
            .execute(conn)
            .await?
            .rows_affected(),
    )
}
