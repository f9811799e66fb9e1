"""The simulated OpenAI-compatible server: many profiles behind one port.

Routes
    POST /<profile>/v1/chat/completions   the Chat Completions API
    GET  /<profile>/v1/models             lists the one model the profile serves
    GET  /                                an index of the profiles
Anything else is a 404 in OpenAI's error shape; an unknown profile's 404 lists the known ones.

Requests honour `stream`, `stream_options.include_usage`, `logprobs` + `top_logprobs` (0..20),
`max_tokens` / `max_completion_tokens` (finish_reason "length"), `stop`, `temperature` (OpenAI's
default of 1 when absent), `seed` (sampling only), `tools` + `tool_choice`, `response_format`
(json_object / json_schema) and the `vvtui_sim` hint. `n` is ignored: one choice.
The model name must be the profile's (`vv-sim-8b`), else 404 `model_not_found` as vLLM answers.

The `vvtui_sim` hint is an object vvtui adds to every request for an endpoint marked
`simulated = true` (vvtui.clients.request.sim_hint): `probe_id`, `kind`, `answer`, `tool_calls`
(`[{name, arguments}]`), `language` and `sample`. The model decodes towards `answer` or
`tool_calls`, so a faithful profile gets the probe right; without a hint the target is a
pseudo-answer hashed from the messages (docs/sim.md, "The model").

Timing: the response head and a role-only chunk go out when the request has been read; content
token i is written at arrival + ttft + i / tokens_per_s (each request draws its own ttft and
speed within the profile's jitter; the values are echoed in the `x-vvtui-sim-ttft-ms` and
`x-vvtui-sim-tokens-per-s` response headers as ground truth).

Usage placement (profile `usage_mode`, or the `x-vvtui-sim-usage` request header):
    final_chunk   OpenAI: with include_usage, `"usage": null` on every chunk and one last chunk
                  with `choices: []` and the totals, just before `[DONE]`.
    every_chunk   vLLM's continuous_usage_stats: running usage on every chunk (plus the final
                  chunk when include_usage).
    none          llama-cpp-python: no usage in the stream at all, include_usage or not.
Non-streaming responses always carry usage.

Faults (profile `fault`, or the `x-vvtui-sim-fault` request header; spec `name` or `name:n`):
    refuse           reads the request, then closes the socket without a byte (the client sees
                     "server disconnected without sending a response"; for a true ECONNREFUSED
                     point the client at a closed port).
    hang_headers     never sends the response head; holds the socket until the client leaves.
    stall:n          HTTP 200, role chunk, n content tokens (default 3), then silence with the
                     socket held open until the client leaves.
    rate_limit:n     429 with `retry-after-ms` (the profile's retry_after_ms), `retry-after`
                     (whole seconds) and an OpenAI `rate_limit_exceeded` error body, for the
                     first n attempts (default 1) of an identical request body; then succeeds.
    flaky_5xx:n      503 `overloaded` n times (default 2) for an identical body, then succeeds.
    http_500         always 500 with an OpenAI `server_error` body.
    html_error       502 with nginx's HTML error page (text/html).
    text_error       500 with a plain-text body "Internal Server Error".
    error_body       400 with an OpenAI `context_length_exceeded` error body.
    midstream_error:n  HTTP 200, n tokens (default 3), then OpenRouter's error chunk: a top-level
                     `error: {code, message}` beside a choice with `finish_reason: "error"`;
                     the body then ends, no usage, no [DONE].
    malformed_sse    after content chunks 1, 2 and 3 an extra bad event: truncated JSON
                     (`data: {"id":...,"delta":{"cont`), `data: this is not json`, and a line that
                     is no SSE field. The good chunks still carry the whole answer.
    invalid_utf8     the second content chunk's `delta.content` ends in raw bytes 0xFF 0xFE
                     (invalid UTF-8) inside the JSON string; its logprobs token is unchanged.
    empty_choices    extra chunks with `choices: []` (no usage) after the role chunk and after
                     every 4th content chunk.
    no_done          the stream ends after the last content chunk: no finish_reason chunk, no
                     usage, no [DONE]; the chunked body is terminated and the connection closed.
    drop:n           after n content tokens (default 3) the socket is closed mid-body (the
                     chunked encoding is never terminated).
    ignore_stream    answers `stream: true` with a plain `chat.completion` JSON object.
    oversized:n      streams ~n MB (default 5) of content in ~4 KB chunks as fast as the client
                     reads, then finish_reason "length" and [DONE].
    wrong_model      every chunk / response names another model (`vv-sim-3b-instruct`).
    comments         `: OPENROUTER PROCESSING` comments while the first token is pending and
                     `: keep-alive` after every 3rd content chunk.
    u2028            the second content token carries a raw U+2028 (LINE SEPARATOR) inside its
                     JSON string, in `delta.content` and in the logprobs token alike.
    echo_auth        401 `invalid_api_key` whose message quotes every request header verbatim,
                     Authorization included (a careless gateway echoing the key).
    echo_stream      HTTP 200, the answer is "You sent: " + every request header verbatim, in
                     5-character tokens (the key split across deltas and logprob entries).
    keepalive_forever  HTTP 200, the role chunk, then `: keep-alive` every 50 ms and never a
                     token, until the client leaves (bytes keep coming, so no stall timer fires).
    cap_max_tokens:n, inject_system:n, ignore_temperature, force_greedy, pad_prompt_tokens:n,
    truncate_context:n, drop_stop
                     a host that rewrites the request or pads the bill (vvtui.sim.hosts).
Faults other than wrong_model, u2028, stall and drop leave non-streaming requests alone, apart from
the ones that replace the whole response (refuse ... error_body, echo_auth).
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vvtui.sim import hosts, stream
from vvtui.sim.answer import Ask, Generation
from vvtui.sim.chunks import Envelope, error_body
from vvtui.sim.faults import (
    FAULT_HEADER,
    WRONG_MODEL,
    Attempts,
    Fault,
    before_response,
    echo_headers,
    parse_fault,
)
from vvtui.sim.http import Handler, Request, Response, ServerThread
from vvtui.sim.profiles import USAGE_MODES, Profile

USAGE_HEADER = "x-vvtui-sim-usage"


class BadRequest(Exception):
    def __init__(self, message: str, param: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.param = param
        self.status = status
        self.code = "model_not_found" if status == 404 else None


class SimServer:
    """The request handler for a set of profiles. Pass `handler` to HttpServer/ServerThread."""

    def __init__(self, profiles: Sequence[Profile]) -> None:
        self.profiles = {p.name: p for p in profiles}
        if len(self.profiles) != len(profiles):
            raise ValueError("profile names must be unique")
        for p in profiles:
            parse_fault(p.fault)  # fail at start-up, not on the first request
        self.attempts = Attempts()
        self.rng = np.random.default_rng()
        # (token index, seconds late) for every streamed content token, newest last: the
        # simulator's own record of how well it keeps its pacing promises (benchmarks read it).
        self.lateness: deque[tuple[int, float]] = deque(maxlen=100_000)
        # Per streamed request, newest last: what the server actually did, for timing ground
        # truth (see `RequestRecord`). Bounded, so a long-running simulator does not grow.
        self.requests: deque[RequestRecord] = deque(maxlen=20_000)

    async def handler(self, req: Request, resp: Response) -> None:
        arrived = asyncio.get_running_loop().time()
        parts = [p for p in req.path.split("/") if p]
        if not parts:
            await resp.send_json(200, {"object": "list", "profiles": self._index()})
            return
        profile = self.profiles.get(parts[0])
        if profile is None:
            known = ", ".join(self.profiles)
            msg = f"unknown simulated profile {parts[0]!r}; known profiles: {known}"
            await resp.send_json(404, error_body(msg, "invalid_request_error", None, "not_found"))
            return
        route = "/".join(parts[1:])
        if route == "v1/models" and req.method == "GET":
            await resp.send_json(200, self._models(profile))
        elif route == "v1/chat/completions" and req.method == "POST":
            await self._chat(profile, req, resp, arrived)
        elif route in ("v1/models", "v1/chat/completions"):
            msg = f"method {req.method} not allowed on /{parts[0]}/{route}"
            await resp.send_json(405, error_body(msg, "invalid_request_error"))
        else:
            msg = f"no route /{'/'.join(parts)}; try /{profile.name}/v1/chat/completions"
            await resp.send_json(404, error_body(msg, "invalid_request_error", None, "not_found"))

    def _index(self) -> list[dict[str, Any]]:
        return [
            {"name": p.name, "description": p.description, "base_path": f"/{p.name}/v1"}
            for p in self.profiles.values()
        ]

    def _models(self, profile: Profile) -> dict[str, Any]:
        model = {"id": profile.model, "object": "model", "created": 0, "owned_by": "vvtui-sim"}
        return {"object": "list", "data": [model]}

    async def _chat(self, profile: Profile, req: Request, resp: Response, arrived: float) -> None:
        try:
            fault = parse_fault(req.headers.get(FAULT_HEADER, profile.fault))
            usage_mode = req.headers.get(USAGE_HEADER, profile.usage_mode)
            if usage_mode not in USAGE_MODES:
                raise BadRequest(f"{USAGE_HEADER} must be one of {', '.join(USAGE_MODES)}")
            body = hosts.tamper(fault, _parse_body(req.body, profile))
        except (BadRequest, ValueError) as exc:
            status = getattr(exc, "status", 400)
            param = getattr(exc, "param", None)
            code = getattr(exc, "code", None)
            await resp.send_json(status, error_body(str(exc), "invalid_request_error", param, code))
            return
        if fault is not None and await before_response(
            fault, profile.name, profile.retry_after_ms, req, resp, self.attempts
        ):
            return
        plan = self._plan(profile, body, fault, usage_mode, arrived)
        if fault is not None and fault.name == "echo_stream":
            plan.echo = echo_headers(req)
        if body.get("stream") and (fault is None or fault.name != "ignore_stream"):
            await stream.stream(plan, resp)
        else:
            await stream.whole(plan, resp)

    def _plan(
        self,
        profile: Profile,
        body: dict[str, Any],
        fault: Fault | None,
        usage_mode: str,
        arrived: float,
    ) -> stream.Plan:
        jitter = profile.jitter
        ttft = profile.ttft_s * (1.0 + jitter * self.rng.uniform(-1.0, 1.0))
        tps = profile.tokens_per_s * (1.0 + 0.5 * jitter * self.rng.uniform(-1.0, 1.0))
        model = WRONG_MODEL if fault is not None and fault.name == "wrong_model" else profile.model
        env = Envelope(model=model, fingerprint=profile.fingerprint)
        options = body.get("stream_options") or {}
        headers = {
            "x-request-id": env.id,
            "x-vvtui-sim-profile": profile.name,
            "x-vvtui-sim-ttft-ms": f"{ttft * 1000:.3f}",
            "x-vvtui-sim-tokens-per-s": f"{tps:.3f}",
        }
        hint = body.get("vvtui_sim") or {}
        key = f"{hint['probe_id']}#{hint.get('sample', 0)}" if hint.get("probe_id") else env.id
        record = RequestRecord(key, profile.name, arrived, max(ttft, 0.0), tps)
        self.requests.append(record)
        gen = Generation(hosts.host_weights(fault, profile.weights), Ask.from_body(body))
        gen.extra_prompt_tokens = hosts.prompt_padding(fault)
        plan = stream.Plan(
            env=env,
            gen=gen,
            arrived=arrived,
            ttft_s=max(ttft, 0.0),
            tokens_per_s=tps,
            logprobs=bool(body.get("logprobs")),
            top_n=int(body.get("top_logprobs") or 0),
            include_usage=bool(options.get("include_usage")),
            usage_mode=usage_mode,
            fault=fault,
            headers=headers,
        )

        def on_token(i: int, late: float) -> None:
            self.lateness.append((i, late))
            record.written.append(plan.deadline(i) + late)

        plan.on_token = on_token
        return plan


@dataclass(slots=True)
class RequestRecord:
    """One request as the server served it. Times are the server loop's clock (`time.monotonic`,
    which on Linux is the clock `time.perf_counter` reads too, in any process): `arrived` when
    the request had been read, `written[i]` when content token i was handed to the socket."""

    key: str  # "<probe_id>#<sample>" from the vvtui_sim hint, else the response id
    profile: str
    arrived: float
    ttft_s: float  # planned
    tokens_per_s: float  # planned
    written: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "profile": self.profile,
            "arrived": self.arrived,
            "ttft_s": self.ttft_s,
            "tokens_per_s": self.tokens_per_s,
            "written": list(self.written),
        }


def _parse_body(raw: bytes, profile: Profile) -> dict[str, Any]:
    """Decode and validate a request body the way OpenAI does, with its error wording."""
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BadRequest(
            "We could not parse the JSON body of your request. (HINT: This likely means you "
            "aren't using your HTTP library correctly.)"
        ) from None
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise BadRequest("you must provide a model parameter", "model")
    if model != profile.model:
        raise BadRequest(
            f"The model `{model}` does not exist. This endpoint serves `{profile.model}`.",
            "model",
            404,
        )
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("'messages' must be a non-empty array", "messages")
    if not all(isinstance(m, dict) and "role" in m for m in messages):
        raise BadRequest("each message must be an object with a 'role'", "messages")
    top = body.get("top_logprobs")
    if top is not None and not _int_in(top, 0, 20):
        raise BadRequest("top_logprobs must be an integer between 0 and 20", "top_logprobs")
    if top and not body.get("logprobs"):
        raise BadRequest("logprobs must be true when top_logprobs is set", "top_logprobs")
    for key in ("max_tokens", "max_completion_tokens"):
        if body.get(key) is not None and not _int_in(body[key], 1, 10**9):
            raise BadRequest(f"{key} must be a positive integer", key)
    temperature = body.get("temperature")
    if temperature is not None and (
        isinstance(temperature, bool)
        or not isinstance(temperature, int | float)
        or not 0 <= temperature <= 2
    ):
        raise BadRequest("temperature must be a number between 0 and 2", "temperature")
    seed = body.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise BadRequest("seed must be an integer", "seed")
    if body.get("tools") is not None and not isinstance(body["tools"], list):
        raise BadRequest("tools must be an array", "tools")
    stop = body.get("stop")
    if stop is not None and not isinstance(stop, str | list):
        raise BadRequest("stop must be a string or an array of strings", "stop")
    hint = body.get("vvtui_sim")
    if hint is not None and not isinstance(hint, dict):
        raise BadRequest("vvtui_sim must be an object", "vvtui_sim")
    return body


def _int_in(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def make_handler(profiles: Sequence[Profile]) -> Handler:
    return SimServer(profiles).handler


def start_sim(profiles: Sequence[Profile], host: str = "127.0.0.1", port: int = 0) -> ServerThread:
    """Start the simulator on its own thread and loop; `.url` is the root, `.stop()` ends it."""
    server = SimServer(profiles)
    return ServerThread(lambda: server.handler, host, port).start()
