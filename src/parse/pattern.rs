//! SQL `LIKE` patterns, for the `SHOW ... LIKE 'pattern'` statements.

/// SQL `LIKE` with `%` and `_`.
pub fn like(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    fn matches(p: &[char], t: &[char]) -> bool {
        match p.first() {
            None => t.is_empty(),
            Some('%') => (0..=t.len()).any(|i| matches(&p[1..], &t[i..])),
            Some('_') => !t.is_empty() && matches(&p[1..], &t[1..]),
            Some(c) => t.first() == Some(c) && matches(&p[1..], &t[1..]),
        }
    }
    matches(&p, &t)
}

#[cfg(test)]
mod tests {
    use super::like;

    #[test]
    fn like_matches_percent_and_underscore() {
        assert!(like("%version%", "version_comment"));
        assert!(like("lower_case_%", "lower_case_table_names"));
        assert!(like("tx_isolation", "tx_isolation"));
        assert!(!like("version", "version_comment"));
        assert!(like("v_rsion", "version"));
    }
}
