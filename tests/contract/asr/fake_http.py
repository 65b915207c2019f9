"""A scripted stand-in for a cloud service's HTTP API, served on 127.0.0.1 for contract tests."""
from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


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


@dataclass
class FakeService:
    """Answers each request with the first route whose (method, path prefix) matches; keeps
    every request so tests can check what the adapter sent."""

    routes: list[tuple[str, str, Route]] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    url: str = ""

    def on(self, method: str, path_prefix: str, route: Route) -> None:
        self.routes.insert(0, (method, path_prefix, route))

    def reply(self, request: Request) -> Reply:
        self.requests.append(request)
        for method, prefix, route in self.routes:
            if request.method == method and request.path.startswith(prefix):
                return route(request)
        return Reply(404, {"error": {"code": 404, "message": f"no fake route for {request.path}", "status": "NOT_FOUND"}})


def replies(*sequence: Reply) -> Route:
    """A route answering with `sequence` in turn, repeating the last reply."""
    queue = list(sequence)

    def route(_: Request) -> Reply:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return route


def serve(service: FakeService) -> ThreadingHTTPServer:
    """Start `service` on a free port of 127.0.0.1 in a daemon thread; sets `service.url`."""

    class Handler(BaseHTTPRequestHandler):
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

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    service.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server
