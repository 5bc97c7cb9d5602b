"""Synthetic but realistic field data (deterministic for a seed): what an officer types.

Sizes matter here (bytes per registration on a 2G link), so the records are varied like real
ones: Banjar/Indonesian names of different lengths, NIK for most residents (correct for the
kecamatan, sex and birth date), a KK number for most, an address, RT/RW, a phone number for
some, a vulnerable category and a short note for a few.
"""
from __future__ import annotations

import random
import uuid
from datetime import date, timedelta

KECAMATAN = "631104"  # Batumandi
DESA = ("6311042005", "6311042001")  # assigned to the test officer "petugas"

_GIVEN_M = ("Ahmad", "Muhammad", "Rahmat", "Saipul", "Jumberi", "Anang", "Fauzan", "Hendra",
            "Rudi", "Yusuf", "Basri", "Syahrani", "Ijai", "Taufik", "Riduan", "Gusti")
_GIVEN_F = ("Siti", "Nor", "Rahmah", "Aisyah", "Fitri", "Salasiah", "Jamilah", "Masitah",
            "Rusmini", "Norhayati", "Wati", "Aluh", "Diang", "Hamidah", "Lailatul", "Sari")
_FAMILY = ("Hidayat", "Rahman", "Ansyari", "Syarifuddin", "Noor", "Effendi", "Maulana",
           "Hasanah", "Fadillah", "Ramadhani", "Saputra", "Wahyudi", "Rizky", "", "", "")
_PLACES = ("Paringin", "Batumandi", "Amuntai", "Barabai", "Tanjung", "Banjarmasin",
           "Lok Batu", "Tariwin", "Awayan", "Halong")
_STREETS = ("Jl. Pramuka", "Jl. Ahmad Yani", "Jl. Batu Mandi", "Gg. Mesjid", "Jl. Desa",
            "Jl. Poros Halong", "Gg. Sepakat", "Jl. Tanjung Pura", "Dusun Hulu", "Dusun Hilir")
_NOTES = ("", "", "", "Tinggal dengan nenek.", "Belum punya KK sendiri.",
          "Bekerja di kebun karet, pulang sore.", "Disabilitas, perlu dijemput.",
          "Rumah di seberang sungai.")
_VULNERABLE = (None,) * 8 + ("remote_community", "natural_disaster", "neglected")
_DISABILITY = (None,) * 10 + ("physical", "visual")


def _nik(rng: random.Random, sex: str, born: date) -> str:
    day = born.day + (40 if sex == "female" else 0)
    return f"{KECAMATAN}{day:02d}{born.month:02d}{born.year % 100:02d}{rng.randint(1, 9999):04d}"


def registration_args(rng: random.Random, desa: str | None = None) -> dict:
    """register_resident args as the phone's form produces them (see pwa/js/resident-form.js)."""
    sex = rng.choice(("male", "female"))
    given = rng.choice(_GIVEN_M if sex == "male" else _GIVEN_F)
    name = " ".join(p for p in (given, rng.choice(_FAMILY)) if p)
    born = date(2010, 12, 31) - timedelta(days=rng.randint(0, 365 * 30))
    has_nik = rng.random() < 0.7
    return {
        "resident_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "desa_code": desa or rng.choice(DESA),
        "name": name,
        "nik": _nik(rng, sex, born) if has_nik else None,
        "kk_number": (f"{KECAMATAN}{rng.randint(1, 28):02d}{rng.randint(1, 12):02d}"
                      f"{rng.randint(5, 24):02d}{rng.randint(1, 9999):04d}")
        if rng.random() < 0.8 else None,
        "sex": sex,
        "birth_place": rng.choice(_PLACES),
        "birth_date": born.isoformat(),
        "marital_status": "single" if born.year > 2004 else rng.choice(
            ("single", "married", "married", "divorced", "widowed")),
        "address": f"{rng.choice(_STREETS)} No. {rng.randint(1, 120)}",
        "rt": f"{rng.randint(1, 12):03d}",
        "rw": f"{rng.randint(1, 5):03d}",
        "phone": f"08{rng.randint(11, 59)}{rng.randint(1000000, 99999999)}"
        if rng.random() < 0.4 else None,
        "vulnerable_category": rng.choice(_VULNERABLE),
        "disability": rng.choice(_DISABILITY),
        "notes": rng.choice(_NOTES) or None,
    }


def registrations(n: int, seed: int = 1, desa: str | None = None) -> list[dict]:
    """n register_resident args, the same ones for the same seed."""
    rng = random.Random(seed)
    return [registration_args(rng, desa) for _ in range(n)]


def mutation(mid: int, name: str, args: dict, at: str = "2026-11-28T09:15:03+08:00") -> dict:
    """One outbox entry as it travels."""
    return {"id": mid, "name": name, "at": at, "args": args}
