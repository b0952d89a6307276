//! The closed sets of options a user names by a word (layout, prompt defence,
//! scoring): one spelling and one error message, whether the word comes from the
//! CLI, the page or a JSON file.

use thiserror::Error;

/// A closed set of options, each spelled by one word.
pub trait Named: Copy + PartialEq + 'static {
    /// What the option sets, for messages ("layout").
    const WHAT: &'static str;
    const ALL: &'static [Self];
    fn name(self) -> &'static str;
}

/// A word that names none of the options, with the words that do.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("unknown {what} {found:?}: use {expected}")]
pub struct UnknownName {
    pub what: &'static str,
    pub found: String,
    pub expected: String,
}

/// The option `word` names (what `FromStr` does for each [`Named`] type).
pub fn parse<T: Named>(word: &str) -> Result<T, UnknownName> {
    T::ALL
        .iter()
        .copied()
        .find(|o| o.name() == word)
        .ok_or_else(|| {
            let quoted: Vec<String> = T::ALL.iter().map(|o| format!("{:?}", o.name())).collect();
            let expected = match quoted.split_last() {
                Some((last, [])) => last.clone(),
                Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
                None => String::new(),
            };
            UnknownName {
                what: T::WHAT,
                found: word.to_string(),
                expected,
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Fruit {
        Apple,
        Pear,
        Plum,
    }

    impl Named for Fruit {
        const WHAT: &'static str = "fruit";
        const ALL: &'static [Fruit] = &[Fruit::Apple, Fruit::Pear, Fruit::Plum];
        fn name(self) -> &'static str {
            match self {
                Fruit::Apple => "apple",
                Fruit::Pear => "pear",
                Fruit::Plum => "plum",
            }
        }
    }

    #[test]
    fn names_round_trip_and_an_unknown_word_lists_the_known_ones() {
        for f in Fruit::ALL {
            assert_eq!(parse::<Fruit>(f.name()), Ok(*f));
        }
        let e = parse::<Fruit>("kiwi").unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"unknown fruit "kiwi": use "apple", "pear" or "plum""#
        );
    }
}
