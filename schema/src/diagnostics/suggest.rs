//! Did-you-mean: the known name nearest to a misspelt one.

/// Names longer than this get no suggestion: typos are looked for in names people
/// type, and the distance costs the product of the two lengths.
const MAX_CHARS: usize = 100;

/// The candidate closest to `wrong` (ignoring case), when it is close enough to be a
/// likely typo: at most one edit for short names, a third of the length for longer. The
/// schema's failures suggest names with it (`did you mean ...?`), and so may other
/// tools naming schema keys.
pub fn nearest<'a>(wrong: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let wrong_lower: Vec<char> = wrong.to_lowercase().chars().collect();
    if wrong_lower.len() > MAX_CHARS {
        return None;
    }
    let budget = (wrong.chars().count() / 3).max(1);
    let mut rows = Rows::default();
    candidates
        .into_iter()
        .filter(|candidate| *candidate != wrong)
        // An ASCII name's length in characters is that of its lower case, and no
        // fewer edits than the difference of lengths turn one name into the other.
        .filter(|candidate| {
            !candidate.is_ascii() || candidate.len().abs_diff(wrong_lower.len()) <= budget
        })
        .filter_map(|candidate| {
            let distance = rows.distance(&wrong_lower, &candidate.to_lowercase())?;
            (distance <= budget).then_some((distance, candidate))
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// The two rows of the distance table, kept from one candidate to the next.
#[derive(Default)]
struct Rows {
    previous: Vec<usize>,
    current: Vec<usize>,
}

impl Rows {
    /// Levenshtein distance in characters; `None` for a `b` past [`MAX_CHARS`].
    fn distance(&mut self, a: &[char], b: &str) -> Option<usize> {
        let b_len = b.chars().count();
        if b_len > MAX_CHARS {
            return None;
        }
        self.previous.clear();
        self.previous.extend(0..=b_len);
        for (i, ca) in a.iter().enumerate() {
            self.current.clear();
            self.current.push(i + 1);
            for (j, cb) in b.chars().enumerate() {
                let substitute = self.previous[j] + usize::from(*ca != cb);
                let delete = self.previous[j + 1] + 1;
                let insert = self.current[j] + 1;
                self.current.push(substitute.min(delete).min(insert));
            }
            std::mem::swap(&mut self.previous, &mut self.current);
        }
        self.previous.last().copied()
    }
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
        assert_eq!(nearest("İnteger", types), Some("integer"));
    }

    #[test]
    fn distances_count_edits_in_characters() {
        let mut rows = Rows::default();
        let chars = |text: &str| text.chars().collect::<Vec<char>>();
        assert_eq!(rows.distance(&chars("kitten"), "sitting"), Some(3));
        assert_eq!(rows.distance(&chars(""), "abc"), Some(3));
        assert_eq!(rows.distance(&chars("abc"), ""), Some(3));
        assert_eq!(rows.distance(&chars("é"), "e"), Some(1));
        // The rows kept from a longer pair do not change a shorter one's answer.
        assert_eq!(rows.distance(&chars("ab"), "ab"), Some(0));
    }

    #[test]
    fn long_names_get_no_suggestion() {
        let long = "s".repeat(MAX_CHARS + 1);
        let near = format!("{long}t");
        assert_eq!(nearest(&long, [near.as_str()]), None);
        let short = "s".repeat(MAX_CHARS);
        assert_eq!(nearest(&short, [long.as_str()]), None);
    }
}
