"""Byte-level stream transcripts in each server's own wire dialect.

Written out byte for byte as each server serialises them (field order, separators, CRLF vs LF,
comment lines), following the servers' source and documentation as summarised in
/work/shared/PROVIDERS.md. They are reconstructions in the servers' exact formats, not captures
from a live host (there is no network here); ids, timestamps and numbers are illustrative.
Replace with real captures when available: the tests only need the bytes.
"""

from __future__ import annotations

# vLLM (>= 0.10: `reasoning`), stream_options continuous_usage_stats: usage on every chunk,
# `stop_reason` on the choice (the matched stop string here), then the final usage chunk.
VLLM_REASONING = (
    b'data: {"id":"chatcmpl-b1c2","object":"chat.completion.chunk","created":1733000000,'
    b'"model":"Qwen/Qwen3-8B","choices":[{"index":0,"delta":{"role":"assistant","content":""},'
    b'"logprobs":null,"finish_reason":null}],'
    b'"usage":{"prompt_tokens":14,"total_tokens":14,"completion_tokens":0}}\n\n'
    b'data: {"id":"chatcmpl-b1c2","object":"chat.completion.chunk","created":1733000000,'
    b'"model":"Qwen/Qwen3-8B","choices":[{"index":0,"delta":{"reasoning":"Two plus two"},'
    b'"logprobs":null,"finish_reason":null}],'
    b'"usage":{"prompt_tokens":14,"total_tokens":15,"completion_tokens":1}}\n\n'
    b'data: {"id":"chatcmpl-b1c2","object":"chat.completion.chunk","created":1733000000,'
    b'"model":"Qwen/Qwen3-8B","choices":[{"index":0,"delta":{"reasoning":" is four."},'
    b'"logprobs":null,"finish_reason":null}],'
    b'"usage":{"prompt_tokens":14,"total_tokens":16,"completion_tokens":2}}\n\n'
    b'data: {"id":"chatcmpl-b1c2","object":"chat.completion.chunk","created":1733000000,'
    b'"model":"Qwen/Qwen3-8B","choices":[{"index":0,"delta":{"content":"4"},'
    b'"logprobs":{"content":[{"token":"4","logprob":-0.0012,"bytes":[52],"top_logprobs":'
    b'[{"token":"4","logprob":-0.0012,"bytes":[52]},{"token":"Four","logprob":-6.9,'
    b'"bytes":[70,111,117,114]}]}]},"finish_reason":null}],'
    b'"usage":{"prompt_tokens":14,"total_tokens":17,"completion_tokens":3}}\n\n'
    b'data: {"id":"chatcmpl-b1c2","object":"chat.completion.chunk","created":1733000000,'
    b'"model":"Qwen/Qwen3-8B","choices":[{"index":0,"delta":{"content":""},"logprobs":null,'
    b'"finish_reason":"stop","stop_reason":"</answer>"}],'
    b'"usage":{"prompt_tokens":14,"total_tokens":18,"completion_tokens":4}}\n\n'
    b'data: {"id":"chatcmpl-b1c2","object":"chat.completion.chunk","created":1733000000,'
    b'"model":"Qwen/Qwen3-8B","choices":[],'
    b'"usage":{"prompt_tokens":14,"total_tokens":18,"completion_tokens":4}}\n\n'
    b"data: [DONE]\n\n"
)

