//! Doris's text-search operators `col MATCH_ANY 'words'` and `col
//! MATCH_ALL 'words'`, which sqlparser does not know, written as the
//! calls `match_any(col, 'words')` and `match_all(col, 'words')` that
//! [`crate::plan::text_search`] plans (on an INVERTED index when the
//! column has one).

use std::borrow::Cow;

use super::TributaryDialect;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};

use crate::error::{Error, Result};

/// The operators, as the functions they become.
const OPERATORS: [&str; 2] = ["match_any", "match_all"];

/// Doris's other MATCH operators, refused by name rather than with a
/// syntax error about the word after the column.
const UNSUPPORTED: [&str; 4] = [
    "match_phrase",
    "match_phrase_prefix",
    "match_phrase_edge",
    "match_regexp",
];

/// `sql` with every `column MATCH_ANY|MATCH_ALL 'text'` written as a
/// function call; the text itself when it has none.
pub fn rewrite_match_operators(sql: &str) -> Result<Cow<'_, str>> {
    if !sql.to_ascii_lowercase().contains("match_") {
        return Ok(Cow::Borrowed(sql));
    }
    let dialect = TributaryDialect;
    let Ok(mut tokens) = Tokenizer::new(&dialect, sql)
        .with_unescape(false)
        .tokenize()
    else {
        // DataFusion's parser reports the error.
        return Ok(Cow::Borrowed(sql));
    };
    let mut changed = false;
    let mut i = 0;
    while i < tokens.len() {
        if let Some(function) = operator_at(&tokens, i)? {
            let (start, end) = operands(&tokens, i, &function)?;
            let column: Vec<Token> = tokens[start..=prev_solid(&tokens, i).unwrap_or(start)]
                .iter()
                .filter(|t| !matches!(t, Token::Whitespace(_)))
                .cloned()
                .collect();
            let mut call = vec![Token::make_word(&function, None), Token::LParen];
            call.extend(column);
            call.extend([Token::Comma, tokens[end].clone(), Token::RParen]);
            let next = start + call.len();
            tokens.splice(start..=end, call);
            changed = true;
            i = next;
        } else {
            i += 1;
        }
    }
    if !changed {
        return Ok(Cow::Borrowed(sql));
    }
    Ok(Cow::Owned(tokens.iter().map(Token::to_string).collect()))
}

/// The function the token at `i` stands for when it is one of the
/// operators (an unquoted word not called as a function).
fn operator_at(tokens: &[Token], i: usize) -> Result<Option<String>> {
    let Token::Word(word) = &tokens[i] else {
        return Ok(None);
    };
    if word.quote_style.is_some() {
        return Ok(None);
    }
    let name = word.value.to_ascii_lowercase();
    let called = matches!(
        next_solid(tokens, i).map(|n| &tokens[n]),
        Some(Token::LParen)
    );
    if called {
        return Ok(None);
    }
    if UNSUPPORTED.contains(&name.as_str()) {
        return Err(Error::Syntax(format!(
            "{} is not supported: search text with MATCH_ANY (any of the words) or MATCH_ALL (all of them)",
            name.to_ascii_uppercase()
        )));
    }
    Ok(OPERATORS.contains(&name.as_str()).then_some(name))
}

/// The first and last token of `column OPERATOR 'text'` around the
/// operator at `i`: a column name, qualified or not, on its left, a
/// string on its right.
fn operands(tokens: &[Token], i: usize, function: &str) -> Result<(usize, usize)> {
    let misuse = || {
        Error::Syntax(format!(
            "{op} takes a column on its left and a string on its right, as in note {op} 'quick fox'",
            op = function.to_ascii_uppercase()
        ))
    };
    let text = next_solid(tokens, i)
        .filter(|&n| matches!(tokens[n], Token::SingleQuotedString(_)))
        .ok_or_else(misuse)?;
    let mut start = prev_solid(tokens, i)
        .filter(|&p| matches!(tokens[p], Token::Word(_)))
        .ok_or_else(misuse)?;
    // `db.t.col`: words joined by periods, with nothing in between.
    while start >= 2
        && tokens[start - 1] == Token::Period
        && matches!(tokens[start - 2], Token::Word(_))
    {
        start -= 2;
    }
    Ok((start, text))
}

fn next_solid(tokens: &[Token], i: usize) -> Option<usize> {
    (i + 1..tokens.len()).find(|&n| !matches!(tokens[n], Token::Whitespace(_)))
}

fn prev_solid(tokens: &[Token], i: usize) -> Option<usize> {
    (0..i)
        .rev()
        .find(|&n| !matches!(tokens[n], Token::Whitespace(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_become_calls_and_other_text_stays() {
        let sql =
            "SELECT id FROM d.t WHERE t.note MATCH_ANY 'quick fox' AND NOT note match_all 'it''s'";
        assert_eq!(
            rewrite_match_operators(sql).unwrap(),
            "SELECT id FROM d.t WHERE match_any(t.note,'quick fox') AND NOT match_all(note,'it''s')"
        );
        let untouched = "SELECT 'a MATCH_ANY b', match_any(note, 'x') FROM t";
        assert!(matches!(
            rewrite_match_operators(untouched).unwrap(),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn misuse_is_an_error_that_shows_the_form() {
        let error = rewrite_match_operators("SELECT 1 WHERE note MATCH_ANY 3").unwrap_err();
        assert!(error.to_string().contains("note MATCH_ANY 'quick fox'"));
        let error = rewrite_match_operators("SELECT 1 WHERE note MATCH_PHRASE 'a b'").unwrap_err();
        assert!(error.to_string().contains("MATCH_PHRASE is not supported"));
    }
}
