//! Cargoman: a self-hosted, multi-format package registry.
//!
//! Layers, from the wire inward: `http` (router, errors, downloads) and `api` (management) →
//! `formats` (one adapter per client protocol) → `registry` (format-neutral operations) →
//! `model` (database rows) and `blobs` (content-addressed storage). See docs/ARCHITECTURE.md.

pub mod advisories;
pub mod advisory_import;
pub mod api;
pub mod app;
pub mod auth;
pub mod billing;
pub mod blobs;
pub mod cli;
pub mod clock;
pub mod config;
pub mod console;
pub mod customers;
pub mod db;
pub mod documents_cache;
pub mod error;
pub mod format;
pub mod formats;
pub mod git;
pub mod glob;
pub mod http;
pub mod maintenance;
pub mod model;
pub mod package_rules;
pub mod registry;
pub mod router;
pub mod semver_range;
pub mod state;
pub mod tasks;
pub mod team_tokens;
pub mod text;
pub mod version_interval;
pub mod zip_check;