# Older vLLM: `reasoning_content`, usage only in the final `choices: []` chunk, stop_reason null.
VLLM_REASONING_CONTENT = (
    b'data: {"id":"chatcmpl-9f0a","object":"chat.completion.chunk","created":1720000000,'
    b'"model":"deepseek-ai/DeepSeek-R1-Distill-Qwen-7B","choices":[{"index":0,"delta":'
    b'{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}\n\n'
    b'data: {"id":"chatcmpl-9f0a","object":"chat.completion.chunk","created":1720000000,'
    b'"model":"deepseek-ai/DeepSeek-R1-Distill-Qwen-7B","choices":[{"index":0,"delta":'
    b'{"reasoning_content":"Simple sum."},"logprobs":null,"finish_reason":null}]}\n\n'
    b'data: {"id":"chatcmpl-9f0a","object":"chat.completion.chunk","created":1720000000,'
    b'"model":"deepseek-ai/DeepSeek-R1-Distill-Qwen-7B","choices":[{"index":0,"delta":'
    b'{"content":"4"},"logprobs":null,"finish_reason":null}]}\n\n'
    b'data: {"id":"chatcmpl-9f0a","object":"chat.completion.chunk","created":1720000000,'
    b'"model":"deepseek-ai/DeepSeek-R1-Distill-Qwen-7B","choices":[{"index":0,"delta":'
    b'{"content":""},"logprobs":null,"finish_reason":"stop","stop_reason":null}]}\n\n'
    b'data: {"id":"chatcmpl-9f0a","object":"chat.completion.chunk","created":1720000000,'
    b'"model":"deepseek-ai/DeepSeek-R1-Distill-Qwen-7B","choices":[],"usage":'
    b'{"prompt_tokens":9,"total_tokens":13,"completion_tokens":4}}\n\n'
    b"data: [DONE]\n\n"
)

# SGLang: every delta field present (nulls included), `matched_stop`, `usage: null` until the
# end, and a generation the server aborted (`finish_reason: "abort"`).
SGLANG_ABORT = (
    b'data: {"id":"5f1e","object":"chat.completion.chunk","created":1735000000,'
    b'"model":"default","choices":[{"index":0,"delta":{"role":"assistant","content":"",'
    b'"reasoning_content":null,"tool_calls":null},"logprobs":null,"finish_reason":null,'
    b'"matched_stop":null}],"usage":null}\n\n'
    b'data: {"id":"5f1e","object":"chat.completion.chunk","created":1735000000,'
    b'"model":"default","choices":[{"index":0,"delta":{"role":null,"content":null,'
    b'"reasoning_content":"Considering","tool_calls":null},"logprobs":null,'
    b'"finish_reason":null,"matched_stop":null}],"usage":null}\n\n'
    b'data: {"id":"5f1e","object":"chat.completion.chunk","created":1735000000,'
    b'"model":"default","choices":[{"index":0,"delta":{"role":null,"content":"The answer",'
    b'"reasoning_content":null,"tool_calls":null},"logprobs":null,"finish_reason":null,'
    b'"matched_stop":null}],"usage":null}\n\n'
    b'data: {"id":"5f1e","object":"chat.completion.chunk","created":1735000000,'
    b'"model":"default","choices":[{"index":0,"delta":{"role":null,"content":null,'
    b'"reasoning_content":null,"tool_calls":null},"logprobs":null,"finish_reason":"abort",'
    b'"matched_stop":null}],"usage":null}\n\n'
    b'data: {"id":"5f1e","object":"chat.completion.chunk","created":1735000000,'
    b'"model":"default","choices":[],"usage":{"prompt_tokens":20,"total_tokens":23,'
    b'"completion_tokens":3,"prompt_tokens_details":null}}\n\n'
    b"data: [DONE]\n\n"
)

