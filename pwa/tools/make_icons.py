"""Draw the CAH app icons (an ID card with a check mark) as PNG files, using only zlib and struct.

Run from the project root: python3 pwa/tools/make_icons.py — writes pwa/icons/*.png.
"""
import struct
import zlib
from pathlib import Path

TEAL = (15, 118, 110)
WHITE = (255, 255, 255)
AMBER = (245, 158, 11)
SAMPLES = 3  # supersampling per axis, for smooth edges


def rounded_rect(cx, cy, half_w, half_h, radius):
    """Inside-test for a rounded rectangle centred on (cx, cy), in unit coordinates."""
    def inside(x, y):
        dx = max(abs(x - cx) - (half_w - radius), 0.0)
        dy = max(abs(y - cy) - (half_h - radius), 0.0)
        in_box = abs(x - cx) <= half_w and abs(y - cy) <= half_h
        return in_box and dx * dx + dy * dy <= radius * radius
    return inside


def circle(cx, cy, r):
    """Inside-test for a disc."""
    return lambda x, y: (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def segment(ax, ay, bx, by, half_width):
    """Inside-test for a thick line segment with round ends."""
    vx, vy = bx - ax, by - ay
    length2 = vx * vx + vy * vy

    def inside(x, y):
        t = max(0.0, min(1.0, ((x - ax) * vx + (y - ay) * vy) / length2))
        px, py = ax + t * vx - x, ay + t * vy - y
        return px * px + py * py <= half_width * half_width
    return inside


def shapes(maskable):
    """Layers, bottom first, as (inside-test, colour).

    For the maskable icon the content shrinks into the central safe zone.
    """
    k = 0.78 if maskable else 1.0

    def s(x):  # scale about the centre
        return 0.5 + (x - 0.5) * k

    layers = []
    if maskable:
        layers.append((lambda x, y: True, TEAL))  # full bleed: the launcher cuts its own shape
    else:
        layers.append((rounded_rect(0.5, 0.5, 0.46, 0.46, 0.1), TEAL))
    layers += [
        (rounded_rect(0.5, s(0.47), 0.33 * k, 0.22 * k, 0.04 * k), WHITE),  # the card
        (circle(s(0.33), s(0.43), 0.075 * k), TEAL),  # photo: head
        (rounded_rect(s(0.33), s(0.59), 0.09 * k, 0.05 * k, 0.04 * k), TEAL),  # photo: shoulders
        (rounded_rect(s(0.6), s(0.39), 0.14 * k, 0.025 * k, 0.02 * k), TEAL),  # text lines
        (rounded_rect(s(0.57), s(0.48), 0.11 * k, 0.025 * k, 0.02 * k), TEAL),
        (circle(s(0.72), s(0.7), 0.13 * k), AMBER),  # check badge
        (segment(s(0.655), s(0.70), s(0.705), s(0.75), 0.022 * k), WHITE),
        (segment(s(0.705), s(0.75), s(0.79), s(0.655), 0.022 * k), WHITE),
    ]
    return layers


def render(size, maskable):
    """RGBA rows of the icon at size × size pixels."""
    layers = shapes(maskable)
    rows = []
    n = SAMPLES * SAMPLES
    for py in range(size):
        row = bytearray([0])  # filter type 0 (None) for this scanline
        for px in range(size):
            r = g = b = a = 0
            for sy in range(SAMPLES):
                for sx in range(SAMPLES):
                    x = (px + (sx + 0.5) / SAMPLES) / size
                    y = (py + (sy + 0.5) / SAMPLES) / size
                    colour = None
                    for inside, c in reversed(layers):
                        if inside(x, y):
                            colour = c
                            break
                    if colour:
                        r, g, b, a = r + colour[0], g + colour[1], b + colour[2], a + 1
            if a:
                row += bytes((round(r / a), round(g / a), round(b / a), round(255 * a / n)))
            else:
                row += b"\0\0\0\0"
        rows.append(bytes(row))
    return b"".join(rows)


def png(size, raw):
    """Wrap raw RGBA scanlines as a PNG file."""
    def chunk(kind, data):
        body = kind + data
        crc = zlib.crc32(body) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + body + struct.pack(">I", crc)
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA, no interlace
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def main():
    """Write the three icons the manifest names."""
    out = Path(__file__).resolve().parent.parent / "icons"
    out.mkdir(exist_ok=True)
    for name, size, maskable in (("icon-192.png", 192, False), ("icon-512.png", 512, False),
                                 ("icon-maskable-512.png", 512, True)):
        data = png(size, render(size, maskable))
        (out / name).write_bytes(data)
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
