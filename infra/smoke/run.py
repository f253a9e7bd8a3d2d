#!/usr/bin/env python3
"""The smoke suite: Bazaar's user journeys, black-box over HTTP, against any stack.

`make smoke API_URL=...` runs it against a running stack; `make test` runs it against its local
stack (infra/test.sh). It needs nothing but the base URL and a way to sign users in:

- `--auth local` (the default for a local URL): tokens from the local gateway's
  `POST /_local/token`, as the storefront's user picker gets them (AUTH_MODE=local).
- `--auth cognito` (a deployed stack): users of the stack's user pool, created with the
  administrator API and signed in with the admin password flow of the smoke-test app client. That
  client exists only when the stack is deployed with `SmokeTestClient=enabled` (template.yaml,
  off by default); `--user-pool-id` and `--client-id` are the stack's outputs `UserPoolId` and
  `SmokeTestClientId`, and the AWS credentials in the environment must allow
  cognito-idp:AdminCreateUser, AdminSetUserPassword, AdminInitiateAuth and AdminDeleteUser on the pool.
  The users are deleted again at the end; the shops, listings and orders stay (they are data).

Journeys, each with its own fresh users (names carry the run's tag, so runs never collide):
  catalog   two sellers open shops and list products; reads, an owner's edit, a stranger's 403
  search    the new listings become searchable (the contract: within 5 s locally)
  feed      the anonymous feed, trending and a product's recommendations answer
  cart      a buyer holds items of both shops; a second buyer cannot hold the held unique item
  checkout  one payment, one order per shop; a retry with the same key replays; the cart empties
  orders    buyer and sellers see their orders, a stranger does not; the seller ships; the sold
            unique item cannot be held again

Every journey reports pass/fail and its time; the exit status is non-zero when any fails.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
import traceback
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlparse

import requests

ADDRESS = {
    "name": "Smoke Buyer",
    "line1": "1 Test Street",
    "city": "Portland",
    "region": "OR",
    "postal_code": "97205",
    "country": "US",
}


class Failed(AssertionError):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise Failed(message)


@dataclass
class Answer:
    status: int
    body: object
    headers: dict


class Api:
    def __init__(self, base: str, timeout: float) -> None:
        self.base = base.rstrip("/")
        self.http = requests.Session()
        self.timeout = timeout
        self.requests = 0

    def call(self, method: str, path: str, token: str | None = None, body=None, headers=None) -> Answer:
        h = dict(headers or {})
        if token:
            h["Authorization"] = f"Bearer {token}"
        self.requests += 1
        r = self.http.request(method, self.base + path, json=body, headers=h, timeout=self.timeout)
        try:
            parsed = r.json() if r.content else None
        except ValueError:
            parsed = r.text
        return Answer(r.status_code, parsed, {k.lower(): v for k, v in r.headers.items()})

    def ok(self, method: str, path: str, token: str | None = None, body=None, headers=None,
           status: tuple[int, ...] = (200,)) -> object:
        a = self.call(method, path, token, body, headers)
        check(a.status in status, f"{method} {path}: expected {status}, got {a.status}: {str(a.body)[:400]}")
        return a.body


# ------------------------------------------------------------------ signing in

class LocalUsers:
    """Tokens from the local gateway (AUTH_MODE=local)."""

    def __init__(self, api: Api) -> None:
        self.api = api

    def token(self, name: str) -> str:
        body = self.api.ok("POST", "/_local/token", body={"user": name})
        check(isinstance(body, dict) and body.get("token"), f"/_local/token gave no token: {body}")
        return body["token"]

    def cleanup(self) -> None:
        pass


class CognitoUsers:
    """Users of a deployed stack's user pool, signed in through the smoke-test app client."""

    def __init__(self, pool_id: str, client_id: str, region: str | None) -> None:
        import boto3  # in the venv (moto depends on it); only this mode needs it

        self.pool_id = pool_id
        self.client_id = client_id
        self.idp = boto3.client("cognito-idp", region_name=region or pool_id.split("_", 1)[0])
        self.created: list[str] = []

    def token(self, name: str) -> str:
        email = f"{name}@smoke.bazaar.invalid"
        password = "Sm0ke-" + secrets.token_urlsafe(18) + "aA1"
        self.idp.admin_create_user(
            UserPoolId=self.pool_id,
            Username=email,
            UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
            MessageAction="SUPPRESS",
        )
        self.created.append(email)
        self.idp.admin_set_user_password(UserPoolId=self.pool_id, Username=email, Password=password, Permanent=True)
        auth = self.idp.admin_initiate_auth(
            UserPoolId=self.pool_id,
            ClientId=self.client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )
        return auth["AuthenticationResult"]["IdToken"]

    def cleanup(self) -> None:
        for email in self.created:
            try:
                self.idp.admin_delete_user(UserPoolId=self.pool_id, Username=email)
            except Exception as e:  # noqa: BLE001 - best effort, reported
                print(f"[smoke] could not delete the user {email}: {e}", file=sys.stderr)