# llama.cpp llama-server: token ids and bytes in logprobs, the end-of-sequence token as an
# empty string in logprobs (and counted in completion_tokens), `timings` on the last chunk.
LLAMA_SERVER = (
    b'data: {"choices":[{"finish_reason":null,"index":0,"delta":{"role":"assistant",'
    b'"content":null}}],"created":1736000000,"id":"chatcmpl-Xq2","model":"llama-3-8b-q4_k_m",'
    b'"system_fingerprint":"b4600-a1b2c3d4","object":"chat.completion.chunk"}\n\n'
    b'data: {"choices":[{"finish_reason":null,"index":0,"delta":{"content":"Hi"},'
    b'"logprobs":{"content":[{"id":13347,"token":"Hi","bytes":[72,105],"logprob":-0.0421,'
    b'"top_logprobs":[{"id":13347,"token":"Hi","bytes":[72,105],"logprob":-0.0421},'
    b'{"id":9906,"token":"Hello","bytes":[72,101,108,108,111],"logprob":-3.21}]}]}}],'
    b'"created":1736000000,"id":"chatcmpl-Xq2","model":"llama-3-8b-q4_k_m",'
    b'"system_fingerprint":"b4600-a1b2c3d4","object":"chat.completion.chunk"}\n\n'
    b'data: {"choices":[{"finish_reason":null,"index":0,"delta":{"content":"!"},'
    b'"logprobs":{"content":[{"id":0,"token":"!","bytes":[33],"logprob":-0.31,'
    b'"top_logprobs":[{"id":0,"token":"!","bytes":[33],"logprob":-0.31},'
    b'{"id":13,"token":".","bytes":[46],"logprob":-1.4}]}]}}],'
    b'"created":1736000000,"id":"chatcmpl-Xq2","model":"llama-3-8b-q4_k_m",'
    b'"system_fingerprint":"b4600-a1b2c3d4","object":"chat.completion.chunk"}\n\n'
    b'data: {"choices":[{"finish_reason":"stop","index":0,"delta":{},'
    b'"logprobs":{"content":[{"id":128009,"token":"","bytes":[],"logprob":-0.0003,'
    b'"top_logprobs":[{"id":128009,"token":"","bytes":[],"logprob":-0.0003},'
    b'{"id":1102,"token":" How","bytes":[32,72,111,119],"logprob":-8.5}]}]}}],'
    b'"created":1736000000,"id":"chatcmpl-Xq2","model":"llama-3-8b-q4_k_m",'
    b'"system_fingerprint":"b4600-a1b2c3d4","object":"chat.completion.chunk",'
    b'"timings":{"prompt_n":12,"prompt_ms":35.2,"prompt_per_token_ms":2.93,'
    b'"prompt_per_second":340.9,"predicted_n":3,"predicted_ms":41.7,'
    b'"predicted_per_token_ms":13.9,"predicted_per_second":71.9}}\n\n'
    b'data: {"choices":[],"created":1736000000,"id":"chatcmpl-Xq2",'
    b'"model":"llama-3-8b-q4_k_m","system_fingerprint":"b4600-a1b2c3d4",'
    b'"object":"chat.completion.chunk","usage":{"completion_tokens":3,"prompt_tokens":12,'
    b'"total_tokens":15}}\n\n'
    b"data: [DONE]\n\n"
)

# llama-cpp-python (sse-starlette): CRLF framing, Python json.dumps spacing, a `: ping`
# comment, `bytes: null`, the model name echoed back whatever it was, and no usage chunk even
# though include_usage was asked for.
LLAMA_CPP_PYTHON = (
    b'data: {"id": "chatcmpl-5d8e", "model": "whatever-you-asked", "created": 1736000000, '
    b'"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"role": '
    b'"assistant"}, "logprobs": null, "finish_reason": null}]}\r\n\r\n'
    b": ping - 2025-01-04 12:00:00.000000+00:00\r\n\r\n"
    b'data: {"id": "chatcmpl-5d8e", "model": "whatever-you-asked", "created": 1736000000, '
    b'"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": "Hel"}, '
    b'"logprobs": {"content": [{"token": "Hel", "logprob": -0.52, "bytes": null, '
    b'"top_logprobs": [{"token": "Hel", "logprob": -0.52, "bytes": null}, {"token": "Hi", '
    b'"logprob": -1.1, "bytes": null}]}]}, "finish_reason": null}]}\r\n\r\n'
    b'data: {"id": "chatcmpl-5d8e", "model": "whatever-you-asked", "created": 1736000000, '
    b'"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": "lo"}, '
    b'"logprobs": {"content": [{"token": "lo", "logprob": -0.01, "bytes": null, '
    b'"top_logprobs": [{"token": "lo", "logprob": -0.01, "bytes": null}]}]}, '
    b'"finish_reason": null}]}\r\n\r\n'
    b'data: {"id": "chatcmpl-5d8e", "model": "whatever-you-asked", "created": 1736000000, '
    b'"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {}, "logprobs": '
    b'null, "finish_reason": "stop"}]}\r\n\r\n'
    b"data: [DONE]\r\n\r\n"
)

