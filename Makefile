# NeoSC — the two commands of the README, and the steps they are made of.
#   make run    build the release site and serve it on SQLite (DEMO=1 adds demo data)
#   make test   fmt and clippy gates, Rust tests on SQLite and PostgreSQL, then Playwright against a fresh server
#   make bench  the organization list under load with 10,000 organizations and 1,000,000 users;
#               200 workspaces started at once and the workspace list with 10,000 rows;
#               the audit log filtered and exported with 10,000,000 events (scripts/bench-audit.sh);
#               bundle bytes, a first visit in Chromium, the console page against /healthz;
#               memory and fairness under password sign-ins (scripts/bench-memory.sh)
# Every tool is installed here when missing; when present, each check is quick.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

CARGO_LEPTOS_VERSION := 0.3.10
WASM_BINDGEN_VERSION := 0.2.130
export PATH := $(CURDIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

DATABASE_URL ?= sqlite://data/neosc.db
DEMO ?=
SITE_ADDR ?= 127.0.0.1:3000
ORGS ?= 10000
USERS ?= 1000000
# Extra arguments for `npx playwright test` in `make e2e`, e.g. E2E_ARGS=tests/domains.spec.ts
E2E_ARGS ?=

.PHONY: help tools build run test lint engine postgres test-rust e2e bench migrate clean

help:
	@echo "make run     build and serve http://$(SITE_ADDR) on SQLite (DEMO=1 loads demo data)"
	@echo "make test    run the fmt/clippy gates and every test suite (Rust on SQLite + PostgreSQL, Playwright)"
	@echo "make lint    only the gates: cargo fmt --check, clippy -D warnings (server and WASM)"
	@echo "make bench   GET /api/organizations next to /healthz (p50/p99, req/s) on SQLite and PostgreSQL"
	@echo "             with 100/1000, $(ORGS)/1000 and $(ORGS)/$(USERS) organizations/users (ORGS=, USERS=)"
	@echo "make tools   install the build tools that are missing"

tools: node_modules/.installed end2end/node_modules/.installed
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	@rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
	@rustup component list --installed | grep -q '^clippy' || rustup component add clippy
	@cargo leptos --version 2>/dev/null | grep -q "$(CARGO_LEPTOS_VERSION)" || \
		cargo install cargo-leptos --version $(CARGO_LEPTOS_VERSION) --locked --features no_downloads
	@# Not --locked: wasm-bindgen-cli's own lockfile names a crate version the registry lacks.
	@wasm-bindgen --version 2>/dev/null | grep -q "$(WASM_BINDGEN_VERSION)" || \
		cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION)
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

end2end/node_modules/.installed: end2end/package.json end2end/package-lock.json
	cd end2end && npm ci --no-audit --no-fund
	@touch $@

# The site's files get content-hashed names (hash-files in Cargo.toml), then
# brotli and gzip copies next to them (scripts/precompress.mjs), which the
# server sends by the request's Accept-Encoding.
build: tools
	cargo leptos build --release
	node scripts/precompress.mjs target/site

run: build
	@# The demo's workspaces run on Docker; without it they stay pending.
	@scripts/workspace-engine.sh || echo "make run: no workspace engine could be started; workspaces stay pending"
	@mkdir -p data
	DATABASE_URL='$(DATABASE_URL)' LEPTOS_SITE_ADDR='$(SITE_ADDR)' LEPTOS_ENV=PROD \
		NEOSC_DEMO='$(if $(DEMO),1,0)' ./target/release/neosc serve

migrate:
	DATABASE_URL='$(DATABASE_URL)' cargo run --features ssr --bin neosc -- migrate

test: tools lint test-rust api-contract build e2e

# Gates before any suite: formatting, and clippy with warnings as errors on
# the server (every target: library, binaries, tests) and on the WASM
# client, which compiles other code paths (cfg(feature = "hydrate")).
lint: tools
	cargo fmt --check
	cargo clippy --all-targets --features ssr -- -D warnings
	cargo clippy --lib --features hydrate --target wasm32-unknown-unknown -- -D warnings

# Both databases: PostgreSQL at NEOSC_TEST_POSTGRES_URL (default the local
# server); with CI=true an unreachable PostgreSQL fails instead of skipping.
# The Docker driver's tests run against the real engine: with CI=true an
# engine that does not answer fails them.
test-rust: engine postgres
	cargo test --features ssr

