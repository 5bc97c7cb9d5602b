"""Stage codes in pipeline order and the one Indonesian label table (mirrored in pwa/js/labels.js)."""
from __future__ import annotations

# Forward pipeline order (DESIGN §2). `rejected` sits after `verified` in the SOP table but is
# terminal, not "further along": it is kept out of STAGE_ORDER and ranked separately.
# `listed` (imported from a Disdukcapil list, not found yet) comes before everything.
STAGE_ORDER: tuple[str, ...] = (
    "listed",
    "found",
    "verified",
    "picked_up",
    "recorded",
    "sent_to_registry",
    "card_collected",
    "delivered",
)
TERMINAL_STAGES: frozenset[str] = frozenset({"rejected"})
STAGES: tuple[str, ...] = ("listed", "found", "verified", "rejected") + STAGE_ORDER[3:]
INITIAL_STAGE = "found"

STAGE_LABELS: dict[str, str] = {
    "listed": "Belum Ditemukan",
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

# ---------------------------------------------------------------- pipeline (docs/interfaces-pipeline.md)
# Texts equal pwa/js/labels.js where the phone has the same table.
REJECTION_REASON_LABELS: dict[str, str] = {
    "has_ktp_el": "Sudah punya KTP-el",
    "not_eligible": "Belum memenuhi syarat",
    "moved_away": "Pindah domisili",
    "deceased": "Meninggal dunia",
    "duplicate": "Data ganda",
    "other": "Lainnya",
}

VERIFICATION_CHECK_LABELS: dict[str, str] = {
    "kk_copy_seen": "Fotokopi KK sudah diperiksa",
    "age_eligible": "Umur memenuhi syarat (17 tahun, atau 16 tahun untuk perekaman)",
    "marital_eligible": "Status perkawinan sesuai (sudah/pernah kawin wajib KTP-el)",
}

RECORD_FAILED_REASON_LABELS: dict[str, str] = {
    "device_down": "Alat perekaman rusak/tidak tersedia",
    "resident_absent": "Warga tidak hadir",
    "documents_incomplete": "Dokumen tidak lengkap",
    "other": "Lainnya",
}

COLLECTION_OUTCOME_LABELS: dict[str, str] = {
    "collected": "KTP sudah diambil",
    "not_printed": "KTP belum dicetak",
}

NOT_PRINTED_REASON_LABELS: dict[str, str] = {
    "blanko_habis": "Blanko habis",
    "duplicate_record": "Data ganda (duplicate record)",
    "enrolment_failed": "Perekaman gagal/harus diulang",
    "other": "Lainnya",
}

RECIPIENT_LABELS: dict[str, str] = {"owner": "Pemilik", "proxy": "Diwakilkan"}

CONFLICT_KIND_LABELS: dict[str, str] = {
    "concurrent_edit": "Perubahan data bersamaan",
    "possible_duplicate": "Kemungkinan data ganda",
    "verify_vs_reject": "Diverifikasi sekaligus ditolak",
    "double_delivery": "KTP tercatat diserahkan dua kali",
}

CONFLICT_STATUS_LABELS: dict[str, str] = {"open": "Belum diselesaikan", "resolved": "Selesai"}

CONFLICT_DECISION_LABELS: dict[str, str] = {
    "keep_verified": "Tetap terverifikasi",
    "keep_rejected": "Tetap ditolak",
    "keep_first": "Pakai penyerahan pertama",
    "keep_second": "Pakai penyerahan kedua",
    "keep_current": "Pakai nilai sekarang",
    "restore_previous": "Kembalikan nilai sebelumnya",
    "merge": "Gabungkan data",
    "not_duplicate": "Bukan data ganda",
}

# Which decisions answer which conflict kind (the first is what changes least).
CONFLICT_DECISIONS: dict[str, tuple[str, ...]] = {
    "verify_vs_reject": ("keep_verified", "keep_rejected"),
    "double_delivery": ("keep_first", "keep_second"),
    "concurrent_edit": ("keep_current", "restore_previous"),
    "possible_duplicate": ("not_duplicate", "merge"),
}

EVENT_KIND_LABELS: dict[str, str] = {
    "listed": "Diimpor dari daftar",
    "registered": "Didaftarkan",
    "updated": "Data diubah",
    "identity_corrected": "Data identitas dikoreksi",
    "verified": "Diverifikasi",
    "rejected": "Ditolak",
    "picked_up": "Dijemput",
    "pickup_cancelled": "Penjemputan dibatalkan",
    "recorded": "Sudah direkam",
    "recording_failed": "Perekaman gagal",
    "batch_handed_over": "Diserahkan ke Disdukcapil",
    "batch_received": "Berkas diterima Disdukcapil",
    "batch_item_missing": "Tidak ada dalam berkas yang diterima Disdukcapil (perlu diserahkan ulang)",
    "card_ready": "KTP siap diambil (ditandai Disdukcapil)",
    "card_collected": "KTP diambil",
    "card_not_printed": "KTP belum dicetak",
    "delivered": "KTP diserahkan",
    "conflict_resolved": "Konflik diselesaikan",
    "reopened": "Dibuka kembali",
    "merged": "Digabung",
}

BATCH_ORIGIN_LABELS: dict[str, str] = {"phone": "Dari HP petugas", "office": "Dari kantor"}


def stage_label(code: str | None) -> str:
    """Return the Indonesian label of a stage code (the code itself if unknown)."""
    if code is None:
        return ""
    return STAGE_LABELS.get(code, code)


def stage_rank(code: str) -> int:
    """Return the position of a forward stage (0 = listed); -1 for rejected; ValueError if unknown."""
    if code in TERMINAL_STAGES:
        return -1
    return STAGE_ORDER.index(code)


def later_stage(current: str, new: str) -> str:
    """Return the further of two forward stages (forward stages are the max reached)."""
    return new if stage_rank(new) > stage_rank(current) else current


def is_forward(current: str, new: str) -> bool:
    """True when moving from current to new is a step forward in the pipeline."""
    if current in TERMINAL_STAGES or new in TERMINAL_STAGES:
        return False
    return stage_rank(new) > stage_rank(current)
