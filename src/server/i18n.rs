//! Languages: the message catalogue (`locales/*.ftl`, compiled in) and the choice of language
//! for a request.
//!
//! Each file is one language, named by its tag (`de.ftl`); `build.rs` embeds every file in
//! `locales/`, so adding a language is adding one file. English (`en.ftl`) is the reference and
//! the default: a test checks that every other language has every English key with the same
//! variables, and a key a language lacks falls back to English.
//!
//! The format is a small subset of [Fluent](https://projectfluent.org/): `key = text` lines,
//! text continued on indented lines, `{ $name }` variables, and `#` comments. Counted messages
//! come as `KEY-<category>`, one per CLDR plural category the language uses (`KEY-one` and
//! `KEY-other` in English and German; Polish adds `KEY-few` and `KEY-many`, Arabic `KEY-zero`
//! and `KEY-two` too). The category of a number comes from the CLDR plural rules; a category a
//! file leaves out falls back to `KEY-other`.
//!
//! An operator can add languages or reword messages without a rebuild: every `<tag>.ftl` in
//! `HERA_LOCALES_DIR` is read at start, over the built-in files. A key English does not have, or
//! a message with other variables than English's, stops Hera with the file and line; keys a new
//! language leaves out read in English.
//!
//! The language is chosen from the OpenID Connect `ui_locales` of the login or consent request,
//! then the browser's `Accept-Language` (by q-value), then English. A region or script subtag
//! falls back to its language (`de-AT` → `de`).

use std::collections::HashMap;
use std::fmt::{self, Display};
use std::path::Path;
use std::sync::Arc;

use intl_pluralrules::{PluralCategory, PluralRuleType, PluralRules};

use super::brand::Brand;

include!(concat!(env!("OUT_DIR"), "/locales.rs"));

/// The language used when nothing the request asks for is available, and the reference
/// catalogue.
pub const DEFAULT_LANGUAGE: &str = "en";

/// Every language Hera speaks, parsed once at startup.
#[derive(Debug, Clone)]
pub struct Catalogue {
    /// Sorted by tag; always contains [`DEFAULT_LANGUAGE`].
    languages: Vec<Texts>,
    default: Texts,
}

/// One language's messages, cheap to clone; what every page is rendered with.
#[derive(Debug, Clone)]
pub struct Texts(Arc<Language>);

struct Language {
    tag: String,
    /// This language's messages over English ones, so a missing key reads in English.
    messages: HashMap<String, String>,
    /// CLDR cardinal plural rules; `None` for a tag CLDR does not know (then `one` is exactly
    /// 1 and everything else `other`).
    plurals: Option<PluralRules>,
    /// The operator's brand, the same for every language.
    brand: Arc<Brand>,
}

impl fmt::Debug for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Language").field("tag", &self.tag).finish()
    }
}

/// A locale file that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("locales/{file}.ftl line {line}: {problem}")]
pub struct CatalogueError {
    file: String,
    line: usize,
    problem: String,
}

impl Catalogue {
    /// Parses the embedded `locales/*.ftl` files.
    pub fn load() -> Result<Catalogue, CatalogueError> {
        Catalogue::from_files(LOCALE_FILES)
    }

    /// The built-in files, with every `<tag>.ftl` in `dir` over them (`HERA_LOCALES_DIR`).
    pub fn load_with_overrides(dir: Option<&Path>) -> Result<Catalogue, CatalogueError> {
        let Some(dir) = dir else {
            return Catalogue::load();
        };
        let unreadable = |problem: String| CatalogueError {
            file: dir.display().to_string(),
            line: 0,
            problem: format!("HERA_LOCALES_DIR: {problem}"),
        };
        let mut extra = Vec::new();
        let entries = std::fs::read_dir(dir).map_err(|e| unreadable(e.to_string()))?;
        for entry in entries {
            let path = entry.map_err(|e| unreadable(e.to_string()))?.path();
            let Some(tag) = path
                .file_stem()
                .and_then(|stem| stem.to_str())
                .filter(|_| path.extension().is_some_and(|e| e == "ftl"))
            else {
                continue;
            };
            let source = std::fs::read_to_string(&path).map_err(|e| unreadable(e.to_string()))?;
            extra.push((tag.to_owned(), source));
        }
        extra.sort();
        let mut parsed = parse_all(LOCALE_FILES)?;
        let english = parsed
            .iter()
            .find(|(tag, _)| tag == DEFAULT_LANGUAGE)
            .map(|(_, messages)| messages.clone())
            .unwrap_or_default();
        for (tag, source) in &extra {
            let messages = parse(tag, source)?;
            check_against_english(tag, &messages, &english)?;
            let tag = tag.to_ascii_lowercase();
            match parsed.iter_mut().find(|(t, _)| *t == tag) {
                Some((_, built_in)) => built_in.extend(messages),
                None => parsed.push((tag, messages)),
            }
        }
        Catalogue::from_parsed(parsed)
    }

