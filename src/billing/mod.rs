//! Billing providers: checking that their webhooks are genuine and reading the events that change a
//! customer's standing. Pure functions only; the routes that call them live in `api`.

pub mod stripe;
