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
