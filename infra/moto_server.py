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

Usage: moto_server.py HOST PORT
"""

import copy
import signal
import sys
import threading

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


class Serialized:
    """WSGI middleware: one request at a time through the wrapped app, body included."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            result = self.app(environ, start_response)
            try:
                return [b"".join(result)]
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()


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
