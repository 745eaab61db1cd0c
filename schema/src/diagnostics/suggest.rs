//! Did-you-mean: the known name nearest to a misspelt one.

/// The candidate closest to `wrong` (ignoring case), when it is close enough to be a
/// likely typo: at most one edit for short names, a third of the length for longer.
pub(crate) fn nearest<'a>(
    wrong: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let wrong_lower = wrong.to_lowercase();
    let budget = (wrong.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|candidate| *candidate != wrong)
        .map(|candidate| (distance(&wrong_lower, &candidate.to_lowercase()), candidate))
        .filter(|(distance, _)| *distance <= budget)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// Levenshtein distance in characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            current.push(substitute.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_names_are_suggested() {
        let types = ["boolean", "integer", "number", "string", "struct.Tree"];
        assert_eq!(nearest("integr", types), Some("integer"));
        assert_eq!(nearest("Strin", types), Some("string"));
        assert_eq!(nearest("struct.Tre", types), Some("struct.Tree"));
        assert_eq!(nearest("=>", ["->", "_errors"]), Some("->"));
        assert_eq!(nearest("banana", types), None);
    }
}
