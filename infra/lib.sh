# Shared shell helpers of the local stack (sourced by dev.sh and test.sh).
# Every process started here runs in its own session (setsid) so that stopping it stops its children.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
export PATH="$VENV/bin:$PATH"
LOCAL_DIR="$ROOT/.local"
mkdir -p "$LOCAL_DIR"

# Dummy credentials and a region for the emulator (moto accepts any).
export AWS_REGION="${AWS_REGION:-us-east-1}"
export AWS_DEFAULT_REGION="$AWS_REGION"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"

log() { printf '\033[1;34m[bazaar]\033[0m %s\n' "$*" >&2; }

# The start of this command (the Makefile passes the time it started, before the virtualenv).
T0="${BAZAAR_T0:-$(date +%s%N)}"
# step WHAT: a start-up step done, with the time since the command started.
step() {
  local ms=$(( ($(date +%s%N) - T0) / 1000000 ))
  printf '\033[1;34m[bazaar %4d.%ds]\033[0m %s\n' $((ms / 1000)) $((ms % 1000 / 100)) "$*" >&2
}
die() { printf '\033[1;31m[bazaar]\033[0m %s\n' "$*" >&2; exit 1; }

# free_port: an unused TCP port on the loopback interface.
free_port() {
  "$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# answers URL: true when something answers HTTP at URL (any status).
answers() { curl -s -o /dev/null --max-time 2 "$1"; }

# wait_for URL SECONDS [STATUS [PID]]: wait until URL answers (with STATUS when given);
# gives up early when process PID has exited.
wait_for() {
  local url="$1" deadline=$((SECONDS + $2)) want="${3:-}" pid="${4:-}" code
  while (( SECONDS < deadline )); do
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
      return 1
    fi
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url" || true)
    if [[ -n "$want" && "$code" == "$want" ]] || [[ -z "$want" && "$code" != "000" ]]; then
      return 0
    fi
    sleep 0.5
  done
  return 1
}

STARTED_PIDS=()

# start NAME LOGFILE CMD...: run CMD in its own session in the background, remember its pid.
start() {
  local name="$1" logfile="$2"; shift 2
  setsid "$@" >"$logfile" 2>&1 < /dev/null &
  local pid=$!
  STARTED_PIDS+=("$pid")
  echo "$pid" > "$LOCAL_DIR/$name.pid"
  log "started $name (pid $pid, log $logfile)"
}

# stop_all: stop every process group this script started, then make sure they are gone.
stop_all() {
  local pid
  for pid in "${STARTED_PIDS[@]}"; do
    kill -TERM -- "-$pid" 2>/dev/null || true
  done
  for _ in $(seq 1 50); do
    local alive=0
    for pid in "${STARTED_PIDS[@]}"; do
      if kill -0 -- "-$pid" 2>/dev/null; then alive=1; fi
    done
    (( alive == 0 )) && break
    sleep 0.1
  done
  for pid in "${STARTED_PIDS[@]}"; do
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
  STARTED_PIDS=()
}

# start_moto URL: start moto in server mode at URL unless something already answers there
# (LocalStack, or a moto you started yourself).
start_moto() {
  local url="$1" hostport host port
  if answers "$url"; then
    log "an AWS emulator already answers at $url; using it"
    return 0
  fi
  hostport="${url#*://}"; hostport="${hostport%%/*}"
  host="${hostport%:*}"; port="${hostport##*:}"
  start moto "$LOCAL_DIR/moto-$port.log" "$VENV/bin/python" "$ROOT/infra/moto_server.py" "$host" "$port"
  wait_for "$url/moto-api/" 60 "" "${STARTED_PIDS[-1]}" || die "moto did not start at $url (see $LOCAL_DIR/moto-$port.log)"
}

# The Stripe keys of the local functions with PAYMENTS=stripe (as infra/src/local.rs's
# LOCAL_STRIPE_*): localstripe accepts any sk_ key, and signs its webhooks with the secret the
# webhook was registered with.
LOCAL_STRIPE_SECRET_KEY=sk_test_local
LOCAL_STRIPE_WEBHOOK_SECRET=whsec_local

# check_payments: PAYMENTS must be test (the built-in test gateway) or stripe (localstripe).
check_payments() {
  case "${PAYMENTS:-test}" in
    test|stripe) ;;
    *) die "PAYMENTS=$PAYMENTS: use test (the built-in test gateway) or stripe (localstripe)" ;;
  esac
}

# start_localstripe API_PORT: localstripe (the Stripe API emulator of the venv) on LOCALSTRIPE_PORT
# or a free port, fresh (--from-scratch: nothing of an earlier run), with the webhook endpoint of
# the local API on API_PORT registered (signed with LOCAL_STRIPE_WEBHOOK_SECRET). Exports
# STRIPE_API_BASE (for the functions' environment) and LOCALSTRIPE_URL (for the Stripe adapter's
# integration tests). A second call (another API port) only registers that API's webhook.
# Started like moto, in its own session: stop_all stops it with the stack.
start_localstripe() {
  local api_port="$1" port
  if [[ -z "${LOCALSTRIPE_STARTED:-}" ]]; then
    port="${LOCALSTRIPE_PORT:-$(free_port)}"
    LOCALSTRIPE_URL="http://127.0.0.1:$port"
    if answers "$LOCALSTRIPE_URL/"; then
      log "something already answers at $LOCALSTRIPE_URL; using it as localstripe"
    else
      start localstripe "$LOCAL_DIR/localstripe-$port.log" "$VENV/bin/localstripe" --port "$port" --from-scratch
      wait_for "$LOCALSTRIPE_URL/v1/customers" 30 "" "${STARTED_PIDS[-1]}" ||
        die "localstripe did not start at $LOCALSTRIPE_URL (see $LOCAL_DIR/localstripe-$port.log)"
    fi
    LOCALSTRIPE_STARTED=1
    export LOCALSTRIPE_URL STRIPE_API_BASE="$LOCALSTRIPE_URL"
    step "localstripe up at $LOCALSTRIPE_URL"
  fi
  # localstripe's own configuration endpoint: POST /_config/webhooks/<id> (url, secret[, events]).
  curl -fsS -o /dev/null --max-time 5 -X POST "$LOCALSTRIPE_URL/_config/webhooks/bazaar-$api_port" \
    --data-urlencode "url=http://127.0.0.1:$api_port/payments/webhook" \
    --data-urlencode "secret=$LOCAL_STRIPE_WEBHOOK_SECRET" ||
    die "could not register the webhook with localstripe at $LOCALSTRIPE_URL"
}

