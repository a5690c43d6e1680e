"""A real HTTP server on 127.0.0.1 for the URL provider's tests: serves files, and can misbehave
(truncate, stall, fail) the way real mirrors do."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal

Behaviour = Literal["ok", "truncate", "stall", "trickle", "not-found", "fail-once"]


@dataclass
class Route:
    body: bytes
    behaviour: Behaviour = "ok"
    stall_seconds: float = 5.0


@dataclass
class Served:
    routes: dict[str, Route] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def _handler(served: Served) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            served.hits[self.path] += 1
            route = served.routes.get(self.path)
            if route is None or route.behaviour == "not-found":
                self.send_error(404)
                return
            if route.behaviour == "fail-once" and served.hits[self.path] == 1:
                self.send_error(503)
                return
            if route.behaviour == "stall":
                time.sleep(route.stall_seconds)
            self.send_response(200)
            self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            if route.behaviour == "truncate":
                self.wfile.write(route.body[: len(route.body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            if route.behaviour == "trickle":
                half = len(route.body) // 2
                self.wfile.write(route.body[:half])
                self.wfile.flush()
                time.sleep(route.stall_seconds)
                self.wfile.write(route.body[half:])
                return
            self.wfile.write(route.body)

    return Handler


@contextmanager
def serving(routes: dict[str, Route]) -> Iterator[Served]:
    served = Served(routes=routes)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(served))
    server.daemon_threads = True
    served.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
