"""``moto_server`` with S3's conditional writes made atomic, as they are on S3.

Run as a script (``python tests/moto_atomic.py -H 127.0.0.1 -p PORT``) by ``tests/s3_server.py``.

moto (5.2) answers ``PutObject`` with ``If-Match``/``If-None-Match`` by checking the current
ETag and then storing the body, with no lock between the two, on a threaded werkzeug server:
two writers holding the same ETag can both pass the check, and one update is lost. S3 itself
guarantees that of concurrent conditional writes to one key only one succeeds (the others get
412 or 409). The racing-writer tests of ``io/conditional.py`` lost an increment this way under
load (59 of 60). This launcher wraps moto's WSGI application so that conditional writes are
served one at a time, which is the guarantee the code under test relies on; every other request
is served concurrently, as before.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

_CONDITIONS = ("HTTP_IF_MATCH", "HTTP_IF_NONE_MATCH")
_WRITES = ("PUT", "POST", "DELETE")


class AtomicConditionalWrites:
    """A WSGI middleware: a write carrying ``If-Match``/``If-None-Match`` runs, response body
    included, under one lock, so its check and its store are one step."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        conditional = environ.get("REQUEST_METHOD") in _WRITES and any(
            environ.get(h) for h in _CONDITIONS
        )
        if not conditional:
            return self.app(environ, start_response)
        with self.lock:
            result = self.app(environ, start_response)
            try:
                return [b"".join(result)]
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()


def main(argv: list[str] | None = None) -> None:
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import run_simple

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(
        args.host,
        args.port,
        AtomicConditionalWrites(app),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