    /// Parses `(tag, contents)` pairs; one of them must be [`DEFAULT_LANGUAGE`].
    pub fn from_files(files: &[(&str, &str)]) -> Result<Catalogue, CatalogueError> {
        Catalogue::from_parsed(parse_all(files)?)
    }

    fn from_parsed(parsed: Parsed) -> Result<Catalogue, CatalogueError> {
        let english = parsed
            .iter()
            .find(|(tag, _)| tag == DEFAULT_LANGUAGE)
            .map(|(_, messages)| messages.clone())
            .ok_or_else(|| CatalogueError {
                file: DEFAULT_LANGUAGE.into(),
                line: 0,
                problem: "the default language's file is missing".into(),
            })?;
        let mut languages: Vec<Texts> = parsed
            .into_iter()
            .map(|(tag, own)| {
                let mut messages = english.clone();
                messages.extend(own);
                let plurals = plural_rules(&tag);
                Texts(Arc::new(Language {
                    tag,
                    messages,
                    plurals,
                    brand: Arc::default(),
                }))
            })
            .collect();
        languages.sort_by(|a, b| a.0.tag.cmp(&b.0.tag));
        let default = languages
            .iter()
            .find(|texts| texts.lang() == DEFAULT_LANGUAGE)
            .cloned()
            .unwrap_or_else(|| Texts(Arc::new(Language::empty())));
        Ok(Catalogue { languages, default })
    }

    /// This catalogue with the operator's brand: every language names the product
    /// `brand.name` (message `site-name`) and renders its logo and icon.
    pub fn branded(self, brand: Brand) -> Catalogue {
        let brand = Arc::new(brand);
        let rebrand = |texts: &Texts| {
            let mut messages = texts.0.messages.clone();
            if let Some(name) = &brand.name {
                messages.insert("site-name".to_owned(), name.clone());
            }
            Texts(Arc::new(Language {
                tag: texts.0.tag.clone(),
                messages,
                plurals: plural_rules(&texts.0.tag),
                brand: brand.clone(),
            }))
        };
        Catalogue {
            languages: self.languages.iter().map(rebrand).collect(),
            default: rebrand(&self.default),
        }
    }

    /// The default language (English).
    pub fn default_texts(&self) -> Texts {
        self.default.clone()
    }

    /// The tags of every language, sorted.
    pub fn tags(&self) -> Vec<&str> {
        self.languages.iter().map(Texts::lang).collect()
    }

    /// The language for a request: the first of `ui_locales` Hera speaks, else the best of
    /// `Accept-Language`, else English.
    pub fn negotiate(&self, ui_locales: &[String], accept_language: Option<&str>) -> Texts {
        let wanted = ui_locales
            .iter()
            .flat_map(|value| value.split_whitespace())
            .map(str::to_owned)
            .chain(accept_language.map(by_preference).unwrap_or_default());
        for tag in wanted {
            if let Some(texts) = self.lookup(&tag) {
                return texts;
            }
        }
        self.default_texts()
    }

    /// Exact tag first, then its primary language subtag (`de-AT` → `de`).
    fn lookup(&self, tag: &str) -> Option<Texts> {
        let tag = tag.trim().to_ascii_lowercase().replace('_', "-");
        let primary = tag.split('-').next().unwrap_or_default();
        let found = [tag.as_str(), primary].into_iter().find_map(|wanted| {
            self.languages
                .iter()
                .find(|texts| !wanted.is_empty() && texts.lang() == wanted)
                .cloned()
        });
        found
    }
}

