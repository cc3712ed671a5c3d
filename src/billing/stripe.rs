//! Stripe webhooks: verifying the `Stripe-Signature` header and reading the few event types that
//! change a customer's standing (payment failed, paid, subscription past due or deleted).
//!
//! Stripe signs `"{t}.{raw body}"` with HMAC-SHA256 keyed by the endpoint's signing secret
//! (`whsec_…`, used as-is) and sends `t=<unix seconds>,v1=<hex>[,v1=<hex>…][,v0=…]`. Several `v1`
//! values appear while a secret is being rolled, so any one matching is enough. `v0` and unknown
//! schemes are ignored, as Stripe's own libraries do.

use aws_lc_rs::hmac;
use serde::Deserialize;
use serde_json::Value;
use subtle::ConstantTimeEq;

/// Stripe's own libraries' default: five minutes either side of our clock.
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

const SCHEME: &str = "v1";
const TAG_LEN: usize = 32;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error("Stripe-Signature header is missing")]
    Missing,
    #[error("Stripe-Signature header is malformed: {0}")]
    Malformed(String),
    #[error("Stripe-Signature header carries no v1 signature")]
    NoSignature,
    #[error("no v1 signature in the Stripe-Signature header matches the payload")]
    NoMatch,
    #[error(
        "Stripe signature timestamp {timestamp} is {age_secs} s old, beyond the {tolerance_secs} s tolerance"
    )]
    TooOld {
        timestamp: i64,
        age_secs: i64,
        tolerance_secs: i64,
    },
    #[error(
        "Stripe signature timestamp {timestamp} is {ahead_secs} s in the future, beyond the {tolerance_secs} s tolerance"
    )]
    InFuture {
        timestamp: i64,
        ahead_secs: i64,
        tolerance_secs: i64,
    },
}

/// header: the Stripe-Signature value ("t=…,v1=…,v1=…,v0=…"); payload: raw body bytes; now: unix
/// seconds. The payload must be the bytes as received: re-serialised JSON will not match.
pub fn verify(
    secret: &str,
    header: &str,
    payload: &[u8],
    now: i64,
    tolerance_secs: i64,
) -> Result<(), SignatureError> {
    let header = header.trim();
    if header.is_empty() {
        return Err(SignatureError::Missing);
    }
    let parsed = parse_header(header)?;
    if parsed.signatures.is_empty() {
        return Err(SignatureError::NoSignature);
    }

    let expected = compute(secret, parsed.timestamp, payload);
    // Fold over every candidate rather than stopping at the first match, so timing says nothing
    // about which one (if any) matched.
    let matched = parsed
        .signatures
        .iter()
        .fold(subtle::Choice::from(0), |any, candidate| {
            any | candidate.ct_eq(expected.as_ref())
        });
    if !bool::from(matched) {
        return Err(SignatureError::NoMatch);
    }

    // Checked after the signature so a stale-time error is only ever reported for a genuine
    // Stripe delivery (a replay or a skewed clock), never as a hint to a forger.
    let age_secs = now.saturating_sub(parsed.timestamp);
    if age_secs > tolerance_secs {
        return Err(SignatureError::TooOld {
            timestamp: parsed.timestamp,
            age_secs,
            tolerance_secs,
        });
    }
    let ahead_secs = parsed.timestamp.saturating_sub(now);
    if ahead_secs > tolerance_secs {
        return Err(SignatureError::InFuture {
            timestamp: parsed.timestamp,
            ahead_secs,
            tolerance_secs,
        });
    }
    Ok(())
}

/// For tests and docs: the header Stripe would send.
pub fn sign(secret: &str, payload: &[u8], timestamp: i64) -> String {
    let tag = compute(secret, timestamp, payload);
    format!("t={timestamp},{SCHEME}={}", hex::encode(tag.as_ref()))
}

