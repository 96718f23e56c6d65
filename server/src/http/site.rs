//! The site's files (the WASM bundle, its JavaScript, the CSS), and how browsers may cache them.
//!
//! A release binary carries them inside itself (`build.rs`), each with a Brotli and a gzip
//! copy made at build time. They are served from `/pkg/{hash}/…`, where the hash covers every
//! file: a new build is a new address, so a browser may keep a file for a year without asking
//! again (`immutable`), and a page never loads a bundle from another build. Every other
//! response (pages, redirects, files read from disk) must be revalidated.
//!
//! With `LEPTOS_SITE_ROOT` set, or without an embedded site (debug builds), the files are read
//! from that folder (else `target/site`) and served under `/pkg/…` by Leptos's file handler,
//! which picks a `.br` or `.gz` copy beside a file when there is one; they are revalidated.

use axum::extract::{Path, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::path::PathBuf;

/// One file of the site, as built and as compressed at build time (Brotli by cargo-leptos,
/// gzip by `build.rs`).
#[derive(Debug)]
pub struct EmbeddedFile {
    pub name: &'static str,
    pub identity: &'static [u8],
    pub brotli: Option<&'static [u8]>,
    pub gzip: &'static [u8],
}

mod generated {
    use super::EmbeddedFile;
    include!(concat!(env!("OUT_DIR"), "/site.rs"));
}

/// For a year, never revalidated: the address changes with the content.
const FOREVER: &str = "public, max-age=31536000, immutable";

/// Stored by the browser only (pages are per user), and checked with the server before each use.
const REVALIDATE: &str = "private, no-cache";

/// Where this node's site comes from, decided once at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The files built into this binary, under `/pkg/{hash}/`.
    Embedded,
    /// A folder holding `pkg/`, served under `/pkg/`.
    Folder(PathBuf),
}

impl Source {
    /// `LEPTOS_SITE_ROOT` when set; else the site built into this binary; else `target/site`.
    /// Says which in the log: an upgrade that left `LEPTOS_SITE_ROOT` set serves that folder's
    /// files, not the binary's, and a folder without a built site serves pages without their
    /// script and styles.
    pub fn choose(site_root: Option<PathBuf>) -> Self {
        let embedded = !generated::FILES.is_empty();
        let source = match site_root {
            None if embedded => Source::Embedded,
            Some(root) => Source::Folder(root),
            None => Source::Folder(PathBuf::from("target/site")),
        };
        match &source {
            Source::Embedded => {
                tracing::info!(
                    hash = generated::HASH,
                    "serving the site built into this binary"
                );
            }
            Source::Folder(root) if embedded => tracing::warn!(
                root = %root.display(),
                "LEPTOS_SITE_ROOT is set: serving the site from that folder, not the one built \
                 into this binary"
            ),
            Source::Folder(root) if root.join("pkg").join("whisper.js").is_file() => {
                tracing::info!(root = %root.display(), "serving the site from a folder");
            }
            Source::Folder(root) => tracing::warn!(
                root = %root.display(),
                "no built site in this folder: pages will have no script or styles \
                 (build it with `make release`, or set LEPTOS_SITE_ROOT)"
            ),
        }
        source
    }

    /// The site root Leptos is given (it looks there for files the routes do not serve).
    pub fn root(&self) -> PathBuf {
        match self {
            Source::Embedded => PathBuf::from("target/site"),
            Source::Folder(root) => root.clone(),
        }
    }

    /// The folder under the site root that pages load the bundle from.
    pub fn pkg_dir(&self) -> String {
        match self {
            Source::Embedded => format!("pkg/{}", generated::HASH),
            Source::Folder(_) => "pkg".to_owned(),
        }
    }
}

/// `GET /pkg/{hash}/{file}`: an embedded file, in the best encoding the browser accepts.
pub async fn embedded_file(
    Path((hash, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let file = generated::FILES
        .iter()
        .find(|file| file.name == name)
        .filter(|_| hash == generated::HASH);
    // A page from an earlier build asking for its bundle: it is gone, and a reload gets the new one.
    let Some(file) = file else {
        return (StatusCode::NOT_FOUND, "No such file in this build.").into_response();
    };
    let accepted = Accepted::from_headers(&headers);
    let (body, encoding) = match file.brotli {
        Some(brotli) if accepted.brotli => (brotli, Some("br")),
        _ if accepted.gzip => (file.gzip, Some("gzip")),
        _ => (file.identity, None),
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(file.name)),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(FOREVER));
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if let Some(encoding) = encoding {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    response
}

/// Middleware: any response that did not say how to cache it is revalidated before reuse.
pub async fn revalidate_by_default(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static(REVALIDATE));
    response
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, extension)| extension) {
        Some("wasm") => "application/wasm",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The encodings a request's `Accept-Encoding` allows (a `q=0` refuses one).
#[derive(Debug, Default, PartialEq)]
struct Accepted {
    brotli: bool,
    gzip: bool,
}

impl Accepted {
    fn from_headers(headers: &HeaderMap) -> Self {
        let mut accepted = Accepted::default();
        for value in headers.get_all(header::ACCEPT_ENCODING) {
            let Ok(value) = value.to_str() else { continue };
            for item in value.split(',') {
                let mut parts = item.split(';').map(str::trim);
                let coding = parts.next().unwrap_or_default().to_ascii_lowercase();
                let refused = parts.any(|parameter| {
                    let Some((name, value)) = parameter.split_once('=') else {
                        return false;
                    };
                    name.trim().eq_ignore_ascii_case("q")
                        && value.trim().parse::<f32>().is_ok_and(|q| q <= 0.0)
                });
                match coding.as_str() {
                    "br" => accepted.brotli = !refused,
                    "gzip" => accepted.gzip = !refused,
                    _ => {}
                }
            }
        }
        accepted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepted(value: &str) -> Accepted {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).unwrap(),
        );
        Accepted::from_headers(&headers)
    }

    #[test]
    fn accept_encoding_is_read_with_its_weights() {
        let both = Accepted {
            brotli: true,
            gzip: true,
        };
        assert_eq!(accepted("gzip, deflate, br, zstd"), both);
        assert_eq!(accepted("GZIP;q=0.5, Br;q=1.0"), both);
        assert_eq!(
            accepted("br;Q=0, gzip"),
            Accepted {
                brotli: false,
                gzip: true
            }
        );
        assert_eq!(accepted("identity"), Accepted::default());
        assert_eq!(accepted(""), Accepted::default());
    }

    #[test]
    fn files_are_typed_by_extension() {
        assert_eq!(content_type("whisper.wasm"), "application/wasm");
        assert_eq!(content_type("whisper.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("whisper.css"), "text/css; charset=utf-8");
        assert_eq!(content_type("README"), "application/octet-stream");
    }
}
