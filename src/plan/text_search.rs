//! Text search: Doris's `MATCH_ANY` and `MATCH_ALL` (written as
//! `match_any(col, 'words')` by [`crate::parse::rewrite_match_operators`])
//! and `contains_tokens(col, 'words')`, the call Lance answers from an
//! INVERTED index.
//!
//! Text is split into words on everything that is not a letter or a
//! digit, and words compare in lower case: Doris's english parser, and
//! what an INVERTED index of [`crate::plan::index`] stores. With a word
//! list as a constant, `match_all` becomes one `contains_tokens` and
//! `match_any` one per word joined by OR, so that Lance's planner finds
//! the index for them; the index names the rows that may match and the
//! same function checks them, so a query gives the same rows with the
//! index or without it.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{plan_err, ScalarValue};
use datafusion::error::Result;
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::SessionContext;

/// The name Lance's index planner looks for.
const CONTAINS_TOKENS: &str = "contains_tokens";

/// Registers the three functions.
pub(crate) fn register(ctx: &SessionContext) {
    for (name, rule) in [
        (CONTAINS_TOKENS, Rule::All),
        ("match_all", Rule::All),
        ("match_any", Rule::Any),
    ] {
        ctx.register_udf(ScalarUDF::new_from_impl(TokenMatch::new(name, rule)));
    }
}

/// Which of the searched words a text must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Rule {
    All,
    Any,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct TokenMatch {
    name: &'static str,
    rule: Rule,
    signature: Signature,
}

impl TokenMatch {
    fn new(name: &'static str, rule: Rule) -> Self {
        Self {
            name,
            rule,
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }

    fn operator(&self) -> String {
        self.name.to_ascii_uppercase()
    }
}

impl ScalarUDFImpl for TokenMatch {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [text, words] if text.is_string() && (words.is_string() || words.is_null()) => {
                Ok(vec![text.clone(), DataType::Utf8])
            }
            [text, _] if !text.is_string() && !text.is_null() => plan_err!(
                "{} searches text, and this column is {text}: search a string column",
                self.operator()
            ),
            _ => plan_err!(
                "{}() takes a column and a string of words: {}(note, 'quick fox')",
                self.name,
                self.name
            ),
        }
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn simplify(&self, args: Vec<Expr>, _: &SimplifyContext) -> Result<ExprSimplifyResult> {
        if self.name == CONTAINS_TOKENS {
            return Ok(ExprSimplifyResult::Original(args));
        }
        let [column, Expr::Literal(ScalarValue::Utf8(Some(text)), _)] = &args[..] else {
            return Ok(ExprSimplifyResult::Original(args));
        };
        let words = words(text);
        if words.is_empty() {
            return plan_err!(
                "{} needs at least one word to search for, not '{text}'",
                self.operator()
            );
        }
        let contains = |text: String| {
            Expr::ScalarFunction(ScalarFunction::new_udf(
                Arc::new(ScalarUDF::new_from_impl(TokenMatch::new(
                    CONTAINS_TOKENS,
                    Rule::All,
                ))),
                vec![
                    column.clone(),
                    Expr::Literal(ScalarValue::Utf8(Some(text)), None),
                ],
            ))
        };
        let expr = match self.rule {
            Rule::All => contains(words.join(" ")),
            Rule::Any => words
                .into_iter()
                .map(contains)
                .reduce(Expr::or)
                .expect("at least one word"),
        };
        Ok(ExprSimplifyResult::Simplified(expr))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let [texts, searched] = &arrays[..] else {
            return plan_err!("{}() takes a column and a string", self.name);
        };
        let texts = as_utf8(texts)?;
        let searched = as_utf8(searched)?;
        let (texts, searched) = (texts.as_string::<i32>(), searched.as_string::<i32>());
        let mut last: Option<(&str, Vec<String>)> = None;
        let matches = (0..rows).map(|i| {
            if texts.is_null(i) || searched.is_null(i) {
                return None;
            }
            let query = searched.value(i);
            if last.as_ref().is_none_or(|(q, _)| *q != query) {
                last = Some((query, words(query)));
            }
            let wanted = &last.as_ref().expect("set above").1;
            Some(self.matches(texts.value(i), wanted))
        });
        let matches: BooleanArray = matches.collect();
        Ok(ColumnarValue::Array(Arc::new(matches)))
    }
}

impl TokenMatch {
    /// Whether `text` has all (or any) of the `wanted` words, which are in
    /// lower case; no words match every text, as Lance's function does.
    fn matches(&self, text: &str, wanted: &[String]) -> bool {
        if wanted.is_empty() {
            return true;
        }
        let has = |word: &String| split(text).any(|w| lower_eq(w, word));
        match self.rule {
            Rule::All => wanted.iter().all(has),
            Rule::Any => wanted.iter().any(has),
        }
    }
}

fn as_utf8(array: &ArrayRef) -> Result<ArrayRef> {
    Ok(cast(array, &DataType::Utf8)?)
}

fn split(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// The words of `text`, in lower case.
fn words(text: &str) -> Vec<String> {
    split(text).map(str::to_lowercase).collect()
}

/// Whether `word` in lower case is `lower`, without building it.
fn lower_eq(word: &str, lower: &str) -> bool {
    word.chars().flat_map(char::to_lowercase).eq(lower.chars())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_compare_in_lower_case_split_on_punctuation() {
        let all = TokenMatch::new("match_all", Rule::All);
        let any = TokenMatch::new("match_any", Rule::Any);
        let text = "The Quick-brown FOX, Straße";
        assert!(all.matches(text, &words("quick fox")));
        assert!(all.matches(text, &words("straße brown")));
        assert!(!all.matches(text, &words("quick dog")));
        assert!(any.matches(text, &words("quick dog")));
        assert!(!any.matches(text, &words("qui dog")));
    }
}
