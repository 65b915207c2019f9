from avp.captions.cuetext import escape_text, plain_text, tokenize


def test_plain_text_drops_tags_and_decodes_references():
    assert plain_text("<v Narrator>You <i>want</i> &amp; <c.loud>this</c>\n&lt;3") == "You want & this\n<3"


def test_voice_annotation_and_classes_are_read():
    start = tokenize("<v.first.second Jane Doe>hi</v>")[0]
    assert (start.kind, start.name, start.classes, start.annotation) == ("start", "v", ("first", "second"), "Jane Doe")


def test_timestamp_tags_and_unterminated_tags():
    tokens = tokenize("a<00:00:01.000>b<i")
    assert [t.kind for t in tokens] == ["text", "timestamp", "text", "start"]
    assert plain_text("a<00:00:01.000>b<i") == "ab"


def test_escape_round_trips_through_plain_text():
    raw = "AT&T <script> a->b"
    assert plain_text(escape_text(raw)) == raw
    assert "<" not in escape_text(raw)