# ------------------------------------------------------------------ journeys

@dataclass
class Run:
    api: Api
    users: object
    tag: str
    payment_method: str
    search_seconds: float
    tokens: dict = field(default_factory=dict)
    state: dict = field(default_factory=dict)

    def token(self, alias: str) -> str:
        if alias not in self.tokens:
            self.tokens[alias] = self.users.token(f"smoke-{alias}-{self.tag}")
        return self.tokens[alias]


def journey_catalog(run: Run) -> None:
    api = run.api
    health = api.ok("GET", "/health")
    check(health.get("status") == "ok", f"/health: {health}")
    shops, products = {}, {}
    for seller, price in (("seller-a", 1800), ("seller-b", 4200)):
        shop = api.ok("POST", "/shops", run.token(seller), {
            "name": f"Smoke {seller} {run.tag}",
            "description": "A shop of the smoke suite.",
            "shipping": {"base_cents": 400, "per_extra_item_cents": 150},
        }, status=(201,))
        check(shop["owner_id"] and shop["name"].endswith(run.tag), f"shop: {shop}")
        shops[seller] = shop["id"]
    # A one-of-a-kind piece and a small batch in shop A, a batch in shop B.
    for key, seller, title, qty, price in (
        ("unique", "seller-a", "Smoke walnut bowl", 1, 5400),
        ("batch-a", "seller-a", "Smoke linen napkin", 6, 1200),
        ("batch-b", "seller-b", "Smoke stoneware mug", 8, 2600),
    ):
        p = api.ok("POST", f"/shops/{shops[seller]}/products", run.token(seller), {
            "title": f"{title} {run.tag}",
            "description": f"Made for the smoke run {run.tag}.",
            "price_cents": price,
            "quantity": qty,
            "category": "home-decor",
            "tags": ["smoke", run.tag],
        }, status=(201,))
        check(p["quantity"] == qty and p["available"] == qty, f"new product: {p}")
        products[key] = p["id"]
    # Public reads.
    shop = api.ok("GET", f"/shops/{shops['seller-a']}")
    check(shop["id"] == shops["seller-a"], f"GET shop: {shop}")
    product = api.ok("GET", f"/products/{products['unique']}")
    check(product["shop"]["id"] == shops["seller-a"] and product["available"] == 1, f"GET product: {product}")
    # The owner edits; a stranger may not.
    edited = api.ok("PATCH", f"/products/{products['batch-a']}", run.token("seller-a"), {"price_cents": 1100})
    check(edited["price_cents"] == 1100, f"PATCH product: {edited}")
    denied = api.call("PATCH", f"/products/{products['batch-a']}", run.token("seller-b"), {"price_cents": 1})
    check(denied.status == 403, f"a stranger's PATCH: {denied.status} {denied.body}")
    check(api.call("GET", f"/products/no-such-{run.tag}").status == 404, "an unknown product is 404")
    run.state.update(shops=shops, products=products)


def journey_search(run: Run) -> None:
    wanted = set(run.state["products"].values())
    started = time.monotonic()
    while True:
        found = run.api.ok("GET", f"/search?q={run.tag}&page_size=10")
        ids = {p["id"] for p in found["products"]}
        if wanted <= ids:
            break
        check(time.monotonic() - started < run.search_seconds,
              f"search for {run.tag}: {len(wanted & ids)} of {len(wanted)} listings after {run.search_seconds} s")
        time.sleep(0.25)
    run.state["search_visible_s"] = round(time.monotonic() - started, 2)
    check(found["degraded"] is False, "search answered degraded")
    facets = run.api.ok("GET", "/search?q=mug&sort=price_asc&page_size=5")
    prices = [p["price_cents"] for p in facets["products"]]
    check(prices == sorted(prices), f"price_asc is not sorted: {prices}")


