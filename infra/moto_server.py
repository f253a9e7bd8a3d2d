"""moto in server mode, with every API call serialized.

moto's backends are not thread-safe: under concurrent requests its TransactWriteItems snapshots
tables while other threads change them ("dictionary changed size during iteration"), and a
condition check can interleave with another write. Real DynamoDB makes every single call atomic,
so the local stack serializes whole calls behind one lock: the server still accepts many
connections at once (threaded), but each AWS call runs alone, exactly as atomic as DynamoDB's.

It also replaces moto's transaction rollback snapshot. moto deep-copies the *whole table*
(every item and every stream record ever written) once per action of every TransactWriteItems,
which grows without bound and was OOM-killed under load with the 10,000-product seed. Here the
snapshot deep-copies only the partitions the transaction touches, and a rolled-back transaction's
stream records are dropped, as DynamoDB never emits them.

And a Query reads only its partition: moto's Query sorts every item of the table (all_items)
before filtering by hash key, which made each Query take ~300 ms at 10,000 products — for the base
table and for an index (whose partition is found by one pass over the items, without the sort).

And SQS receives do not slow down with the queue's length (see `_retained` below).

With MOTO_RECORD_DYNAMODB=FILE it records what each caller asks of DynamoDB, as IAM would see it
(see `Recorder`): the local stack gives every function its own access key, so FILE says which
actions on which table, index and partition-key prefixes each function used.

Usage: moto_server.py HOST PORT
"""

import copy
import datetime
import functools
import io
import json
import os
import re
import signal
import time
import sys
import threading

import moto.backends as moto_backends
import moto.dynamodb.models as dynamodb_models
import moto.sqs.models as sqs_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.core.responses import ActionResult
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler
from moto.sqs.responses import SQSResponse
from moto.dynamodb.models.utilities import bytesize
from moto.dynamodb.models.table import Table

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


