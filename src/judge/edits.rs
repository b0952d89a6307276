//! Two responses one small edit apart, and which edit the model finds likelier.
//!
//! Pooled states say what a reply is about, so `36 / 9 = 4 weeks` and `36 / 9 = 10
//! weeks` read alike. The model's own next-token probabilities tell them apart, but
//! only where everything else is shared: over whole replies a likelihood mostly
//! measures length and phrasing, and a refusal is always likelier than an answer. So
//! the head reads it only where two responses are one edit apart, and only over the
//! edited parts:
//!
//! - both split into the same number of parts ([`crate::judge::evidence::parts`]);
//! - they differ in at least one part and in at most half of them, or in their only
//!   part when the two versions are at least [`EDIT_SIMILARITY`] alike (characters
//!   in their longest common subsequence, `2 LCS / (|a| + |b|)`);
//! - the edited parts hold about as many tokens on both sides: an added sentence is
//!   not an edit, it only lowers a sum.
//!
//! The edit's value is the edited parts' summed log-probability in one response less
//! the other's; the head weighs `tanh(value / tau)`, so an edit votes with a bounded
//! weight whatever its size. `tools/edit_pairs.py` applies the same rules to the
//! training data; a test here and one there pin the same cases.

/// How alike the only part of two one-part responses must be to count as an edit.
pub const EDIT_SIMILARITY: f64 = 0.8;

/// The parts in which two responses differ, where they are one edit apart (part
/// counts and texts only; [`edit_value`] also checks the token counts).
pub fn edited<S: AsRef<str>>(a: &[S], b: &[S]) -> Option<Vec<usize>> {
    if a.len() != b.len() {
        return None;
    }
    let diff: Vec<usize> = (0..a.len())
        .filter(|&i| normalized(a[i].as_ref()) != normalized(b[i].as_ref()))
        .collect();
    if diff.is_empty() {
        return None;
    }
    let small = 2 * diff.len() <= a.len()
        || (a.len() == 1 && similarity(a[0].as_ref(), b[0].as_ref()) >= EDIT_SIMILARITY);
    small.then_some(diff)
}

/// The parts in which two responses differ, where they are one edit apart, given
/// each part's count of predicted tokens: [`edited`], and the edited parts hold about
/// as many tokens on both sides. What [`edit_value`] reads, known before the model
/// runs (a check reads the likelihood of such responses only).
pub fn edited_tokens<S: AsRef<str>>(
    a: &[S],
    b: &[S],
    tokens_a: &[usize],
    tokens_b: &[usize],
) -> Option<Vec<usize>> {
    if tokens_a.len() != a.len() || tokens_b.len() != b.len() {
        return None;
    }
    let diff = edited(a, b)?;
    let sum = |tokens: &[usize]| diff.iter().map(|&i| tokens[i]).sum::<usize>();
    let (ta, tb) = (sum(tokens_a), sum(tokens_b));
    let (lo, hi) = (ta.min(tb) as f64, ta.max(tb) as f64);
    if lo == 0.0 || hi > 1.5 * lo + 2.0 {
        return None;
    }
    Some(diff)
}

/// The edit between two responses, given each part's text and its own likelihood
/// (mean log-probability of its tokens, and their count): the edited parts and the
/// value, the first's summed log-probability over them less the second's. `None`
/// where the responses are not one edit apart.
pub fn edit_value<S: AsRef<str>>(
    a: &[S],
    b: &[S],
    lik_a: &[(f32, usize)],
    lik_b: &[(f32, usize)],
) -> Option<(Vec<usize>, f64)> {
    let tokens = |lik: &[(f32, usize)]| lik.iter().map(|l| l.1).collect::<Vec<_>>();
    let diff = edited_tokens(a, b, &tokens(lik_a), &tokens(lik_b))?;
    let total = |lik: &[(f32, usize)]| -> f64 {
        diff.iter()
            .map(|&i| lik[i])
            .filter(|(_, n)| *n > 0)
            .map(|(m, n)| m as f64 * n as f64)
            .sum()
    };
    let value = total(lik_a) - total(lik_b);
    Some((diff, value))
}

