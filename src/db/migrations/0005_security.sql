-- Where a Git provider webhook delivery came from. A refused delivery is kept without anything
-- its unverified payload claims (no package, no repository URL), so these rows are small; all
-- deliveries are purged after WEBHOOK_DELIVERY_RETENTION_DAYS, found by age through the index.
ALTER TABLE webhook_deliveries ADD COLUMN remote_ip TEXT;
CREATE INDEX webhook_deliveries_created ON webhook_deliveries (created_at);

-- Stripe events applied to a customer: a retried event id changes nothing, and an event created
-- before the last one applied to the same customer is stale. Purged with the deliveries above
-- (the retention is longer than Stripe's three days of retries).
CREATE TABLE stripe_events (
    event_id TEXT PRIMARY KEY,
    customer_id BIGINT NOT NULL,
    created BIGINT NOT NULL,
    received_at BIGINT NOT NULL
);
CREATE INDEX stripe_events_customer ON stripe_events (customer_id, created);
CREATE INDEX stripe_events_received ON stripe_events (received_at);
