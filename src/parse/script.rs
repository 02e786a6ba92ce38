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
    /// The bytes of the script up to and including its last terminator.
    pub consumed: usize,
    /// Whether the script ends inside a quoted string or a `/* */` comment.
    pub open: bool,
}

/// Splits `text` into statements. Empty statements (`;;`) are dropped.
pub fn split_script(text: &str) -> SplitScript {
    let mut out = SplitScript::default();
    let mut current = String::new();
    let mut chars = text.char_indices().peekable();
    let mut push = |current: &mut String, terminator, end: usize| {
        let sql = current.trim().to_string();
        if !is_blank(&sql) {
            out.statements.push(ScriptStatement { sql, terminator });
        }
        out.consumed = end;
        current.clear();
    };
    let next_is = |chars: &mut std::iter::Peekable<std::str::CharIndices>, wanted: &[char]| {
        chars.peek().is_some_and(|(_, c)| wanted.contains(c))
    };
    while let Some((i, c)) = chars.next() {
        match c {
            '\'' | '"' | '`' => {
                current.push(c);
                out.open = true;
                while let Some((_, q)) = chars.next() {
                    current.push(q);
                    if q == '\\' && c != '`' {
                        if let Some((_, escaped)) = chars.next() {
                            current.push(escaped);
                        }
                    } else if q == c {
                        out.open = false;
                        break;
                    }
                }
            }
            '-' if next_is(&mut chars, &['-']) => {
                for (_, n) in chars.by_ref() {
                    if n == '\n' {
                        current.push('\n');
                        break;
                    }
                }
            }
            '/' if next_is(&mut chars, &['*']) => {
                chars.next();
                out.open = true;
                let mut prev = ' ';
                for (_, n) in chars.by_ref() {
                    if prev == '*' && n == '/' {
                        out.open = false;
                        break;
                    }
                    prev = n;
                }
                current.push(' ');
            }
            ';' => push(&mut current, Terminator::Semicolon, i + 1),
            '\\' if next_is(&mut chars, &['G', 'g']) => {
                chars.next();
                push(&mut current, Terminator::Vertical, i + 2);
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

/// A script that arrives in pieces, as lines typed or piped: each
/// statement is handed out as soon as its terminator arrives, and the text
/// after it waits, as written, for the rest.
#[derive(Debug, Default)]
pub struct PendingScript {
    text: String,
}

impl PendingScript {
    /// Adds `piece` and returns the statements it completes.
    pub fn push(&mut self, piece: &str) -> Vec<ScriptStatement> {
        // Text added after a point never changes how the text before it
        // splits: only a new terminator can complete a statement.
        let may_end = piece.contains([';', '\\'])
            || (self.text.ends_with('\\') && piece.starts_with(['G', 'g']));
        self.text.push_str(piece);
        if !may_end {
            return Vec::new();
        }
        let split = split_script(&self.text);
        self.text.drain(..split.consumed);
        split.statements
    }

    /// Whether nothing but blanks and comments waits for a terminator.
    pub fn is_empty(&self) -> bool {
        let split = split_script(&self.text);
        split.remainder.is_empty() && !split.open
    }

    /// Drops the text waiting for a terminator.
    pub fn clear(&mut self) {
        self.text.clear();
    }

    /// The statement the script ends with, unterminated, if any.
    pub fn finish(self) -> Option<ScriptStatement> {
        let remainder = split_script(&self.text).remainder;
        (!remainder.is_empty()).then_some(ScriptStatement {
            sql: remainder,
            terminator: Terminator::Semicolon,
        })
    }
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

    #[test]
    fn a_script_in_pieces_hands_out_each_statement_as_its_terminator_arrives() {
        let mut pending = PendingScript::default();
        assert!(pending.push("select 'a;\n").is_empty());
        let done = pending.push("b' as x; select\n");
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].sql, "select 'a;\nb' as x");
        // The text after a terminator is kept as written, line end included.
        assert!(pending.push("2 -- two;\n").is_empty());
        assert!(pending.push("as y\\").is_empty());
        let done = pending.push("G select 'é';");
        let sql: Vec<_> = done.iter().map(|s| s.sql.as_str()).collect();
        assert_eq!(sql, vec!["select\n2 \nas y", "select 'é'"]);
        assert_eq!(done[0].terminator, Terminator::Vertical);
        assert!(pending.is_empty());
        pending.push("-- a comment\n/* another");
        assert!(!pending.is_empty(), "inside a comment");
        pending.push(" */\n");
        assert!(pending.is_empty(), "only comments wait");
        pending.push("select 3 /* end; */");
        assert_eq!(pending.finish().unwrap().sql, "select 3");
    }
}
