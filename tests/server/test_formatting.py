"""The office's formats (server/formatting.py) against the vectors shared with the phone."""
import json
from pathlib import Path

import pytest

from server.formatting import mask_nik

# How a NIK is masked, shared with the phone (tests/js/format.test.mjs): `visible` writes each
# hidden digit as "#"; the server draws it as "*".
NIK_MASK = json.loads((Path(__file__).resolve().parent.parent / "vectors" / "nik_mask.json")
                      .read_text(encoding="utf-8"))["cases"]


def test_the_vectors_cover_a_full_nik_a_short_one_and_an_empty_one():
    lengths = {len(case["nik"]) for case in NIK_MASK}
    assert 16 in lengths and 0 in lengths and any(0 < n < 10 for n in lengths)


@pytest.mark.parametrize("case", NIK_MASK, ids=lambda case: case["nik"] or "empty")
def test_mask_nik_shows_the_digits_of_the_shared_vectors(case):
    shown = mask_nik(case["nik"])
    if not case["nik"]:
        assert shown == "—"  # nothing to mask: the office's sign for an empty value
        return
    assert "#" not in shown
    assert shown.replace("*", "#") == case["visible"]
