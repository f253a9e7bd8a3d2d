# Bazaar: the two commands are `make dev` (run the whole system locally) and `make test`.
# Both install what they need: a Python virtualenv (.venv) with the pinned moto, cargo-lambda and
# cfn-lint of infra/requirements.txt. Rust comes from rustup (see rust-toolchain.toml).

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed-$(shell sha1sum infra/requirements.txt | cut -c1-12)

.PHONY: dev test lint fmt routes events load token build-lambda deploy clean

$(STAMP): infra/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r infra/requirements.txt
	rm -f $(VENV)/.installed-* && touch $@

## make dev: moto + tables from template.yaml + seeded catalog + every route on 127.0.0.1:9000
dev: $(STAMP)
	infra/dev.sh

## make test: unit, integration (moto on a free port) and end-to-end tests; stops what it started
test: $(STAMP)
	infra/test.sh

## make lint: formatting, clippy with warnings as errors, and cfn-lint on the template
lint: $(STAMP)
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	$(VENV)/bin/cfn-lint template.yaml

fmt:
	cargo fmt --all

## make routes: regenerate CargoLambda.toml (the local router) from template.yaml
routes:
	cargo run -q -p bazaar-infra --bin bazaar-local -- routes

## make events: regenerate the sample events of events/ (one per route, for `cargo lambda invoke`)
events:
	cargo run -q -p bazaar-infra --bin bazaar-local -- events

## make load [SCENARIO=add-to-cart|get-product|checkout|feed|feed-anonymous CLIENTS=10 REQUESTS=500 LINES=2 RPS=]: latency against a running `make dev`
load:
	cargo run -q -p bazaar-e2e --bin load -- $(or $(SCENARIO),add-to-cart) --clients $(or $(CLIENTS),10) --requests $(or $(REQUESTS),500) --lines $(or $(LINES),2) $(if $(RPS),--rps $(RPS))

## make token USER=alice: a local bearer token (AUTH_MODE=local, HS256, 24 h)
token:
	@cargo run -q -p bazaar-infra --bin bazaar-local -- token "$(USER)"

## make build-lambda: release binaries for Lambda (arm64, via cargo-lambda and zig)
build-lambda: $(STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" cargo lambda build --release --arm64 --workspace --bins

## make deploy: build with SAM (rust-cargolambda) and deploy (needs AWS credentials and the SAM CLI)
deploy:
	sam build --beta-features
	sam deploy --guided

clean:
	cargo clean
	rm -rf $(VENV) .local
