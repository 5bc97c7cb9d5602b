/**
 * The phone's one Indonesian label table. It mirrors sync/stages.py (the server's table) so the
 * officer and the camat read the same words; tests/js/labels.test.mjs checks they stay equal.
 */

/** Stage code → label, in pipeline order (rejected is terminal, listed where the SOP puts it). */
export const STAGE_LABELS = Object.freeze({
  listed: "Belum Ditemukan",
  found: "Terdata",
  verified: "Terverifikasi",
  rejected: "Ditolak",
  picked_up: "Dijemput",
  recorded: "Sudah Rekam",
  sent_to_registry: "Diserahkan ke Disdukcapil",
  card_collected: "KTP Diambil",
  delivered: "KTP Diserahkan",
});

/** Sex code → label. */
export const SEX_LABELS = Object.freeze({ male: "Laki-laki", female: "Perempuan" });

/** Marital status code → label (Dukcapil wording). */
export const MARITAL_STATUS_LABELS = Object.freeze({
  single: "Belum Kawin",
  married: "Kawin",
  divorced: "Cerai Hidup",
  widowed: "Cerai Mati",
});

/** Vulnerable-resident category (penduduk rentan, Permendagri 96/2019) → label. */
export const VULNERABLE_CATEGORY_LABELS = Object.freeze({
  natural_disaster: "Korban bencana alam",
  social_disaster: "Korban bencana sosial",
  neglected: "Orang terlantar / penghuni panti",
  forest_or_disputed_land: "Penduduk di kawasan hutan atau tanah sengketa",
  remote_community: "Komunitas adat terpencil",
});

/** Disability type → label. */
export const DISABILITY_LABELS = Object.freeze({
  physical: "Disabilitas fisik",
  visual: "Disabilitas netra",
  hearing_speech: "Disabilitas rungu/wicara",
  mental: "Disabilitas mental/intelektual",
  multiple: "Disabilitas ganda",
  other: "Disabilitas lainnya",
});

/** reject_resident reasons (docs/interfaces-pipeline.md). */
export const REJECTION_REASON_LABELS = Object.freeze({
  has_ktp_el: "Sudah punya KTP-el",
  not_eligible: "Belum memenuhi syarat",
  moved_away: "Pindah domisili",
  deceased: "Meninggal dunia",
  duplicate: "Data ganda",
  other: "Lainnya",
});

/** record_failed reasons. */
export const RECORD_FAILED_REASON_LABELS = Object.freeze({
  device_down: "Alat perekaman rusak/tidak tersedia",
  resident_absent: "Warga tidak hadir",
  documents_incomplete: "Dokumen tidak lengkap",
  other: "Lainnya",
});

/** record_collection: why a card was not printed yet. */
export const NOT_PRINTED_REASON_LABELS = Object.freeze({
  blanko_habis: "Blanko habis",
  duplicate_record: "Data ganda (duplicate record)",
  enrolment_failed: "Perekaman gagal/harus diulang",
  other: "Lainnya",
});

/** deliver_card recipient. */
export const RECIPIENT_LABELS = Object.freeze({ owner: "Pemilik", proxy: "Diwakilkan" });

/** verify_resident checks: the visible labels of the verification checkboxes. */
export const VERIFICATION_CHECK_LABELS = Object.freeze({
  kk_copy_seen: "Fotokopi KK sudah diperiksa",
  age_eligible: "Umur memenuhi syarat (17 tahun, atau 16 tahun untuk perekaman)",
  marital_eligible: "Status perkawinan sesuai (sudah/pernah kawin wajib KTP-el)",
});

/** record_collection outcome per card. */
export const COLLECTION_OUTCOME_LABELS = Object.freeze({
  collected: "KTP sudah diambil",
  not_printed: "KTP belum dicetak",
});

/** Field name → the exact visible <label> text of the registration form (index.html). */
export const FIELD_LABELS = Object.freeze({
  desa_code: "Desa",
  name: "Nama lengkap",
  nik: "NIK",
  kk_number: "Nomor KK",
  sex: "Jenis kelamin",
  birth_place: "Tempat lahir",
  birth_date: "Tanggal lahir",
  marital_status: "Status perkawinan",
  address: "Alamat",
  rt: "RT",
  rw: "RW",
  phone: "Nomor HP",
  vulnerable_category: "Kategori rentan",
  disability: "Disabilitas",
  notes: "Catatan",
});

/** Label of a stage code; the code itself when unknown (a newer server may add stages). */
export function stageLabel(code) {
  if (code == null) return "";
  return STAGE_LABELS[code] ?? code;
}

/** Label of a code in one of the tables above, or "" for null, or the code when unknown. */
export function labelOf(table, code) {
  if (code == null || code === "") return "";
  return table[code] ?? code;
}
