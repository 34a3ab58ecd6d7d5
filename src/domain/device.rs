//! User codes of the device flow (RFC 8628 §3.3, §6.1), read the way people type them.
//!
//! Hydra compares a user code exactly: it looks up an HMAC of the string it is sent. So Hera
//! normalises what the user typed before sending it: ASCII letters are uppercased, and spaces
//! and dashes (including the typographic dashes phones substitute) are dropped, so `bcdf-ghjk`
//! and `BCDF GHJK` both become `BCDFGHJK`. Look-alike characters are deliberately **not**
//! mapped (`0`→`O`, `1`→`I`): Hydra's default codes are letters only, but the alphabet is
//! configurable, and a mapping that is right for one alphabet turns valid codes of another into
//! wrong ones. Anything else that is not an ASCII letter or digit is refused without asking
//! Hydra, which also keeps non-ASCII look-alikes (Cyrillic `В`) from ever reaching it.
//!
//! A user code is a short-lived credential, so `Debug` never shows it.

use std::fmt;

/// Longest input read at all; Hydra's codes are 8 characters.
const MAX_INPUT_CHARS: usize = 64;
/// Longest code once spaces and dashes are gone.
const MAX_LEN: usize = 32;

/// A user code in the form Hydra issued it.
#[derive(Clone, PartialEq, Eq)]
pub struct UserCode(String);

/// Why typed text is not a user code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserCodeError {
    /// Nothing but spaces and dashes.
    Empty,
    /// Characters a user code never has, or far too long.
    Malformed,
}

impl UserCode {
    /// Normalises typed text into a user code; see the module documentation for the rules.
    pub fn normalise(input: &str) -> Result<UserCode, UserCodeError> {
        if input.chars().count() > MAX_INPUT_CHARS {
            return Err(UserCodeError::Malformed);
        }
        let mut code = String::new();
        for c in input.chars().filter(|c| !is_separator(*c)) {
            if !c.is_ascii_alphanumeric() {
                return Err(UserCodeError::Malformed);
            }
            code.push(c.to_ascii_uppercase());
        }
        match code.len() {
            0 => Err(UserCodeError::Empty),
            len if len > MAX_LEN => Err(UserCodeError::Malformed),
            _ => Ok(UserCode(code)),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for UserCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UserCode(<redacted>)")
    }
}

/// Spaces of any kind, the ASCII hyphen and the Unicode dashes and minus sign that keyboards
/// and phones put in its place.
fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '-' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE63}' | '\u{FF0D}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_spaces_and_dashes_do_not_matter() {
        for typed in [
            "BCDFGHJK",
            "bcdfghjk",
            "bcdf-ghjk",
            "BCDF GHJK",
            " Bc-Df\tgh-jK ",
            "BCDF\u{2013}GHJK",
            "BCDF\u{2212}GHJK",
            "BCDF\u{00A0}GHJK",
        ] {
            assert_eq!(
                UserCode::normalise(typed).map(|c| c.as_str().to_owned()),
                Ok("BCDFGHJK".to_owned()),
                "{typed:?}"
            );
        }
    }

    #[test]
    fn digits_are_kept_and_look_alikes_are_not_mapped() {
        assert_eq!(
            UserCode::normalise("ab01-o1il").unwrap().as_str(),
            "AB01O1IL"
        );
    }

    #[test]
    fn nothing_but_separators_is_empty() {
        for typed in ["", "   ", "----", " - - "] {
            assert_eq!(
                UserCode::normalise(typed),
                Err(UserCodeError::Empty),
                "{typed:?}"
            );
        }
    }

    #[test]
    fn other_characters_and_overlong_input_are_malformed() {
        for typed in [
            "BCDF_GHJK",
            "BCDF.GHJK",
            "BCDF/GHJK",
            "\u{0412}CDFGHJK",
            "ＢCDFGHJK",
            "<script>",
            &"A".repeat(MAX_LEN + 1),
            &"-".repeat(MAX_INPUT_CHARS + 1),
        ] {
            assert_eq!(
                UserCode::normalise(typed),
                Err(UserCodeError::Malformed),
                "{typed:?}"
            );
        }
        assert!(UserCode::normalise(&"A".repeat(MAX_LEN)).is_ok());
    }

    #[test]
    fn debug_output_never_contains_the_code() {
        let code = UserCode::normalise("SECRETXY").unwrap();
        assert_eq!(format!("{code:?}"), "UserCode(<redacted>)");
    }
}