class Serialized:
    """WSGI middleware: one request at a time through the wrapped app, body included.

    With MOTO_PROFILE=FILE it also counts every action (its `X-Amz-Target`, or the query
    `Action`) and the time spent in it, written to FILE every 5 seconds: where the emulator's
    time goes."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()
        self.profile_file = os.environ.get("MOTO_PROFILE")
        self.recorder = Recorder.from_env()
        self.profile: dict = {}
        self.last_dump = time.monotonic()

    def __call__(self, environ, start_response):
        with self.lock:
            if self.recorder is not None:
                self.recorder.observe(environ)
            if _CPROFILE is not None:
                _CPROFILE.enable()
            started = time.perf_counter()
            result = self.app(environ, start_response)
            try:
                return [b"".join(result)]
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
                if _CPROFILE is not None:
                    _CPROFILE.disable()
                if self.profile_file:
                    self._count(environ, time.perf_counter() - started)

    def _count(self, environ, seconds):
        action = environ.get("HTTP_X_AMZ_TARGET") or environ.get("QUERY_STRING", "")[:40] or environ.get("PATH_INFO", "")
        count, total = self.profile.get(action, (0, 0.0))
        self.profile[action] = (count + 1, total + seconds)
        now = time.monotonic()
        if now - self.last_dump > 5:
            self.last_dump = now
            if _CPROFILE is not None:
                _CPROFILE.dump_stats(self.profile_file + ".pstats")
            with open(self.profile_file, "w") as f:
                for name, (n, t) in sorted(self.profile.items(), key=lambda kv: -kv[1][1]):
                    f.write(f"{t:9.3f}s {n:8d} {1000 * t / n:8.2f}ms  {name}\n")


class Recorder:
    """MOTO_RECORD_DYNAMODB=FILE: every distinct DynamoDB access, one tab-separated line each,
    appended to FILE the first time it is seen:

        <access key> <IAM action> <table>[/index/<index>] <partition-key prefixes>

    The access is what IAM authorizes: the action (a transaction is one `PutItem`, `UpdateItem`,
    `DeleteItem` or `ConditionCheckItem` per item, `TransactGetItems` one `GetItem` per item;
    `BatchGetItem` and `BatchWriteItem` are one action over every key they name) and the values
    of `dynamodb:LeadingKeys` (the partition key of each item; a `Query`'s partition, of the index
    for an index query), each reduced to its prefix: `PRODUCT#<id>` is `PRODUCT#*`, a key without
    `#` (`TRENDING`) is itself. A batch's prefixes are comma-separated (one IAM statement must
    allow them all); `*` is a request with no partition key (a `Scan`: every partition), `-` one
    that names no item (`DescribeTable`). `bazaar-local dynamodb-access` compares FILE with the
    functions' policies (infra/src/access.rs)."""

    PREFIX = "DynamoDB_20120810."

    def __init__(self, path):
        self.path = path
        self.seen = set()

    @classmethod
    def from_env(cls):
        path = os.environ.get("MOTO_RECORD_DYNAMODB")
        return cls(path) if path else None

    def observe(self, environ):
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith(self.PREFIX):
            return
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        credential = re.search(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/", environ.get("HTTP_AUTHORIZATION", ""))
        if credential is None:
            return
        key, region = credential.group(1), credential.group(2)
        try:
            request = json.loads(body or b"{}")
            accesses = list(_accesses(target[len(self.PREFIX):], request, _schema(key, region)))
        except Exception as e:  # a malformed request is moto's to answer; record that it was seen
            accesses = [(target[len(self.PREFIX):], "?", [f"unparsed: {type(e).__name__}"])]
        for action, resource, partitions in accesses:
            line = "\t".join([key, action, resource, _partitions(partitions)])
            if line not in self.seen:
                self.seen.add(line)
                with open(self.path, "a") as f:
                    f.write(line + "\n")


def _schema(access_key, region):
    """`hash_attr(table, index)`: the partition-key attribute of a table or one of its indexes."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.iam.models import get_account_id_from

    backend = dynamodb_backends[get_account_id_from(access_key)][region]

    def hash_attr(table_name, index_name=None):
        table = backend.tables.get(table_name)
        if table is None:
            return None
        if index_name is None:
            return table.hash_key_attr
        index = {i.name: i for i in table.all_indexes()}.get(index_name)
        return next((k["AttributeName"] for k in (index.schema if index else []) if k["KeyType"] == "HASH"), None)

    return hash_attr


def _value(attribute_value):
    """The string of a DynamoDB attribute value (`{"S": "PRODUCT#1"}`)."""
    if not isinstance(attribute_value, dict) or len(attribute_value) != 1:
        return "?"
    return str(next(iter(attribute_value.values())))


def _partitions(values):
    prefixes = set()
    for v in values:
        prefixes.add(v.split("#", 1)[0] + "#*" if "#" in v else v)
    return ",".join(sorted(prefixes)) or "-"


def _item_key(hash_attr, table, item):
    attr = hash_attr(table)
    return [_value(item.get(attr))] if attr is not None else ["?"]


def _query_partition(request, attr):
    names = request.get("ExpressionAttributeNames") or {}
    values = request.get("ExpressionAttributeValues") or {}
    expression = request.get("KeyConditionExpression")
    if expression:
        for name, placeholder in re.findall(r"(#?[A-Za-z0-9_]+)\s*=\s*(:[A-Za-z0-9_]+)", expression):
            if names.get(name, name) == attr:
                return _value(values.get(placeholder))
    legacy = (request.get("KeyConditions") or {}).get(attr)
    if legacy:
        return _value((legacy.get("AttributeValueList") or [None])[0])
    return "?"


def _accesses(op, request, hash_attr):
    """`(IAM action, resource, [partition key values])` of one DynamoDB request."""
    single = {"GetItem": "Key", "PutItem": "Item", "UpdateItem": "Key", "DeleteItem": "Key"}
    if op in single:
        table = request.get("TableName", "?")
        yield op, table, _item_key(hash_attr, table, request.get(single[op]) or {})
    elif op == "Query":
        table, index = request.get("TableName", "?"), request.get("IndexName")
        attr = hash_attr(table, index)
        resource = f"{table}/index/{index}" if index else table
        yield op, resource, [_query_partition(request, attr) if attr else "?"]
    elif op == "Scan":
        table, index = request.get("TableName", "?"), request.get("IndexName")
        yield op, f"{table}/index/{index}" if index else table, ["*"]
    elif op == "BatchGetItem":
        for table, spec in (request.get("RequestItems") or {}).items():
            yield op, table, [v for key in spec.get("Keys", []) for v in _item_key(hash_attr, table, key)]
    elif op == "BatchWriteItem":
        for table, writes in (request.get("RequestItems") or {}).items():
            keys = []
            for w in writes:
                item = (w.get("PutRequest") or {}).get("Item") or (w.get("DeleteRequest") or {}).get("Key") or {}
                keys.extend(_item_key(hash_attr, table, item))
            yield op, table, keys
    elif op in ("TransactWriteItems", "TransactGetItems"):
        actions = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                   "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
        for entry in request.get("TransactItems") or []:
            for kind, spec in entry.items():
                table = spec.get("TableName", "?")
                yield actions.get(kind, kind), table, _item_key(hash_attr, table, spec.get("Key") or spec.get("Item") or {})
    else:
        yield op, request.get("TableName", "-"), []


# MOTO_PROFILE=FILE with MOTO_CPROFILE=1: also a cProfile of the emulator (FILE.pstats).
_CPROFILE = None
if os.environ.get("MOTO_PROFILE") and os.environ.get("MOTO_CPROFILE"):
    import cProfile

    _CPROFILE = cProfile.Profile()


class _Touched(threading.local):
    tables: dict | None = None
    snapshots: dict | None = None


_touched = _Touched()


def _snapshot(table: Table) -> Table:
    """A rollback copy of `table` that deep-copies only the partitions being written.

    moto asks for one per action; all are taken before anything is written, so one per table
    per transaction serves them all."""
    cached = (_touched.snapshots or {}).get(table.name)
    if cached is not None:
        return cached
    snap = copy.copy(table)
    snap.items = copy.copy(table.items)
    for hash_key in (_touched.tables or {}).get(table.name, ()):
        if hash_key in table.items:
            snap.items[hash_key] = copy.deepcopy(table.items[hash_key])
    if _touched.snapshots is not None:
        _touched.snapshots[table.name] = snap
    return snap


class _CheapCopy:
    """Stands in for the `copy` module inside moto's DynamoDB backend."""

    def __getattr__(self, name):
        return getattr(copy, name)

    def deepcopy(self, obj, memo=None):
        if isinstance(obj, Table) and _touched.tables is not None:
            return _snapshot(obj)
        return copy.deepcopy(obj, memo)


_original_transact_write_items = DynamoDBBackend.transact_write_items


def _transact_write_items(self, transact_items):
    touched: dict = {}
    stream_lengths: dict = {}
    for action in transact_items:
        _, op = next(iter(action.items()))
        table = self.tables.get(op.get("TableName"))
        if table is None:
            continue
        source = op.get("Key") or op.get("Item") or {}
        if table.hash_key_attr in source:
            touched.setdefault(table.name, []).append(DynamoType(source[table.hash_key_attr]))
        if table.stream_shard is not None:
            stream_lengths[table.name] = len(table.stream_shard.items)
    _touched.tables = touched
    _touched.snapshots = {}
    try:
        return _original_transact_write_items(self, transact_items)
    except Exception:
        for name, length in stream_lengths.items():
            table = self.tables.get(name)
            if table is not None and table.stream_shard is not None:
                del table.stream_shard.items[length:]
        raise
    finally:
        _touched.tables = None
        _touched.snapshots = None


_original_query = Table.query


def _query(self, hash_key, *args, **kwargs):
    # Table.query(hash_key, range_comparison, range_objs, limit, exclusive_start_key,
    #             scan_index_forward, projection_expressions, index_name, ...)
    index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
    if index_name is None and hash_key is not None:
        partition = self.items.get(hash_key)
        if partition is None:
            only = []
        elif self.range_key_attr:
            only = list(partition.values())
        else:
            only = [partition]
        self.all_items = lambda: only
        try:
            return _original_query(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items
    if index_name is not None and hash_key is not None:
        # An index Query sorted every item of the table too (~300 ms at 10,000 products): hand it
        # only the items of its index partition, which is all it keeps of them anyway.
        index = {i.name: i for i in self.all_indexes()}.get(index_name)
        hash_attr = next(
            (k["AttributeName"] for k in (index.schema if index else []) if k["KeyType"] == "HASH"),
            None,
        )
        if hash_attr is not None:
            # One pass over the partitions, unsorted (moto's all_items() sorts the whole table).
            only = [
                i
                for part in self.items.values()
                for i in (part.values() if self.range_key_attr else [part])
                if hash_attr in i.attrs and i.attrs[hash_attr] == hash_key
            ]
            self.all_items = lambda: only
            try:
                return _original_query(self, hash_key, *args, **kwargs)
            finally:
                del self.all_items
    return _original_query(self, hash_key, *args, **kwargs)


# SQS: moto's clock builds two datetimes per reading, and every receive reads it for each message
# of the queue several times (visibility, delay, and the queue's attributes recomputed per message
# for its retention period): ~130 ms per ReceiveMessage with 500 messages queued. A plain clock
# and a direct read of the retention period make it a few milliseconds; the semantics are moto's.
_sqs_unix_time_millis = sqs_models.unix_time_millis
_list_of_moto_modules = moto_backends.list_of_moto_modules


def _fast_unix_time_millis(dt=None):
    return time.time() * 1000.0 if dt is None else _sqs_unix_time_millis(dt)


def _retained(self, queue_name, message):
    queue = self.get_queue(queue_name)
    return int(queue.message_retention_period) + message.sent_timestamp / 1000 > time.time()


# DynamoDB: an item is built attribute by attribute, and moto's size guard re-measures the whole
# item for every attribute it adds (quadratic, most of a BatchWriteItem's time). A new item is
# measured once; the 405,000-byte guard and its error are moto's own (the slow path raises it).
_original_item_init = Item.__init__


def _item_init(self, hash_key, range_key, attrs):
    converted = {k: DynamoType(v) for k, v in attrs.items()}
    if sum(bytesize(k) + v.size() for k, v in converted.items()) > 405000:
        return _original_item_init(self, hash_key, range_key, attrs)
    self.hash_key = hash_key
    self.range_key = range_key
    self.attrs = LimitedSizeDict()
    dict.update(self.attrs, converted)


Item.__init__ = _item_init


# DynamoDB Streams: GetRecords answers through moto's generic response serializer, which walks the
# API model for every value of every image (~3 ms a record). The records are stored in their wire
# form already, so they are written out as JSON directly (timestamps as epoch seconds, as the
# JSON protocol has them).
def _json_default(value):
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return value.timestamp()
    raise TypeError(f"{type(value)} is not JSON")


def _get_records(self):
    limit = self._get_param("Limit")
    result = self.backend.get_records(self._get_param("ShardIterator"), limit or 1000)
    return json.dumps(result, default=_json_default), {"Content-Type": "application/x-amz-json-1.0"}


DynamoDBStreamsHandler.get_records = _get_records

# SQS ReceiveMessage answers the same way (JSON protocol only, and only when no message carries
# message attributes, whose binary values the serializer encodes): its bodies made it the
# serializer's most expensive answer.
_original_receive_message = SQSResponse.receive_message


def _receive_message(self):
    result = _original_receive_message(self)
    messages = result.result.get("Messages", []) if isinstance(result, ActionResult) else None
    if (
        messages is None
        or not self.headers.get("X-Amz-Target")
        or any("MessageAttributes" in m for m in messages)
    ):
        return result
    return json.dumps(result.result), {"Content-Type": "application/x-amz-json-1.0"}


SQSResponse.receive_message = _receive_message

# moto lists its own package directory on every request to find the service it serves.
moto_backends.list_of_moto_modules = functools.lru_cache(maxsize=1)(
    lambda: list(_list_of_moto_modules())
)

# And every SendMessage reads the queue's attributes (for ContentBasedDeduplication), which counts
# its visible, in-flight and delayed messages through two clock readings per message: linear in
# the queue's length with a large constant (~200 ms a SendMessageBatch with 3,000 queued). The
# counts below read the clock once; the conditions are moto's (`visible`, `delayed`).
def _visible(q):
    now = _fast_unix_time_millis()
    return [m for m in q._messages if now > m.visible_at and not now < m.delayed_until]


def _in_flight(q):
    now = _fast_unix_time_millis()
    return sum(1 for m in q._messages if not now > m.visible_at)


def _delayed(q):
    now = _fast_unix_time_millis()
    return sum(1 for m in q._messages if now < m.delayed_until)


def _delete_message(self, receipt_handle):
    """moto's Queue.delete_message in one pass instead of three."""
    if receipt_handle in self.deleted_messages:
        return
    keep = []
    found = False
    for message in self._messages:
        if message.receipt_handle == receipt_handle or receipt_handle in message._old_receipt_handles:
            found = True
            self.pending_messages.discard(message)
            self.deleted_messages.update(message.all_receipt_handles)
        else:
            keep.append(message)
    if not found:
        raise sqs_models.ReceiptHandleIsInvalid()
    self._messages = keep


sqs_models.Queue.delete_message = _delete_message
# Reading a queue's attributes converts every attribute name with a regular expression, once per
# message sent: the conversions are remembered.
sqs_models.camelcase_to_underscores = functools.lru_cache(maxsize=256)(
    sqs_models.camelcase_to_underscores
)
sqs_models.Queue.messages = property(_visible)
sqs_models.Queue.approximate_number_of_messages = property(lambda q: len(_visible(q)))
sqs_models.Queue.approximate_number_of_messages_not_visible = property(_in_flight)
sqs_models.Queue.approximate_number_of_messages_delayed = property(_delayed)
sqs_models.unix_time_millis = _fast_unix_time_millis
sqs_models.SQSBackend.is_message_valid_based_on_retention_period = _retained

Table.query = _query
dynamodb_models.copy = _CheapCopy()
DynamoDBBackend.transact_write_items = _transact_write_items


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(
        host,
        port,
        Serialized(app),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
