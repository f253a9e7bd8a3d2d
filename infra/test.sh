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
export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT"
export BAZAAR_STACK="bazaar-test-$MOTO_PORT"
export BAZAAR_API_URL="http://127.0.0.1:$API_PORT"
export SEED_SHOPS="${SEED_SHOPS:-20}" SEED_PRODUCTS="${SEED_PRODUCTS:-400}"
export HOLD_SECONDS="${HOLD_SECONDS:-900}"

log "building the workspace and its tests"
cargo build --workspace --all-targets

start_moto "$AWS_ENDPOINT_URL"
local_tool provision
local_tool seed
local_tool env > "$LOCAL_DIR/test.env"
printf 'AWS_ENDPOINT_URL=%s\nAWS_REGION=%s\nAWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\nLOG_LEVEL=warn\n' \
  "$AWS_ENDPOINT_URL" "$AWS_REGION" "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" >> "$LOCAL_DIR/test.env"

start watch "$LOCAL_DIR/watch-$API_PORT.log" \
  cargo lambda watch --ignore-changes --invoke-address 127.0.0.1 --invoke-port "$API_PORT" \
  --env-file "$LOCAL_DIR/test.env" --concurrency "${LAMBDA_CONCURRENCY:-8}"
wait_for "$BAZAAR_API_URL/health" 300 200 "${STARTED_PIDS[-1]}" || {
  tail -n 50 "$LOCAL_DIR/watch-$API_PORT.log" >&2
  die "the local API did not become healthy"
}
log "local stack up: API $BAZAAR_API_URL, emulator $AWS_ENDPOINT_URL"

cargo test --workspace "$@"
