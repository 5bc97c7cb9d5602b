"""Write signatures.json: shared vectors of the signature stroke encoding (format 1).

Format 1 (all integers LEB128 varints; signed values zigzag-coded first):
  version (=1) · width · height · stroke count ·
  per stroke: point count · x0 · y0 (zigzag, absolute) · then per further point dx · dy (zigzag)
Coordinates are integer pad pixels, 0 <= x < width, 0 <= y < height. The wire form is the
standard base64 of these bytes; sha256 is the hex digest of the bytes (not of the base64).
Run: python tests/vectors/make_signature_vectors.py
"""
import base64
import hashlib
import json
import math
from pathlib import Path


def varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def zigzag(n):
    return (n << 1) if n >= 0 else ((-n) << 1) - 1


def encode(width, height, strokes):
    out = bytearray(varint(1) + varint(width) + varint(height) + varint(len(strokes)))
    for stroke in strokes:
        out += varint(len(stroke))
        px, py = 0, 0
        for i, (x, y) in enumerate(stroke):
            dx, dy = (x, y) if i == 0 else (x - px, y - py)
            out += varint(zigzag(dx)) + varint(zigzag(dy))
            px, py = x, y
    return bytes(out)


def wave(n, x0, y0, amp):
    return [[x0 + i * 3, y0 + round(amp * math.sin(i / 4))] for i in range(n)]


CASES = [
    ("a dot (one stroke, one point)", 320, 160, [[[10, 10]]]),
    ("one short line", 320, 160, [[[0, 0], [1, 1], [3, 2], [2, 0]]]),
    ("big jumps need multi-byte varints", 1000, 400, [[[999, 399], [0, 0], [500, 200]]]),
    ("three strokes, a typical initial", 320, 160, [wave(40, 20, 80, 30), [[150, 40], [150, 120]],
                                                     wave(30, 180, 60, 15)]),
    ("a typical full signature", 600, 240, [wave(120, 10, 120, 60), wave(80, 50, 90, 25),
                                             [[400, 200], [420, 150], [450, 210], [480, 140]]]),
]

INVALID = [
    ("not base64", "@@@@"),
    ("empty bytes", ""),
    ("wrong version", base64.b64encode(bytes([2, 10, 10, 1, 1, 0, 0])).decode()),
    ("no strokes", base64.b64encode(bytes([1, 10, 10, 0])).decode()),
    ("stroke with no points", base64.b64encode(bytes([1, 10, 10, 1, 0])).decode()),
    ("point outside the pad", base64.b64encode(encode(10, 10, [[[12, 3]]])).decode()),
    ("negative coordinate", base64.b64encode(encode(10, 10, [[[2, 2], [-4, 0]]])).decode()),
    ("truncated", base64.b64encode(encode(320, 160, [wave(10, 5, 50, 10)])[:-3]).decode()),
    ("trailing bytes", base64.b64encode(encode(10, 10, [[[1, 1]]]) + b"\x00").decode()),
    ("zero width", base64.b64encode(bytes([1, 0, 10, 1, 1, 0, 0])).decode()),
]

if __name__ == "__main__":
    valid = []
    for name, w, h, strokes in CASES:
        raw = encode(w, h, strokes)
        valid.append({"case": name, "width": w, "height": h, "strokes": strokes,
                      "base64": base64.b64encode(raw).decode(),
                      "sha256": hashlib.sha256(raw).hexdigest(), "bytes": len(raw)})
    doc = {"about": __doc__.strip(), "max_width": 2000, "max_height": 2000,
           "max_points": 4000, "max_bytes": 16384,
           "valid": valid, "invalid": [{"case": n, "base64": b} for n, b in INVALID]}
    path = Path(__file__).with_name("signatures.json")
    path.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {path} ({len(valid)} valid, {len(INVALID)} invalid)")
