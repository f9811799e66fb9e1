"""The event-stream decoder (vvtui/clients/sse.py) against the WHATWG interpretation rules; the
read-boundary fuzzing and the CR/LF-only split are in test_client_parsing.py."""

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vvtui.clients.sse import ServerSentEvent, SSEReader


def decode(*reads: bytes) -> list[ServerSentEvent]:
    reader = SSEReader()
    events = [e for data in reads for e in reader.feed(data)]
    return events + reader.close()


def reference(text: str) -> list[tuple[str, str, str]]:
    """The spec's algorithm, written out plainly over the whole text (no incremental state)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    events, event, data, last_id = [], "", [], ""
    for line in [*re.split(r"\r\n|\r|\n", text), ""]:
        if line == "":
            if data:
                events.append((event or "message", "\n".join(data), last_id))
            event, data = "", []
            continue
        if line.startswith(":"):
            continue
        name, colon, value = line.partition(":")
        value = value.removeprefix(" ") if colon else ""
        if name == "data":
            data.append(value)
        elif name == "event":
            event = value
        elif name == "id" and "\0" not in value:
            last_id = value
    return events


def test_data_lines_join_with_line_feeds_and_one_leading_space_goes():
    (event,) = decode(b"data:  two spaces\ndata\ndata:x\n\n")
    assert event.data == " two spaces\n\nx"


def test_an_event_without_data_dispatches_nothing_and_its_name_does_not_leak():
    assert [(e.event, e.data) for e in decode(b"event: ping\n\ndata: 1\n\n")] == [("message", "1")]


def test_the_last_id_carries_over_and_an_id_with_nul_is_ignored():
    events = decode(b"id: 7\ndata: a\n\ndata: b\n\nid: 8\x00\ndata: c\n\n")
    assert [e.id for e in events] == ["7", "7", "7"]


def test_retry_takes_only_digits():
    events = decode(b"retry: 1500\ndata: a\n\nretry: 1e3\ndata: b\n\n")
    assert [e.retry for e in events] == [1500, None]


def test_a_cr_ending_one_read_and_a_lf_starting_the_next_are_one_line_break():
    assert [e.data for e in decode(b"data: 1\r", b"\ndata: 2\r", b"\n\r", b"\n")] == ["1\n2"]


def test_a_trailing_cr_ends_the_last_line():
    assert [e.data for e in decode(b"data: 1\r")] == ["1"]


PIECES = ["data", "event", "id", "retry", "x", ":", " ", "\r", "\n", "\r\n", "\u2028", "\ufeff"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), max_size=40), st.integers(min_value=1, max_value=7))
def test_matches_the_spec_written_out(pieces, step):
    text = "".join(pieces)
    raw = text.encode()
    reads = [raw[i : i + step] for i in range(0, len(raw), step)]
    reader = SSEReader()
    got = [e for data in reads for e in reader.feed(data)] + reader.close()
    # Lenient where the spec drops it: a last event whose blank line never came is delivered.
    assert [(e.event, e.data, e.id) for e in got] == reference(text)


def counted(reads: list[bytes]) -> tuple[list[ServerSentEvent], int, int]:
    reader = SSEReader()
    events = [e for data in reads for e in reader.feed(data)] + reader.close()
    return events, reader.bad_lines, reader.invalid_utf8


def test_whole_data_events_take_the_short_path_and_match_the_long_one():
    # Reads that are whole `data:` events (what servers send, one token a read) skip the line
    # machinery; the result must be exactly what byte-by-byte decoding gives.
    reads = [
        b"id: 4\ndata: {}\n\n",  # the first read: not the short path (the BOM is undecided)
        b'data: {"a": 1}\n\n',
        b"data:no space\n\ndata:  two\n\n",
        "data: caf\u00e9 \ufffd\n\n".encode(),
        b"data: \xff bad\n\n",  # invalid UTF-8: the long path counts it
        b"data: x\r\n\r\n",  # CR: the long path
        b": keep-alive\n\ndata: y\n\n",
        b"event: e\ndata: z\n\n",
        b"data: a\ndata: b\n\n",
        b"data: last\n\n",
    ]
    whole = counted(reads)
    by_byte = counted([bytes([b]) for data in reads for b in data])
    assert whole == by_byte
    assert [e.data for e in whole[0]][-2:] == ["a\nb", "last"]
    assert {e.id for e in whole[0]} == {"4"}
    assert whole[2] == 1


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.lists(st.sampled_from([*PIECES, "data: v", "\ufffd", "é"]), max_size=6).map(
            lambda p: "".join(p) + "\n\n"
        ),
        max_size=8,
    )
)
def test_event_aligned_reads_decode_as_byte_reads_do(events):
    reads = [e.encode() for e in events]
    assert counted(reads) == counted([bytes([b]) for data in reads for b in data])