impl Language {
    fn empty() -> Language {
        Language {
            tag: DEFAULT_LANGUAGE.into(),
            messages: HashMap::new(),
            plurals: None,
            brand: Arc::default(),
        }
    }
}

impl Texts {
    /// The BCP 47 tag for `<html lang>`.
    pub fn lang(&self) -> &str {
        &self.0.tag
    }

    /// The operator's brand (product name, logo, tab icon).
    pub fn brand(&self) -> &Brand {
        &self.0.brand
    }

    /// The message `key`. A key no file has is a bug: it is logged and shown as the key, never
    /// a panic.
    pub fn text<'a>(&'a self, key: &'a str) -> &'a str {
        match self.0.messages.get(key) {
            Some(text) => text,
            None => {
                tracing::warn!(key, lang = self.lang(), "no such message");
                key
            }
        }
    }

    /// The message `key` when a language file has it; unlike [`Texts::text`], a missing key is
    /// not a bug here (callers fall back to another wording).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.messages.get(key).map(String::as_str)
    }

    /// The message `key` with its `{ $name }` variable filled in.
    pub fn text1(&self, key: &str, name: &str, value: impl Display) -> String {
        fill(self.text(key), &[(name, &value)])
    }

    /// The message `key` with several variables filled in.
    pub fn text_with(&self, key: &str, args: &[(&str, &dyn Display)]) -> String {
        fill(self.text(key), args)
    }

    /// A counted message with `{ $count }`: `KEY-<category>` for the number's CLDR plural
    /// category in this language, `KEY-other` when the file has no message for it.
    pub fn count(&self, key: &str, count: u64) -> String {
        let category = match &self.0.plurals {
            Some(rules) => rules.select(count).ok(),
            None => None,
        }
        .unwrap_or(if count == 1 {
            PluralCategory::ONE
        } else {
            PluralCategory::OTHER
        });
        let form = match category {
            PluralCategory::ZERO => "zero",
            PluralCategory::ONE => "one",
            PluralCategory::TWO => "two",
            PluralCategory::FEW => "few",
            PluralCategory::MANY => "many",
            PluralCategory::OTHER => "other",
        };
        let specific = format!("{key}-{form}");
        let chosen = if self.0.messages.contains_key(&specific) {
            specific
        } else {
            format!("{key}-other")
        };
        self.text1(&chosen, "count", count)
    }

    /// A calendar date in this language ("2 January 2026", "2. Januar 2026").
    pub fn date(&self, day: u8, month: u8, year: i32) -> String {
        let month_name = self.text(&format!("month-{month}")).to_owned();
        self.text_with(
            "date",
            &[("day", &day), ("month", &month_name), ("year", &year)],
        )
    }

    /// Every key of this language (English keys included through the fallback).
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.messages.keys().map(String::as_str)
    }
}

impl Display for Texts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.lang())
    }
}

