"""Comments and indentation out of the phone's JavaScript as it is served.

The shell is plain ES modules with no build step, and most of their gzipped weight over 2G is
comments and indentation (DESIGN §8: the first load must stay ≤ 100 KB). strip_js removes
both, using a real JavaScript parser (tree-sitter) to know what is a comment and what is the
inside of a string, template literal or regular expression, which it never touches. Line
breaks between statements are kept, so automatic semicolon insertion reads the code exactly
as before and line numbers in an error still point near the source.
"""
from __future__ import annotations

import logging
import re

import tree_sitter_javascript
from tree_sitter import Language, Parser

log = logging.getLogger(__name__)

_PARSER = Parser(Language(tree_sitter_javascript.language()))
# Nodes whose bytes are data, not layout: a byte inside one is kept as it is.
_LITERALS = frozenset({"string", "template_string", "regex"})
_BLANK = b" \t\r"
_NEWLINE = re.compile(rb"\n")


def _spans(root):
    """(comments, literals): sorted (start, end) byte spans found in the syntax tree."""
    comments, literals = [], []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "comment":
            comments.append((node.start_byte, node.end_byte))
        elif node.type in _LITERALS:
            literals.append((node.start_byte, node.end_byte))
            continue  # a comment cannot live inside a literal
        stack.extend(node.children)
    return sorted(comments), sorted(literals)


def strip_js(source: bytes) -> bytes:
    """The module without comments, indentation, trailing blanks and blank lines.

    Returns `source` unchanged when the parser finds a syntax error: serving the file as
    written is safer than guessing.
    """
    tree = _PARSER.parse(source)
    if tree.root_node.has_error:
        log.warning("jsstrip: syntax error in a shell module; served unstripped")
        return source
    comments, literals = _spans(tree.root_node)

    # Pass 1: drop comments (a block comment between tokens leaves one separator, a space or
    # the line break it spanned) and keep, per output byte, whether it belongs to a literal.
    out = bytearray()
    kept = bytearray()  # 1 = inside a literal: never altered
    literal_at = bytearray(len(source))
    for start, end in literals:
        literal_at[start:end] = b"\x01" * (end - start)
    pos = 0
    for start, end in comments:
        out += source[pos:start]
        kept += literal_at[pos:start]
        text = source[start:end]
        if text.startswith(b"/*"):
            sep = b"\n" if b"\n" in text else b" "
            out += sep
            kept += b"\x00"
        pos = end
    out += source[pos:]
    kept += literal_at[pos:]

    # Pass 2: per line, trim layout blanks that are not inside a literal; drop empty lines.
    result = bytearray()
    line_start = 0
    for match in _NEWLINE.finditer(bytes(out)):
        _emit_line(result, out, kept, line_start, match.start(), newline=True)
        line_start = match.end()
    _emit_line(result, out, kept, line_start, len(out), newline=False)
    return bytes(result)


def _emit_line(result, out, kept, start, end, *, newline):
    """Append out[start:end] trimmed of free blanks (+ its line break unless the line is empty)."""
    newline_in_literal = newline and bool(kept[end])  # out[end] is this line's "\n"
    while start < end and out[start] in _BLANK and not kept[start]:
        start += 1
    while end > start and out[end - 1] in _BLANK and not kept[end - 1]:
        end -= 1
    if start == end and not newline_in_literal:
        return  # a blank line of layout
    result += out[start:end]
    if newline:
        result += b"\n"
