/** Indonesian formatting (DESIGN §7): dates 28/11/2026, times in WITA, numbers 1.234. Pure. */

const WITA = "Asia/Makassar";
const pad = (n, width = 2) => String(n).padStart(width, "0");

/** Device-clock time as ISO 8601 with the device's own UTC offset, e.g. 2026-11-28T09:15:03+08:00. */
export function isoWithOffset(date = new Date()) {
  const offsetMin = -date.getTimezoneOffset();
  const sign = offsetMin >= 0 ? "+" : "-";
  const abs = Math.abs(offsetMin);
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
    `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
  );
}

/** "YYYY-MM-DD" → "28/11/2026" (no time zone involved: it is a calendar date). */
export function formatDate(isoDate) {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(isoDate || "");
  return m ? `${m[3]}/${m[2]}/${m[1]}` : "";
}

/** An instant (Date or ISO string) shown in WITA: "28/11/2026 09.15 WITA". */
export function formatDateTimeWita(value) {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return "";
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-GB", {
      timeZone: WITA, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    }).formatToParts(date).map((p) => [p.type, p.value]),
  );
  return `${parts.day}/${parts.month}/${parts.year} ${parts.hour}.${parts.minute} WITA`;
}

/** Whole number with Indonesian grouping: 1234 → "1.234". */
export function formatNumber(n) {
  return String(Math.trunc(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ".");
}

/** A duration as Indonesian words: "baru saja", "5 menit", "3 jam", "2 hari". */
export function formatAge(ms) {
  const minutes = Math.floor(Math.max(0, ms) / 60000);
  if (minutes < 1) return "baru saja";
  if (minutes < 60) return `${minutes} menit`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} jam`;
  return `${formatNumber(Math.floor(hours / 24))} hari`;
}

/**
 * NIK masked for lists (DESIGN §6; the rule of tests/vectors/nik_mask.json, as on the server):
 * the first 6 digits (the kecamatan's region code) and the last 4 stay visible; shorter than 10
 * digits, all are hidden.
 */
export function maskNik(nik) {
  if (!nik) return "";
  if (nik.length < 10) return "•".repeat(nik.length);
  return nik.slice(0, 6) + "•".repeat(nik.length - 10) + nik.slice(-4);
}

/** Full years between a birth date "YYYY-MM-DD" and today (a Date); null if unreadable. */
export function ageInYears(birthDate, today = new Date()) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(birthDate || "");
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  let age = today.getFullYear() - y;
  if (today.getMonth() + 1 < mo || (today.getMonth() + 1 === mo && today.getDate() < d)) age -= 1;
  return age;
}

/** Eligibility hint from DESIGN §2 (KTP-el at 17 or once married; recording from 16; NIK off at 22). */
export function eligibilityNote(age, maritalStatus) {
  if (age == null || age < 0) return "";
  const everMarried = maritalStatus && maritalStatus !== "single";
  if (age < 16 && !everMarried) return `Umur ${age} tahun: belum wajib KTP-el dan belum bisa rekam.`;
  if (age < 17 && !everMarried) return `Umur ${age} tahun: boleh rekam; KTP-el dicetak saat umur 17.`;
  if (age >= 22) return `Umur ${age} tahun: wajib KTP-el; NIK bisa dinonaktifkan bila belum punya KTP-el.`;
  return `Umur ${age} tahun: wajib KTP-el.`;
}
