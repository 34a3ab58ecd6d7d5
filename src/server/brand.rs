//! The operator's brand on every page: the product name in the tab and the header, a logo, and
//! the browser-tab icon. Set at start from `HERA_PRODUCT_NAME`, `HERA_LOGO_FILE` and
//! `HERA_FAVICON_FILE`; without them the tab says Hera, there is no header, and Hera's own icon
//! is served.
//!
//! Files are read once at start and served by Hera itself under names carrying a hash of their
//! contents, so pages load nothing from elsewhere (the CSP stays `img-src 'self'`) and browsers
//! may cache them for a year.

use std::path::Path;
use std::sync::Arc;

use sha2::{Digest, Sha256};

/// Hera's own tab icon.
const DEFAULT_FAVICON: &[u8] = include_bytes!("../../static/favicon.svg");

/// Largest logo or icon file read.
const MAX_FILE_BYTES: u64 = 512 * 1024;

/// Longest product name shown.
const MAX_NAME_CHARS: usize = 80;

/// One image Hera serves for the brand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// `/brand/<hash>.<ext>`.
    pub path: String,
    pub content_type: &'static str,
    pub bytes: Arc<[u8]>,
}

impl Image {
    fn new(bytes: Vec<u8>, extension: &str, content_type: &'static str) -> Image {
        let hash: String = Sha256::digest(&bytes)
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect();
        Image {
            path: format!("/brand/{hash}.{extension}"),
            content_type,
            bytes: bytes.into(),
        }
    }
}

/// The brand of every page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Brand {
    /// The product name; `None` keeps the built-in "Hera" in the tab and shows no header.
    pub name: Option<String>,
    pub logo: Option<Image>,
    pub favicon: Image,
}

impl Default for Brand {
    fn default() -> Self {
        Brand {
            name: None,
            logo: None,
            favicon: Image::new(DEFAULT_FAVICON.to_vec(), "svg", "image/svg+xml"),
        }
    }
}

/// An unusable brand setting, naming it.
#[derive(Debug, thiserror::Error)]
#[error("{setting}: {problem}")]
pub struct BrandError {
    setting: &'static str,
    problem: String,
}

impl Brand {
    pub fn load(
        name: Option<&str>,
        logo: Option<&Path>,
        favicon: Option<&Path>,
    ) -> Result<Brand, BrandError> {
        let name = name.map(str::trim).filter(|n| !n.is_empty());
        if let Some(name) = name {
            if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
                return Err(BrandError {
                    setting: "HERA_PRODUCT_NAME",
                    problem: format!("must be one line of at most {MAX_NAME_CHARS} characters"),
                });
            }
        }
        Ok(Brand {
            name: name.map(str::to_owned),
            logo: logo.map(|path| image("HERA_LOGO_FILE", path)).transpose()?,
            favicon: match favicon {
                Some(path) => image("HERA_FAVICON_FILE", path)?,
                None => Brand::default().favicon,
            },
        })
    }

    /// The image served at `path`, if it is one of the brand's.
    pub fn image(&self, path: &str) -> Option<&Image> {
        [Some(&self.favicon), self.logo.as_ref()]
            .into_iter()
            .flatten()
            .find(|image| image.path == path)
    }
}

fn image(setting: &'static str, path: &Path) -> Result<Image, BrandError> {
    let error = |problem: String| BrandError { setting, problem };
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let content_type = match extension.as_str() {
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "webp" => "image/webp",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        _ => {
            return Err(error(format!(
                "{} must be .svg, .png, .ico, .webp, .jpg or .gif",
                path.display()
            )))
        }
    };
    let size = std::fs::metadata(path)
        .map_err(|e| error(format!("{}: {e}", path.display())))?
        .len();
    if size > MAX_FILE_BYTES {
        return Err(error(format!(
            "{} is larger than {} KiB",
            path.display(),
            MAX_FILE_BYTES / 1024
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| error(format!("{}: {e}", path.display())))?;
    Ok(Image::new(bytes, &extension, content_type))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_settings_hera_serves_its_own_icon_and_no_header() {
        let brand = Brand::load(None, None, None).unwrap();
        assert_eq!(brand.name, None);
        assert_eq!(brand.logo, None);
        assert_eq!(brand.favicon.content_type, "image/svg+xml");
        assert!(brand.favicon.path.starts_with("/brand/") && brand.favicon.path.ends_with(".svg"));
        assert_eq!(brand.image(&brand.favicon.path), Some(&brand.favicon));
        assert_eq!(brand.image("/brand/nothing.svg"), None);
    }

    #[test]
    fn files_are_served_under_a_name_carrying_their_hash() {
        let dir = std::env::temp_dir().join(format!("hera-brand-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("logo.png"), b"\x89PNG logo").unwrap();
        std::fs::write(dir.join("icon.ico"), b"icon").unwrap();
        let brand = Brand::load(
            Some("  Acme Accounts "),
            Some(&dir.join("logo.png")),
            Some(&dir.join("icon.ico")),
        )
        .unwrap();
        assert_eq!(brand.name.as_deref(), Some("Acme Accounts"));
        let logo = brand.logo.clone().unwrap();
        assert_eq!(logo.content_type, "image/png");
        assert_eq!(&*logo.bytes, b"\x89PNG logo");
        assert_eq!(brand.favicon.content_type, "image/x-icon");
        std::fs::write(dir.join("logo.bmp"), b"x").unwrap();
        let error = Brand::load(None, Some(&dir.join("logo.bmp")), None).unwrap_err();
        assert!(error.to_string().starts_with("HERA_LOGO_FILE:"), "{error}");
        let error = Brand::load(None, Some(&dir.join("missing.png")), None).unwrap_err();
        assert!(error.to_string().contains("missing.png"), "{error}");
        let error = Brand::load(Some("two\nlines"), None, None).unwrap_err();
        assert!(
            error.to_string().starts_with("HERA_PRODUCT_NAME"),
            "{error}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
