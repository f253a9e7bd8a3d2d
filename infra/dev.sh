#!/usr/bin/env bash
# `make dev`: the whole system on this machine.
#   moto (AWS emulator) at AWS_ENDPOINT_URL, tables provisioned from template.yaml, the demo catalog
#   seeded, and every route of template.yaml served by `cargo lambda watch` on 127.0.0.1:9000.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

export AWS_ENDPOINT_URL="${AWS_ENDPOINT_URL:-http://127.0.0.1:4566}"
export BAZAAR_STACK="${BAZAAR_STACK:-bazaar-dev}"
API_PORT="${API_PORT:-9000}"
trap stop_all EXIT
trap 'exit 130' INT TERM

answers "http://127.0.0.1:$API_PORT/" && die "port $API_PORT is busy: is another make dev running? (set API_PORT to use another)"

# LAMBDA_RELEASE=1 serves optimized builds (for benchmarks); the default is debug builds.
PROFILE_FLAG=${LAMBDA_RELEASE:+--release}
log "building the workspace ${PROFILE_FLAG}"
cargo build --workspace --bins $PROFILE_FLAG
prebuild_functions $PROFILE_FLAG
start_moto "$AWS_ENDPOINT_URL"

log "provisioning tables from template.yaml into $AWS_ENDPOINT_URL"
local_tool provision
log "seeding the demo catalog (SEED_PRODUCTS=${SEED_PRODUCTS:-10000}, skipped when already seeded)"
local_tool seed
local_tool reindex
write_env "$LOCAL_DIR/dev.env"

cat >&2 <<MSG

  Bazaar is starting on http://127.0.0.1:$API_PORT  (routes from template.yaml, AUTH_MODE=local)

    curl http://127.0.0.1:$API_PORT/health
    TOKEN=\$(make -s token USER=alice)
    curl -H "Authorization: Bearer \$TOKEN" -X POST http://127.0.0.1:$API_PORT/shops \\
         -H 'content-type: application/json' -d '{"name": "Alice Makes Things"}'

  Seeded shops are owned by seed-owner-000 ... seed-owner-099 (make token USER=seed-owner-000).
  Ctrl-C stops everything this command started.

MSG
cd "$ROOT"
setsid cargo lambda watch $PROFILE_FLAG --invoke-address 127.0.0.1 --invoke-port "$API_PORT" --env-file "$LOCAL_DIR/dev.env" \
  --concurrency "${LAMBDA_CONCURRENCY:-4}" < /dev/null &
WATCH_PID=$!
STARTED_PIDS+=("$WATCH_PID")
wait_for "http://127.0.0.1:$API_PORT/health" 300 200 "$WATCH_PID" || die "the local API did not start"
# Lambda's event-source mappings (SQS queues, the table stream) played against the local functions.
start pump "$LOCAL_DIR/pump.log" "$(local_tool_path)" pump "http://127.0.0.1:$API_PORT"
wait "$WATCH_PID"
