//! A client's look: `client.metadata.theme = {"accent": "#RRGGBB", "logo_uri": "https://…"}`
//!.
//!
//! Only admins can set `metadata` (Hydra refuses it in dynamic registration), but the values
//! are still validated strictly: the accent must be exactly `#` and six hex digits, and it only
//! ever reaches the page as part of a stylesheet URL Hera serves itself
//! (`/theme/<hex>.css`), so the CSP needs no `unsafe-inline` and no style attribute is written.
//! The text colour on the accent is chosen here, black or white, whichever contrasts more;
//! for any colour that is at least 4.58:1, above WCAG's 4.5:1 for normal text.

use serde_json::Value;

/// Longest logo URL Hera will put on a page.
const MAX_LOGO_URI: usize = 2048;

/// A client's validated theme; both parts are optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Theme {
    pub accent: Option<Accent>,
    /// An `https:` URL only.
    pub logo_uri: Option<String>,
}

impl Theme {
    /// Reads `metadata.theme`; anything malformed is ignored rather than shown.
    pub fn from_metadata(metadata: &Value) -> Theme {
        let theme = metadata.get("theme");
        Theme {
            accent: theme
                .and_then(|t| t.get("accent"))
                .and_then(Value::as_str)
                .and_then(Accent::parse),
            logo_uri: theme
                .and_then(|t| t.get("logo_uri"))
                .and_then(Value::as_str)
                .and_then(https_url),
        }
    }

    /// The href of the client's stylesheet, when it has an accent.
    pub fn stylesheet(&self) -> Option<String> {
        self.accent
            .as_ref()
            .map(|accent| format!("/theme/{}.css", accent.hex()))
    }
}

/// An `https:` URL that is short enough to show; `None` otherwise.
pub fn https_url(uri: &str) -> Option<String> {
    (uri.len() <= MAX_LOGO_URI)
        .then(|| url::Url::parse(uri).ok())
        .flatten()
        .filter(|url| url.scheme() == "https" && url.host_str().is_some())
        .map(|url| url.to_string())
}

/// An sRGB colour given as `#RRGGBB`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accent([u8; 3]);

impl Accent {
    /// `#RRGGBB` with hex digits in either case; nothing else (no names, no `#RGB`, no
    /// `rgb()`, no whitespace).
    pub fn parse(text: &str) -> Option<Accent> {
        Accent::from_hex(text.strip_prefix('#')?)
    }

    /// Six hex digits without `#`, as in the theme stylesheet's URL.
    pub fn from_hex(hex: &str) -> Option<Accent> {
        if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let channel = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
        Some(Accent([channel(0)?, channel(2)?, channel(4)?]))
    }

    /// Lower-case `rrggbb`.
    pub fn hex(&self) -> String {
        let [r, g, b] = self.0;
        format!("{r:02x}{g:02x}{b:02x}")
    }

    /// WCAG 2.x relative luminance.
    fn luminance(&self) -> f64 {
        let linear = |channel: u8| {
            let c = f64::from(channel) / 255.0;
            if c <= 0.040_45 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        let [r, g, b] = self.0;
        0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
    }

    /// Black or white, whichever reads better on this colour, as `#000000` / `#ffffff`.
    pub fn foreground(&self) -> &'static str {
        if self.contrast_with_black() >= self.contrast_with_white() {
            "#000000"
        } else {
            "#ffffff"
        }
    }

    /// The contrast ratio of the chosen foreground on this colour.
    pub fn contrast(&self) -> f64 {
        self.contrast_with_black().max(self.contrast_with_white())
    }

    fn contrast_with_black(&self) -> f64 {
        (self.luminance() + 0.05) / 0.05
    }

    fn contrast_with_white(&self) -> f64 {
        1.05 / (self.luminance() + 0.05)
    }

    /// The theme stylesheet: the accent replaces Hera's primary colour in light and dark mode.
    pub fn stylesheet(&self) -> String {
        let hex = self.hex();
        let on = self.foreground();
        format!(
            ":root{{--hera-primary:#{hex};--hera-primary-hover:#{hex};--hera-on-primary:{on};--hera-accent:#{hex}}}\n"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_hash_and_six_hex_digits_make_an_accent() {
        assert_eq!(
            Accent::parse("#1A2b3C").map(|a| a.hex()),
            Some("1a2b3c".into())
        );
        for bad in [
            "",
            "#",
            "1a2b3c",
            "#1a2b3",
            "#1a2b3c4",
            "#abc",
            "#gg0000",
            "red",
            "rgb(1,2,3)",
            "#1a2b3c;",
            " #1a2b3c",
            "#1a2b3c}",
            "#１a2b3c",
        ] {
            assert_eq!(Accent::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_text_on_an_accent_always_has_enough_contrast() {
        for (hex, on) in [
            ("ffffff", "#000000"),
            ("000000", "#ffffff"),
            ("1d4ed8", "#ffffff"),
            ("ffd400", "#000000"),
            ("595959", "#ffffff"),
            ("a0a0a0", "#000000"),
        ] {
            let accent = Accent::from_hex(hex).unwrap();
            assert_eq!(accent.foreground(), on, "{hex}");
        }
        // The worst case over every grey and a sweep of colours stays above WCAG AA.
        for v in (0..=255u8).step_by(1) {
            for accent in [
                [v, v, v],
                [v, 0, 0],
                [0, v, 0],
                [0, 0, v],
                [v, 255 - v, 128],
            ] {
                let accent = Accent(accent);
                assert!(
                    accent.contrast() >= 4.5,
                    "{}: {}",
                    accent.hex(),
                    accent.contrast()
                );
            }
        }
    }

    #[test]
    fn a_theme_is_read_from_metadata_and_anything_malformed_is_dropped() {
        let theme = Theme::from_metadata(&json!({"theme": {
            "accent": "#0A7F3F", "logo_uri": "https://cdn.example.com/logo.png"
        }}));
        assert_eq!(theme.stylesheet().as_deref(), Some("/theme/0a7f3f.css"));
        assert_eq!(
            theme.logo_uri.as_deref(),
            Some("https://cdn.example.com/logo.png")
        );

        for metadata in [
            json!(null),
            json!({}),
            json!({"theme": "dark"}),
            json!({"theme": {"accent": "red", "logo_uri": "http://x.example/l.png"}}),
            json!({"theme": {"accent": 123, "logo_uri": "javascript:alert(1)"}}),
            json!({"theme": {"logo_uri": format!("https://x.example/{}", "a".repeat(3000))}}),
        ] {
            assert_eq!(
                Theme::from_metadata(&metadata),
                Theme::default(),
                "{metadata}"
            );
        }
    }

    #[test]
    fn the_theme_stylesheet_sets_only_colour_variables() {
        let css = Accent::from_hex("ffd400").unwrap().stylesheet();
        assert_eq!(
            css,
            ":root{--hera-primary:#ffd400;--hera-primary-hover:#ffd400;--hera-on-primary:#000000;--hera-accent:#ffd400}\n"
        );
    }
}
