"""A real HTTP server on 127.0.0.1 for connector tests: routes answer like the API, faults are scripted.

>>> with ApiServer() as api:                                          # doctest: +SKIP
...     api.route("GET", r"/services/data/v60.0/query", lambda req: Reply.json({"records": []}))
...     api.fail("GET", r"/query", Reply(429, headers={"Retry-After": "1"}), times=1)
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def arg(self, name: str, default: str | None = None) -> str | None:
        return self.query.get(name, [default])[0]


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    truncate: bool = False  # send only half the body (a connection cut mid-page)
    delay: float = 0.0  # seconds before answering (a timeout when longer than the client waits)

    @classmethod
    def json(cls, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
        return cls(status, json.dumps(data).encode(), {"Content-Type": "application/json", **(headers or {})})


Handler = Callable[[Request], Reply]


class ApiServer:
    """Routes by method and path regex; scripted faults are served first; every request is logged."""

    def __init__(self) -> None:
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self.faults: list[list[Any]] = []  # [method, pattern, reply, times left]
        self.log: list[Request] = []
        self.lock = threading.Lock()
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms delayed-ACK stall

            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                req = Request(self.command, parts.path, parse_qs(parts.query), dict(self.headers.items()),
                              self.rfile.read(length) if length else b"")
                reply = server.answer(req)
                if reply.delay:
                    time.sleep(reply.delay)
                body = reply.body[: len(reply.body) // 2] if reply.truncate else reply.body
                self.send_response(reply.status)
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(reply.body)))
                if reply.truncate:
                    self.send_header("Connection", "close")
                self.end_headers()
                try:
                    self.wfile.write(body)
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass
                if reply.truncate:
                    self.close_connection = True

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        self.routes.append((method, re.compile(pattern), handler))

    def fail(self, method: str, pattern: str, reply: Reply, times: int = 1) -> None:
        """Answer the next ``times`` matching requests with ``reply`` instead of the route."""
        with self.lock:
            self.faults.append([method, re.compile(pattern), reply, times])

    def answer(self, req: Request) -> Reply:
        with self.lock:
            self.log.append(req)
            for fault in self.faults:
                if fault[0] == req.method and fault[1].search(req.path) and fault[3] > 0:
                    fault[3] -= 1
                    return fault[2]
        for method, pattern, handler in self.routes:
            if method == req.method and pattern.search(req.path):
                try:
                    return handler(req)
                except Exception as exc:  # a bug in the test's handler: visible in the reply
                    return Reply.json({"error": f"{type(exc).__name__}: {exc}"}, 599)
        return Reply.json({"error": f"no route for {req.method} {req.path}"}, 404)

    def requests(self, pattern: str) -> list[Request]:
        return [r for r in self.log if re.search(pattern, r.path)]

    def __enter__(self) -> ApiServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
