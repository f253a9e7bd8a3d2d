# Bazaar: the two commands are `make dev` (run the whole system locally) and `make test`.
# Both install what they need: a Python virtualenv (.venv) with the pinned moto and cfn-lint of
# infra/requirements.txt. Rust comes from rustup (see rust-toolchain.toml). Only the Lambda builds
# (`make build-lambda`, `make deploy`, `make validate`) need the SAM CLI, cargo-lambda and zig
# (infra/requirements-deploy.txt), in their own virtualenv (.venv-deploy: the SAM CLI pins boto3
# and click to versions other than the test tools').

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed-$(shell sha1sum infra/requirements.txt | cut -c1-12)
DEPLOY_VENV := .venv-deploy
DEPLOY_STAMP := $(DEPLOY_VENV)/.installed-$(shell sha1sum infra/requirements-deploy.txt | cut -c1-12)
# The deploy tools (sam, cargo-lambda, zig) first on PATH; no SAM CLI telemetry.
DEPLOY_PATH := PATH="$(CURDIR)/$(DEPLOY_VENV)/bin:$$PATH" SAM_CLI_TELEMETRY=0
# make deploy STAGE=dev|prod: the samconfig.toml environment (stack bazaar-<stage>).
STAGE ?= dev
# When this make started: the local stack prints each start-up step's time since then.
export BAZAAR_T0 := $(shell date +%s%N)

.PHONY: dev test smoke fuzz lint fmt events invoke load token build-lambda lambda-target validate deploy deploy-web clean

$(STAMP): infra/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r infra/requirements.txt
	rm -f $(VENV)/.installed-* && touch $@

$(DEPLOY_STAMP): infra/requirements-deploy.txt
	$(PYTHON) -m venv $(DEPLOY_VENV)
	$(DEPLOY_VENV)/bin/pip install --quiet --disable-pip-version-check -r infra/requirements-deploy.txt
	rm -f $(DEPLOY_VENV)/.installed-* && touch $@

## make dev: moto + tables from template.yaml + seeded and indexed catalog + every route and event source on 127.0.0.1:9000
dev: $(STAMP)
	infra/dev.sh

## make test: unit, integration (moto on a free port) and end-to-end tests against a stack started as make dev starts it
test: $(STAMP)
	infra/test.sh

## make smoke [API_URL=http://127.0.0.1:9000] [USER_POOL_ID=… SMOKE_CLIENT_ID=…]: the user journeys (catalog,
## search, feed, cart, checkout, orders) black-box over HTTP against any stack: a running `make dev`, or a
## deployed one (users from its pool through the smoke-test app client: deploy with SmokeTestClient=enabled)
smoke: $(STAMP)
	$(VENV)/bin/python infra/smoke/run.py --api-url $(or $(API_URL),http://127.0.0.1:9000)

## make fuzz [API_URL=http://127.0.0.1:9000]: the API fuzz suite (schemathesis over every operation of api/openapi.yaml, on real data) against a running `make dev`
fuzz: $(STAMP)
	$(VENV)/bin/python infra/fuzz/run.py --api-url $(or $(API_URL),http://127.0.0.1:9000)

## make lint: formatting, clippy with warnings as errors, and cfn-lint on the template
lint: $(STAMP)
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	$(VENV)/bin/cfn-lint template.yaml

fmt:
	cargo fmt --all

## make events: regenerate the sample events of events/ (one per route, for `cargo lambda invoke`)
events:
	cargo run -q -p bazaar-infra --bin bazaar-local -- events

## make invoke EVENT=events/cart/get-cart.json [API=http://127.0.0.1:9000]: send a sample event to its
## function through the local Invoke API, with a fresh 5-minute token for its user (events carry none)
invoke:
	@test -n "$(EVENT)" || { echo "usage: make invoke EVENT=events/<function>/<route>.json"; exit 2; }
	@cargo run -q -p bazaar-infra --bin bazaar-local -- sign-event "$(EVENT)" | \
	  curl -sS -X POST "$(or $(API),http://127.0.0.1:9000)/2015-03-31/functions/$(notdir $(patsubst %/,%,$(dir $(EVENT))))/invocations" --data-binary @-
	@echo

## make load [SCENARIO=add-to-cart|get-product|search|checkout|feed|feed-anonymous|import CLIENTS= REQUESTS= LINES=2 RPS=]: latency (import: freshness) against a running `make dev`
load:
	cargo run -q -p bazaar-e2e --bin load -- $(or $(SCENARIO),add-to-cart) $(if $(CLIENTS),--clients $(CLIENTS)) $(if $(REQUESTS),--requests $(REQUESTS)) $(if $(LINES),--lines $(LINES)) $(if $(RPS),--rps $(RPS))

## make token USER=alice: a local bearer token (AUTH_MODE=local, HS256, 24 h)
token:
	@cargo run -q -p bazaar-infra --bin bazaar-local -- token "$(USER)"

## make build-lambda: release binaries for Lambda (arm64, via cargo-lambda and zig). The local
## tooling (bazaar-infra, the cold-start benchmark and its hello-world baseline) and the e2e tests are left out: they enable the embedded search engine,
## which would otherwise be compiled into the search, feed and indexer binaries (AWS runs OpenSearch).
build-lambda: $(DEPLOY_STAMP) lambda-target
	$(DEPLOY_PATH) cargo lambda build --release --arm64 --workspace --bins --exclude bazaar-infra --exclude bazaar-e2e --exclude coldstart --exclude hello

# The functions run on Graviton: the Rust standard library for arm64 Linux (rustup, once).
lambda-target:
	@rustup target list --installed | grep -qx aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu

## make coldstart [RUNS=20]: the release functions for this machine (x86_64) and a hello-world baseline in one build,
## checked for the 8 MB budget and for local-only code, then cold-started against a mock Lambda Runtime API (infra/release.sh)
.PHONY: coldstart
coldstart:
	infra/release.sh $(or $(RUNS),20)

## make validate: sam validate --lint (the pinned SAM CLI; offline, any region)
validate: $(DEPLOY_STAMP)
	$(DEPLOY_PATH) AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} sam validate --lint

## make deploy [STAGE=dev|prod] [PARAMS="AlarmEmail=ops@example.com …"]: check AWS credentials, build
## every function with SAM (rust-cargolambda: release, arm64), deploy the stack bazaar-<stage> (samconfig.toml)
deploy: $(DEPLOY_STAMP) lambda-target
	$(DEPLOY_VENV)/bin/python infra/deploy-preflight.py
	$(DEPLOY_PATH) sam build --beta-features --config-env $(STAGE)
	$(DEPLOY_PATH) sam deploy --config-env $(STAGE) $(if $(PARAMS),--parameter-overrides "Stage=$(STAGE) $(PARAMS)")

## make deploy-web [STAGE=dev|prod] [STACK=bazaar-<stage>]: upload the storefront (web/) and its config.json to the deployed stack (needs the AWS CLI)
deploy-web:
	infra/deploy-web.sh $(or $(STACK),bazaar-$(STAGE))

clean:
	cargo clean
	rm -rf $(VENV) $(DEPLOY_VENV) .local