def journey_feed(run: Run) -> None:
    feed = run.api.ok("GET", "/feed")
    check(feed["personalized"] is False and isinstance(feed["sections"], list), f"anonymous feed: {feed}")
    trending = run.api.ok("GET", "/trending")
    check(isinstance(trending["products"], list), f"trending: {trending}")
    recs = run.api.ok("GET", f"/products/{run.state['products']['batch-b']}/recommendations")
    check(isinstance(recs["products"], list), f"recommendations: {recs}")
    signed_in = run.api.ok("GET", "/feed", run.token("buyer"))
    check(isinstance(signed_in["sections"], list), f"signed-in feed: {signed_in}")


def journey_cart(run: Run) -> None:
    api, p = run.api, run.state["products"]
    buyer = run.token("buyer")
    api.ok("POST", "/cart/items", buyer, {"product_id": p["unique"], "quantity": 1})
    api.ok("POST", "/cart/items", buyer, {"product_id": p["batch-a"], "quantity": 2})
    cart = api.ok("POST", "/cart/items", buyer, {"product_id": p["batch-b"], "quantity": 1})
    check(len(cart["shops"]) == 2 and cart["item_count"] == 4, f"cart: {cart}")
    expected = sum(s["subtotal_cents"] + s["shipping_cents"] for s in cart["shops"])
    check(cart["total_cents"] == expected, f"cart total: {cart}")
    shop_a = next(s for s in cart["shops"] if s["shop_id"] == run.state["shops"]["seller-a"])
    check(shop_a["subtotal_cents"] == 5400 + 2 * 1100 and shop_a["shipping_cents"] == 400 + 2 * 150,
          f"shop A's subtotal and shipping: {shop_a}")
    check(api.ok("GET", "/cart", buyer) == cart, "GET /cart differs from the last write's cart")
    # The unique piece is held: nobody else can have it.
    other = api.call("POST", "/cart/items", run.token("rival"), {"product_id": p["unique"], "quantity": 1})
    check(other.status == 409 and other.body.get("code") == "unavailable", f"a held unique item: {other.status} {other.body}")
    check(api.ok("GET", f"/products/{p['unique']}")["available"] == 0, "a held unique item shows available 0")
    run.state["cart_total"] = cart["total_cents"]


def journey_checkout(run: Run) -> None:
    api, buyer = run.api, run.token("buyer")
    body = {"shipping_address": ADDRESS, "payment_method": run.payment_method}
    key = {"Idempotency-Key": f"smoke-{run.tag}"}
    placed = api.call("POST", "/checkout", buyer, body, key)
    check(placed.status == 201, f"checkout: {placed.status} {placed.body}")
    orders = placed.body["orders"]
    check(len(orders) == 2 and placed.body["total_cents"] == run.state["cart_total"], f"checkout: {placed.body}")
    check({o["shop_id"] for o in orders} == set(run.state["shops"].values()), "one order per shop")
    check(all(o["status"] == "paid" for o in orders), f"orders not paid: {orders}")
    again = api.call("POST", "/checkout", buyer, body, key)
    check(again.status == 201 and again.body == placed.body, f"a retry is not the same answer: {again.status}")
    check(again.headers.get("idempotent-replayed") == "true", "a retry lacks Idempotent-Replayed: true")
    cart = api.ok("GET", "/cart", buyer)
    check(cart["item_count"] == 0, f"the cart after checkout: {cart}")
    run.state["orders"] = {o["shop_id"]: o["order_id"] for o in orders}


