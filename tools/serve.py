#!/usr/bin/env python3
"""A static file server for local use and tests: localhost only, correct MIME type
for .wasm, no caching surprises, and CORS for the wasm test runner's origin.

    python3 tools/serve.py DIR [PORT] [--csp]   (PORT 0 picks a free one; the chosen port is printed)

--csp sends the page's Content-Security-Policy (own origin only, wasm allowed) with
every response, as the browser page in www/ expects.
"""
import functools
import http.server
import sys
from typing import ClassVar

CSP = ("default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; "
       "worker-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


class Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map: ClassVar[dict[str, str]] = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                                                ".wasm": "application/wasm", ".js": "text/javascript", ".mjs": "text/javascript",
                                                ".json": "application/json", ".onnx": "application/octet-stream"}

    csp = False

    def end_headers(self):
        if self.csp:
            self.send_header("Content-Security-Policy", CSP)
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")
        else:
            self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, fmt, *args):
        pass


def main():
    args = [a for a in sys.argv[1:] if a != "--csp"]
    directory = args[0]
    port = int(args[1]) if len(args) > 1 else 8000
    handler = type("CspHandler", (Handler,), {"csp": True}) if "--csp" in sys.argv[1:] else Handler
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), functools.partial(handler, directory=directory))
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
