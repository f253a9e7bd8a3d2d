#!/usr/bin/env bash
# `make test`: every test of the workspace against a private local stack, started exactly as
# `make dev` starts it (same steps, the same 10,000-product demo catalog, the same functions and
# event sources), on free ports:
#   1. moto (integration tests create their own tables and queues in it), and localstripe (the
#      Stripe adapter's integration tests read LOCALSTRIPE_URL);
#   2. the stack of `make dev` (start_stack in lib.sh) for the end-to-end tests in tests/;
#   3. a second API on the same tables whose holds last 2 s, for the hold-expiry tests;
#   4. `cargo test --workspace`;
#   5. the functions' DynamoDB requests, recorded by moto (each function signs with its own access
#      key), checked against their IAM policies in template.yaml and infra/dynamodb-access.tsv
#      (`BAZAAR_UPDATE_ACCESS=1 make test` adds new ones to the file; see infra/src/access.rs);
#   6. the smoke suite (infra/smoke/run.py, `make smoke`: the user journeys, black-box over
#      HTTP) and the API fuzz suite (infra/fuzz/run.py: schemathesis over every operation of
#      api/openapi.yaml) against the stack of 2 (SKIP_FUZZ=1 skips it);
#   7. the storefront in a real headless browser (tests/browser: Debian's chromium, installed here
#      when missing, driven by playwright-core from npm with its lock file) against both APIs
#      (BAZAAR_SKIP_BROWSER=1 skips it);
#   then everything started here is stopped. The run fails when 4, 5, 6 or 7 fails.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap stop_all EXIT
trap 'exit 130' INT TERM

MOTO_PORT=$(free_port)
API_PORT=$(free_port)
SHORT_PORT=$(free_port)
export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT"
export BAZAAR_STACK="bazaar-test-$MOTO_PORT"
export BAZAAR_API_URL="http://127.0.0.1:$API_PORT"
export BAZAAR_SHORT_HOLD_API_URL="http://127.0.0.1:$SHORT_PORT"
export HOLD_SECONDS="${HOLD_SECONDS:-900}"
# moto writes every distinct DynamoDB access here (infra/moto_server.py, Recorder).
export MOTO_RECORD_DYNAMODB="$LOCAL_DIR/dynamodb-access-$MOTO_PORT.tsv"
rm -f "$MOTO_RECORD_DYNAMODB"
# More instances per function than make dev's default: the race tests send many requests at once.
export LAMBDA_CONCURRENCY="${LAMBDA_CONCURRENCY:-8}"
# The test stack's own embedded search index (the functions and `reindex` read INDEX_DIR).
export INDEX_DIR="$LOCAL_DIR/search-index-$MOTO_PORT"
trap 'stop_all; rm -rf "$INDEX_DIR"' EXIT
# The trending schedule (15 minutes in AWS) fires every few seconds here, so tests can see it.
export LOCAL_SCHEDULE_SECONDS="${LOCAL_SCHEDULE_SECONDS:-5}"
# The end-to-end stack pays through the Stripe adapter against localstripe; BAZAAR_TEST_PAYMENTS=test
# runs it on the built-in test gateway (localstripe still runs, for the adapter's own tests).
export PAYMENTS="${BAZAAR_TEST_PAYMENTS:-stripe}"
check_payments

cargo build --workspace --all-targets
step "workspace and tests built"

# Exports LOCALSTRIPE_URL (and STRIPE_API_BASE) to everything below, the cargo tests included.
start_localstripe "$API_PORT"

# Test-only fault injection: checkout crashes after its commit for keys named fault-crash-after-commit….
EXTRA_ENV="FAULT_INJECTION=crash-after-commit" LOG_LEVEL=warn \
  start_stack "$API_PORT" "$LOCAL_DIR/test-$API_PORT.env"

LOG_LEVEL=warn HOLD_SECONDS=2 write_env "$LOCAL_DIR/test-short-$SHORT_PORT.env"
start serve-short "$LOCAL_DIR/serve-$SHORT_PORT.log" "$(local_tool_path)" serve "$SHORT_PORT" \
  "$LOCAL_DIR/test-short-$SHORT_PORT.env" --no-pump
wait_ready "$BAZAAR_SHORT_HOLD_API_URL" 120 "${STARTED_PIDS[-1]}" || die "the short-hold API did not become ready"
step "short-hold API ready: $BAZAAR_SHORT_HOLD_API_URL"

status=0
cargo test --workspace --no-fail-fast "$@" || status=$?
step "cargo test done (exit $status)"

local_tool dynamodb-access "$MOTO_RECORD_DYNAMODB" ${BAZAAR_UPDATE_ACCESS:+--update} || status=$?
step "every DynamoDB request of the functions is allowed by their policies and in infra/dynamodb-access.tsv"

# The journeys a deployed stack is checked with (`make smoke API_URL=...`), here against this stack.
"$VENV/bin/python" "$ROOT/infra/smoke/run.py" --api-url "$BAZAAR_API_URL" --auth local || status=$?
step "smoke suite done"

if [[ "${SKIP_FUZZ:-0}" != 1 ]]; then
  BAZAAR_LOCAL_TOOL="$(local_tool_path)" "$VENV/bin/python" "$ROOT/infra/fuzz/run.py" \
    --api-url "$BAZAAR_API_URL" || status=$?
  step "API fuzz suite done"
fi

# 7. The storefront in the browser: buyer, seller, a lapsing hold, a checkout in progress, a
#    declined card and an item selling out in a cart; screenshots into docs/screenshots/.
if [[ -z "${BAZAAR_SKIP_BROWSER:-}" ]]; then
  if [[ ! -x /usr/bin/chromium ]]; then
    (( EUID == 0 )) || die "the browser test needs Debian's chromium: run apt-get install -y chromium chromium-driver as root (or BAZAAR_SKIP_BROWSER=1)"
    log "installing Debian's chromium and chromium-driver"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null ||
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; } ||
      die "could not install chromium"
  fi
  (cd "$ROOT/tests/browser" && npm ci --no-audit --no-fund --loglevel=error &&
    node --test --test-reporter=spec storefront.test.mjs) || status=$?
  step "browser test done (screenshots in docs/screenshots/)"
fi
exit "$status"