# payments_banner: which payments provider the stack's functions use.
payments_banner() {
  if [[ "${PAYMENTS:-test}" == stripe ]]; then
    echo "payments: Stripe API of localstripe at $STRIPE_API_BASE (webhooks to /payments/webhook)"
  else
    echo "payments: the built-in test gateway (PAYMENTS=stripe for localstripe)"
  fi
}

# local_tool ARGS...: run the bazaar-local tool (built by cargo).
local_tool_path() {
  if [[ -n "${LAMBDA_RELEASE:-}" ]]; then echo "$ROOT/target/release/bazaar-local"; else echo "$ROOT/target/debug/bazaar-local"; fi
}
local_tool() { "$(local_tool_path)" "$@"; }

# write_env FILE: the functions' environment, derived from template.yaml (with overrides from this
# shell's environment, e.g. HOLD_SECONDS), plus the emulator's address and dummy credentials.
write_env() {
  {
    if [[ "${PAYMENTS:-test}" == stripe ]]; then
      # The local keys, whatever this shell holds (a real STRIPE_SECRET_KEY is for the tests that
      # run against Stripe's test mode, never for the functions that talk to localstripe).
      STRIPE_SECRET_KEY="$LOCAL_STRIPE_SECRET_KEY" STRIPE_WEBHOOK_SECRET="$LOCAL_STRIPE_WEBHOOK_SECRET" local_tool env
    else
      local_tool env
    fi
    printf 'AWS_ENDPOINT_URL=%s\nAWS_REGION=%s\nAWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\n' \
      "$AWS_ENDPOINT_URL" "$AWS_REGION" "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY"
    # Extra KEY=VALUE lines (the test stack's fault injection).
    if [[ -n "${EXTRA_ENV:-}" ]]; then printf '%s\n' "$EXTRA_ENV"; fi
  } > "$1"
}

# wait_ready API_URL SECONDS PID: wait until the local Lambda service has started an instance of
# every function, its event sources have nothing in hand, and /health answers 200.
wait_ready() {
  local api="$1" deadline=$((SECONDS + $2)) pid="$3" status
  while (( SECONDS < deadline )); do
    kill -0 "$pid" 2>/dev/null || return 1
    status=$(curl -s --max-time 5 "$api/_local/status" || true)
    if [[ "$status" == *'"ready":true'* && "$status" != *'"drained":false'* ]] &&
       [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$api/health")" == 200 ]]; then
      return 0
    fi
    sleep 0.2
  done
  return 1
}

# start_stack API_PORT ENV_FILE: the whole local stack, in the order that makes "ready" true:
#   the emulator (and localstripe with PAYMENTS=stripe); the tables with their streams off; the demo catalog loaded (as an import: no
#   stream records) and indexed from what was written; the streams on; then every function
#   (prebuilt binaries) behind the local API and the event sources, which read the streams from
#   TRIM_HORIZON. Every write after the streams are on flows through the pipeline; the seed never
#   does, so the pipeline is empty at ready and the catalog is indexed once.
start_stack() {
  local port="$1" env_file="$2" fresh=0
  check_payments
  answers "$AWS_ENDPOINT_URL" || fresh=1
  start_moto "$AWS_ENDPOINT_URL"
  step "emulator up at $AWS_ENDPOINT_URL"
  # PAYMENTS=stripe: the functions call localstripe (started here, stopped with the stack).
  if [[ "${PAYMENTS:-test}" == stripe ]]; then start_localstripe "$port"; fi
  local_tool provision --import
  step "tables and queues provisioned from template.yaml"
  # A new emulator holds only the seed: an index left by an earlier run would hold listings the
  # new table does not.
  if (( fresh )); then rm -rf "${INDEX_DIR:-$LOCAL_DIR/search-index}"; fi
  local_tool seed --index
  step "demo catalog seeded and indexed (SEED_PRODUCTS=${SEED_PRODUCTS:-10000})"
  local_tool streams
  step "table stream on"
  write_env "$env_file"
  start serve "$LOCAL_DIR/serve-$port.log" "$(local_tool_path)" serve "$port" "$env_file"
  wait_ready "http://127.0.0.1:$port" 180 "${STARTED_PIDS[-1]}" || {
    tail -n 30 "$LOCAL_DIR/serve-$port.log" >&2
    die "the local API did not become ready (logs: $LOCAL_DIR/serve-$port.log, $ROOT/.local/logs-$port/)"
  }
  step "every function answers; the event pipeline is empty; $(payments_banner)"
}
