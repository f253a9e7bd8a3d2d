#!/usr/bin/env bash
# `make dev`: the whole system on this machine.
#   moto (AWS emulator) at AWS_ENDPOINT_URL (and localstripe with PAYMENTS=stripe), tables provisioned from template.yaml, the demo catalog
#   seeded and indexed, and every route of template.yaml served on 127.0.0.1:$API_PORT by the local
#   API Gateway + Lambda service (`bazaar-local serve`), which also plays the template's event sources.
#   Each step prints its time since `make dev` started; the last line, with the URL, comes only
#   when every function answers and the event pipeline is empty.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

export AWS_ENDPOINT_URL="${AWS_ENDPOINT_URL:-http://127.0.0.1:4566}"
export BAZAAR_STACK="${BAZAAR_STACK:-bazaar-dev}"
API_PORT="${API_PORT:-9000}"
# Payments: the built-in test gateway by default; PAYMENTS=stripe runs the Stripe adapter against
# localstripe (started and stopped with the stack; LOCALSTRIPE_PORT to pin its port).
export PAYMENTS="${PAYMENTS:-test}"
trap stop_all EXIT
trap 'exit 130' INT TERM

answers "http://127.0.0.1:$API_PORT/" && die "port $API_PORT is busy: is another make dev running? (set API_PORT to use another)"
step "virtualenv ready ($VENV)"

# LAMBDA_RELEASE=1 serves optimized builds (for benchmarks); the default is debug builds.
PROFILE_FLAG=${LAMBDA_RELEASE:+--release}
cargo build --workspace --bins $PROFILE_FLAG
step "functions built ${PROFILE_FLAG:-(debug)}"

start_stack "$API_PORT" "$LOCAL_DIR/dev.env"

cat >&2 <<MSG

    curl http://127.0.0.1:$API_PORT/health
    TOKEN=\$(make -s token USER=alice)
    curl -H "Authorization: Bearer \$TOKEN" -X POST http://127.0.0.1:$API_PORT/shops \\
         -H 'content-type: application/json' -d '{"name": "Alice Makes Things"}'

  Storefront: http://127.0.0.1:$API_PORT/app/ (sign in by picking any user name; the page gets its
  token from POST /_local/token, which only this local gateway has).
  Seeded shops are owned by seed-owner-000 ... seed-owner-099 (make token USER=seed-owner-000).
  Function logs: .local/logs-$API_PORT/<function>.log. Ctrl-C stops everything this command started.

MSG
step "Bazaar is ready on http://127.0.0.1:$API_PORT, storefront http://127.0.0.1:$API_PORT/app/ ($(payments_banner))"
wait "${STARTED_PIDS[-1]}"
