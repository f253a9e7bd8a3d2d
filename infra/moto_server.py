"""moto in server mode, with every API call serialized.

moto's backends are not thread-safe: under concurrent requests its TransactWriteItems snapshots
tables while other threads change them ("dictionary changed size during iteration"), and a
condition check can interleave with another write. Real DynamoDB makes every single call atomic,
so the local stack serializes whole calls behind one lock: the server still accepts many
connections at once (threaded), but each AWS call runs alone, exactly as atomic as DynamoDB's.

Usage: moto_server.py HOST PORT
"""

import signal
import sys
import threading

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
