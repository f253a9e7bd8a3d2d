#!/usr/bin/env python3
"""The API fuzz suite: schemathesis against every operation of api/openapi.yaml, on real data.

`make test` runs it (infra/test.sh) after `cargo test`, against the same local stack; `make fuzz`
runs it against a running `make dev` (API_URL=..., default http://127.0.0.1:9000).

1. Real data, through the API itself: local tokens for the run's users (minted with
   `bazaar-local token USER`, as `make token` does: the stack runs AUTH_MODE=local), a shop and
   products of a seller, three orders of a buyer (one left paid for the shipment, one shipped for
   the review, one left paid for the cancellation), lines in the buyer's cart and in a shopper's,
   and products and shops of other owners from the catalog (the seeded demo catalog locally).
2. schemathesis (pinned in infra/requirements.txt) with infra/fuzz/schemathesis.toml: a fixed seed
   and deterministic generation, a bounded number of examples per operation, every phase. This
   script appends the run's objects to that configuration as fuzz dictionaries, so that path
   parameters (and the cart's product_id) hit real objects most of the time, and hands the
   users' tokens to infra/fuzz/fuzz_hooks.py, which decides who sends each request (including
   other users against those objects) and adds the suite's own checks.
3. A summary: requests made, server errors, undocumented statuses, schema mismatches and every
   other failed check. The exit status is non-zero when schemathesis or any count says so.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SPEC = ROOT / "api" / "openapi.yaml"
CONFIG = HERE / "schemathesis.toml"

ADDRESS = {
    "name": "Fuzz Buyer",
    "line1": "1 Test Street",
    "city": "Portland",
    "region": "OR",
    "postal_code": "97205",
    "country": "US",
}


def log(message: str) -> None:
    print(f"[fuzz] {message}", file=sys.stderr, flush=True)


class SetupError(RuntimeError):
    pass


def mint_token(user: str) -> str:
    """A local bearer token for `user`, as `make token USER=...` mints it."""
    tool = os.environ.get("BAZAAR_LOCAL_TOOL")
    if tool:
        cmd = [tool, "token", user]
    else:
        cmd = ["cargo", "run", "-q", "-p", "bazaar-infra", "--bin", "bazaar-local", "--", "token", user]
    out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True)
    return out.stdout.strip()


class Api:
    """The setup's client: every answer is checked (the setup must not fail silently)."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.http = requests.Session()
        self.requests = 0

    def call(self, method: str, path: str, token: str | None = None, body=None, headers=None,
             expect: tuple[int, ...] = (200, 201, 204)):
        h = dict(headers or {})
        if token:
            h["Authorization"] = f"Bearer {token}"
        self.requests += 1
        r = self.http.request(method, self.base + path, json=body, headers=h, timeout=60)
        if r.status_code not in expect:
            raise SetupError(f"setup: {method} {path} answered {r.status_code}: {r.text[:500]}")
        return r.json() if r.content else None


