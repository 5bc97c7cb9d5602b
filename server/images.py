"""JPEG and PNG by their bytes: the type from the magic numbers (checked against the declared
Content-Type), and a copy without metadata (EXIF, XMP, ICC, comments, PNG text and time
chunks) that could carry personal data.

Pure functions on bytes (no Flask, no database), used by server/attachments.py and the
office's photo view (server/web/photos.py).
"""
import struct
import zlib

JPEG, PNG = "image/jpeg", "image/png"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# PNG chunks that may carry personal data (text, EXIF, the time the photo was made).
PNG_DROPPED_CHUNKS = frozenset({b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME"})


# Content-Types that say nothing against the bytes, and old spellings of image/jpeg.
UNDECLARED = frozenset({"", "application/octet-stream"})
JPEG_ALIASES = frozenset({"image/jpg", "image/pjpeg"})


class InvalidImage(ValueError):
    """The bytes do not form a well-structured JPEG or PNG."""


class UnsupportedImage(ValueError):
    """Not a JPEG or PNG by its first bytes (declared None), or declared as another type
    than its bytes are (declared: the normalised Content-Type)."""

    def __init__(self, declared=None):
        super().__init__(declared or "not a JPEG or PNG")
        self.declared = declared


def sniff(head):
    """The MIME type from the first bytes (magic numbers), or None."""
    if head[:3] == b"\xff\xd8\xff":
        return JPEG
    if head[:8] == PNG_SIGNATURE:
        return PNG
    return None


def image_type(head, declared=None):
    """The MIME type of an image from its first 8 bytes, checked against the declared
    Content-Type (parameters ignored; empty or application/octet-stream accept either type).
    Raises UnsupportedImage."""
    mime = sniff(head)
    if mime is None:
        raise UnsupportedImage()
    declared = (declared or "").split(";")[0].strip().lower()
    if declared in JPEG_ALIASES:
        declared = JPEG
    if declared not in UNDECLARED and declared != mime:
        raise UnsupportedImage(declared)
    return mime


def file_extension(mime):
    """'jpg' or 'png': the file name extension of a stored image's type."""
    return "jpg" if mime == JPEG else "png"


def strip_metadata(data, mime):
    """The image without metadata; raises InvalidImage when its structure is broken."""
    if mime == JPEG:
        return strip_jpeg(data)
    if mime == PNG:
        return strip_png(data)
    raise InvalidImage(mime)


def strip_jpeg(data):
    """Drop APP1..APP15 and COM segments (EXIF, XMP, ICC, maker notes, comments) anywhere in
    the file, and anything after EOI. APP0 (JFIF), DQT, DHT, SOFn, DRI, SOS and the
    entropy-coded data are copied byte for byte."""
    n = len(data)
    if data[:2] != b"\xff\xd8":
        raise InvalidImage("no SOI")
    out = bytearray(b"\xff\xd8")
    i = 2
    seen_frame = seen_scan = False
    while True:
        if i >= n or data[i] != 0xFF:
            raise InvalidImage("marker expected")
        while i < n and data[i] == 0xFF:  # fill bytes before a marker
            i += 1
        if i >= n:
            raise InvalidImage("truncated marker")
        marker = data[i]
        i += 1
        if marker == 0xD9:  # EOI
            if not (seen_frame and seen_scan):
                raise InvalidImage("no image data")
            out += b"\xff\xd9"
            return bytes(out)
        if 0xD0 <= marker <= 0xD7 or marker == 0x01 or marker == 0x00:
            if marker == 0x00:
                raise InvalidImage("stuffed byte outside scan")
            out += bytes((0xFF, marker))  # standalone markers carry no length
            continue
        if i + 2 > n:
            raise InvalidImage("truncated length")
        length = int.from_bytes(data[i:i + 2], "big")
        if length < 2 or i + length > n:
            raise InvalidImage("bad segment length")
        segment = data[i:i + length]
        i += length
        if 0xE1 <= marker <= 0xEF or marker == 0xFE:
            continue  # APP1..APP15, COM: metadata
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD,
                      0xCE, 0xCF):
            seen_frame = True
        out += bytes((0xFF, marker)) + segment
        if marker == 0xDA:  # SOS: entropy-coded data up to the next real marker
            if not seen_frame:
                raise InvalidImage("scan before frame")
            seen_scan = True
            start = i
            while True:
                j = data.find(b"\xff", i)
                if j < 0 or j + 1 >= n:
                    raise InvalidImage("no EOI")
                following = data[j + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7:
                    i = j + 2  # stuffed 0xFF or restart marker: still scan data
                    continue
                if following == 0xFF:
                    i = j + 1  # fill byte: look again from the next 0xFF
                    continue
                break
            out += data[start:j]
            i = j


def strip_png(data):
    """Drop tEXt, zTXt, iTXt, eXIf and tIME chunks, and anything after IEND; check CRCs."""
    if data[:8] != PNG_SIGNATURE:
        raise InvalidImage("no PNG signature")
    out = bytearray(PNG_SIGNATURE)
    i, n, first = 8, len(data), True
    while True:
        if i + 12 > n:
            raise InvalidImage("truncated chunk")
        length = struct.unpack(">I", data[i:i + 4])[0]
        kind = data[i + 4:i + 8]
        end = i + 12 + length
        if length > 0x7FFFFFFF or end > n:
            raise InvalidImage("bad chunk length")
        if not kind.isalpha():
            raise InvalidImage("bad chunk type")
        crc = struct.unpack(">I", data[end - 4:end])[0]
        if zlib.crc32(data[i + 4:end - 4]) & 0xFFFFFFFF != crc:
            raise InvalidImage("bad CRC")
        if first and kind != b"IHDR":
            raise InvalidImage("IHDR must come first")
        first = False
        if kind not in PNG_DROPPED_CHUNKS:
            out += data[i:end]
        i = end
        if kind == b"IEND":
            return bytes(out)
