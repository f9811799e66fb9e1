"""A stand-in for `python -m llama_cpp.server` in unit tests: answers GET /v1/models and POST
/v1/chat/completions (a fixed two-token answer) on the `--port` it is given, ignores every other
argument (they are there so the command line looks like the real server's to
vvtui.local.state). `--ignore-sigterm` makes it need a SIGKILL; `--crash-on-generate` makes it
die of a SIGSEGV on its first generation, as a llama.cpp built for CPU features the machine
cannot use does (it answers /v1/models first); `--fail-generate` answers generations with an
HTTP 500."""

from __future__ import annotations

import json
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

OPTIONS: set[str] = set()


class Handler(BaseHTTPRequestHandler):
    def _send(self, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/v1/models":
            self._send(200, {"object": "list", "data": [{"id": "fake", "object": "model"}]})
        else:
            self._send(404, {"detail": "Not Found"})

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path != "/v1/chat/completions":
            self._send(404, {"detail": "Not Found"})
            return
        if "--crash-on-generate" in OPTIONS:
            print("fake llama server: crashing in a compute kernel", flush=True)
            signal.signal(signal.SIGSEGV, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGSEGV)
        if "--fail-generate" in OPTIONS:
            self._send(500, {"error": {"message": "fake failure", "type": "server_error"}})
            return
        message = {"role": "assistant", "content": "OK."}
        choice = {"index": 0, "message": message, "finish_reason": "stop"}
        self._send(200, {"object": "chat.completion", "model": "fake", "choices": [choice]})

    def log_message(self, format: str, *args: object) -> None:
        pass


def main(argv: list[str]) -> None:
    OPTIONS.update(a for a in argv if a.startswith("--"))
    if "--ignore-sigterm" in argv:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    port = int(argv[argv.index("--port") + 1])
    server = HTTPServer(("127.0.0.1", port), Handler)
    print(f"fake llama server on {port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
