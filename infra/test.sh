#!/usr/bin/env bash
# `make test`: every test of the workspace against a private local stack.
#   1. moto on a free port (integration tests create their own tables in it);
#   2. a test stack (tables from template.yaml, a small seeded catalog) served by
#      `cargo lambda watch` on another free port, for the end-to-end tests in tests/;
#   3. `cargo test --workspace`; then everything started here is stopped.
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
# A second API on the same tables whose holds last 2 s, for the hold-expiry tests.
export BAZAAR_SHORT_HOLD_API_URL="http://127.0.0.1:$SHORT_PORT"
export SEED_SHOPS="${SEED_SHOPS:-20}" SEED_PRODUCTS="${SEED_PRODUCTS:-400}"
export HOLD_SECONDS="${HOLD_SECONDS:-900}"
# The test stack's own embedded search index (the functions and `reindex` read INDEX_DIR).
export INDEX_DIR="$LOCAL_DIR/search-index-$MOTO_PORT"
rm -rf "$INDEX_DIR"
trap 'stop_all; rm -rf "$INDEX_DIR"' EXIT

log "building the workspace and its tests"
cargo build --workspace --all-targets
log "building each function as cargo lambda watch runs it"
prebuild_functions

start_moto "$AWS_ENDPOINT_URL"
local_tool provision
local_tool seed
local_tool reindex
LOG_LEVEL=warn write_env "$LOCAL_DIR/test.env"
# Test-only fault injection (checkout crashes after commit for keys named fault-crash-after-commit…).
echo "FAULT_INJECTION=crash-after-commit" >> "$LOCAL_DIR/test.env"

start watch "$LOCAL_DIR/watch-$API_PORT.log" \
  cargo lambda watch --ignore-changes --invoke-address 127.0.0.1 --invoke-port "$API_PORT" \
  --env-file "$LOCAL_DIR/test.env" --concurrency "${LAMBDA_CONCURRENCY:-8}"
wait_for "$BAZAAR_API_URL/health" 300 200 "${STARTED_PIDS[-1]}" || {
  tail -n 50 "$LOCAL_DIR/watch-$API_PORT.log" >&2
  die "the local API did not become healthy"
}
LOG_LEVEL=warn HOLD_SECONDS=2 write_env "$LOCAL_DIR/test-short.env"
start watch-short "$LOCAL_DIR/watch-$SHORT_PORT.log" \
  cargo lambda watch --ignore-changes --invoke-address 127.0.0.1 --invoke-port "$SHORT_PORT" \
  --env-file "$LOCAL_DIR/test-short.env" --concurrency 2
wait_for "$BAZAAR_SHORT_HOLD_API_URL/health" 300 200 "${STARTED_PIDS[-1]}" || {
  tail -n 50 "$LOCAL_DIR/watch-$SHORT_PORT.log" >&2
  die "the short-hold API did not become healthy"
}
# The trending schedule (15 minutes in AWS) fires every few seconds here, so tests can see it.
export LOCAL_SCHEDULE_SECONDS="${LOCAL_SCHEDULE_SECONDS:-5}"
start pump "$LOCAL_DIR/pump-$API_PORT.log" "$(local_tool_path)" pump "$BAZAAR_API_URL"
log "local stack up: API $BAZAAR_API_URL (short holds: $BAZAAR_SHORT_HOLD_API_URL), emulator $AWS_ENDPOINT_URL"

cargo test --workspace "$@"
