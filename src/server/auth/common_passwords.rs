//! The 10,000 most common passwords, which no policy length makes safe.
//! The list is the head of the one Django ships (Royce Williams' list,
//! CC BY 3.0), lower-cased and ordered by frequency.

use std::collections::HashSet;
use std::sync::LazyLock;

static LIST: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("common-passwords.txt").lines().map(str::trim).filter(|l| !l.is_empty()).collect());

pub fn is_common(password: &str) -> bool {
    LIST.contains(password.trim().to_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_the_usual_suspects_and_not_a_passphrase() {
        assert!(LIST.len() >= 9_900);
        assert!(is_common("password"));
        assert!(is_common("Qwertyuiop"));
        assert!(!is_common("correct horse battery staple"));
    }
}
