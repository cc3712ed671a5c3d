//! Command-line management that runs on the database directly (no server needed): the
//! `package`, `customer`, `token`, `team-token` and `admin-token` commands. The `cargoman` binary
//! (src/main.rs) parses and dispatches.

pub mod admin_token;
pub mod customers;
pub mod packages;
pub mod team_tokens;

use serde::Serialize;

use crate::model::tokens::TokenRow;

/// Prints `value` as indented JSON (what `show` commands print either way).
pub fn print_json<T: Serialize>(value: &T) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("JSON prints")
    );
}

/// Prints `value` as JSON with `--json`, else the text.
pub fn print<T: Serialize>(json: bool, value: &T, text: impl FnOnce() -> String) {
    if json {
        print_json(value);
    } else {
        println!("{}", text());
    }
}

/// A list: `value` as JSON with `--json`, else one line per item, or `empty` when there are none
/// (so an empty list is not mistaken for a command that did nothing).
pub fn print_list<T: Serialize>(json: bool, value: &T, lines: Vec<String>, empty: &str) {
    print(json, value, || {
        if lines.is_empty() {
            empty.to_string()
        } else {
            lines.join("\n")
        }
    });
}

/// `id  level  live|revoked|expired  name  [package globs]`, tab separated.
pub fn token_line(row: &TokenRow) -> String {
    let state = if row.revoked_at.is_some() {
        "revoked"
    } else if row.expires_at.is_some_and(|t| t <= crate::clock::now()) {
        "expired"
    } else {
        "live"
    };
    let mut line = format!("{}\t{}\t{state}\t{}", row.id, row.level, row.name);
    if !row.package_scopes.is_empty() {
        line += &format!("\t{}", row.package_scopes.join(","));
    }
    line
}
