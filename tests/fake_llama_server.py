"""A stand-in for `python -m llama_cpp.server` in unit tests: answers GET /v1/models on the
`--port` it is given, ignores every other argument (they are there so the command line looks
like the real server's to vvtui.local.state). `--ignore-sigterm` makes it need a SIGKILL."""

from __future__ import annotations

import json
import signal
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"object": "list", "data": [{"id": "fake", "object": "model"}]})
        status = 200 if self.path == "/v1/models" else 404
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, format: str, *args: object) -> None:
        pass


def main(argv: list[str]) -> None:
    if "--ignore-sigterm" in argv:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    port = int(argv[argv.index("--port") + 1])
    server = HTTPServer(("127.0.0.1", port), Handler)
    print(f"fake llama server on {port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