fn compute(secret: &str, timestamp: i64, payload: &[u8]) -> hmac::Tag {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(timestamp.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(payload);
    ctx.sign()
}

struct ParsedHeader {
    timestamp: i64,
    signatures: Vec<[u8; TAG_LEN]>,
}

fn parse_header(header: &str) -> Result<ParsedHeader, SignatureError> {
    let malformed = |msg: &str| SignatureError::Malformed(msg.to_owned());
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for item in header.split(',') {
        let (key, value) = item
            .split_once('=')
            .ok_or_else(|| malformed("an element is not key=value"))?;
        match key.trim() {
            "t" => {
                if timestamp.is_some() {
                    return Err(malformed("more than one t= timestamp"));
                }
                let t = value
                    .trim()
                    .parse::<i64>()
                    .map_err(|_| malformed("t= is not a unix timestamp"))?;
                timestamp = Some(t);
            }
            SCHEME => {
                let mut tag = [0u8; TAG_LEN];
                hex::decode_to_slice(value.trim(), &mut tag)
                    .map_err(|_| malformed("v1= is not 64 hex digits"))?;
                signatures.push(tag);
            }
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or_else(|| malformed("no t= timestamp"))?;
    Ok(ParsedHeader {
        timestamp,
        signatures,
    })
}

/// What an event means for a customer's standing; everything Cargoman does not act on is `Other`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LifecycleEvent {
    /// `invoice.payment_failed`
    PaymentFailed,
    /// `invoice.paid` or `invoice.payment_succeeded`
    Paid,
    /// `customer.subscription.deleted`
    SubscriptionDeleted,
    /// `customer.subscription.updated` with status `past_due` or `unpaid`
    SubscriptionPastDue,
    /// Any other event, including a subscription update to another status; holds the type.
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// `evt_…`; Stripe retries deliveries, so callers use this to process each event once.
    pub id: String,
    /// When Stripe created the event (unix seconds): deliveries come in any order, so callers
    /// compare this to know which of two events about a customer is the later.
    pub created: i64,
    pub kind: LifecycleEvent,
    /// data.object.customer (the Stripe customer id, matched to Cargoman's external_id)
    pub customer: Option<String>,
    pub event_type: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EventError {
    #[error("webhook body is not a Stripe event: {0}")]
    Malformed(String),
}

#[derive(Deserialize)]
struct RawEvent {
    id: String,
    created: i64,
    #[serde(rename = "type")]
    event_type: String,
    data: RawData,
}

#[derive(Deserialize)]
struct RawData {
    object: Value,
}

/// Reads an event from a webhook body. Call it only after [`verify`] has accepted the body.
pub fn parse_event(payload: &[u8]) -> Result<Event, EventError> {
    let raw: RawEvent =
        serde_json::from_slice(payload).map_err(|e| EventError::Malformed(e.to_string()))?;
    let object = &raw.data.object;
    if !object.is_object() {
        return Err(EventError::Malformed("data.object is not an object".into()));
    }
    let str_field = |name: &str| object.get(name).and_then(Value::as_str);

    let kind = match raw.event_type.as_str() {
        "invoice.payment_failed" => LifecycleEvent::PaymentFailed,
        "invoice.paid" | "invoice.payment_succeeded" => LifecycleEvent::Paid,
        "customer.subscription.deleted" => LifecycleEvent::SubscriptionDeleted,
        "customer.subscription.updated"
            if matches!(str_field("status"), Some("past_due" | "unpaid")) =>
        {
            LifecycleEvent::SubscriptionPastDue
        }
        other => LifecycleEvent::Other(other.to_owned()),
    };

    let customer = if str_field("object") == Some("customer") {
        str_field("id")
    } else {
        // Unexpanded it is the id; expanded (when the endpoint asks for it) it is the customer.
        match object.get("customer") {
            Some(Value::String(id)) => Some(id.as_str()),
            Some(expanded @ Value::Object(_)) => expanded.get("id").and_then(Value::as_str),
            _ => None,
        }
    };

    Ok(Event {
        id: raw.id,
        created: raw.created,
        kind,
        customer: customer.map(str::to_owned),
        event_type: raw.event_type,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_5f3c9a1d0b7e4c2a";
    const NOW: i64 = 1_767_225_600;
    const BODY: &[u8] = br#"{"id":"evt_1","type":"invoice.paid","data":{"object":{}}}"#;

    fn check(header: &str, body: &[u8]) -> Result<(), SignatureError> {
        verify(SECRET, header, body, NOW, DEFAULT_TOLERANCE_SECS)
    }

    #[test]
    fn valid_signature_passes() {
        assert_eq!(check(&sign(SECRET, BODY, NOW), BODY), Ok(()));
    }

    #[test]
    fn signature_matches_stripes_published_scheme() {
        // Independently computed: `printf '%s' '1700000000.{}' | openssl dgst -sha256 -hmac whsec_abc`
        assert_eq!(
            sign("whsec_abc", b"{}", 1_700_000_000),
            "t=1700000000,v1=bad9ac117e973d721c232d46744158d75e3f1b44e36771e13d01b9e6a580bc72"
        );
    }

    #[test]
    fn tampered_body_is_refused() {
        let header = sign(SECRET, BODY, NOW);
        let tampered = br#"{"id":"evt_1","type":"invoice.paid","data":{"object":{"x":1}}}"#;
        assert_eq!(check(&header, tampered), Err(SignatureError::NoMatch));
    }

    #[test]
    fn wrong_secret_is_refused() {
        let header = sign("whsec_someone_else", BODY, NOW);
        assert_eq!(check(&header, BODY), Err(SignatureError::NoMatch));
    }

    #[test]
    fn changed_timestamp_breaks_the_signature() {
        let v1 = sign(SECRET, BODY, NOW)
            .split_once(',')
            .unwrap()
            .1
            .to_owned();
        let header = format!("t={},{v1}", NOW - 1);
        assert_eq!(check(&header, BODY), Err(SignatureError::NoMatch));
    }

    #[test]
    fn empty_header_is_missing() {
        assert_eq!(check("", BODY), Err(SignatureError::Missing));
        assert_eq!(check("  ", BODY), Err(SignatureError::Missing));
    }

    #[test]
    fn missing_timestamp_is_malformed() {
        let v1 = sign(SECRET, BODY, NOW)
            .split_once(',')
            .unwrap()
            .1
            .to_owned();
        assert!(matches!(
            check(&v1, BODY),
            Err(SignatureError::Malformed(m)) if m.contains("t=")
        ));
    }

    #[test]
    fn bad_timestamps_are_malformed() {
        let v1 = sign(SECRET, BODY, NOW)
            .split_once(',')
            .unwrap()
            .1
            .to_owned();
        for header in [
            format!("t=soon,{v1}"),
            format!("t={NOW},t={NOW},{v1}"),
            format!("t{NOW},{v1}"),
        ] {
            assert!(
                matches!(check(&header, BODY), Err(SignatureError::Malformed(_))),
                "{header}"
            );
        }
    }

    #[test]
    fn missing_v1_is_refused() {
        assert_eq!(
            check(&format!("t={NOW}"), BODY),
            Err(SignatureError::NoSignature)
        );
        // v0 is Stripe's test-mode legacy scheme and is never accepted on its own.
        let hex = sign(SECRET, BODY, NOW)
            .split_once(",v1=")
            .unwrap()
            .1
            .to_owned();
        assert_eq!(
            check(&format!("t={NOW},v0={hex}"), BODY),
            Err(SignatureError::NoSignature)
        );
    }

    #[test]
    fn non_hex_v1_is_malformed() {
        for v1 in ["zz", "abc", &"g".repeat(64), &"a".repeat(62)] {
            assert!(
                matches!(
                    check(&format!("t={NOW},v1={v1}"), BODY),
                    Err(SignatureError::Malformed(_))
                ),
                "{v1}"
            );
        }
    }

    #[test]
    fn any_of_several_v1_values_may_match() {
        let good = sign(SECRET, BODY, NOW)
            .split_once(",v1=")
            .unwrap()
            .1
            .to_owned();
        let old = sign("whsec_rolled_out", BODY, NOW)
            .split_once(",v1=")
            .unwrap()
            .1
            .to_owned();
        let header = format!("t={NOW},v1={old},v1={good},v0={}", "0".repeat(64));
        assert_eq!(check(&header, BODY), Ok(()));
        let neither = format!("t={NOW},v1={old},v1={old}");
        assert_eq!(check(&neither, BODY), Err(SignatureError::NoMatch));
    }

    #[test]
    fn stale_timestamp_is_refused() {
        let t = NOW - DEFAULT_TOLERANCE_SECS;
        assert_eq!(check(&sign(SECRET, BODY, t), BODY), Ok(()));
        let t = NOW - DEFAULT_TOLERANCE_SECS - 1;
        assert_eq!(
            check(&sign(SECRET, BODY, t), BODY),
            Err(SignatureError::TooOld {
                timestamp: t,
                age_secs: DEFAULT_TOLERANCE_SECS + 1,
                tolerance_secs: DEFAULT_TOLERANCE_SECS,
            })
        );
    }

    #[test]
    fn future_timestamp_is_refused() {
        let t = NOW + DEFAULT_TOLERANCE_SECS;
        assert_eq!(check(&sign(SECRET, BODY, t), BODY), Ok(()));
        let t = NOW + DEFAULT_TOLERANCE_SECS + 1;
        assert_eq!(
            check(&sign(SECRET, BODY, t), BODY),
            Err(SignatureError::InFuture {
                timestamp: t,
                ahead_secs: DEFAULT_TOLERANCE_SECS + 1,
                tolerance_secs: DEFAULT_TOLERANCE_SECS,
            })
        );
    }

    #[test]
    fn extreme_timestamps_do_not_overflow() {
        for t in [i64::MIN, i64::MAX] {
            let result = check(&sign(SECRET, BODY, t), BODY);
            assert!(
                matches!(
                    result,
                    Err(SignatureError::TooOld { .. } | SignatureError::InFuture { .. })
                ),
                "{result:?}"
            );
        }
    }

    #[test]
    fn error_messages_are_readable() {
        let err = SignatureError::TooOld {
            timestamp: 1,
            age_secs: 400,
            tolerance_secs: 300,
        };
        assert_eq!(
            err.to_string(),
            "Stripe signature timestamp 1 is 400 s old, beyond the 300 s tolerance"
        );
    }

    fn invoice_event(kind: &str) -> String {
        format!(
            r#"{{
  "id": "evt_1QxYz2LkdIwHu7ixAbCdEfGh",
  "object": "event",
  "api_version": "2024-06-20",
  "created": 1767225600,
  "data": {{
    "object": {{
      "id": "in_1QxYz1LkdIwHu7ixQwErTyUi",
      "object": "invoice",
      "amount_due": 4900,
      "amount_paid": 0,
      "attempt_count": 1,
      "billing_reason": "subscription_cycle",
      "currency": "usd",
      "customer": "cus_R2d2C3po4Bb8",
      "customer_email": "ops@example.com",
      "paid": false,
      "status": "open",
      "subscription": "sub_1QxYz0LkdIwHu7ixZxCvBnMm"
    }}
  }},
  "livemode": false,
  "pending_webhooks": 1,
  "request": {{ "id": null, "idempotency_key": null }},
  "type": "{kind}"
}}"#
        )
    }

    fn subscription_event(kind: &str, status: &str) -> String {
        format!(
            r#"{{
  "id": "evt_1QxZ00LkdIwHu7ixSubUpd01",
  "object": "event",
  "api_version": "2024-06-20",
  "created": 1767225600,
  "data": {{
    "object": {{
      "id": "sub_1QxYz0LkdIwHu7ixZxCvBnMm",
      "object": "subscription",
      "cancel_at_period_end": false,
      "current_period_end": 1769904000,
      "customer": "cus_R2d2C3po4Bb8",
      "items": {{ "object": "list", "data": [] }},
      "status": "{status}"
    }},
    "previous_attributes": {{ "status": "active" }}
  }},
  "livemode": false,
  "pending_webhooks": 1,
  "request": {{ "id": null, "idempotency_key": null }},
  "type": "{kind}"
}}"#
        )
    }

    fn parse(body: &str) -> Event {
        parse_event(body.as_bytes()).unwrap()
    }

    #[test]
    fn invoice_events_are_read() {
        for (kind, expected) in [
            ("invoice.payment_failed", LifecycleEvent::PaymentFailed),
            ("invoice.paid", LifecycleEvent::Paid),
            ("invoice.payment_succeeded", LifecycleEvent::Paid),
        ] {
            let event = parse(&invoice_event(kind));
            assert_eq!(
                event,
                Event {
                    id: "evt_1QxYz2LkdIwHu7ixAbCdEfGh".into(),
                    created: 1_767_225_600,
                    kind: expected,
                    customer: Some("cus_R2d2C3po4Bb8".into()),
                    event_type: kind.into(),
                }
            );
        }
    }

    #[test]
    fn subscription_events_are_read() {
        let deleted = parse(&subscription_event(
            "customer.subscription.deleted",
            "canceled",
        ));
        assert_eq!(deleted.kind, LifecycleEvent::SubscriptionDeleted);
        assert_eq!(deleted.customer.as_deref(), Some("cus_R2d2C3po4Bb8"));

        for status in ["past_due", "unpaid"] {
            let event = parse(&subscription_event("customer.subscription.updated", status));
            assert_eq!(event.kind, LifecycleEvent::SubscriptionPastDue, "{status}");
            assert_eq!(event.customer.as_deref(), Some("cus_R2d2C3po4Bb8"));
        }

        let active = parse(&subscription_event(
            "customer.subscription.updated",
            "active",
        ));
        assert_eq!(
            active.kind,
            LifecycleEvent::Other("customer.subscription.updated".into())
        );
        assert_eq!(active.event_type, "customer.subscription.updated");
    }

    #[test]
    fn other_events_keep_their_type() {
        let event = parse(&invoice_event("invoice.finalized"));
        assert_eq!(
            event.kind,
            LifecycleEvent::Other("invoice.finalized".into())
        );
        assert_eq!(event.customer.as_deref(), Some("cus_R2d2C3po4Bb8"));
    }

    #[test]
    fn customer_object_uses_its_own_id() {
        let event = parse(
            r#"{"id":"evt_3","object":"event","type":"customer.deleted","created":1,
                "data":{"object":{"id":"cus_R2d2C3po4Bb8","object":"customer","email":"ops@example.com"}}}"#,
        );
        assert_eq!(event.kind, LifecycleEvent::Other("customer.deleted".into()));
        assert_eq!(event.customer.as_deref(), Some("cus_R2d2C3po4Bb8"));
    }

    #[test]
    fn expanded_customer_is_read() {
        let event = parse(
            r#"{"id":"evt_4","type":"invoice.payment_failed","created":1,
                "data":{"object":{"id":"in_1","object":"invoice",
                "customer":{"id":"cus_Expanded1","object":"customer"}}}}"#,
        );
        assert_eq!(event.kind, LifecycleEvent::PaymentFailed);
        assert_eq!(event.customer.as_deref(), Some("cus_Expanded1"));
    }

    #[test]
    fn missing_customer_is_none() {
        let event = parse(
            r#"{"id":"evt_5","type":"invoice.paid","created":1,
                "data":{"object":{"id":"in_1","object":"invoice","customer":null}}}"#,
        );
        assert_eq!(event.customer, None);
        let event = parse(r#"{"id":"evt_6","type":"ping","created":1,"data":{"object":{}}}"#);
        assert_eq!(event.customer, None);
    }

    #[test]
    fn malformed_bodies_are_errors() {
        for body in [
            "",
            "not json",
            "{",
            "[]",
            r#"{"type":"invoice.paid","created":1,"data":{"object":{}}}"#,
            r#"{"id":"evt_1","created":1,"data":{"object":{}}}"#,
            r#"{"id":"evt_1","type":"invoice.paid","created":1}"#,
            r#"{"id":"evt_1","type":"invoice.paid","created":1,"data":{"object":"in_1"}}"#,
            r#"{"id":"evt_1","type":"invoice.paid","data":{"object":{}}}"#,
            r#"{"id":"evt_1","type":"invoice.paid","created":"now","data":{"object":{}}}"#,
        ] {
            assert!(
                matches!(parse_event(body.as_bytes()), Err(EventError::Malformed(_))),
                "{body}"
            );
        }
    }
}
