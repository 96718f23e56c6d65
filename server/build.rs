//! Embeds the built site into release binaries, so that deploying is copying one file.
//!
//! `cargo leptos build --release` builds the WASM bundle, its JavaScript and the CSS into
//! `target/site/pkg`; with `--precompress` (as `make release` runs it) it also writes a Brotli
//! and a gzip copy of each beside it, and only then builds this crate. This script writes
//! `$OUT_DIR/site.rs`: each file's bytes and compressed copies (`include_bytes!`), and a hash of
//! them all, which names the folder the files are served from (`http::site`). The gzip copies
//! are made again here at the best level, about a seventh smaller than cargo-leptos's. Other builds
//! (debug, or a release build without a precompressed site) embed nothing, and the server reads
//! the site from disk.

// A build script has no one to report an error to but the build: it fails, saying what.
#![allow(clippy::expect_used)]

use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let generated = match site_pkg_dir() {
        Some(pkg) => embedded(&pkg, &out),
        None => empty(),
    };
    fs::write(out.join("site.rs"), generated).expect("writing site.rs");
}

/// The folder to embed: a release build's, and only once it holds the precompressed bundle.
fn site_pkg_dir() -> Option<PathBuf> {
    println!("cargo::rerun-if-changed=build.rs");
    if env::var("PROFILE").ok()? != "release" {
        return None;
    }
    println!("cargo::rerun-if-env-changed=LEPTOS_SITE_ROOT");
    // cargo-leptos sets this for the builds it runs: a plain `cargo build --release` that
    // found no site reruns this script once cargo-leptos builds one.
    println!("cargo::rerun-if-env-changed=LEPTOS_OUTPUT_NAME");
    let workspace = Path::new(&env::var_os("CARGO_MANIFEST_DIR")?).join("..");
    let root = env::var_os("LEPTOS_SITE_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/site"));
    let pkg = workspace.join(root).join("pkg");
    // A folder: Cargo reruns this script when anything in it changes. A path that does not
    // exist would make Cargo rerun it on every build, rebuilding the server each time.
    if pkg.is_dir() {
        println!("cargo::rerun-if-changed={}", pkg.display());
    }
    let precompressed = pkg.join("whisper.wasm.br").is_file();
    if !precompressed {
        println!(
            "cargo::warning=no precompressed site in {}: this release binary embeds no site \
             and reads it from LEPTOS_SITE_ROOT or target/site (`make release` embeds it)",
            pkg.display()
        );
    }
    precompressed.then_some(pkg)
}

fn empty() -> String {
    "pub const HASH: &str = \"\";\npub static FILES: &[EmbeddedFile] = &[];\n".to_owned()
}

fn embedded(pkg: &Path, out: &Path) -> String {
    let mut names: Vec<String> = fs::read_dir(pkg)
        .expect("reading the site's pkg folder")
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let name = entry.file_name().into_string().ok()?;
            // `/pkg/{hash}/{file}` serves one level; a folder (wasm-bindgen's `snippets/`, say)
            // would be missing from the binary without a word.
            assert!(
                !entry.file_type().ok()?.is_dir(),
                "the site's pkg folder holds a folder, {name}, which the server cannot serve"
            );
            // Only what pages load: not the compressed copies, nor TypeScript declarations.
            let plain = entry.file_type().ok()?.is_file()
                && !name.ends_with(".br")
                && !name.ends_with(".gz")
                && !name.ends_with(".d.ts");
            plain.then_some(name)
        })
        .collect();
    names.sort();
    let mut hash = Sha256::new();
    let mut files = String::new();
    for name in &names {
        let path = pkg.join(name).canonicalize().expect("a site file's path");
        let contents = fs::read(&path).expect("reading a site file");
        hash.update(name.as_bytes());
        hash.update(&contents);
        let brotli = PathBuf::from(format!("{}.br", path.display()));
        let brotli = if brotli.is_file() {
            format!("Some(include_bytes!({:?}))", brotli.display().to_string())
        } else {
            "None".to_owned()
        };
        let gzip = out.join(format!("{name}.gz"));
        let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
        encoder
            .write_all(&contents)
            .expect("compressing a site file");
        fs::write(&gzip, encoder.finish().expect("compressing a site file"))
            .expect("writing a compressed site file");
        let gzip = format!("include_bytes!({:?})", gzip.display().to_string());
        let _ = writeln!(
            files,
            "    EmbeddedFile {{ name: {name:?}, identity: include_bytes!({:?}), brotli: {}, gzip: {} }},",
            path.display().to_string(),
            brotli,
            gzip,
        );
    }
    let hash: String = hash
        .finalize()
        .iter()
        .take(8)
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("pub const HASH: &str = {hash:?};\npub static FILES: &[EmbeddedFile] = &[\n{files}];\n")
}
