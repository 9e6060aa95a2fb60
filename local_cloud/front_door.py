"""HTTP servers on 127.0.0.1: the front door (APIs, sign-in, control) and one server per static site."""

from __future__ import annotations

import mimetypes
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from local_cloud.api_gateway import HttpRequest, HttpResponse
from local_cloud.settings import LOOPBACK

Handler = Callable[[HttpRequest], HttpResponse]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def _make_handler(route: Handler) -> type[BaseHTTPRequestHandler]:
    class RequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body leave in separate writes; with Nagle's algorithm on, the body of every
        # response after the first on a kept-alive connection waited for the client's delayed ACK
        # (~40 ms). TCP_NODELAY sends both at once: kept-alive requests are as fast as new ones.
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = HttpRequest(
                method=self.command,
                raw_path=self.path,
                headers=list(self.headers.items()),
                body=body,
                source_ip=self.client_address[0],
            )
            try:
                response = route(request)
            except Exception as error:  # the front door never dies on one request
                response = HttpResponse.json(500, {"message": f"local cloud error: {error}"})
            self.send_response(response.status)
            for key, value in response.headers.items():
                if key.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve

        def log_message(self, format: str, *args: object) -> None:
            return  # the routes log what matters

    return RequestHandler


class HttpServer:
    """A threaded HTTP server on ``127.0.0.1:port`` (``0``: a free port) calling ``route`` per request."""

    def __init__(self, port: int, route: Handler) -> None:
        self._server = _Server((LOOPBACK, port), _make_handler(route))
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://{LOOPBACK}:{self.port}"

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()


def static_site(folder: Path, generated: Callable[[], dict[str, bytes]]) -> Handler:
    """Serve ``folder`` like a CDN in front of a bucket (index.html for ``/``), plus generated files."""
    root = folder.resolve()

    def route(request: HttpRequest) -> HttpResponse:
        path = request.raw_path.split("?", 1)[0].lstrip("/") or "index.html"
        extra = generated()
        if path in extra:
            return HttpResponse(
                200, {"Content-Type": "application/json", "Cache-Control": "no-store"}, extra[path]
            )
        target = (root / path).resolve()
        if not target.is_relative_to(root) or not target.is_file():
            return HttpResponse(404, {"Content-Type": "text/plain"}, b"Not Found")
        content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if target.suffix == ".js":
            content_type = "text/javascript"
        return HttpResponse(
            200, {"Content-Type": content_type, "Cache-Control": "no-cache"}, target.read_bytes()
        )

    return route
