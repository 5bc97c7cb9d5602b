"""server/jsstrip.py: the phone's JavaScript loses comments and layout, never meaning."""
import gzip
from pathlib import Path

import pytest
import tree_sitter_javascript
from tree_sitter import Language, Parser

from server.jsstrip import strip_js

PWA = Path(__file__).resolve().parents[2] / "pwa"
MODULES = sorted(PWA.glob("js/*.js")) + [PWA / "sw.js"]
PARSER = Parser(Language(tree_sitter_javascript.language()))


def _tokens(source: bytes):
    """The leaves of the syntax tree other than comments: (type, text) in order."""
    out, stack = [], [PARSER.parse(source).root_node]
    while stack:
        node = stack.pop()
        if node.type == "comment":
            continue
        if node.child_count == 0:
            out.append((node.type, node.text))
        stack.extend(reversed(node.children))
    return out


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_every_shell_module_keeps_its_tokens(path):
    source = path.read_bytes()
    stripped = strip_js(source)
    assert not PARSER.parse(stripped).root_node.has_error
    assert _tokens(stripped) == _tokens(source)
    assert len(gzip.compress(stripped)) < len(gzip.compress(source))


@pytest.mark.parametrize("source, expected", [
    # A template inside a template keeps its leading space (a regex minifier dropped it).
    (b"const m = `Terima kasih.${who ? ` (${who})` : \"\"}`;\n",
     b"const m = `Terima kasih.${who ? ` (${who})` : \"\"}`;\n"),
    # Indentation and blank lines inside a multi-line template are data.
    (b"  const t = `a\n    b\n\n  c`;\n", b"const t = `a\n    b\n\n  c`;\n"),
    # What looks like a comment inside a string or a regular expression is not one.
    (b"const s = \"/* no */ // no\"; const r = /\\/\\/x/g;  // yes\n",
     b"const s = \"/* no */ // no\"; const r = /\\/\\/x/g;\n"),
    # A block comment between tokens leaves a separator; a commented line disappears.
    (b"/**\n * Doc.\n */\nexport function f(a, b) {\n  return a/*x*/+b; // sum\n}\n",
     b"export function f(a, b) {\nreturn a +b;\n}\n"),
    # Division stays division.
    (b"const d = a / 2 / b;\n", b"const d = a / 2 / b;\n"),
])
def test_strip_keeps_literals_and_drops_layout(source, expected):
    assert strip_js(source) == expected


def test_a_syntax_error_is_served_as_written():
    broken = b"// a comment\nconst = ;\n"
    assert strip_js(broken) == broken


def test_the_app_serves_stripped_modules(client):
    served = client.get("/app/js/db.js").data
    assert served == strip_js((PWA / "js/db.js").read_bytes())
    assert served != (PWA / "js/db.js").read_bytes()
