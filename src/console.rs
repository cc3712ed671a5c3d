//! What the command line prints: JSON with `--json`, else text for people. Shared by the
//! `cargoman` commands and the formats' own commands.

use serde::Serialize;

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
