//! Base URLs Hera is configured with.

use url::Url;

/// An absolute `http(s)` base URL without query or fragment; a trailing slash is dropped so
/// paths can be appended.
pub fn parse_base_url(value: &str) -> Result<Url, String> {
    let url = Url::parse(value).map_err(|e| format!("not an absolute URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must start with http:// or https://".into());
    }
    if url.host().is_none() || url.query().is_some() || url.fragment().is_some() {
        return Err("must be a base URL with a host and no query or fragment".into());
    }
    if url.cannot_be_a_base() {
        return Err("must be a base URL".into());
    }
    let trimmed = url.as_str().trim_end_matches('/').to_owned();
    Url::parse(&trimmed).map_err(|e| e.to_string())
}

/// `<base>/<path>` for one of the configured base URLs (which never end in `/`).
pub fn join(base: &Url, path: &str) -> String {
    format!("{}{}", base.as_str().trim_end_matches('/'), path)
}

/// `HERA_PUBLIC_URL`: a base URL ([`parse_base_url`]) whose path, when it has one, is the prefix
/// Hera is served under (`https://example.com/auth/` → `/auth`); see [`path_prefix`].
pub fn parse_public_url(value: &str) -> Result<Url, String> {
    let url = Url::parse(value).map_err(|e| format!("not an absolute URL: {e}"))?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "must have no query or fragment: its path, if any, is the prefix Hera is served under (got {value})"
        ));
    }
    let url = parse_base_url(value)?;
    path_prefix(&url)?;
    Ok(url)
}

/// The path prefix Hera is served under, taken from its public URL: empty at the root of its
/// host, else `/auth` or `/id/auth` (no trailing slash). Every segment must be letters, digits,
/// `-`, `.`, `_` or `~`, so the prefix needs no escaping in a URL, a page or a route, and an
/// empty segment can never turn a link into `//host/…`.
pub fn path_prefix(public_url: &Url) -> Result<&str, String> {
    let prefix = public_url.path().trim_end_matches('/');
    let plain = |segment: &str| {
        !segment.is_empty()
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
    };
    if prefix.is_empty() || prefix.split('/').skip(1).all(plain) {
        Ok(prefix)
    } else {
        Err(format!(
            "its path is the prefix Hera is served under: segments of letters, digits, '-', '.', '_' or '~' (got {prefix})"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_public_url_without_a_path_has_no_prefix() {
        for value in ["https://id.example.com", "https://id.example.com/"] {
            let url = parse_public_url(value).unwrap();
            assert_eq!(path_prefix(&url), Ok(""), "{value}");
            assert_eq!(join(&url, "/login"), "https://id.example.com/login");
        }
    }

    #[test]
    fn the_path_of_a_public_url_is_the_prefix_with_or_without_its_trailing_slash() {
        for value in [
            "https://example.com/auth",
            "https://example.com/auth/",
            "https://example.com/auth//",
        ] {
            let url = parse_public_url(value).unwrap();
            assert_eq!(url.as_str(), "https://example.com/auth", "{value}");
            assert_eq!(path_prefix(&url), Ok("/auth"), "{value}");
            assert_eq!(join(&url, "/login"), "https://example.com/auth/login");
            assert_eq!(join(&url, "/"), "https://example.com/auth/");
        }
        let url = parse_public_url("https://example.com/id/auth-2.v_1~x/").unwrap();
        assert_eq!(path_prefix(&url), Ok("/id/auth-2.v_1~x"));
    }

    #[test]
    fn a_public_url_with_a_query_or_fragment_is_refused() {
        for value in [
            "https://example.com/auth?x=1",
            "https://example.com/auth/?",
            "https://example.com/auth#top",
            "https://example.com/#",
        ] {
            let error = parse_public_url(value).unwrap_err();
            assert!(error.contains("no query or fragment"), "{value}: {error}");
        }
    }

    #[test]
    fn a_prefix_that_would_need_escaping_or_has_an_empty_segment_is_refused() {
        for value in [
            "https://example.com//auth",
            "https://example.com/a//b",
            "https://example.com/a%20b",
            "https://example.com/{id}",
            "https://example.com/a;b",
            "https://example.com/a@b",
        ] {
            let error = parse_public_url(value).unwrap_err();
            assert!(error.contains("prefix"), "{value}: {error}");
        }
    }
}
