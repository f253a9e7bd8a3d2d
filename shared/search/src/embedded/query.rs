//! Turning query text into a tantivy query: analysis, synonym expansion from the one synonym file,
//! typo tolerance with OpenSearch's `fuzziness: AUTO, prefix_length: 2`.

use super::analyze;
use bazaar_domain::search::{SearchError, synonyms};
use std::collections::{BTreeMap, HashMap};
use tantivy::query::{
    BooleanQuery, BoostQuery, DisjunctionMaxQuery, EmptyQuery, Occur, PhraseQuery, Query, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{Searcher, Term};

/// Letters a typo may not touch at the start of a word (`prefix_length`).
pub const PREFIX_LENGTH: usize = 2;

/// Most typo variants tried per word and field (OpenSearch's `max_expansions`).
pub const MAX_EXPANSIONS: usize = 50;

/// Edits allowed for a term of this many letters: OpenSearch's `AUTO` (0 up to 2, 1 up to 5,
/// else 2).
pub fn fuzziness(term: &str) -> usize {
    match term.chars().count() {
        0..=2 => 0,
        3..=5 => 1,
        _ => 2,
    }
}

/// Optimal-string-alignment distance (a transposition is one edit), or `None` above `max`.
fn distance(a: &[char], b: &[char], max: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let width = b.len() + 1;
    let mut rows = vec![vec![0usize; width]; 3];
    for (j, cell) in rows[1].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        let (prev2, prev, cur) = (i.wrapping_sub(1) % 3, i % 3, (i + 1) % 3);
        rows[cur][0] = i;
        let mut row_min = i;
        for j in 1..width {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (rows[prev][j] + 1)
                .min(rows[cur][j - 1] + 1)
                .min(rows[prev][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(rows[prev2][j - 2] + 1);
            }
            rows[cur][j] = d;
            row_min = row_min.min(d);
        }
        if row_min > max {
            return None;
        }
    }
    let d = rows[(a.len() + 1) % 3][b.len()];
    (d <= max).then_some(d)
}

/// The synonym groups, analyzed like the text they match.
pub(crate) struct Planner {
    /// Per group, its phrases as term sequences.
    groups: Vec<Vec<Vec<String>>>,
    /// First term of a phrase → (group, phrase) candidates.
    by_first: HashMap<String, Vec<(usize, usize)>>,
}

impl Planner {
    pub(crate) fn new() -> Planner {
        let mut groups: Vec<Vec<Vec<String>>> = Vec::new();
        let mut by_first: HashMap<String, Vec<(usize, usize)>> = HashMap::new();
        for group in synonyms::groups() {
            let mut phrases: Vec<Vec<String>> = Vec::new();
            for phrase in group {
                let terms = analyze(&phrase);
                if !terms.is_empty() && !phrases.contains(&terms) {
                    phrases.push(terms);
                }
            }
            let g = groups.len();
            for (p, terms) in phrases.iter().enumerate() {
                by_first.entry(terms[0].clone()).or_default().push((g, p));
            }
            groups.push(phrases);
        }
        Planner { groups, by_first }
    }

    /// Analyzes `text` and finds the synonym phrases in it (longest match first).
    pub(crate) fn plan(&self, text: &str) -> QueryPlan {
        let terms = analyze(text);
        let mut clauses = Vec::new();
        let mut i = 0;
        while i < terms.len() {
            let matched = self
                .by_first
                .get(&terms[i])
                .into_iter()
                .flatten()
                .map(|&(g, p)| (g, &self.groups[g][p]))
                .filter(|(_, phrase)| terms[i..].starts_with(phrase))
                .max_by_key(|(_, phrase)| phrase.len());
            match matched {
                Some((g, phrase)) => {
                    clauses.push(Clause::Synonyms(self.groups[g].clone()));
                    i += phrase.len();
                }
                None => {
                    clauses.push(Clause::Term(terms[i].clone()));
                    i += 1;
                }
            }
        }
        QueryPlan { terms, clauses }
    }
}

/// One position of the analyzed query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clause {
    /// A word with no synonyms.
    Term(String),
    /// A word or phrase of a synonym group: any of the group's phrases matches.
    Synonyms(Vec<Vec<String>>),
}

