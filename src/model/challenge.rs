//! Challenges: the opaque strings Hydra puts in Hera's URLs.
//!
//! A challenge is a long base64url blob. It is a bearer handle for a sign-in
//! in progress, so it is never logged: `Debug` shows only a short hash.

use std::fmt;

use super::short_hash;

/// Longest challenge Hera accepts; real ones are 1–2 KB.
const MAX_LEN: usize = 16 * 1024;

/// Why a challenge parameter was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ChallengeError {
    #[error("the challenge is missing")]
    Missing,
    #[error("the challenge is malformed")]
    Malformed,
}

/// A login, consent, logout or device challenge as received from the browser.
#[derive(Clone, PartialEq, Eq)]
pub struct Challenge(String);

impl Challenge {
    /// Accepts a non-empty string of printable ASCII without spaces, at most 16 KiB.
    pub fn parse(value: Option<&str>) -> Result<Challenge, ChallengeError> {
        let value = value.unwrap_or_default();
        if value.is_empty() {
            return Err(ChallengeError::Missing);
        }
        if value.len() > MAX_LEN || !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ChallengeError::Malformed);
        }
        Ok(Challenge(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A short hash for logs.
    pub fn log_id(&self) -> String {
        short_hash(&self.0)
    }
}

impl fmt::Debug for Challenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Challenge(#{})", self.log_id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_empty_challenges_are_missing() {
        assert_eq!(Challenge::parse(None), Err(ChallengeError::Missing));
        assert_eq!(Challenge::parse(Some("")), Err(ChallengeError::Missing));
    }

    #[test]
    fn spaces_control_characters_and_oversized_values_are_malformed() {
        for bad in ["a b", "a\nb", "é", &"a".repeat(MAX_LEN + 1)] {
            assert_eq!(
                Challenge::parse(Some(bad)),
                Err(ChallengeError::Malformed),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_real_looking_challenge_is_kept_verbatim() {
        let raw = "eyJhbGciOi-_Jw.AbC123==";
        assert_eq!(Challenge::parse(Some(raw)).unwrap().as_str(), raw);
    }

    #[test]
    fn debug_output_never_contains_the_challenge() {
        let challenge = Challenge::parse(Some("secret-challenge-value")).unwrap();
        let debug = format!("{challenge:?}");
        assert!(!debug.contains("secret"), "{debug}");
        assert!(debug.starts_with("Challenge(#"));
    }
}