# A PostgreSQL server for the suites, started (or installed) when missing
# (scripts/postgres.sh says how).
postgres:
	scripts/postgres.sh

# A Docker Engine on the local socket and the workspace image, made when
# missing (scripts/workspace-engine.sh says how).
engine:
	scripts/workspace-engine.sh

# A fresh SQLite file and six free ports for every run: NeoSC, the test
# OpenID Provider (end2end/oidc/provider.mjs), the SMTP sink
# (end2end/smtp/sink.mjs: SMTP in, and HTTP where the tests read what
# arrived), and the DNS server (end2end/dns/server.mjs: DNS over UDP, which
# NeoSC asks for the TXT records that prove a domain, and HTTP where the
# tests publish them). The six sockets are bound at once (the DNS one as
# UDP), so the ports differ. Playwright starts all four, waits for them,
# and stops them when done.
e2e: tools
	@read -r port oidc_port smtp_port smtp_http_port dns_port dns_http_port < <(python3 -c 'import socket; ss=[socket.socket() for _ in range(5)] + [socket.socket(socket.AF_INET, socket.SOCK_DGRAM)]; [s.bind(("127.0.0.1", 0)) for s in ss]; p=[s.getsockname()[1] for s in ss]; print(*p[:4], p[5], p[4])'); \
	dir=$$(mktemp -d); \
	echo "e2e: server on 127.0.0.1:$$port, OpenID Provider on 127.0.0.1:$$oidc_port, SMTP sink on 127.0.0.1:$$smtp_port (mail read at :$$smtp_http_port), DNS server on udp 127.0.0.1:$$dns_port (records published at :$$dns_http_port), database $$dir/e2e.db"; \
	status=0; \
	(cd end2end && NEOSC_E2E_PORT=$$port NEOSC_E2E_OIDC_PORT=$$oidc_port NEOSC_E2E_SMTP_PORT=$$smtp_port NEOSC_E2E_SMTP_HTTP_PORT=$$smtp_http_port \
		NEOSC_E2E_DNS_PORT=$$dns_port NEOSC_E2E_DNS_HTTP_PORT=$$dns_http_port NEOSC_E2E_DB="$$dir/e2e.db" npx playwright test $(E2E_ARGS)) || status=$$?; \
	rm -rf "$$dir"; exit $$status

# The OpenAPI document is the contract (scripts/api-contract.sh): redocly
# lint, then Schemathesis (--checks all) against a fresh debug server on a
# temporary SQLite file, signed in as the platform admin. Schemathesis
# lives in .venv, pinned in scripts/api-contract-requirements.txt.
.PHONY: api-contract

.venv/.installed: scripts/api-contract-requirements.txt
	python3 -m venv .venv
	.venv/bin/pip install --quiet --disable-pip-version-check -r scripts/api-contract-requirements.txt
	@touch $@

api-contract: node_modules/.installed .venv/.installed
	cargo build --features ssr --bin neosc
	scripts/api-contract.sh

# Not part of `make test`. Seeds fresh databases with `neosc dev seed` (a
# temporary SQLite file; a PostgreSQL database at NEOSC_TEST_POSTGRES_URL's
# server, created and dropped), serves each on a free port and measures it
# with neosc-bench; see scripts/bench.sh for the knobs (DURATION,
# CONCURRENCY, BACKENDS, PAGE). LEPTOS_OUTPUT_NAME is set as cargo-leptos
# sets it (Leptos compiles it in), so the two builds do not invalidate each
# other's compiled Leptos crates.
# bench-assets.sh needs the built site (make build): bundle sizes, the first
# visit in Chromium, and the /organizations page against /healthz.
bench: engine postgres build
	LEPTOS_OUTPUT_NAME=neosc cargo build --release --features ssr --bin neosc --bin neosc-bench
	ORGS='$(ORGS)' USERS='$(USERS)' scripts/bench.sh
	scripts/bench-workspaces.sh
	scripts/bench-audit.sh
	scripts/bench-assets.sh
	scripts/bench-memory.sh

clean:
	cargo clean
	rm -rf node_modules end2end/node_modules end2end/test-results
