//! The integration tests: one binary (linking one is much cheaper than one per area), a module
//! per area, all on the shared harness in `tests/common`. Each test runs on SQLite + filesystem
//! and on PostgreSQL + S3. (`tests/large_upload.rs` stays a binary of its own: it measures its
//! process's peak memory.)

#[path = "../common/mod.rs"]
mod common;

mod advisories;
mod api;
mod auth;
mod cli;
mod composer;
mod composer_upload;
mod container;
mod customers;
mod documents;
mod formats;
mod generic;
mod go;
mod grants;
mod hidden_characters;
mod maven;
mod migrations;
mod model;
mod nitro;
mod npm;
mod nuget;
mod pacman;
mod proxy;
mod slow_clients;
mod stats_audit;
mod tls;
mod visibility;
mod webhooks;
