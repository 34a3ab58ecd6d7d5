//! User codes of the device flow (RFC 8628 §3.3, §6.1), read the way people type them.
//!
//! Hydra compares a user code exactly: it looks up an HMAC of the string it is sent. Its
//! default codes (`oauth2.device_authorization.user_code.entropy_preset: high`) mix upper- and
//! lower-case letters with digits (`r7wWvcHs`), so case is part of the code and Hera keeps it as
//! typed. Hera only drops what is never part of a code: spaces, and the dashes a device may show
//! to group the characters (including the typographic dashes phones substitute), so
//! `r7wW-vcHs` and ` r7wW vcHs ` both become `r7wWvcHs`. Look-alike characters are
//! deliberately **not** mapped (`0`→`O`, `1`→`I`): a mapping that is right for one alphabet
//! turns valid codes of another into wrong ones. Anything else that is not an ASCII letter or
//! digit is refused without asking Hydra, which also keeps non-ASCII look-alikes (Cyrillic `В`)
//! from ever reaching it; a custom `user_code.character_set` must therefore be letters and
//! digits.
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
            code.push(c);
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
    fn spaces_and_dashes_are_dropped_and_case_is_kept() {
        for typed in [
            "r7wWvcHs",
            "r7wW-vcHs",
            "r7wW vcHs",
            " r7-wW\tvc-Hs ",
            "r7wW\u{2013}vcHs",
            "r7wW\u{2212}vcHs",
            "r7wW\u{00A0}vcHs",
        ] {
            assert_eq!(
                UserCode::normalise(typed).map(|c| c.as_str().to_owned()),
                Ok("r7wWvcHs".to_owned()),
                "{typed:?}"
            );
        }
    }

    #[test]
    fn codes_differing_only_in_case_stay_different() {
        assert_ne!(
            UserCode::normalise("r7wWvcHs").unwrap(),
            UserCode::normalise("R7WWVCHS").unwrap()
        );
    }

    #[test]
    fn digits_are_kept_and_look_alikes_are_not_mapped() {
        assert_eq!(
            UserCode::normalise("ab01-o1il").unwrap().as_str(),
            "ab01o1il"
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
