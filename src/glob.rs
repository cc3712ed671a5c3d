//! Path globs, as monorepo layouts and token package scopes use them.

/// Matches `/`-separated paths against a glob: `*` stands for any run of characters within one
/// segment, `**` for any number of whole segments.
pub fn glob_matches(glob: &str, path: &str) -> bool {
    let pattern: Vec<&str> = glob.split('/').collect();
    let parts: Vec<&str> = path.split('/').collect();
    match_segments(&pattern, &parts)
}

fn match_segments(pattern: &[&str], parts: &[&str]) -> bool {
    match pattern.split_first() {
        None => parts.is_empty(),
        Some((&"**", rest)) => (0..=parts.len()).any(|skip| match_segments(rest, &parts[skip..])),
        Some((first, rest)) => match parts.split_first() {
            Some((part, tail)) => match_segment(first, part) && match_segments(rest, tail),
            None => false,
        },
    }
}

fn match_segment(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, tail)) => {
            text.starts_with(head)
                && (head.len()..=text.len())
                    .any(|i| text.is_char_boundary(i) && match_segment(tail, &text[i..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        let g = "packages/*/composer.json";
        assert!(glob_matches(g, "packages/core/composer.json"));
        assert!(!glob_matches(g, "packages/core/sub/composer.json"));
        assert!(!glob_matches(g, "composer.json"));
        assert!(!glob_matches(g, "packages/core/composer.json.bak"));
        let deep = "src/**/composer.json";
        assert!(glob_matches(deep, "src/composer.json"));
        assert!(glob_matches(deep, "src/a/b/composer.json"));
        assert!(glob_matches(
            "lib-*/composer.json",
            "lib-http/composer.json"
        ));
        assert!(!glob_matches("lib-*/composer.json", "app/composer.json"));
        assert!(glob_matches(
            "*-bundle/composer.json",
            "admin-bundle/composer.json"
        ));
    }
}
