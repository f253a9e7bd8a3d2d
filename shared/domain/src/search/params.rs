//! GET /search's query string → a [`SearchQuery`]. A value that cannot be read (not a number, an
//! parameter given twice) is `400 invalid_parameter`; readable values out of range (an unknown sort
//! included) are `422 validation_failed`, every failed field listed.

use super::{MAX_RESULT_WINDOW, SearchQuery, Sort};
use crate::error::{Error, FieldError};
use crate::validate::is_slug;
use chrono::{DateTime, Utc};

pub const DEFAULT_PAGE_SIZE: u64 = 24;
pub const MAX_PAGE_SIZE: u64 = 100;
/// Longest query text, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// Highest accepted price bound: $1,000,000.
pub const MAX_PRICE_CENTS: i64 = 100_000_000;

const KNOWN: [&str; 8] = [
    "q",
    "category",
    "min_price_cents",
    "max_price_cents",
    "vintage",
    "sort",
    "page",
    "page_size",
];

fn invalid(name: &str, reason: &str) -> Error {
    Error::InvalidParameter {
        name: name.to_owned(),
        reason: reason.to_owned(),
    }
}

fn integer(name: &str, raw: &str) -> Result<i64, Error> {
    raw.trim()
        .parse()
        .map_err(|_| invalid(name, "must be a whole number"))
}

/// Parses a raw query string (`a=1&b=2`, percent-encoded). Unknown parameters are ignored.
pub fn parse(query_string: &str, now: DateTime<Utc>) -> Result<SearchQuery, Error> {
    let mut values: [Option<String>; KNOWN.len()] = Default::default();
    for (k, v) in url::form_urlencoded::parse(query_string.as_bytes()) {
        if let Some(i) = KNOWN.iter().position(|name| *name == k)
            && values[i].replace(v.into_owned()).is_some()
        {
            return Err(invalid(KNOWN[i], "is given more than once"));
        }
    }
    let [q, category, min, max, vintage, sort, page, page_size] = values;

    let min = min
        .as_deref()
        .map(|v| integer("min_price_cents", v))
        .transpose()?;
    let max = max
        .as_deref()
        .map(|v| integer("max_price_cents", v))
        .transpose()?;
    let page = page.as_deref().map(|v| integer("page", v)).transpose()?;
    let page_size = page_size
        .as_deref()
        .map(|v| integer("page_size", v))
        .transpose()?;
    let vintage = match vintage.as_deref() {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => return Err(invalid("vintage", "must be true or false")),
    };

    let mut failed = Vec::new();
    // A sort is a word: an unknown one is well-typed but out of range (the contract's 422).
    let sort = match sort.as_deref().map(Sort::parse) {
        None => Sort::Relevance,
        Some(Some(sort)) => sort,
        Some(None) => {
            failed.push(FieldError::new(
                "sort",
                "must be relevance, newest, price_asc or price_desc",
            ));
            Sort::Relevance
        }
    };
    let text = q.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
    if text
        .as_ref()
        .is_some_and(|t| t.chars().count() > MAX_QUERY_CHARS)
    {
        failed.push(FieldError::new(
            "q",
            format!("must be at most {MAX_QUERY_CHARS} characters"),
        ));
    }
    let category = category
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty());
    if category.as_deref().is_some_and(|c| !is_slug(c)) {
        failed.push(FieldError::new(
            "category",
            "must be a category slug (lowercase words joined by hyphens)",
        ));
    }
    for (name, value) in [("min_price_cents", min), ("max_price_cents", max)] {
        if value.is_some_and(|v| !(0..=MAX_PRICE_CENTS).contains(&v)) {
            failed.push(FieldError::new(
                name,
                format!("must be from 0 to {MAX_PRICE_CENTS}"),
            ));
        }
    }
    if let (Some(min), Some(max)) = (min, max)
        && min > max
    {
        failed.push(FieldError::new(
            "max_price_cents",
            "must not be below min_price_cents",
        ));
    }
    let page = page.unwrap_or(1);
    if page < 1 {
        failed.push(FieldError::new("page", "must be 1 or more"));
    }
    let page_size = page_size.unwrap_or(DEFAULT_PAGE_SIZE as i64);
    if !(1..=MAX_PAGE_SIZE as i64).contains(&page_size) {
        failed.push(FieldError::new(
            "page_size",
            format!("must be from 1 to {MAX_PAGE_SIZE}"),
        ));
    }
    if failed.is_empty() && (page as u64).saturating_mul(page_size as u64) > MAX_RESULT_WINDOW {
        failed.push(FieldError::new(
            "page",
            format!(
                "results stop at {MAX_RESULT_WINDOW}: page × page_size must not exceed it; narrow the search instead"
            ),
        ));
    }
    if !failed.is_empty() {
        return Err(Error::Validation(failed));
    }
    Ok(SearchQuery {
        text,
        category,
        min_price_cents: min,
        max_price_cents: max,
        vintage,
        sort,
        page: page as u64,
        page_size: page_size as u64,
        now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(qs: &str) -> u16 {
        match parse(qs, Utc::now()) {
            Ok(_) => 200,
            Err(e) => e.problem().status,
        }
    }

    #[test]
    fn defaults_and_full_queries_parse() {
        let q = parse("", Utc::now()).expect("empty");
        assert_eq!((q.page, q.page_size, q.sort), (1, 24, Sort::Relevance));
        assert!(q.text.is_none() && q.category.is_none());
        let q = parse(
            "q=leather%20wallet&category=bags-and-purses&min_price_cents=0&max_price_cents=5000&vintage=false&sort=price_asc&page=3&page_size=10&utm=x",
            Utc::now(),
        )
        .expect("full");
        assert_eq!(q.text.as_deref(), Some("leather wallet"));
        assert_eq!(q.category.as_deref(), Some("bags-and-purses"));
        assert_eq!(
            (q.min_price_cents, q.max_price_cents),
            (Some(0), Some(5000))
        );
        assert_eq!(
            (q.vintage, q.sort, q.page, q.page_size),
            (Some(false), Sort::PriceAsc, 3, 10)
        );
        assert_eq!(q.offset(), 20);
        assert!(parse("q=%20%20", Utc::now()).expect("blank").text.is_none());
    }

    #[test]
    fn unreadable_values_are_400_and_out_of_range_values_422() {
        for qs in [
            "page=one",
            "page_size=2.5",
            "min_price_cents=ten",
            "vintage=yes",
            "q=a&q=b",
        ] {
            assert_eq!(status(qs), 400, "{qs}");
        }
        for qs in [
            "page=0",
            "page_size=0",
            "page_size=101",
            "min_price_cents=-1",
            "min_price_cents=500&max_price_cents=100",
            "category=Not%20A%20Slug",
            "page=101&page_size=100",
            "sort=popular",
        ] {
            assert_eq!(status(qs), 422, "{qs}");
        }
        assert_eq!(status(&format!("q={}", "a".repeat(201))), 422);
        assert_eq!(status("page=100&page_size=100"), 200);
        match parse("page=0&page_size=0", Utc::now()) {
            Err(Error::Validation(fields)) => assert_eq!(fields.len(), 2),
            other => panic!("{other:?}"),
        }
    }
}
