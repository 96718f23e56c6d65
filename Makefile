# Whisper: the two commands a newcomer needs are `make run` and `make test`.
# Every target installs the tools it needs first (scripts/install-tools.sh, idempotent).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
export PATH := $(HOME)/.cargo/bin:$(PATH)

# Services for the PostgreSQL test variants. Unreachable services make those tests print
# "skipped", unless REQUIRE_SERVICES=1 (CI), where they fail instead.
export TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
export TEST_REDIS_URL ?= redis://127.0.0.1:6379

NATIVE := -p protocol -p migration -p server -p bench -p wasm-prune

.PHONY: run dev test tools fmt-check lint wasm-check unit e2e release clean-e2e

## Build the optimised site and serve it on http://127.0.0.1:3000 (SQLite file whisper.db):
## the release binary, with the site (precompressed) inside it, as it is deployed.
run: release
	./target/release/whisper

## Rebuild and restart on every change.
dev: tools
	cargo leptos watch

## Everything CI checks: formatting, lints (native and wasm), unit, integration, PostgreSQL
## variants, and the Playwright suite in Chromium.
test: tools fmt-check lint wasm-check unit e2e

tools:
	@bash scripts/install-tools.sh

fmt-check:
	cargo fmt --all --check

lint:
	cargo clippy $(NATIVE) -p app --features app/ssr --all-targets -- -D warnings
	cargo clippy -p app --features hydrate --target wasm32-unknown-unknown -- -D warnings

# The protocol crate must build for the browser on its own, not only through the app.
wasm-check:
	cargo build -p protocol --target wasm32-unknown-unknown

unit:
	cargo test $(NATIVE)
	cargo test -p app --lib

e2e:
	cargo leptos build
	cd end2end && npx playwright test

## Optimised build only (wasm-opt applied, Brotli and gzip copies embedded in the binary;
## the WASM built by nightly with its standard library when it can: scripts/build-release.sh);
## prints the bundle's sizes.
release: tools
	bash scripts/build-release.sh
