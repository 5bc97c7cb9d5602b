"""Synthetic but realistic field data (deterministic for a seed): what an officer types.

Sizes matter here (bytes per registration on a 2G link), so the records are varied like real
ones: Banjar/Indonesian names of different lengths, NIK for most residents (correct for the
kecamatan, sex and birth date), a KK number for most, an address, RT/RW, a phone number for
some, a vulnerable category and a short note for a few.
"""
from __future__ import annotations

import math
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


# ---------------------------------------------------------------- signatures and deliveries
PAD = (340, 176)  # CSS px of the signature canvas on a 360 px wide phone (100 % × 11rem)


def signature_strokes(rng: random.Random, pad=PAD) -> list[list[list[int]]]:
    """Raw pointer samples of a finger signature (60 Hz): a looping name, a second word or
    initial, sometimes an underline or a dot. The app thins and simplifies them itself."""
    width, height = pad
    strokes = []
    x = rng.uniform(0.08, 0.18) * width
    for part in range(rng.choice((2, 2, 3))):
        seconds = rng.uniform(0.9, 1.6) if part == 0 else rng.uniform(0.4, 1.0)
        n = int(seconds * 60)
        speed = rng.uniform(0.25, 0.45) * width / seconds * (0.6 if part else 1.0)
        loops = rng.uniform(2.0, 4.0)
        radius = rng.uniform(0.12, 0.22) * height
        base = rng.uniform(0.45, 0.6) * height
        phase = rng.uniform(0, math.tau)
        stroke = []
        for i in range(n):
            t = i / 60
            px = x + speed * t + 0.6 * radius * math.cos(math.tau * loops * t / seconds + phase)
            py = base + radius * math.sin(math.tau * loops * t / seconds + phase) \
                + 0.15 * radius * math.sin(math.tau * 0.7 * t) + rng.uniform(-0.8, 0.8)
            stroke.append([min(width - 1, max(0, round(px))), min(height - 1, max(0, round(py)))])
        strokes.append(stroke)
        x = min(width * 0.7, stroke[-1][0] + rng.uniform(8, 25))
    if rng.random() < 0.5:  # underline
        y = round(rng.uniform(0.75, 0.85) * height)
        x0, x1 = rng.uniform(0.05, 0.2) * width, rng.uniform(0.6, 0.9) * width
        n = int(rng.uniform(0.3, 0.5) * 60)
        strokes.append([[round(x0 + (x1 - x0) * i / (n - 1)), y + round(rng.uniform(-1, 1))]
                        for i in range(n)])
    return strokes


def delivery_plan(resident_ids: list[str], seed: int) -> list[dict]:
    """What the officer records per card: recipient (a proxy for some), GPS, raw strokes."""
    rng = random.Random(seed)
    plan = []
    for rid in resident_ids:
        proxy = rng.random() < 0.2
        plan.append({
            "resident_id": rid,
            "delivery_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "recipient": "proxy" if proxy else "owner",
            "proxy_name": rng.choice(("Siti Rahmah", "Ahmad Basri", "Nor Aini")) if proxy else None,
            "proxy_relation": rng.choice(("ibu kandung", "ayah", "kakak")) if proxy else None,
            "gps": {"lat": round(-2.34 - rng.random() * 0.1, 6),
                    "lon": round(115.47 + rng.random() * 0.1, 6),
                    "accuracy_m": rng.randint(4, 30)} if rng.random() < 0.9 else None,
            "strokes": signature_strokes(rng),
        })
    return plan
