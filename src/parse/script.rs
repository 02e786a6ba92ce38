//! Splitting SQL text into statements.
//!
//! A script is split on `;` and on the mysql client's `\G` (vertical output)
//! terminator, outside quotes and comments.

/// How a statement was terminated in the script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Terminator {
    /// `;`, or the end of the script.
    Semicolon,
    /// `\G`: print the result vertically, one column per line.
    Vertical,
}

/// One statement of a script, without its terminator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptStatement {
    pub sql: String,
    pub terminator: Terminator,
}

/// The statements of a script and whatever unterminated text follows them.
#[derive(Debug, Default)]
pub struct SplitScript {
    pub statements: Vec<ScriptStatement>,
    /// Text after the last terminator, trimmed; empty when the script ends
    /// with a terminator (or holds only comments and blanks).
    pub remainder: String,
}

/// Splits `text` into statements. Empty statements (`;;`) are dropped.
pub fn split_script(text: &str) -> SplitScript {
    let mut out = SplitScript::default();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    let mut push = |current: &mut String, terminator| {
        let sql = current.trim().to_string();
        if !is_blank(&sql) {
            out.statements.push(ScriptStatement { sql, terminator });
        }
        current.clear();
    };
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' | '`' => {
                current.push(c);
                while let Some(q) = chars.next() {
                    current.push(q);
                    if q == '\\' && c != '`' {
                        if let Some(escaped) = chars.next() {
                            current.push(escaped);
                        }
                    } else if q == c {
                        break;
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        current.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut prev = ' ';
                for n in chars.by_ref() {
                    if prev == '*' && n == '/' {
                        break;
                    }
                    prev = n;
                }
                current.push(' ');
            }
            ';' => push(&mut current, Terminator::Semicolon),
            '\\' if matches!(chars.peek(), Some('G') | Some('g')) => {
                chars.next();
                push(&mut current, Terminator::Vertical);
            }
            _ => current.push(c),
        }
    }
    let remainder = current.trim().to_string();
    if !is_blank(&remainder) {
        out.remainder = remainder;
    }
    out
}

fn is_blank(sql: &str) -> bool {
    sql.trim().is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_terminators_outside_quotes_and_comments() {
        let s = split_script(
            "select ';' as a; -- c;omment\nselect `x;y` from t\\G /* ; */ select 1;; insert",
        );
        let sql: Vec<_> = s.statements.iter().map(|s| s.sql.as_str()).collect();
        assert_eq!(
            sql,
            vec!["select ';' as a", "select `x;y` from t", "select 1"]
        );
        assert_eq!(s.statements[1].terminator, Terminator::Vertical);
        assert_eq!(s.remainder, "insert");
    }

    #[test]
    fn escaped_quotes_stay_inside_strings() {
        let s = split_script(r"select 'it\'s;' ; select 2;");
        assert_eq!(s.statements.len(), 2);
        assert_eq!(s.statements[0].sql, r"select 'it\'s;'");
        assert!(s.remainder.is_empty());
    }
}
