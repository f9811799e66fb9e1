"""Recorded OpenRouter answers served through httpx.MockTransport: no test reaches the network."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

DATA = Path(__file__).parent / "data" / "openrouter"
KIMI = "moonshotai/kimi-k2-0905"
KIMI_PATH = "/api/v1/models/moonshotai/kimi-k2-0905/endpoints"


def fixture_text(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def fixture_json(name: str) -> dict:
    return json.loads(fixture_text(name))


@dataclass
class FakeOpenRouter:
    """Answers by URL path; records every request. `routes` maps a path to
    (status, body, content type) or to an exception instance to raise."""

    routes: dict[str, tuple[int, str, str] | Exception] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)

    def serve(self, path: str, fixture: str, status: int = 200) -> FakeOpenRouter:
        kind = "text/html; charset=utf-8" if fixture.endswith(".html") else "application/json"
        self.routes[path] = (status, fixture_text(fixture), kind)
        return self

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        route = self.routes.get(request.url.path)
        if route is None:
            return httpx.Response(404, json={"error": {"code": 404, "message": "Model not found"}})
        if isinstance(route, Exception):
            raise route
        status, body, kind = route
        return httpx.Response(status, text=body, headers={"content-type": kind})

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.handler))

    def factory(self) -> Callable[[], httpx.AsyncClient]:
        return self.client
