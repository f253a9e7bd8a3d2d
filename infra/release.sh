#!/usr/bin/env bash
# `make coldstart` (and CI): the functions as they ship, built for this machine (x86_64: the
# arm64 target cannot be installed on the project's machines; `make build-lambda` builds arm64
# with cargo-lambda), then checked and measured:
#   1. one `cargo build --release` of every function and the hello-world baseline (infra/hello),
#      without the local tooling (bazaar-infra, the e2e tests), so without the features only the
#      local stack enables: the embedded engine (tantivy) and bazaar-lambda's `local` (local auth,
#      the published local secret, stub delays, fault injection);
#   2. the dependency graph of that build holds neither (`cargo tree -e features`), and no binary
#      contains their marks (strings of tantivy, the local secret, FAULT_INJECTION);
#   3. every binary is at most SIZE_BUDGET bytes (8 MB, stripped by the release profile);
#   4. the cold-start benchmark (infra/coldstart, RUNS runs per binary, default 20):
#      timings printed (and written to $LOCAL_DIR/coldstart.md), never asserted; it fails only
#      when a binary cannot start or answer, or starts with AUTH_MODE=local.
# Fails when 2, 3 or 4 fails. Usage: infra/release.sh [RUNS] (RUNS=0: no benchmark).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-20}"
SIZE_BUDGET="${SIZE_BUDGET:-8000000}"
TARGET="${CARGO_TARGET_DIR:-$PWD/target}"
LOCAL_DIR="$PWD/.local"
mkdir -p "$LOCAL_DIR"
# The packages of the release build: every workspace member but the local tooling.
EXCLUDE=(--exclude bazaar-infra --exclude bazaar-e2e --exclude coldstart)
FUNCTIONS=()
for manifest in functions/*/Cargo.toml; do
  FUNCTIONS+=("$(sed -n 's/^name = "\(.*\)"/\1/p' "$manifest" | head -1)")
done

started=$(date +%s)
cargo build --release --locked --workspace "${EXCLUDE[@]}" --bins
echo "release: built in $(( $(date +%s) - started )) s"

status=0
# 2. Nothing of the local stack in the graph or in the binaries.
local_features=$(cargo tree --locked --workspace "${EXCLUDE[@]}" -e normal,build,features --prefix none \
  | grep -E '^(tantivy v|bazaar-lambda feature "local")' | sort -u || true)
if [[ -n "$local_features" ]]; then
  echo "release: FAILED: the release build's graph holds local-only code:"; echo "$local_features"
  status=1
fi
MARKS=(tantivy bazaar-local-dev-secret FAULT_INJECTION)

# 3. Sizes, and the marks.
printf '%-14s %12s\n' binary bytes
for name in hello "${FUNCTIONS[@]}"; do
  bin="$TARGET/release/$name"
  size=$(stat -c %s "$bin")
  verdict=""
  if (( size > SIZE_BUDGET )); then verdict="  OVER the budget of $SIZE_BUDGET"; status=1; fi
  for mark in "${MARKS[@]}"; do
    if grep -q -a -F "$mark" "$bin"; then verdict+="  contains \"$mark\""; status=1; fi
  done
  printf '%-14s %12d%s\n' "$name" "$size" "$verdict"
done
(( status == 0 )) && echo "release: every binary within $SIZE_BUDGET bytes, none with local-only code"

# 4. The benchmark (infra/coldstart: a small debug build, no AWS SDK).
if (( RUNS > 0 )); then
  cargo build --locked -p coldstart
  "$TARGET/debug/coldstart" --bin-dir "$TARGET/release" --runs "$RUNS" \
    --markdown "$LOCAL_DIR/coldstart.md" || status=1
fi
exit $status
