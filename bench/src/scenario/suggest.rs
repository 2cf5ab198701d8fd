//! "Did you mean …?": the closest valid word to a misspelt key or value.

/// Jaro-Winkler similarity a candidate needs to be suggested.
const MIN_SIMILARITY: f64 = 0.8;

/// The candidate most similar to `word`, if it is similar enough to be a likely typo: close by
/// Jaro-Winkler, or one letter added, dropped or changed (which Jaro-Winkler misses in short
/// words: `sq` for `seq`).
pub(crate) fn closest<'a, I>(word: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a str>,
{
    let one_edit = |candidate: &str| word.len() >= 2 && strsim::levenshtein(word, candidate) == 1;
    candidates
        .into_iter()
        .map(|candidate| (strsim::jaro_winkler(word, candidate), candidate))
        .filter(|&(similarity, candidate)| similarity >= MIN_SIMILARITY || one_edit(candidate))
        // The first of equally close candidates (min_by keeps the first minimum).
        .min_by(|a, b| b.0.total_cmp(&a.0))
        .map(|(_, candidate)| candidate.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_closest_candidate() {
        let keys = ["duration", "rate", "concurrency", "think_time", "name"];
        assert_eq!(closest("rat", keys).as_deref(), Some("rate"));
        assert_eq!(closest("durtion", keys).as_deref(), Some("duration"));
        assert_eq!(closest("thinktime", keys).as_deref(), Some("think_time"));
        assert_eq!(closest("concurency", keys).as_deref(), Some("concurrency"));
        assert_eq!(
            closest("sq", ["seq", "int", "pick"]).as_deref(),
            Some("seq")
        );
        assert_eq!(
            closest("it", ["seq", "int", "pick"]).as_deref(),
            Some("int")
        );
    }

    #[test]
    fn suggests_nothing_for_unrelated_words() {
        assert_eq!(closest("foo", ["pool", "kind", "url"]), None);
        assert_eq!(closest("xyz", ["rate"]), None);
    }
}