# Ollama /v1: role and content together in every delta, `reasoning` for thinking models, a
# complete tool call in one fragment, usage in a trailing `choices: []` chunk.
OLLAMA_TOOL = (
    b'data: {"id":"chatcmpl-311","object":"chat.completion.chunk","created":1737000000,'
    b'"model":"qwen3:8b","system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":'
    b'{"role":"assistant","content":"","reasoning":"User wants weather."},'
    b'"finish_reason":null}]}\n\n'
    b'data: {"id":"chatcmpl-311","object":"chat.completion.chunk","created":1737000000,'
    b'"model":"qwen3:8b","system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":'
    b'{"role":"assistant","content":"","tool_calls":[{"id":"call_k2x9","index":0,'
    b'"type":"function","function":{"name":"get_weather","arguments":"{\\"city\\":'
    b'\\"Paris\\"}"}}]},"finish_reason":null}]}\n\n'
    b'data: {"id":"chatcmpl-311","object":"chat.completion.chunk","created":1737000000,'
    b'"model":"qwen3:8b","system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":'
    b'{"role":"assistant","content":""},"finish_reason":"tool_calls"}]}\n\n'
    b'data: {"id":"chatcmpl-311","object":"chat.completion.chunk","created":1737000000,'
    b'"model":"qwen3:8b","system_fingerprint":"fp_ollama","choices":[],"usage":'
    b'{"prompt_tokens":71,"completion_tokens":24,"total_tokens":95}}\n\n'
    b"data: [DONE]\n\n"
)

# OpenRouter: processing comments, top-level `provider`, `native_finish_reason`, usage (always
# sent) with `cost`, on a final chunk that still has a choice with an empty delta.
OPENROUTER = (
    b": OPENROUTER PROCESSING\n\n"
    b": OPENROUTER PROCESSING\n\n"
    b'data: {"id":"gen-1737-abc","provider":"Groq","model":"moonshotai/kimi-k2-0905",'
    b'"object":"chat.completion.chunk","created":1737000000,"choices":[{"index":0,'
    b'"delta":{"role":"assistant","content":""},"finish_reason":null,'
    b'"native_finish_reason":null,"logprobs":null}],"system_fingerprint":"fp_groq1"}\n\n'
    b'data: {"id":"gen-1737-abc","provider":"Groq","model":"moonshotai/kimi-k2-0905",'
    b'"object":"chat.completion.chunk","created":1737000000,"choices":[{"index":0,'
    b'"delta":{"role":"assistant","content":"Paris"},"finish_reason":null,'
    b'"native_finish_reason":null,"logprobs":null}],"system_fingerprint":"fp_groq1"}\n\n'
    b'data: {"id":"gen-1737-abc","provider":"Groq","model":"moonshotai/kimi-k2-0905",'
    b'"object":"chat.completion.chunk","created":1737000000,"choices":[{"index":0,'
    b'"delta":{"role":"assistant","content":"."},"finish_reason":"stop",'
    b'"native_finish_reason":"stop","logprobs":null}],"system_fingerprint":"fp_groq1"}\n\n'
    b'data: {"id":"gen-1737-abc","provider":"Groq","model":"moonshotai/kimi-k2-0905",'
    b'"object":"chat.completion.chunk","created":1737000000,"choices":[{"index":0,'
    b'"delta":{"role":"assistant","content":""},"finish_reason":null,'
    b'"native_finish_reason":null,"logprobs":null}],"usage":{"prompt_tokens":12,'
    b'"completion_tokens":2,"total_tokens":14,"cost":0.0000123,"is_byok":false,'
    b'"prompt_tokens_details":{"cached_tokens":0},"cost_details":'
    b'{"upstream_inference_cost":null},"completion_tokens_details":{"reasoning_tokens":0}}}\n\n'
    b"data: [DONE]\n\n"
)

