"""schemathesis hooks of the API fuzz suite (infra/fuzz/run.py loads them through schemathesis.toml).

* Who sends each request: an auth provider gives every case the token of one of the run's users
  (or none), from a per-operation rotation (see `sender`): deterministic for a given seed, and
  independent of the ids a run happens to get. Owner-only operations are sent mostly by the
  owner and sometimes by someone else.
* The suite's own checks, beside schemathesis' built-in ones:
  - `cross_user_refused`: a user acting on another user's shop, product or order never gets a
    2xx, and an order's existence never leaks to a user who may not see it (404, not 403);
  - `problem_details`: every error is `application/problem+json` whose `status` is the HTTP
    status and whose `type` is `https://bazaar.dev/problems/{code}` (API Gateway's own
    `{"message"}` answers excepted: the authorizer's 401, an unrouted request's 404, a 413);
  - `webhook_unsigned_refused`: the payment provider's webhook refuses everything the fuzzer
    sends with 400 (it cannot sign; see `paymentsWebhook` below);
  - `EveryOperationReached` (after the run): each operation answered 2xx (or 409, a conflict
    with a real object's state) at least once, so the real data did reach real objects (the
    webhook excepted, for the same reason).
* Statistics for run.py's summary: every HTTP request schemathesis sends (checks' probes
  included), their statuses, and the cases sent per operation (the failed checks come from
  schemathesis' own event report).
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import re
import threading
from collections import Counter

import requests
import schemathesis

FIXTURES = json.loads(open(os.environ["BAZAAR_FUZZ_FIXTURES"]).read())
TOKENS: dict[str, str] = FIXTURES["tokens"]
USERS: dict[str, str] = FIXTURES["users"]
SUB_OF_TOKEN = {f"Bearer {token}": USERS[alias] for alias, token in TOKENS.items()}
ALIASES: dict[str, str] = FIXTURES["aliases"]

# Who sends each operation's cases: one entry per hash bucket (None = anonymous). Owner-only
# operations are sent by the owner 3 times in 4 (or 2 in 4) and otherwise by another user.
# Per-user resources (cart, favorites, own orders, notifications) have no "other user's" object
# to reach: the stranger's share there just exercises an empty cart or list.
OWNER_OR_STRANGER = ["seller", "seller", "seller", "stranger"]
BUYER_OR_STRANGER = ["buyer", "buyer", "buyer", "stranger"]
PUBLIC = [None, "buyer"]
SENDERS: dict[str, list[str | None]] = {
    "getHealth": [None],
    # The webhook is public and signed by the provider, never by a user (it ignores tokens).
    "paymentsWebhook": [None],
    "createShop": [f"newcomer{i}" for i in range(4)],
    "getShop": PUBLIC,
    "updateShop": OWNER_OR_STRANGER,
    "createProduct": OWNER_OR_STRANGER,
    "listShopOrders": OWNER_OR_STRANGER,
    "connectPayoutAccount": OWNER_OR_STRANGER,
    "listShopPayouts": OWNER_OR_STRANGER,
    "getProduct": PUBLIC,
    "updateProduct": OWNER_OR_STRANGER,
    "deleteProduct": OWNER_OR_STRANGER,
    "getRecommendations": PUBLIC,
    # The buyer's cart keeps lines for the line operations; checkout mostly empties the shopper's.
    "addCartItem": ["buyer", "buyer", "shopper", "stranger"],
    "checkout": ["shopper", "shopper", "shopper", "stranger"],
    "getOrder": ["buyer", "buyer", "seller", "stranger"],
    "shipOrder": ["seller", "seller", "buyer", "stranger"],
    "cancelOrder": ["seller", "seller", "buyer", "stranger"],
    "reviewOrder": ["buyer", "buyer", "seller", "stranger"],
    "searchProducts": PUBLIC,
    "getFeed": PUBLIC,
    "getTrending": PUBLIC,
}

# The relation an operation needs between its caller and the object of its path.
SHOP_OWNER = {"updateShop", "createProduct", "listShopOrders", "connectPayoutAccount", "listShopPayouts"}
PRODUCT_OWNER = {"updateProduct", "deleteProduct"}
ORDER_RELATION = {"getOrder": ("buyer", "seller"), "shipOrder": ("seller",), "cancelOrder": ("seller",),
                  "reviewOrder": ("buyer",)}

GATEWAY_STATUSES = {401, 404, 413}
PROBLEM_TYPE = "https://bazaar.dev/problems/"
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


_lock = threading.Lock()


def operation_id(case) -> str:
    return case.operation.definition.raw.get("operationId", case.operation.label)


def _normalized(value):
    """`value` with the run's ids replaced by their names and other server ids by `<id>`."""
    if isinstance(value, str):
        if value in ALIASES:
            return ALIASES[value]
        return UUID.sub("<id>", value)
    if isinstance(value, dict):
        return {str(k): _normalized(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_normalized(v) for v in value]
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    # Anything else (e.g. the marker of an absent body) by its type: its repr may hold an address.
    return type(value).__name__


_seen: Counter = Counter()


def sender(case) -> str | None:
    """Who sends `case`, from the operation's rotation: the case's content (its generated parts,
    the run's ids by name) picks the starting point, and each further case with the same content
    goes to the next user. Deterministic for a given seed (the cases come in the same order), and
    an operation whose cases differ only by the object of their path (a cancellation, a deletion)
    still reaches each object as its owner and as someone else."""
    choices = SENDERS.get(operation_id(case), BUYER_OR_STRANGER)
    if len(choices) == 1:
        return choices[0]
    parts = [case.operation.label, case.method, case.path_parameters, case.query, case.body]
    digest = hashlib.sha256(json.dumps(_normalized(parts), sort_keys=True).encode()).digest()
    with _lock:
        nth = _seen[digest]
        _seen[digest] += 1
    return choices[(digest[0] + nth) % len(choices)]


# No token expires during a run (24 h): no reactive refresh (retry_on=[]), no caching (each case
# gets its own sender).
@schemathesis.auth(refresh_interval=None, retry_on=[])
class RunUsers:
    """The token of the case's sender (none for an anonymous case)."""

    def get(self, case, ctx):
        who = sender(case)
        return TOKENS[who] if who else None

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


# ---------------------------------------------------------------- statistics

STATS: dict = {"requests": 0, "statuses": Counter(), "server_errors": 0, "operations": Counter(),
               "statuses_by_operation": {}, "contract_operations": None}
_send = requests.Session.send


def _counting_send(self, request, **kwargs):
    """Every request schemathesis sends goes through here (generated cases and checks' probes)."""
    response = _send(self, request, **kwargs)
    with _lock:
        STATS["requests"] += 1
        STATS["statuses"][str(response.status_code)] += 1
        if response.status_code >= 500:
            STATS["server_errors"] += 1
    return response


requests.Session.send = _counting_send


@schemathesis.hook
def after_load_schema(ctx, schema):
    paths = schema.raw_schema.get("paths", {})
    methods = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
    STATS["contract_operations"] = sum(1 for item in paths.values() for m in item if m in methods)


@schemathesis.hook
def after_call(ctx, case, response):
    op = operation_id(case)
    with _lock:
        STATS["operations"][op] += 1
        STATS["statuses_by_operation"].setdefault(op, Counter())[str(response.status_code)] += 1


@atexit.register
def _write_stats():
    path = os.environ.get("BAZAAR_FUZZ_STATS")
    if path:
        with _lock, open(path, "w") as f:
            json.dump(STATS, f, indent=2, sort_keys=True)


# ---------------------------------------------------------------- checks


def _caller(response) -> str | None:
    """The user whose token the request carried (None: anonymous or an unknown token)."""
    return SUB_OF_TOKEN.get(response.request.headers.get("Authorization", ""))


def _body(response):
    try:
        return json.loads(response.content)
    except (ValueError, TypeError):
        return None


@schemathesis.check
def cross_user_refused(ctx, response, case):
    op = operation_id(case)
    caller = _caller(response)
    status = response.status_code
    if caller is None:
        return None
    params = case.path_parameters or {}
    if op in SHOP_OWNER:
        owner = FIXTURES["shop_owner"].get(str(params.get("shop_id")))
        if owner is not None and owner != caller and 200 <= status < 300:
            raise AssertionError(f"{caller} got {status} from {op} on a shop owned by {owner}")
    elif op in PRODUCT_OWNER:
        owner = FIXTURES["product_owner"].get(str(params.get("product_id")))
        if owner is not None and owner != caller and 200 <= status < 300:
            raise AssertionError(f"{caller} got {status} from {op} on a product of {owner}'s shop")
    elif op in ORDER_RELATION:
        parties = FIXTURES["orders"].get(str(params.get("order_id")))
        if parties is None:
            return None
        allowed = {parties[role] for role in ORDER_RELATION[op]}
        if caller not in allowed and 200 <= status < 300:
            raise AssertionError(f"{caller} got {status} from {op} on an order of {parties}")
        if caller not in parties.values() and status == 403:
            raise AssertionError(f"{op}: a user who may not see the order learned that it exists (403, not 404)")
    return None


def _header(response, name: str) -> str:
    values = response.headers.get(name.lower()) or response.headers.get(name) or []
    return values[0] if isinstance(values, list) and values else (values or "")


@schemathesis.check
def problem_details(ctx, response, case):
    status = response.status_code
    if status < 400:
        return None
    content_type = _header(response, "content-type").split(";")[0].strip().lower()
    body = _body(response)
    if (status in GATEWAY_STATUSES and content_type == "application/json" and isinstance(body, dict)
            and set(body) == {"message"}):
        return None  # API Gateway's own answer (documented as GatewayMessage where it applies)
    if content_type != "application/problem+json":
        raise AssertionError(f"a {status} answered {content_type or 'no content type'}, not application/problem+json")
    if not isinstance(body, dict):
        raise AssertionError(f"a {status} problem document is not a JSON object")
    code = body.get("code")
    if body.get("status") != status:
        raise AssertionError(f"problem `status` {body.get('status')!r} differs from the HTTP status {status}")
    if not isinstance(code, str) or body.get("type") != PROBLEM_TYPE + code:
        raise AssertionError(f"problem `type` {body.get('type')!r} does not name its `code` {code!r}")
    return None


@schemathesis.check
def webhook_unsigned_refused(ctx, response, case):
    # paymentsWebhook is fuzzed like every operation, but a fuzzer cannot produce a valid
    # Stripe-Signature (HMAC of the body with the endpoint secret, fresh timestamp): whatever it
    # sends must be refused as 400 (invalid_signature, or a malformed body) and never applied.
    if (operation_id(case) == "paymentsWebhook" and response.request.method == "POST"
            and response.status_code != 400):
        raise AssertionError(f"the webhook answered {response.status_code} to an unsigned request (expected 400)")
    return None


@schemathesis.check
class EveryOperationReached:
    """Each operation reached its business logic at least once: it answered 2xx, or 409 (a
    conflict with the state of a real object the caller may act on: a shop name taken by an
    earlier run on a reused stack, an order the run cancelled before shipping it)."""

    UNREACHABLE_BY_DESIGN = {"paymentsWebhook"}

    def __init__(self):
        self.tested: set[str] = set()
        self.reached: set[str] = set()

    def after_response(self, ctx, response, case):
        op = operation_id(case)
        self.tested.add(op)
        if 200 <= response.status_code < 300 or response.status_code == 409:
            self.reached.add(op)
        return None

    def after_run(self, ctx):
        missed = self.tested - self.reached - self.UNREACHABLE_BY_DESIGN
        if missed:
            raise AssertionError("never answered 2xx or 409: " + ", ".join(sorted(missed)))
