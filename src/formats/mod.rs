//! Format adapters. Each maps one client protocol onto the core (`registry`, `model`, `auth`)
//! and owns only its URL layout, naming rules and metadata documents.
//!
//! This file is the registration point: a format is a folder here with a type implementing
//! [`Format`] (the core's interface, `crate::format`), plus its line in [`all`]. See
//! docs/ARCHITECTURE.md, "Adding a format".

pub mod composer;
pub mod container;
pub mod generic;
pub mod go;
pub mod maven;
pub mod npm;
pub mod nuget;
pub mod pacman;

pub use crate::format::Format;

/// Every format the server speaks, one line each.
pub fn all() -> Vec<Box<dyn Format>> {
    vec![
        Box::new(generic::Generic),
        Box::new(composer::ComposerFormat::default()),
        Box::new(container::Container),
        Box::new(npm::Npm),
        Box::new(maven::Maven),
        Box::new(nuget::NuGet),
        Box::new(go::Go),
        Box::new(pacman::Pacman),
    ]
}