/// An analyzed query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryPlan {
    /// Every analyzed term, each searched with typo tolerance.
    pub terms: Vec<String>,
    /// The query with its synonyms expanded.
    pub clauses: Vec<Clause>,
}

impl QueryPlan {
    /// `should(dis_max(fuzzy per field), dis_max(synonyms per field))`, fields boosted.
    pub(crate) fn query(
        &self,
        searcher: &Searcher,
        fields: &[(Field, f32)],
    ) -> Result<Box<dyn Query>, SearchError> {
        let mut fuzzy_fields: Vec<Box<dyn Query>> = Vec::new();
        let mut synonym_fields: Vec<Box<dyn Query>> = Vec::new();
        for &(field, boost) in fields {
            let mut words: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            for term in &self.terms {
                let variants = expansions(searcher, field, term)?;
                if variants.is_empty() {
                    continue;
                }
                // The best-scoring variant of a word counts, scaled by its similarity.
                let len = term.chars().count().max(1) as f32;
                let alternatives: Vec<Box<dyn Query>> = variants
                    .into_iter()
                    .map(|(variant, edits)| {
                        let q = term_query(field, &variant);
                        if edits == 0 {
                            q
                        } else {
                            let similarity = (1.0 - edits as f32 / len).max(0.1);
                            Box::new(BoostQuery::new(q, similarity)) as Box<dyn Query>
                        }
                    })
                    .collect();
                words.push((
                    Occur::Should,
                    Box::new(DisjunctionMaxQuery::new(alternatives)),
                ));
            }
            if !words.is_empty() {
                fuzzy_fields.push(Box::new(BoostQuery::new(
                    Box::new(BooleanQuery::new(words)),
                    boost,
                )));
            }
            let clauses: Vec<(Occur, Box<dyn Query>)> = self
                .clauses
                .iter()
                .map(|clause| {
                    let q: Box<dyn Query> = match clause {
                        Clause::Term(t) => term_query(field, t),
                        Clause::Synonyms(phrases) => Box::new(BooleanQuery::new(
                            phrases
                                .iter()
                                .map(|p| (Occur::Should, phrase_query(field, p)))
                                .collect(),
                        )),
                    };
                    (Occur::Should, q)
                })
                .collect();
            if !clauses.is_empty() {
                synonym_fields.push(Box::new(BoostQuery::new(
                    Box::new(BooleanQuery::new(clauses)),
                    boost,
                )));
            }
        }
        if fuzzy_fields.is_empty() && synonym_fields.is_empty() {
            return Ok(Box::new(EmptyQuery));
        }
        let mut parts: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for part in [fuzzy_fields, synonym_fields] {
            if !part.is_empty() {
                parts.push((Occur::Should, Box::new(DisjunctionMaxQuery::new(part))));
            }
        }
        Ok(Box::new(BooleanQuery::new(parts)))
    }
}

fn term_query(field: Field, term: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, term),
        IndexRecordOption::WithFreqs,
    ))
}

fn phrase_query(field: Field, terms: &[String]) -> Box<dyn Query> {
    match terms {
        [one] => term_query(field, one),
        _ => Box::new(PhraseQuery::new(
            terms
                .iter()
                .map(|t| Term::from_field_text(field, t))
                .collect(),
        )),
    }
}

