"""NIK/KK checks against the shared vectors (the JS twin runs the same file)."""
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from sync.validators import MESSAGES_ID, check_kk, check_nik, message

VECTORS = json.loads(
    (Path(__file__).resolve().parent.parent / "vectors" / "identity_checks.json").read_text("utf-8")
)


@pytest.mark.parametrize("case", VECTORS["nik"], ids=[c["case"] for c in VECTORS["nik"]])
def test_nik_vector(case):
    errors, warnings = check_nik(case["nik"], case["sex"], case["birth_date"], case["kecamatan_code"])
    assert set(errors) == set(case["errors"])
    assert set(warnings) == set(case["warnings"])


@pytest.mark.parametrize("case", VECTORS["kk"], ids=[c["case"] for c in VECTORS["kk"]])
def test_kk_vector(case):
    errors, warnings = check_kk(case["kk_number"], case["kecamatan_code"])
    assert set(errors) == set(case["errors"])
    assert set(warnings) == set(case["warnings"])


def test_messages_are_the_shared_wording():
    assert MESSAGES_ID == VECTORS["messages_id"]
    assert "(631104)" in message("nik_region", "631104")


def test_birth_date_may_be_a_date_object():
    assert check_nik("6311041203990002", "male", date(1999, 3, 13), "631104") == ([], ["nik_birth_date"])


@given(
    born=st.dates(min_value=date(1920, 1, 1), max_value=date(2026, 1, 1)),
    sex=st.sampled_from(["male", "female"]),
    serial=st.integers(min_value=1, max_value=9999),
)
def test_a_nik_built_from_the_facts_passes_clean(born, sex, serial):
    day = born.day + (40 if sex == "female" else 0)
    nik = f"631104{day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"
    assert check_nik(nik, sex, born, "631104") == ([], [])
    # and one day off is only ever a warning
    errors, warnings = check_nik(nik, sex, born + timedelta(days=1), "631104")
    assert errors == [] and warnings == ["nik_birth_date"]


@given(st.text(max_size=20), st.sampled_from(["male", "female", None]))
def test_arbitrary_text_never_raises(text, sex):
    errors, warnings = check_nik(text, sex, "2000-01-01", "631104")
    assert set(errors) <= {"nik_format", "nik_date", "nik_serial"}
    assert set(warnings) <= {"nik_region", "nik_birth_date", "nik_sex"}
