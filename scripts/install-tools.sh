#!/usr/bin/env bash
# Installs the build and test tools Whisper needs, each only when it is missing.
# Idempotent: a second run on a prepared machine does nothing but check.
# Versions are pinned: wasm-bindgen to the one Cargo.lock holds, the others to the versions
# this project was built and tested with.
set -euo pipefail

WASM_BINDGEN_VERSION=0.2.130
CARGO_LEPTOS_VERSION=0.3.11
BINARYEN_VERSION=132.0.0

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# 1. The wasm target for the hydrate build.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding rustup target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# 1b. The standard library's source for nightly, if there is a nightly: release builds compile
#     it into the WASM, smaller (scripts/build-release.sh). Without it they use stable.
if rustup run nightly rustc --version >/dev/null 2>&1 &&
  ! rustup component list --installed --toolchain nightly 2>/dev/null | grep -q '^rust-src'; then
  say "adding rust-src to the nightly toolchain"
  rustup component add rust-src --toolchain nightly ||
    echo "could not add rust-src: release builds will build the WASM on stable" >&2
fi

# 2. wasm-bindgen CLI: must be exactly the library version (cargo-leptos does not check).
if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION\$"; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 5 minutes)"
  # Not --locked: its lockfile names a webpki-roots release the registry lacks.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

# 3. wasm-opt for release builds, from npm. Debian's binaryen (wasm-opt 108) emits broken
#    release .wasm files, so it must never be the one on PATH.
if ! wasm-opt --version 2>/dev/null | grep -q "version ${BINARYEN_VERSION%%.*}"; then
  say "installing wasm-opt (binaryen@$BINARYEN_VERSION from npm)"
  if dpkg -s binaryen >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get remove -y binaryen
  fi
  npm install -g "binaryen@$BINARYEN_VERSION"
fi

# 4. cargo-leptos (about 18 minutes once per machine).
if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
  say "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 18 minutes, once per machine)"
  if rustup toolchain list | grep -q '^nightly'; then
    cargo +nightly install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked \
      --features no_downloads
  else
    # On stable, one locked dependency (cargo-util-schemas 0.14.2) wants a newer rustc:
    # take the published crate, pin that one dependency back, and install from the path.
    cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked \
      --features no_downloads 2>/dev/null || true
    if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
      src=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/cargo-leptos-"$CARGO_LEPTOS_VERSION" | head -n1)
      work=$(mktemp -d)
      cp -r "$src" "$work/cargo-leptos"
      grep -q '^\[workspace\]' "$work/cargo-leptos/Cargo.toml" \
        || printf '\n[workspace]\n' >>"$work/cargo-leptos/Cargo.toml"
      (cd "$work/cargo-leptos" &&
        cargo update cargo-util-schemas@0.14.2 --precise 0.14.1 &&
        cargo install --path . --locked --features no_downloads)
      rm -rf "$work"
    fi
  fi
fi

# 5. Chromium for the Playwright suite (Debian's; Playwright's own download cannot work here).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing Debian's chromium"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
  else
    echo "Chromium is missing. Install Debian's package as root: apt-get install chromium" >&2
    echo "(the end-to-end tests drive /usr/bin/chromium)" >&2
  fi
fi

# 6. Playwright test runner, pinned in end2end/package-lock.json (no browser download).
if [ -f end2end/package-lock.json ] && [ ! -d end2end/node_modules/@playwright/test ]; then
  say "installing end2end npm packages"
  (cd end2end && npm ci --no-audit --no-fund)
fi
