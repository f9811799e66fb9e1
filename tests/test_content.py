"""Message content as text (vvtui/content.py): one rule for the prompt line, the reports, the
request bodies, the price estimate and the simulator."""

from vvtui.content import content_text


def test_strings_parts_and_nothing():
    parts = [{"type": "text", "text": "a"}, {"type": "image_url"}, "stray", {"text": "b"}]
    assert content_text("as is") == "as is"
    assert content_text(parts) == "a  b"
    assert content_text(parts, "") == "ab"
    assert content_text(parts, "\n") == "a\n\nb"
    assert content_text(None) == "" and content_text([]) == ""
