"""A scripted stand-in for a cloud service's HTTP API, served on 127.0.0.1 for contract tests.

`FakeService` routes each request to the first (method, path prefix) that matches and keeps
every request so tests can check what the adapter sent; `running` serves one for a fixture.
API-specific fakes subclass `FakeService`, register their routes in `__post_init__`, and may
override `record` to keep requests in the shape their tests read.
"""
from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Reply:
    status: int
    body: Any
    delay: float = 0.0


Route = Callable[[Request], Reply]


def error(status: int, message: str, grpc_status: str | None = None) -> Reply:
    """A Google-API-style JSON error reply."""
    detail: dict[str, Any] = {"code": status, "message": message}
    if grpc_status:
        detail["status"] = grpc_status
    return Reply(status, {"error": detail})


@dataclass
class FakeService:
    """Answers each request with the first route whose (method, path prefix) matches; keeps
    every request so tests can check what the adapter sent."""

    routes: list[tuple[str, str, Route]] = field(default_factory=list)
    requests: list[Any] = field(default_factory=list)
    url: str = ""

    def on(self, method: str, path_prefix: str, route: Route) -> None:
        """Add a route; routes added later take precedence."""
        self.routes.insert(0, (method, path_prefix, route))

    def record(self, request: Request) -> Any:
        """What `requests` keeps for `request`; subclasses may keep a simpler shape."""
        return request

    def reply(self, request: Request) -> Reply:
        self.requests.append(self.record(request))
        for method, prefix, route in self.routes:
            if request.method == method and request.path.startswith(prefix):
                return route(request)
        return error(404, f"no fake route for {request.path}", "NOT_FOUND")


def replies(*sequence: Reply) -> Route:
    """A route answering with `sequence` in turn, repeating the last reply."""
    queue = list(sequence)

    def route(_: Request) -> Reply:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return route


def serve(service: FakeService, tls: ssl.SSLContext | None = None) -> ThreadingHTTPServer:
    """Start `service` on a free port of 127.0.0.1 in a daemon thread; sets `service.url`.

    With `tls` the server is also an HTTPS proxy that terminates the tunnel itself: a client with
    HTTPS_PROXY=service.url that trusts the context's certificate (REQUESTS_CA_BUNDLE) reaches this
    service when a library calls a fixed `https://*.googleapis.com` URL it cannot be told to change."""

    class Handler(BaseHTTPRequestHandler):
        def do_CONNECT(self) -> None:  # noqa: N802 - http.server's naming
            if tls is None:
                self.send_error(405)
                return
            self.send_response(200, "Connection established")
            self.end_headers()
            self.connection = tls.wrap_socket(self.connection, server_side=True)
            self.rfile = self.connection.makefile("rb")
            self.wfile = self.connection.makefile("wb")
            self.close_connection = False  # the next requests arrive inside the tunnel


        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body: Any = json.loads(raw) if raw else None
            except ValueError:
                body = raw
            reply = service.reply(Request(self.command, self.path, dict(self.headers), body))
            if reply.delay:
                threading.Event().wait(reply.delay)
            payload = json.dumps(reply.body).encode()
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _handle

        def log_message(self, *args: Any) -> None:  # keep test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    service.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


S = TypeVar("S", bound=FakeService)


@contextmanager
def running(service: S, tls: ssl.SSLContext | None = None) -> Iterator[S]:
    """Serve `service` for the duration of the block, then shut the server down."""
    server = serve(service, tls)
    try:
        yield service
    finally:
        server.shutdown()
        server.server_close()