/// The indexed terms of `field` within `fuzziness(term)` edits of `term` that share its first
/// [`PREFIX_LENGTH`] letters, closest first, at most [`MAX_EXPANSIONS`]; with their edit counts.
fn expansions(
    searcher: &Searcher,
    field: Field,
    term: &str,
) -> Result<Vec<(String, usize)>, SearchError> {
    let max = fuzziness(term);
    let wanted: Vec<char> = term.chars().collect();
    let mut found: BTreeMap<String, usize> = BTreeMap::new();
    let index_error = |e: &dyn std::fmt::Display| SearchError::Index(e.to_string());
    for segment in searcher.segment_readers() {
        let inverted = segment.inverted_index(field).map_err(|e| index_error(&e))?;
        let dictionary = inverted.terms();
        if max == 0 {
            if dictionary
                .get(term.as_bytes())
                .map_err(|e| index_error(&e))?
                .is_some()
            {
                found.insert(term.to_owned(), 0);
            }
            continue;
        }
        let prefix: String = wanted.iter().take(PREFIX_LENGTH).collect();
        let mut upper = prefix.as_bytes().to_vec();
        upper.push(0xFF); // no UTF-8 byte is 0xFF: every term starting with `prefix` is below
        let mut stream = dictionary
            .range()
            .ge(prefix.as_bytes())
            .lt(&upper)
            .into_stream()
            .map_err(|e| index_error(&e))?;
        while stream.advance() {
            let Ok(candidate) = std::str::from_utf8(stream.key()) else {
                continue;
            };
            let chars: Vec<char> = candidate.chars().collect();
            if let Some(d) = distance(&wanted, &chars, max) {
                found.insert(candidate.to_owned(), d);
            }
        }
    }
    let mut found: Vec<(String, usize)> = found.into_iter().collect();
    found.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    found.truncate(MAX_EXPANSIONS);
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(a: &str, b: &str, max: usize) -> Option<usize> {
        let a: Vec<char> = a.chars().collect();
        let b: Vec<char> = b.chars().collect();
        distance(&a, &b, max)
    }

    #[test]
    fn auto_fuzziness_follows_opensearch() {
        assert_eq!(fuzziness("ab"), 0);
        assert_eq!(fuzziness("abc"), 1);
        assert_eq!(fuzziness("abcde"), 1);
        assert_eq!(fuzziness("abcdef"), 2);
    }

    #[test]
    fn transpositions_are_one_edit() {
        assert_eq!(d("neckalc", "necklac", 2), Some(1));
        assert_eq!(d("lether", "leather", 2), Some(1));
        assert_eq!(d("ring", "ring", 1), Some(0));
        assert_eq!(d("ring", "rings", 1), Some(1));
        assert_eq!(d("kitten", "sitting", 2), None);
        assert_eq!(d("kitten", "sitting", 3), Some(3));
        assert_eq!(d("", "ab", 2), Some(2));
    }

    #[test]
    fn synonym_phrases_are_found_longest_first() {
        let planner = Planner::new();
        let plan = planner.plan("Genuine Leather wallets");
        assert_eq!(plan.terms, ["genuin", "leather", "wallet"]);
        assert_eq!(plan.clauses.len(), 2);
        let Clause::Synonyms(leather) = &plan.clauses[0] else {
            panic!("leather group expected: {plan:?}");
        };
        assert!(leather.contains(&vec!["cowhid".to_owned()]));
        let Clause::Synonyms(wallet) = &plan.clauses[1] else {
            panic!("wallet group expected: {plan:?}");
        };
        assert!(wallet.contains(&vec!["billfold".to_owned()]));

        let plan = planner.plan("blue mug");
        assert_eq!(
            plan.clauses,
            [Clause::Term("blue".into()), Clause::Term("mug".into())]
        );
        // "hand-made" is two words, matched as the phrase of the handmade group.
        let plan = planner.plan("hand-made bowl");
        assert!(
            matches!(&plan.clauses[0], Clause::Synonyms(g) if g.contains(&vec!["handmad".to_owned()]))
        );
        assert_eq!(plan.clauses[1], Clause::Term("bowl".into()));
    }
}
