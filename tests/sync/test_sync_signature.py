"""Signature format 1 against the shared vectors (the JS codec runs the same file)."""
import base64
import hashlib
import re

import pytest
from hypothesis import given, settings, strategies as st

from sync import signature
from sync.signature import (
    SignatureError,
    decode_signature,
    encode_signature,
    signature_sha256,
    signature_svg,
)
from sync_kit import SIGNATURES


@pytest.mark.parametrize("case", SIGNATURES["valid"], ids=[c["case"] for c in SIGNATURES["valid"]])
def test_valid_vector_decodes_to_its_strokes(case):
    decoded = decode_signature(case["base64"])
    assert (decoded.width, decoded.height) == (case["width"], case["height"])
    assert [[list(point) for point in stroke] for stroke in decoded.strokes] == case["strokes"]
    assert signature_sha256(case["base64"]) == case["sha256"]
    raw = encode_signature(case["width"], case["height"], case["strokes"])
    assert len(raw) == case["bytes"] and hashlib.sha256(raw).hexdigest() == case["sha256"]
    assert base64.b64encode(raw).decode() == case["base64"]


@pytest.mark.parametrize("case", SIGNATURES["invalid"], ids=[c["case"] for c in SIGNATURES["invalid"]])
def test_invalid_vector_is_refused(case):
    with pytest.raises(SignatureError):
        decode_signature(case["base64"])


def test_limits_are_the_vectors_limits():
    assert (signature.MAX_WIDTH, signature.MAX_HEIGHT, signature.MAX_POINTS, signature.MAX_BYTES) == (
        SIGNATURES["max_width"], SIGNATURES["max_height"], SIGNATURES["max_points"],
        SIGNATURES["max_bytes"])


def b64(raw):
    return base64.b64encode(raw).decode()


@pytest.mark.parametrize("raw", [
    encode_signature(2001, 10, [[[0, 0]]]),                         # pad too wide
    encode_signature(10, 2001, [[[0, 0]]]),                         # pad too high
    encode_signature(10, 10, [[[1, 1]] * 2001, [[1, 1]] * 2000]),   # 4001 points
    bytes([1, 10, 10, 1, 1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0]),  # varint too long
], ids=["width", "height", "points", "varint"])
def test_limits_are_enforced(raw):
    with pytest.raises(SignatureError):
        decode_signature(b64(raw))


def test_size_limit_is_checked_before_decoding():
    with pytest.raises(SignatureError):
        decode_signature("A" * (4 * (SIGNATURES["max_bytes"] // 3 + 2)))
    with pytest.raises(SignatureError):
        decode_signature(None)


def test_svg_has_one_path_per_stroke_and_a_dot_for_one_point():
    case = next(c for c in SIGNATURES["valid"] if c["case"].startswith("three strokes"))
    svg = signature_svg(decode_signature(case["base64"]))
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 320 160"')
    assert svg.count("<path ") == 3
    assert "<script" not in svg and "href" not in svg and " on" not in svg
    first = case["strokes"][0]
    assert f'd="M{first[0][0]} {first[0][1]}L{first[1][0]} {first[1][1]}L' in svg

    dot = signature_svg(decode_signature(SIGNATURES["valid"][0]["base64"]))
    [d] = re.findall(r'<path d="([^"]+)" fill="#111"', dot)
    assert d.startswith("M8.75 10a1.25 1.25") and d.endswith("Z")  # a filled circle at (10, 10)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_arbitrary_bytes_never_raise_anything_else(raw):
    try:
        decoded = decode_signature(b64(raw))
    except SignatureError:
        return
    assert decoded.point_count >= 1
    assert all(0 <= x < decoded.width and 0 <= y < decoded.height
               for stroke in decoded.strokes for x, y in stroke)