def journey_orders(run: Run) -> None:
    api, shops, orders = run.api, run.state["shops"], run.state["orders"]
    buyer = run.token("buyer")
    mine = api.ok("GET", "/orders", buyer)["orders"]
    check(set(orders.values()) <= {o["order_id"] for o in mine}, f"the buyer's orders: {mine}")
    order_a = orders[shops["seller-a"]]
    check(api.ok("GET", f"/orders/{order_a}", buyer)["order_id"] == order_a, "the buyer reads the order")
    check(api.call("GET", f"/orders/{order_a}", run.token("rival")).status == 404, "a stranger reads an order")
    seller = run.token("seller-a")
    listed = api.ok("GET", f"/shops/{shops['seller-a']}/orders", seller)["orders"]
    check(order_a in {o["order_id"] for o in listed}, "the seller's order list")
    check(api.call("GET", f"/shops/{shops['seller-a']}/orders", run.token("seller-b")).status == 403,
          "another seller reads a shop's orders")
    shipped = api.ok("POST", f"/orders/{order_a}/shipment", seller,
                     {"carrier": "USPS", "tracking_number": f"SMOKE{run.tag}".upper()[:30]})
    check(shipped["status"] == "shipped", f"shipment: {shipped}")
    check(api.ok("GET", f"/orders/{order_a}", buyer)["status"] == "shipped", "the buyer sees the shipment")
    gone = api.call("POST", "/cart/items", run.token("rival"), {"product_id": run.state["products"]["unique"]})
    check(gone.status == 409 and gone.body.get("available") == 0, f"the sold unique item: {gone.status} {gone.body}")


JOURNEYS = [
    ("catalog", journey_catalog),
    ("search", journey_search),
    ("feed", journey_feed),
    ("cart", journey_cart),
    ("checkout", journey_checkout),
    ("orders", journey_orders),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--api-url", default=os.environ.get("API_URL", "http://127.0.0.1:9000"))
    parser.add_argument("--auth", choices=["local", "cognito"], default=None,
                        help="how users sign in (default: local for a loopback URL, else cognito)")
    parser.add_argument("--user-pool-id", default=os.environ.get("USER_POOL_ID"))
    parser.add_argument("--client-id", default=os.environ.get("SMOKE_CLIENT_ID"))
    parser.add_argument("--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))
    parser.add_argument("--payment-method", default=os.environ.get("PAYMENT_METHOD", "pm_card_visa"))
    parser.add_argument("--search-seconds", type=float, default=float(os.environ.get("SMOKE_SEARCH_SECONDS", 60)),
                        help="how long a new listing may take to become searchable")
    parser.add_argument("--timeout", type=float, default=30, help="per request, seconds")
    args = parser.parse_args()

    api = Api(args.api_url, args.timeout)
    host = urlparse(api.base).hostname or ""
    auth = args.auth or ("local" if host in ("127.0.0.1", "localhost", "::1") else "cognito")
    if auth == "cognito":
        if not (args.user_pool_id and args.client_id):
            print("[smoke] --auth cognito needs --user-pool-id and --client-id (USER_POOL_ID, SMOKE_CLIENT_ID): "
                  "the stack's outputs UserPoolId and SmokeTestClientId (deploy with SmokeTestClient=enabled)",
                  file=sys.stderr)
            return 2
        users = CognitoUsers(args.user_pool_id, args.client_id, args.region)
    else:
        users = LocalUsers(api)

    run = Run(api, users, uuid.uuid4().hex[:10], args.payment_method, args.search_seconds)
    print(f"[smoke] {api.base} (auth {auth}, run {run.tag})", file=sys.stderr, flush=True)
    failures = 0
    started = time.monotonic()
    try:
        for name, journey in JOURNEYS:
            t0 = time.monotonic()
            try:
                journey(run)
                print(f"[smoke] pass  {name:<9} {time.monotonic() - t0:6.2f} s", file=sys.stderr, flush=True)
            except Exception as e:  # noqa: BLE001 - every failure is reported, then the run stops
                failures += 1
                detail = str(e) if isinstance(e, Failed) else traceback.format_exc()
                print(f"[smoke] FAIL  {name:<9} {time.monotonic() - t0:6.2f} s: {detail}", file=sys.stderr, flush=True)
                break  # later journeys build on earlier ones
    finally:
        users.cleanup()
    ran = len(JOURNEYS) if not failures else None
    print(f"[smoke] {'passed' if not failures else 'FAILED'}: "
          f"{ran if ran is not None else 'stopped after a failure'}"
          f"{' journeys' if ran is not None else ''}, {api.requests} requests, "
          f"{time.monotonic() - started:.1f} s; new listings searchable after "
          f"{run.state.get('search_visible_s', '?')} s", file=sys.stderr, flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
