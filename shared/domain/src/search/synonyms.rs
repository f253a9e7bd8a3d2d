//! The synonym list: one file (`synonyms.txt`, Solr format) that both engines read. The embedded
//! engine expands queries with [`groups`]; the OpenSearch adapter sends [`rules`] in its index
//! settings, where the synonym filter analyzes them with the same chain as the text.

/// The file, compiled in so that every binary carries the same list.
pub const FILE: &str = include_str!("synonyms.txt");

/// The rules: every non-blank, non-comment line, trimmed.
pub fn rules() -> Vec<&'static str> {
    FILE.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

/// Each rule's equivalent phrases (`a, b, c`), lowercased and trimmed.
pub fn groups() -> Vec<Vec<String>> {
    rules()
        .into_iter()
        .map(|rule| {
            rule.split(',')
                .map(|p| p.trim().to_lowercase())
                .filter(|p| !p.is_empty())
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_is_an_equivalence_group_of_the_seed_list() {
        let groups = groups();
        assert_eq!(groups.len(), 9);
        assert!(rules().iter().all(|r| !r.contains("=>")));
        assert!(groups.iter().all(|g| g.len() >= 2));
        assert!(groups[2].contains(&"billfold".to_owned()));
        assert!(groups[1].contains(&"antique".to_owned()));
        assert!(groups[6].contains(&"genuine leather".to_owned()));
    }
}
