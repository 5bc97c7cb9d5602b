"""Stage codes in pipeline order and the one Indonesian label table (mirrored in pwa/js/labels.js)."""
from __future__ import annotations

# Forward pipeline order (DESIGN §2). `rejected` sits after `verified` in the SOP table but is
# terminal, not "further along": it is kept out of STAGE_ORDER and ranked separately.
STAGE_ORDER: tuple[str, ...] = (
    "found",
    "verified",
    "picked_up",
    "recorded",
    "sent_to_registry",
    "card_collected",
    "delivered",
)
TERMINAL_STAGES: frozenset[str] = frozenset({"rejected"})
STAGES: tuple[str, ...] = ("found", "verified", "rejected") + STAGE_ORDER[2:]
INITIAL_STAGE = "found"

STAGE_LABELS: dict[str, str] = {
    "found": "Terdata",
    "verified": "Terverifikasi",
    "rejected": "Ditolak",
    "picked_up": "Dijemput",
    "recorded": "Sudah Rekam",
    "sent_to_registry": "Diserahkan ke Disdukcapil",
    "card_collected": "KTP Diambil",
    "delivered": "KTP Diserahkan",
}

SEX_LABELS: dict[str, str] = {"male": "Laki-laki", "female": "Perempuan"}

MARITAL_STATUS_LABELS: dict[str, str] = {
    "single": "Belum Kawin",
    "married": "Kawin",
    "divorced": "Cerai Hidup",
    "widowed": "Cerai Mati",
}

# Penduduk rentan, Permendagri 96/2019.
VULNERABLE_CATEGORY_LABELS: dict[str, str] = {
    "natural_disaster": "Korban bencana alam",
    "social_disaster": "Korban bencana sosial",
    "neglected": "Orang terlantar / penghuni panti",
    "forest_or_disputed_land": "Penduduk di kawasan hutan atau tanah sengketa",
    "remote_community": "Komunitas adat terpencil",
}

DISABILITY_LABELS: dict[str, str] = {
    "physical": "Disabilitas fisik",
    "visual": "Disabilitas netra",
    "hearing_speech": "Disabilitas rungu/wicara",
    "mental": "Disabilitas mental/intelektual",
    "multiple": "Disabilitas ganda",
    "other": "Disabilitas lainnya",
}


def stage_label(code: str | None) -> str:
    """Return the Indonesian label of a stage code (the code itself if unknown)."""
    if code is None:
        return ""
    return STAGE_LABELS.get(code, code)


def stage_rank(code: str) -> int:
    """Return the position of a forward stage (0 = found); -1 for rejected; ValueError if unknown."""
    if code in TERMINAL_STAGES:
        return -1
    return STAGE_ORDER.index(code)


def is_forward(current: str, new: str) -> bool:
    """True when moving from current to new is a step forward in the pipeline."""
    if current in TERMINAL_STAGES or new in TERMINAL_STAGES:
        return False
    return stage_rank(new) > stage_rank(current)
