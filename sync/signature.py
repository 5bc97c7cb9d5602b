"""Signatures, format 1: decode and validate the compact strokes a phone sends, render SVG.

Format 1 (shared vectors: tests/vectors/signatures.json, JS twin: pwa/js/signature-codec.js):
all integers are LEB128 varints, signed values zigzag-coded first:
  version (=1) · width · height · stroke count ·
  per stroke: point count · x0 · y0 (zigzag, absolute) · then per further point dx · dy (zigzag).
Coordinates are integer pad pixels, 0 <= x < width, 0 <= y < height. On the wire: standard
base64 of the bytes; the SHA-256 is of the bytes, not of the base64.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

FORMAT_VERSION = 1
MAX_WIDTH = 2000
MAX_HEIGHT = 2000
MAX_POINTS = 4000
MAX_BYTES = 16384
_MAX_BASE64 = (MAX_BYTES + 2) // 3 * 4
_MAX_VARINT_BYTES = 5  # 35 bits: far above any valid value, bounds the loop on garbage

STROKE_WIDTH = 2.5


class SignatureError(ValueError):
    """The signature data is not valid format 1 (the message says why, in English, for logs)."""


@dataclass(frozen=True)
class Signature:
    """A decoded signature: pad size and strokes of (x, y) points."""

    width: int
    height: int
    strokes: tuple[tuple[tuple[int, int], ...], ...]

    @property
    def point_count(self) -> int:
        """Number of points over all strokes."""
        return sum(len(stroke) for stroke in self.strokes)


def signature_bytes(data: str) -> bytes:
    """Strict base64 → bytes, within the size limit; SignatureError otherwise."""
    if not isinstance(data, str) or len(data) > _MAX_BASE64:
        raise SignatureError("not a base64 string of the allowed size")
    try:
        raw = base64.b64decode(data.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise SignatureError("not base64") from None
    if not raw:
        raise SignatureError("empty")
    return raw


def signature_sha256(data: str) -> str:
    """Hex SHA-256 of the decoded bytes (what the phone sends as signature.sha256)."""
    return hashlib.sha256(signature_bytes(data)).hexdigest()


def decode_signature(data: str) -> Signature:
    """Decode base64 format-1 data into a Signature, or raise SignatureError."""
    return decode_signature_bytes(signature_bytes(data))


def decode_signature_bytes(raw: bytes) -> Signature:
    """Decode format-1 bytes into a Signature, or raise SignatureError."""
    if len(raw) > MAX_BYTES:
        raise SignatureError("too many bytes")
    reader = _Reader(raw)
    if reader.varint() != FORMAT_VERSION:
        raise SignatureError("unknown format version")
    width, height = reader.varint(), reader.varint()
    if not (1 <= width <= MAX_WIDTH and 1 <= height <= MAX_HEIGHT):
        raise SignatureError("pad size out of range")
    stroke_count = reader.varint()
    if not 1 <= stroke_count <= MAX_POINTS:
        raise SignatureError("no strokes, or too many")
    strokes = []
    total = 0
    for _ in range(stroke_count):
        count = reader.varint()
        total += count
        if count < 1 or total > MAX_POINTS:
            raise SignatureError("a stroke without points, or too many points")
        x, y = reader.signed(), reader.signed()
        points = [(x, y)]
        for _ in range(count - 1):
            x, y = x + reader.signed(), y + reader.signed()
            points.append((x, y))
        if any(not (0 <= px < width and 0 <= py < height) for px, py in points):
            raise SignatureError("a point outside the pad")
        strokes.append(tuple(points))
    if not reader.at_end():
        raise SignatureError("trailing bytes")
    return Signature(width, height, tuple(strokes))


def encode_signature(width: int, height: int, strokes) -> bytes:
    """Encode strokes as format-1 bytes (the phone's job; here for tests and tools)."""
    out = bytearray()
    for value in (FORMAT_VERSION, width, height, len(strokes)):
        out += _varint(value)
    for stroke in strokes:
        out += _varint(len(stroke))
        previous = (0, 0)
        for x, y in stroke:
            out += _varint(_zigzag(x - previous[0])) + _varint(_zigzag(y - previous[1]))
            previous = (x, y)
    return bytes(out)


def signature_svg(signature: Signature) -> str:
    """An SVG document: one <path> per stroke on the pad's viewBox; a one-point stroke is a dot."""
    paths = []
    radius = STROKE_WIDTH / 2
    for stroke in signature.strokes:
        if len(stroke) == 1:
            x, y = stroke[0]
            # A filled circle: zero-length lines with round caps are not drawn by every renderer.
            d = (f"M{x - radius:g} {y}a{radius:g} {radius:g} 0 1 0 {2 * radius:g} 0"
                 f"a{radius:g} {radius:g} 0 1 0 {-2 * radius:g} 0Z")
            paths.append(f'<path d="{d}" fill="#111" stroke="none"/>')
        else:
            d = "M" + "L".join(f"{x} {y}" for x, y in stroke)
            paths.append(f'<path d="{d}"/>')
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {signature.width} '
        f'{signature.height}" width="{signature.width}" height="{signature.height}" '
        f'role="img" aria-label="Tanda tangan penerima">'
        f'<g fill="none" stroke="#111" stroke-width="{STROKE_WIDTH:g}" stroke-linecap="round" '
        f'stroke-linejoin="round">{"".join(paths)}</g></svg>'
    )


class _Reader:
    """Reads varints from bytes, refusing truncated or overlong input."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self.pos = 0

    def varint(self) -> int:
        value = shift = 0
        for _ in range(_MAX_VARINT_BYTES):
            if self.pos >= len(self.raw):
                raise SignatureError("truncated")
            byte = self.raw[self.pos]
            self.pos += 1
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
            shift += 7
        raise SignatureError("varint too long")

    def signed(self) -> int:
        value = self.varint()
        return (value >> 1) ^ -(value & 1)

    def at_end(self) -> bool:
        return self.pos == len(self.raw)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _zigzag(value: int) -> int:
    return value << 1 if value >= 0 else ((-value) << 1) - 1
