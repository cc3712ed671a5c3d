//! Composer: packages synced from Git (Cargoman's own registry) served with Composer protocol v2.

pub mod version;
