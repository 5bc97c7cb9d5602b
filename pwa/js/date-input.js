/**
 * Dates typed day first ("hh/bb/tttt": 28/11/2026 or 28112026) and times as 24-hour "jj:mm"
 * in WITA, whatever the phone's language (the browser's own controls would read mm/dd/yyyy and
 * AM/PM on an English Chrome); the date is echoed in words beside the field. Markup: a date
 * input has data-date, its echo is #e-<id>, a step time adds the input #<id>-time.
 */
const DAYS = ["Minggu", "Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu"];
const MONTHS = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober", "November", "Desember"];
const pad = (n) => String(n).padStart(2, "0");
const REQUIRED = "Wajib diisi.";
const byId = (id) => document.getElementById(id);

/** "12/06/2005", "12-6-2005", "12062005" or ISO "2005-06-12" → {iso: "2005-06-12"} | {error}. */
export function parseDate(text) {
  const t = String(text ?? "").trim();
  if (!t) return { error: REQUIRED };
  const m = /^(\d{4})-(\d\d)-(\d\d)$/.exec(t)?.slice(1).reverse() ?? (/^(\d\d?)[/.-](\d\d?)[/.-](\d{4})$/.exec(t) || /^(\d\d)(\d\d)(\d{4})$/.exec(t))?.slice(1);
  if (!m) return { error: "Tulis tanggal sebagai hh/bb/tttt, mis. 28/11/2026." };
  const [d, mo, y] = m.map(Number);
  // "0205" is 4 digits but year 205: the ISO text would be "205-06-12" and compare as text.
  if (!(y >= 1900)) return { error: `Tahun ${m[2]} tidak masuk akal: tulis 4 angka tahun, mulai 1900 (hh/bb/tttt).` };
  if (mo < 1 || mo > 12) return { error: `Bulan ${mo} tidak ada: tulis hari dulu, lalu bulan (hh/bb/tttt).` };
  const last = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (d < 1 || d > last) return { error: `Tanggal ${d} ${MONTHS[mo - 1]} ${y} tidak ada (bulan itu ${last} hari).` };
  return { iso: `${y}-${pad(mo)}-${pad(d)}` };
}

/** "14:30", "14.30", "9:05" or "1430" → {hm: "14:30"} | {error}; 24:00 is refused. */
export function parseTime(text) {
  const t = String(text ?? "").trim();
  if (!t) return { error: REQUIRED };
  const m = /^(\d\d?)[:.](\d\d)$/.exec(t) || /^(\d\d)(\d\d)$/.exec(t);
  if (!m || m[1] > 23 || m[2] > 59) return { error: "Jam tidak valid: tulis jj:mm (24 jam, 00:00–23:59), mis. 14:30." };
  return { hm: `${pad(Number(m[1]))}:${m[2]}` };
}

/** "2005-06-12" → "Minggu, 12 Juni 2005". */
export function dateInWords(iso) {
  const [y, m, d] = iso.split("-").map(Number);
  return `${DAYS[new Date(Date.UTC(y, m - 1, d)).getUTCDay()]}, ${d} ${MONTHS[m - 1]} ${y}`;
}

/** Typed date and WITA time → {iso: "2026-11-28T14:30:00+08:00"} (the wire format) | {error}. */
export function parseStepTime(dateText, timeText) {
  const d = parseDate(dateText);
  const t = parseTime(timeText);
  return d.error || t.error ? { error: d.error || t.error } : { iso: `${d.iso}T${t.hm}:00+08:00` };
}

/** An instant (Date or ISO) → its WITA date and clock (UTC+8, no daylight saving): ["2026-11-28", "14:30"]. */
export const witaParts = (instant) => new Date(new Date(instant).getTime() + 288e5).toISOString().slice(0, 16).split("T");

/** The echo of a typed date (and time): the words, or why it cannot be read. */
export function echoText(dateText, timeText, today = witaParts(Date.now())[0]) {
  if (!String(dateText ?? "").trim()) return "";
  const { iso, error } = parseDate(dateText);
  if (error) return error;
  const words = dateInWords(iso);
  const t = timeText?.trim() && parseTime(timeText);
  if (iso > today) return `${words}: tanggal ini belum lewat.`;
  if (!t) return words;
  return t.error ? `${words}. ${t.error}` : `${words}, pukul ${t.hm.replace(":", ".")} WITA`;
}

/** Refresh the echo of the date input `input`. */
export function echo(input) {
  const out = byId(`e-${input.id}`);
  if (out) out.textContent = echoText(input.value, byId(`${input.id}-time`)?.value);
}

/** Echo every date field as it is typed (one listener on the document). */
export function wireDates() {
  document.addEventListener("input", (e) => {
    const input = byId(String(e.target.id).replace(/-time$/, ""));
    if (input?.dataset.date != null) echo(input);
  });
}

/** Show the ISO date `iso` as hh/bb/tttt in the date input `input`. */
export function setDate(input, iso) {
  input.value = /^\d{4}-\d\d-\d\d$/.test(iso || "") ? iso.split("-").reverse().join("/") : "";
  echo(input);
}

/** Prefill a step time (#<id>, #<id>-time) with `instant` (Date or ISO; none: now) in WITA. */
export function setStepTime(id, instant) {
  const [date, time] = witaParts(instant || Date.now());
  byId(`${id}-time`).value = time;
  setDate(byId(id), date);
}

/** What was typed in a step time, for case-forms.js: {date, time}. */
export const stepTimeValue = (id) => ({ date: byId(id).value, time: byId(`${id}-time`).value });