# OpenRouter mid-stream failure: HTTP 200, then a chunk with `error` and finish_reason "error".
OPENROUTER_MIDSTREAM_ERROR = (
    b": OPENROUTER PROCESSING\n\n"
    b'data: {"id":"gen-1737-err","provider":"Chutes","model":"moonshotai/kimi-k2-0905",'
    b'"object":"chat.completion.chunk","created":1737000000,"choices":[{"index":0,'
    b'"delta":{"role":"assistant","content":"The capital is"},"finish_reason":null,'
    b'"native_finish_reason":null,"logprobs":null}]}\n\n'
    b'data: {"id":"cmpl-abc123","object":"chat.completion.chunk","created":1737000001,'
    b'"model":"moonshotai/kimi-k2-0905","provider":"Chutes","error":{"code":"server_error",'
    b'"message":"Provider disconnected unexpectedly"},"choices":[{"index":0,"delta":'
    b'{"content":""},"finish_reason":"error","native_finish_reason":"error"}]}\n\n'
    b"data: [DONE]\n\n"
)

# DeepSeek reasoner asked for logprobs: a 400 in the OpenAI error shape.
DEEPSEEK_LOGPROBS_400 = (
    b'{"error":{"message":"deepseek-reasoner does not support the parameter `logprobs`",'
    b'"type":"invalid_request_error","param":null,"code":"invalid_request_error"}}'
)

# Anthropic Messages: thinking (with its signature), text, a tool call streamed as partial
# JSON, pings, cumulative usage in message_delta.
ANTHROPIC_TOOL = (
    b"event: message_start\n"
    b'data: {"type":"message_start","message":{"id":"msg_01XFDUDYJgAACzvnptvVoYEL",'
    b'"type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5-20250929",'
    b'"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":472,'
    b'"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":2}}}\n\n'
    b"event: content_block_start\n"
    b'data: {"type":"content_block_start","index":0,"content_block":{"type":"thinking",'
    b'"thinking":"","signature":""}}\n\n'
    b"event: ping\n"
    b'data: {"type": "ping"}\n\n'
    b"event: content_block_delta\n"
    b'data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta",'
    b'"thinking":"Need the weather tool."}}\n\n'
    b"event: content_block_delta\n"
    b'data: {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta",'
    b'"signature":"EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"}}\n\n'
    b"event: content_block_stop\n"
    b'data: {"type":"content_block_stop","index":0}\n\n'
    b"event: content_block_start\n"
    b'data: {"type":"content_block_start","index":1,"content_block":{"type":"text",'
    b'"text":""}}\n\n'
    b"event: content_block_delta\n"
    b'data: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta",'
    b'"text":"Checking "}}\n\n'
    b"event: content_block_delta\n"
    b'data: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta",'
    b'"text":"now."}}\n\n'
    b"event: content_block_stop\n"
    b'data: {"type":"content_block_stop","index":1}\n\n'
    b"event: content_block_start\n"
    b'data: {"type":"content_block_start","index":2,"content_block":{"type":"tool_use",'
    b'"id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","name":"get_weather","input":{}}}\n\n'
    b"event: content_block_delta\n"
    b'data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta",'
    b'"partial_json":""}}\n\n'
    b"event: content_block_delta\n"
    b'data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta",'
    b'"partial_json":"{\\"city\\": \\"Par"}}\n\n'
    b"event: ping\n"
    b'data: {"type": "ping"}\n\n'
    b"event: content_block_delta\n"
    b'data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta",'
    b'"partial_json":"is\\"}"}}\n\n'
    b"event: content_block_stop\n"
    b'data: {"type":"content_block_stop","index":2}\n\n'
    b"event: message_delta\n"
    b'data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},'
    b'"usage":{"output_tokens":89}}\n\n'
    b"event: message_stop\n"
    b'data: {"type":"message_stop"}\n\n'
)

ANTHROPIC_OVERLOADED = (
    b"event: message_start\n"
    b'data: {"type":"message_start","message":{"id":"msg_02","type":"message",'
    b'"role":"assistant","content":[],"model":"claude-sonnet-4-5-20250929","stop_reason":null,'
    b'"stop_sequence":null,"usage":{"input_tokens":10,"output_tokens":1}}}\n\n'
    b"event: content_block_start\n"
    b'data: {"type":"content_block_start","index":0,"content_block":{"type":"text",'
    b'"text":""}}\n\n'
    b"event: content_block_delta\n"
    b'data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta",'
    b'"text":"Once upon"}}\n\n'
    b"event: error\n"
    b'data: {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}\n\n'
)
