//! Command-line management that runs on the database directly (no server needed): the
//! `customer` and `token` commands. The `cargoman` binary (src/main.rs) parses and dispatches.

pub mod customers;