/// The parts two responses both say (the same words, as [`edited`] compares parts),
/// paired in order: the longest common subsequence of the two lists, as `(part of
/// a, part of b)`. Parts with no words pair with nothing.
pub fn shared_parts<S: AsRef<str>>(a: &[S], b: &[S]) -> Vec<(usize, usize)> {
    let a: Vec<String> = a.iter().map(|p| normalized(p.as_ref())).collect();
    let b: Vec<String> = b.iter().map(|p| normalized(p.as_ref())).collect();
    let same = |i: usize, j: usize| !a[i].is_empty() && a[i] == b[j];
    // longest[i][j]: of a[i..] and b[j..]
    let mut longest = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            longest[i][j] = if same(i, j) {
                longest[i + 1][j + 1] + 1
            } else {
                longest[i + 1][j].max(longest[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() && j < b.len() {
        if same(i, j) {
            out.push((i, j));
            (i, j) = (i + 1, j + 1);
        } else if longest[i + 1][j] >= longest[i][j + 1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// Lower case, single spaces, no sentence punctuation or spaces at either end.
fn normalized(part: &str) -> String {
    part.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
        .trim_matches(|c| matches!(c, ' ' | '.' | '!' | '?'))
        .to_string()
}

/// `2 LCS / (|a| + |b|)` over characters; 1 for two empty strings.
fn similarity(a: &str, b: &str) -> f64 {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let mut prev = vec![0usize; b.len() + 1];
    for ca in &a {
        let mut cur = vec![0usize; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = if ca == cb {
                prev[j] + 1
            } else {
                prev[j + 1].max(cur[j])
            };
        }
        prev = cur;
    }
    2.0 * prev[b.len()] as f64 / (a.len() + b.len()) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lik(n: usize, mean: f32, tokens: usize) -> Vec<(f32, usize)> {
        vec![(mean, tokens); n]
    }

    #[test]
    fn a_changed_result_is_an_edit_and_its_value_is_the_edited_parts_sum() {
        let a = ["She needs 36 / 9 = 4 weeks. ", "The answer is 4."];
        let b = ["She needs 36 / 9 = 10 weeks. ", "The answer is 10."];
        // every part differs: more than half, and there are two parts
        assert_eq!(edited(&a, &b), None);
        let a = [
            "Each week she saves 9. ",
            "She needs 36 / 9 = 4 weeks. ",
            "Done.",
        ];
        let b = [
            "Each week she saves 9. ",
            "She needs 36 / 9 = 10 weeks. ",
            "Done.",
        ];
        assert_eq!(edited(&a, &b), Some(vec![1]));
        let la = vec![(-1.0, 5), (-2.0, 10), (-0.5, 2)];
        let lb = vec![(-1.0, 5), (-2.5, 11), (-0.5, 2)];
        let (diff, v) = edit_value(&a, &b, &la, &lb).unwrap();
        assert_eq!(diff, vec![1]);
        assert!((v - (-20.0 + 27.5)).abs() < 1e-9);
    }

    #[test]
    fn one_part_counts_only_when_nearly_the_same() {
        assert_eq!(
            edited(&["7 times 8 is 56."], &["7 times 8 is 54."]),
            Some(vec![0])
        );
        assert_eq!(edited(&["Paris."], &["I can't help with that."]), None);
        // the same words in other case and spacing are no edit
        assert_eq!(edited(&["Hello  there."], &["hello there"]), None);
    }

    #[test]
    fn an_added_sentence_or_a_different_length_is_not_an_edit() {
        let a = ["Yes. ", "It is."];
        let b = ["Yes. ", "It is. ", "Trust me."];
        assert_eq!(edited(&a, &b), None);
        let a = ["Same start. ", "Short."];
        let b = [
            "Same start. ",
            "A much longer replacement of that sentence.",
        ];
        assert_eq!(edited(&a, &b), Some(vec![1]));
        assert_eq!(
            edit_value(&a, &b, &lik(2, -1.0, 2), &[(-1.0, 2), (-1.0, 9)]),
            None
        );
        // parts and likelihoods must agree in number
        assert_eq!(edit_value(&a, &b, &lik(1, -1.0, 2), &lik(2, -1.0, 2)), None);
        // the same gate from token counts alone, before any likelihood is read
        assert_eq!(edited_tokens(&a, &b, &[2, 2], &[2, 9]), None);
        assert_eq!(edited_tokens(&a, &b, &[2, 8], &[2, 9]), Some(vec![1]));
        assert_eq!(edited_tokens(&a, &b, &[2], &[2, 9]), None);
    }

    #[test]
    fn shared_parts_pair_the_same_words_in_order_once_each() {
        let a = ["Sure!", "Mix flour and eggs.", "Enjoy.", "Enjoy."];
        let b = ["sure", "Whisk milk in.", "Mix  flour and eggs", "Enjoy!"];
        assert_eq!(shared_parts(&a, &b), vec![(0, 0), (1, 2), (2, 3)]);
        assert_eq!(shared_parts(&["A.", "B."], &["B.", "A."]).len(), 1);
        assert!(shared_parts(&["...", "x"], &["...", "y"]).is_empty());
        assert!(shared_parts::<&str>(&[], &["a"]).is_empty());
    }

    #[test]
    fn similarity_is_twice_the_common_subsequence_over_both_lengths() {
        assert_eq!(similarity("", ""), 1.0);
        assert_eq!(similarity("abc", "abc"), 1.0);
        assert_eq!(similarity("abc", "xyz"), 0.0);
        assert!((similarity("abcd", "abxd") - 0.75).abs() < 1e-12);
    }
}
