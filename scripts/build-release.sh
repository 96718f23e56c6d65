#!/usr/bin/env bash
# Builds the release binary with the site (WASM, JS, CSS, and their Brotli and gzip copies)
# inside it: `make release` and `make run` call this.
#
# Two steps, because the WASM and the server may be built by different toolchains:
#
# 1. The front end (`--frontend-only`). With a nightly toolchain that has `rust-src` (the
#    nightly on this project's machines; `scripts/install-tools.sh` adds `rust-src` to it),
#    the standard library is compiled with the bundle (`-Zbuild-std`) instead of linking the
#    prebuilt one, which was compiled for speed and with the full panic machinery:
#    - `optimize_for_size`: the standard library's own smaller variants of its code;
#    - `-Cpanic=immediate-abort`: a panic in the browser stops the WASM at once (the page
#      needs reloading either way) without formatting a message, so the formatting code and
#      the panic messages are left out;
#    - `-Zlocation-detail=none`: no source file, line and column kept for panics and
#      `#[track_caller]`;
#    - `-Zfmt-debug=none`: `{:?}` writes nothing and `derive(Debug)` makes no code. The page
#      shows no `Debug` text (only tests and panics format it), and leaving it out takes
#      0.8 % off the gzip size (BENCHMARKS.md, thirtieth session).
#    Together about a tenth off the bundle (BENCHMARKS.md, twenty-seventh session). Stable
#    builds it as before when there is no such nightly, when WHISPER_WASM_STABLE=1, or when
#    the nightly build fails (a nightly that changed these unstable flags), saying so.
# 2. The server (`--server-only`), on the caller's toolchain (stable by default). Its build
#    script embeds what step 1 left in target/site/pkg.
#
# In step 1, cargo-leptos finds scripts/wasm-opt/wasm-opt before the real one: it runs
# wasm-prune (Leptos's asynchronous hydration, which Whisper never runs, left out of the WASM:
# 3.9 % of its gzip size) and then the real wasm-opt. wasm-prune finds those functions by
# their names in Rust's v0 mangling: nightly's default, and stable's from 1.97, so it is asked
# for below.
set -euo pipefail
cd "$(dirname "$0")/.."

WHISPER_WASM_OPT="$(command -v wasm-opt)" || {
  echo "wasm-opt is not on PATH: make tools installs it" >&2
  exit 1
}
cargo build --quiet -p wasm-prune
WHISPER_WASM_PRUNE="$(realpath -m "${CARGO_TARGET_DIR:-target}")/debug/wasm-prune"
export WHISPER_WASM_OPT WHISPER_WASM_PRUNE
front_path="$PWD/scripts/wasm-opt:$PATH"

stable_front() {
  # A target's `rustflags` replace `build.rustflags` from .cargo/config.toml: keep its flag.
  PATH="$front_path" cargo leptos build --release --precompress --frontend-only \
    "--lib-cargo-args=--config=target.wasm32-unknown-unknown.rustflags=['--cfg','erase_components','-Csymbol-mangling-version=v0']"
}

nightly_front() {
  # A target's `rustflags` replace `build.rustflags` from .cargo/config.toml: keep its flag.
  local rustflags="['--cfg','erase_components',"
  rustflags+="'-Zunstable-options','-Cpanic=immediate-abort','-Zlocation-detail=none',"
  rustflags+="'-Zfmt-debug=none']"
  PATH="$front_path" RUSTUP_TOOLCHAIN=nightly cargo leptos build --release --precompress --frontend-only \
    --lib-cargo-args=-Zbuild-std=std,panic_abort \
    --lib-cargo-args=-Zbuild-std-features=optimize_for_size \
    "--lib-cargo-args=--config=target.wasm32-unknown-unknown.rustflags=$rustflags"
}

if [ "${WHISPER_WASM_STABLE:-0}" != 1 ] &&
  rustup component list --installed --toolchain nightly 2>/dev/null | grep -q '^rust-src'; then
  echo "==> front end: $(rustup run nightly rustc --version), standard library built for size"
  if ! nightly_front; then
    echo "==> the nightly front-end build failed (above); building it on stable instead" >&2
    stable_front
  fi
else
  echo "==> front end: stable. A nightly toolchain with rust-src makes the WASM about a tenth"
  echo "    smaller: rustup toolchain install nightly --profile minimal --component rust-src"
  stable_front
fi

cargo leptos build --release --precompress --server-only
ls -l target/site/pkg/whisper.wasm target/site/pkg/whisper.wasm.br