/// `Accept-Language` tags, most preferred first (RFC 9110 §12.5.4); `q=0` and `*` are dropped,
/// and equal weights keep their order.
fn by_preference(header: &str) -> Vec<String> {
    let mut tags: Vec<(String, f32)> = header
        .split(',')
        .filter_map(|item| {
            let mut parts = item.split(';').map(str::trim);
            let tag = parts.next().filter(|t| !t.is_empty() && *t != "*")?;
            let q = parts
                .find_map(|p| p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")))
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
            (q > 0.0).then(|| (tag.to_owned(), q))
        })
        .collect();
    tags.sort_by(|a, b| b.1.total_cmp(&a.1));
    tags.into_iter().map(|(tag, _)| tag).collect()
}

/// Replaces each `{ $name }` in `template`; unknown variables are left as written.
fn fill(template: &str, args: &[(&str, &dyn Display)]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        let Some(end) = after.find('}') else {
            out.push_str(after);
            return out;
        };
        let name = after[1..end].trim().trim_start_matches('$');
        match args.iter().find(|(arg, _)| *arg == name) {
            Some((_, value)) => out.push_str(&value.to_string()),
            None => out.push_str(&after[..=end]),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// The `{ $name }` variables a message uses, sorted.
pub fn variables(message: &str) -> Vec<String> {
    let mut names: Vec<String> = message
        .split('{')
        .skip(1)
        .filter_map(|part| part.split_once('}'))
        .map(|(inside, _)| inside.trim().trim_start_matches('$').to_owned())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// CLDR's cardinal plural rules for `tag`, when CLDR knows the language.
fn plural_rules(tag: &str) -> Option<PluralRules> {
    let id = tag.parse::<unic_langid::LanguageIdentifier>().ok()?;
    PluralRules::create(id, PluralRuleType::CARDINAL).ok()
}

/// Each language's tag and messages.
type Parsed = Vec<(String, HashMap<String, String>)>;

fn parse_all(files: &[(&str, &str)]) -> Result<Parsed, CatalogueError> {
    files
        .iter()
        .map(|(tag, source)| Ok((tag.to_ascii_lowercase(), parse(tag, source)?)))
        .collect()
}

/// A plural category suffix CLDR has besides `one` and `other`.
const EXTRA_PLURAL_FORMS: [&str; 4] = ["-zero", "-two", "-few", "-many"];

/// True when `key` is a plural form of a counted English message (`KEY-few` for `KEY-other`).
fn is_plural_form_of_english(key: &str, english: &HashMap<String, String>) -> bool {
    EXTRA_PLURAL_FORMS.iter().any(|suffix| {
        key.strip_suffix(suffix)
            .is_some_and(|base| english.contains_key(&format!("{base}-other")))
    })
}

/// An operator's file may only word English's messages (and plural forms of counted ones), with
/// the same variables.
fn check_against_english(
    tag: &str,
    messages: &HashMap<String, String>,
    english: &HashMap<String, String>,
) -> Result<(), CatalogueError> {
    for (key, text) in messages {
        let reference = english.get(key).or_else(|| {
            is_plural_form_of_english(key, english)
                .then(|| {
                    EXTRA_PLURAL_FORMS
                        .iter()
                        .find_map(|suffix| key.strip_suffix(suffix))
                        .and_then(|base| english.get(&format!("{base}-other")))
                })
                .flatten()
        });
        let problem = match reference {
            None => format!("HERA_LOCALES_DIR: `{key}` is not a message Hera has"),
            Some(english_text) if variables(text) != variables(english_text) => {
                format!("HERA_LOCALES_DIR: `{key}` uses other variables than English")
            }
            Some(_) => continue,
        };
        return Err(CatalogueError {
            file: tag.to_owned(),
            line: 0,
            problem,
        });
    }
    Ok(())
}

/// Parses one `.ftl` file of the subset described in the module docs.
fn parse(file: &str, source: &str) -> Result<HashMap<String, String>, CatalogueError> {
    let error = |line: usize, problem: &str| CatalogueError {
        file: file.to_owned(),
        line,
        problem: problem.to_owned(),
    };
    let mut messages: HashMap<String, String> = HashMap::new();
    let mut current: Option<String> = None;
    for (index, raw) in source.lines().enumerate() {
        let number = index + 1;
        if raw.trim().is_empty() || raw.trim_start().starts_with('#') {
            current = None;
            continue;
        }
        if raw.starts_with([' ', '\t']) {
            let Some(key) = &current else {
                return Err(error(number, "an indented line continues no message"));
            };
            if let Some(text) = messages.get_mut(key) {
                if !text.is_empty() {
                    text.push(' ');
                }
                text.push_str(raw.trim());
            }
            continue;
        }
        let Some((key, value)) = raw.split_once('=') else {
            return Err(error(number, "expected `key = text`"));
        };
        let key = key.trim();
        let well_formed = key.starts_with(|c: char| c.is_ascii_alphabetic())
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !well_formed {
            return Err(error(number, "a key is letters, digits, `-` and `_`"));
        }
        if messages
            .insert(key.to_owned(), value.trim().to_owned())
            .is_some()
        {
            return Err(error(number, &format!("`{key}` is defined twice")));
        }
        current = Some(key.to_owned());
    }
    Ok(messages)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue() -> Catalogue {
        Catalogue::load().unwrap()
    }

    #[test]
    fn every_language_has_every_english_message_with_the_same_variables() {
        let files: HashMap<&str, HashMap<String, String>> = LOCALE_FILES
            .iter()
            .map(|(tag, source)| (*tag, parse(tag, source).unwrap()))
            .collect();
        let english = &files[DEFAULT_LANGUAGE];
        assert!(files.len() >= 2, "English and German at least");
        for (tag, messages) in &files {
            for (key, text) in english {
                let Some(translated) = messages.get(key) else {
                    panic!("{tag}.ftl lacks `{key}`");
                };
                assert!(!translated.is_empty(), "{tag}.ftl: `{key}` is empty");
                assert_eq!(
                    variables(translated),
                    variables(text),
                    "{tag}.ftl: `{key}` uses other variables than English"
                );
            }
            for key in messages.keys() {
                assert!(
                    english.contains_key(key) || is_plural_form_of_english(key, english),
                    "{tag}.ftl has `{key}`, which English lacks"
                );
            }
        }
    }

    #[test]
    fn counted_messages_follow_each_languages_cldr_plural_rules() {
        let english = "files-one = { $count } file\nfiles-other = { $count } files\n";
        let polish = "files-one = { $count } plik\nfiles-few = { $count } pliki\n\
                      files-many = { $count } plików\nfiles-other = { $count } pliku\n";
        let catalogue = Catalogue::from_files(&[("en", english), ("pl", polish)]).unwrap();
        let pl = catalogue.negotiate(&["pl".into()], None);
        assert_eq!(pl.count("files", 1), "1 plik");
        assert_eq!(pl.count("files", 2), "2 pliki");
        assert_eq!(pl.count("files", 22), "22 pliki");
        assert_eq!(pl.count("files", 5), "5 plików");
        assert_eq!(pl.count("files", 12), "12 plików");
        let en = catalogue.default_texts();
        assert_eq!(en.count("files", 1), "1 file");
        assert_eq!(en.count("files", 0), "0 files");
        assert_eq!(en.count("files", 2), "2 files");
        // A category the file leaves out reads as `other`.
        let sparse =
            Catalogue::from_files(&[("en", english), ("pl", "files-other = { $count } x\n")])
                .unwrap();
        assert_eq!(
            sparse.negotiate(&["pl".into()], None).count("files", 3),
            "3 x"
        );
    }

    #[test]
    fn an_operator_directory_adds_a_language_and_rewords_messages() {
        let dir = std::env::temp_dir().join(format!("hera-locales-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("en.ftl"), "consent-deny = Not now\n").unwrap();
        std::fs::write(
            dir.join("pl.ftl"),
            "consent-deny = Odmów\nremember-for-days-few = na { $count } dni\n",
        )
        .unwrap();
        std::fs::write(dir.join("notes.txt"), "ignored").unwrap();
        let catalogue = Catalogue::load_with_overrides(Some(&dir)).unwrap();
        let en = catalogue.default_texts();
        assert_eq!(en.text("consent-deny"), "Not now");
        let pl = catalogue.negotiate(&["pl-PL".into()], None);
        assert_eq!(pl.lang(), "pl");
        assert_eq!(pl.text("consent-deny"), "Odmów");
        assert_eq!(pl.count("remember-for-days", 3), "na 3 dni");
        assert_eq!(
            pl.text("consent-allow"),
            en.text("consent-allow"),
            "a message the file leaves out reads in English"
        );
        std::fs::write(dir.join("pl.ftl"), "no-such-message = x\n").unwrap();
        let error = Catalogue::load_with_overrides(Some(&dir)).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("`no-such-message` is not a message"),
            "{error}"
        );
        std::fs::write(dir.join("pl.ftl"), "remember-for-days-few = dni\n").unwrap();
        let error = Catalogue::load_with_overrides(Some(&dir)).unwrap_err();
        assert!(error.to_string().contains("other variables"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn every_message_a_template_uses_exists() {
        let english = catalogue().default_texts();
        let known: Vec<&str> = english.keys().collect();
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
        let mut checked = 0;
        let mut stack = vec![std::path::PathBuf::from(dir)];
        while let Some(path) = stack.pop() {
            if path.is_dir() {
                stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
                continue;
            }
            let html = std::fs::read_to_string(&path).unwrap();
            for call in ["t.text(\"", "t.text1(\"", "t.count(\""] {
                for (at, _) in html.match_indices(call) {
                    let rest = &html[at + call.len()..];
                    let key = &rest[..rest.find('"').unwrap()];
                    assert!(known.contains(&key), "{}: unknown `{key}`", path.display());
                    checked += 1;
                }
            }
        }
        assert!(checked > 40, "only {checked} messages found in templates");
    }

    #[test]
    fn ui_locales_win_over_accept_language() {
        let c = catalogue();
        assert_eq!(c.negotiate(&["de".into()], Some("en")).lang(), "de");
        assert_eq!(c.negotiate(&["fr de".into()], Some("en")).lang(), "de");
        assert_eq!(c.negotiate(&["fr".into()], Some("de")).lang(), "de");
    }

    #[test]
    fn accept_language_is_read_by_q_value() {
        let c = catalogue();
        assert_eq!(c.negotiate(&[], Some("en;q=0.5, de;q=0.9")).lang(), "de");
        assert_eq!(
            c.negotiate(&[], Some("fr-CH, fr;q=0.9, de;q=0.8")).lang(),
            "de"
        );
        assert_eq!(c.negotiate(&[], Some("de;q=0, en")).lang(), "en");
        assert_eq!(c.negotiate(&[], Some("*, de;q=0.1")).lang(), "de");
        assert_eq!(c.negotiate(&[], Some("de;q=garbage")).lang(), "en");
    }

    #[test]
    fn region_subtags_fall_back_to_their_language() {
        let c = catalogue();
        assert_eq!(c.negotiate(&["de-AT".into()], None).lang(), "de");
        assert_eq!(c.negotiate(&[], Some("de_CH")).lang(), "de");
        assert_eq!(c.negotiate(&[], Some("DE-de")).lang(), "de");
    }

    #[test]
    fn unsupported_or_missing_languages_get_english() {
        let c = catalogue();
        assert_eq!(c.negotiate(&[], None).lang(), "en");
        assert_eq!(c.negotiate(&["tlh".into()], Some("fr")).lang(), "en");
        assert_eq!(c.negotiate(&[], Some("")).lang(), "en");
    }

    #[test]
    fn variables_are_filled_and_counts_pick_their_form() {
        let c = catalogue();
        let en = c.default_texts();
        let de = c.negotiate(&["de".into()], None);
        assert_eq!(
            en.text1("signed-in-as", "account", "ada@example.com"),
            "Signed in as ada@example.com"
        );
        assert_eq!(en.count("remember-for-hours", 1), "for 1 hour");
        assert_eq!(en.count("remember-for-days", 30), "for 30 days");
        assert_eq!(de.count("remember-for-hours", 2), "für 2 Stunden");
        assert_eq!(en.date(2, 1, 2026), "2 January 2026");
        assert_eq!(de.date(2, 1, 2026), "2. Januar 2026");
    }

    #[test]
    fn a_missing_key_reads_as_itself_and_a_language_missing_a_key_falls_back_to_english() {
        let c = Catalogue::from_files(&[("en", "a = A\nb = B"), ("xx", "a = X")]).unwrap();
        let xx = c.negotiate(&["xx".into()], None);
        assert_eq!(xx.text("a"), "X");
        assert_eq!(xx.text("b"), "B");
        assert_eq!(xx.text("nope"), "nope");
    }

    #[test]
    fn the_parser_joins_continued_lines_and_refuses_nonsense() {
        let parsed = parse("t", "# c\nk = one\n  two\n\nother = x").unwrap();
        assert_eq!(parsed["k"], "one two");
        assert!(parse("t", "no equals sign").is_err());
        assert!(parse("t", "  orphan").is_err());
        assert!(parse("t", "a = 1\na = 2").is_err());
        assert!(parse("t", "-bad = 1").is_err());
        assert!(Catalogue::from_files(&[("de", "a = b")]).is_err());
    }

    #[test]
    fn unknown_variables_are_left_alone() {
        assert_eq!(fill("a { $x } b { $y }", &[("x", &1)]), "a 1 b { $y }");
        assert_eq!(fill("open { brace", &[]), "open { brace");
        assert_eq!(variables("{ $b } and { $a } and { $b }"), vec!["a", "b"]);
    }
}