def wait_healthy(api: Api, seconds: int) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if api.http.get(api.base + "/health", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise SetupError(f"the API at {api.base} is not healthy (GET /health)")
        time.sleep(0.5)


def setup(api: Api, run_tag: str) -> dict:
    """The run's users, tokens and objects (see the module docstring)."""
    users = {
        "seller": f"fuzz-seller-{run_tag}",
        "buyer": f"fuzz-buyer-{run_tag}",
        "stranger": f"fuzz-stranger-{run_tag}",
        # Checks out (see fuzz_hooks.SENDERS): the buyer's cart keeps its lines for the line
        # operations, the shopper's is what checkout consumes.
        "shopper": f"fuzz-shopper-{run_tag}",
    }
    # createShop is sent by users who own no shop yet: each may open one.
    users.update({f"newcomer{i}": f"fuzz-newcomer{i}-{run_tag}" for i in range(4)})
    tokens = {alias: mint_token(user) for alias, user in users.items()}
    seller, buyer = tokens["seller"], tokens["buyer"]

    shop = api.call("POST", "/shops", seller, {
        "name": f"Fuzz Workshop {run_tag}",
        "description": "The fuzz suite's shop.",
        "shipping": {"base_cents": 300, "per_extra_item_cents": 100},
    })

    def product(title: str, quantity: int) -> str:
        return api.call("POST", f"/shops/{shop['id']}/products", seller, {
            "title": f"{title} {run_tag}", "price_cents": 2500, "quantity": quantity,
            "category": "home-decor", "tags": ["fuzz"],
        })["id"]

    own_products = [product("Fuzz mug", 500), product("Fuzz bowl", 500), product("Fuzz vase", 500)]
    doomed = [product(f"Fuzz seconds {i}", 5) for i in range(3)]

    def order(n: int) -> str:
        api.call("POST", "/cart/items", buyer, {"product_id": own_products[0], "quantity": 1})
        placed = api.call("POST", "/checkout", buyer, {"shipping_address": ADDRESS, "payment_method": "pm_card_visa"},
                          headers={"Idempotency-Key": f"fuzz-setup-{run_tag}-{n}"}, expect=(201,))
        return placed["orders"][0]["order_id"]

    to_ship, shipped, to_cancel = order(1), order(2), order(3)
    api.call("POST", f"/orders/{shipped}/shipment", seller, {"carrier": "USPS", "tracking_number": f"FUZZ{run_tag}"})
    # Lines in the buyer's cart for the line operations (set a quantity, remove), and one in the
    # shopper's, so that checkout's valid cases can succeed.
    for product_id in own_products:
        api.call("POST", "/cart/items", buyer, {"product_id": product_id, "quantity": 1})
    api.call("POST", "/cart/items", tokens["shopper"], {"product_id": own_products[1], "quantity": 1})

    # Other owners' listings (the seeded catalog on the local stack): public reads, carts and
    # favorites use them, and the seller's writes on them are cross-user attempts.
    hits = api.call("GET", "/search?page_size=40")["products"]
    owners = {shop["id"]: users["seller"]}
    others, other_shops = [], []
    for hit in hits:
        if hit["shop_id"] not in owners:
            owners[hit["shop_id"]] = api.call("GET", f"/shops/{hit['shop_id']}")["owner_id"]
        if owners[hit["shop_id"]] not in users.values():
            others.append(hit["id"])
            if hit["shop_id"] not in other_shops:
                other_shops.append(hit["shop_id"])
        if len(others) >= 4 and len(other_shops) >= 2:
            break
    if not others:
        raise SetupError("setup: the catalog has no listing of another owner (is the stack seeded?)")

    product_owner = {p: users["seller"] for p in own_products + doomed}
    product_owner.update({hit["id"]: owners[hit["shop_id"]] for hit in hits if hit["id"] in others})
    return {
        "users": users,
        "tokens": tokens,
        # Who may act on each object (cross-user checks of fuzz_hooks.py).
        "shop_owner": {s: owners[s] for s in [shop["id"], *other_shops]},
        "product_owner": product_owner,
        "orders": {o: {"buyer": users["buyer"], "seller": users["seller"]} for o in (to_ship, shipped, to_cancel)},
        # Names for every real id: the hooks hash cases with these instead of the run's ids, so
        # that who sends a case does not depend on the ids a run happened to get.
        "aliases": {
            shop["id"]: "own-shop",
            **{s: f"other-shop-{i}" for i, s in enumerate(other_shops)},
            **{p: f"own-product-{i}" for i, p in enumerate(own_products)},
            **{p: f"doomed-product-{i}" for i, p in enumerate(doomed)},
            **{p: f"other-product-{i}" for i, p in enumerate(others)},
            to_ship: "order-to-ship", shipped: "order-shipped", to_cancel: "order-to-cancel",
        },
        # The fuzz dictionaries (the [[operations]] of schemathesis.toml bind them).
        "dictionaries": {
            "shops": [shop["id"], *other_shops],
            # The owner-only shop operations: the seller's shop three times in four.
            "shops_to_manage": [shop["id"], shop["id"], shop["id"], other_shops[0]],
            "products": [*own_products, *others],
            "products_to_edit": [*own_products, others[0]],
            "products_to_delete": [*doomed, others[0]],
            "orders": [to_ship, shipped, to_cancel],
            # Disjoint: the operations do not run in the contract's order, and a cancellation
            # of the order to ship would leave shipOrder nothing to ship.
            "orders_to_ship": [to_ship],
            "orders_to_cancel": [to_cancel],
            "orders_to_review": [shipped],
        },
    }


def toml_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def write_config(run_dir: Path, fixtures: dict) -> Path:
    """schemathesis.toml of this run: the suite's settings plus the run's fuzz dictionaries."""
    text = CONFIG.read_text()
    extra = ["", "# ---- appended by infra/fuzz/run.py: this run's objects", ""]
    for name, values in fixtures["dictionaries"].items():
        extra.append(f"[dictionaries.{name}]")
        extra.append("values = [" + ", ".join(toml_string(v) for v in values) + "]")
        extra.append("")
    path = run_dir / "schemathesis.toml"
    path.write_text(text + "\n".join(extra))
    return path


SCHEMA_CHECKS = ("response_schema_conformance", "content_type_conformance", "response_headers_conformance")


def failed_checks(ndjson: Path) -> Counter:
    """Failed checks by name, one per failing test case, from schemathesis' event report."""
    failed: Counter = Counter()
    if not ndjson.exists():
        return failed
    with ndjson.open() as events:
        for line in events:
            event = json.loads(line).get("ScenarioFinished")
            if not event:
                continue
            for results in (event.get("recorder") or {}).get("checks", {}).values():
                for result in results:
                    if result.get("status") == "failure":
                        failed[result["name"]] += 1
    return failed


def summarize(stats: dict, failed: Counter, report: dict | None, st_exit: int, seconds: float,
              setup_requests: int) -> int:
    undocumented = failed.get("status_code_conformance", 0)
    mismatches = sum(failed.get(name, 0) for name in SCHEMA_CHECKS)
    server_errors = stats.get("server_errors", 0)
    others = {k: v for k, v in failed.items()
              if k not in ("status_code_conformance", "not_a_server_error", *SCHEMA_CHECKS)}
    lines = [
        "",
        "================ API fuzz summary ================",
        f"operations fuzzed:       {len(stats.get('operations', {}))} of the contract's {stats.get('contract_operations', '?')}",
        f"requests made:           {stats.get('requests', 0)} (and {setup_requests} for the setup)",
        f"responses by status:     {json.dumps(dict(sorted(stats.get('statuses', {}).items())))}",
        f"server errors (5xx):     {server_errors}",
        f"undocumented statuses:   {undocumented}",
        f"schema mismatches:       {mismatches}",
    ]
    for name, count in sorted(others.items()):
        lines.append(f"{name + ':':<25}{count} failing case(s)")
    if report is not None:
        lines.append(f"schemathesis:            {report['test_cases']['generated']} test cases, exit status {st_exit}")
        for failure in report.get("failures", []):
            lines.append(f"  {failure['code']} {failure['title']}: {failure['count']} "
                         f"({', '.join(failure.get('operations', [])[:6])})")
        for error in report.get("errors", []):
            lines.append(f"  error: {json.dumps(error)[:300]}")
    lines.append(f"run time:                {seconds:.0f} s")
    ok = st_exit == 0 and server_errors == 0 and undocumented == 0 and mismatches == 0 and not others
    lines.append("result:                  " + ("PASS" if ok else "FAIL (the failures are listed above)"))
    # One closing line in the plain "N passed, N failed" form, by operation.
    failing = {op for f in (report or {}).get("failures", []) for op in f.get("operations", [])}
    tested = (report or {}).get("operations", {}).get("tested", 0)
    if not ok and not failing:
        failing = {"(the run)"}
    lines.append(f"fuzz: {max(tested - len(failing), 0)} passed, {len(failing)} failed")
    print("\n".join(lines), flush=True)
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--api-url", default=os.environ.get("API_URL")
                        or os.environ.get("BAZAAR_API_URL") or "http://127.0.0.1:9000")
    parser.add_argument("--max-examples", type=int, help="override generation.max-examples")
    parser.add_argument("--workers", help="override workers")
    parser.add_argument("--run-dir", help="where the run's config, reports and stats go (default .local/fuzz-<tag>)")
    parser.add_argument("--timeout", type=int, default=900,
                        help="wall-clock limit of the schemathesis run, in seconds (default 900)")
    parser.add_argument("st_args", nargs="*", help="extra arguments for `st run` (after --)")
    args = parser.parse_args()

    started = time.monotonic()
    run_tag = uuid.uuid4().hex[:8]
    if args.run_dir:
        run_dir = Path(args.run_dir)
    else:
        run_dir = ROOT / ".local" / f"fuzz-{time.strftime('%Y%m%d-%H%M%S')}-{run_tag}"
        # Keep the files of the last few runs only (the event report is several MB).
        for old in sorted(run_dir.parent.glob("fuzz-*"))[:-4]:
            shutil.rmtree(old, ignore_errors=True)
    run_dir.mkdir(parents=True, exist_ok=True)
    api = Api(args.api_url)
    log(f"API {api.base}; run {run_tag}; files in {run_dir}")
    wait_healthy(api, 60)
    fixtures = setup(api, run_tag)
    log(f"setup: {len(fixtures['users'])} users, {api.requests} requests "
        f"({len(fixtures['dictionaries']['products'])} products, {len(fixtures['orders'])} orders)")
    fixtures_path = run_dir / "fixtures.json"
    fixtures_path.write_text(json.dumps(fixtures, indent=2))
    config = write_config(run_dir, fixtures)

    stats_path = run_dir / "stats.json"
    report_path = run_dir / "report.json"
    ndjson_path = run_dir / "events.ndjson"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))
    env["BAZAAR_FUZZ_FIXTURES"] = str(fixtures_path)
    env["BAZAAR_FUZZ_STATS"] = str(stats_path)
    st = shutil.which("st", path=str(Path(sys.executable).parent)) or "st"
    cmd = [st, "--config-file", str(config), "run", str(SPEC), "--url", api.base, "--no-color",
           "--report", "json,ndjson,junit", "--report-dir", str(run_dir),
           "--report-json-path", str(report_path), "--report-ndjson-path", str(ndjson_path)]
    if args.max_examples:
        cmd += ["--max-examples", str(args.max_examples)]
    if args.workers:
        cmd += ["--workers", args.workers]
    cmd += args.st_args
    log("running: " + " ".join(cmd))
    try:
        st_exit = subprocess.run(cmd, cwd=run_dir, env=env, timeout=args.timeout).returncode
    except subprocess.TimeoutExpired:
        log(f"schemathesis did not finish within {args.timeout} s: stopped")
        st_exit = 124
    stats = json.loads(stats_path.read_text()) if stats_path.exists() else {}
    report = json.loads(report_path.read_text()) if report_path.exists() else None
    return summarize(stats, failed_checks(ndjson_path), report, st_exit, time.monotonic() - started, api.requests)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SetupError as e:
        log(str(e))
        sys.exit(2)
