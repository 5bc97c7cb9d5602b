// The office's date inputs read hari/bulan/tahun (28/11/2026, also 28112026), as the server
// parses them (server/web/common.py parse_day); while one is typed, its date in words is echoed
// in #<id>-words ("Sabtu, 28 November 2026"). Without this script the page still works: the
// server echoes the words after a submit. Loaded as a module from 'self' (the CSP allows no
// inline script).
const DAYS = ["Minggu", "Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu"];
const MONTHS = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
  "September", "Oktober", "November", "Desember"];
const UNREADABLE = "Tanggal tidak sah. Tulis hari/bulan/tahun, seperti 28/11/2026.";

function words(text) {
  const t = text.trim();
  if (!t) return "";
  const iso = /^(\d{4})-(\d\d)-(\d\d)$/.exec(t);
  const m = iso ? [null, iso[3], iso[2], iso[1]]
    : /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(t) || /^(\d\d)(\d\d)(\d{4})$/.exec(t);
  if (!m) return UNREADABLE;
  const [d, mo, y] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const day = new Date(Date.UTC(y, mo - 1, d));
  if (mo < 1 || mo > 12 || day.getUTCDate() !== d || day.getUTCMonth() !== mo - 1) return UNREADABLE;
  return `${DAYS[day.getUTCDay()]}, ${d} ${MONTHS[mo - 1]} ${y}`;
}

// A module runs once per page, however many date fields load it.
document.addEventListener("input", (e) => {
  const input = e.target;
  if (!(input instanceof HTMLInputElement) || !input.hasAttribute("data-date")) return;
  const out = document.getElementById(`${input.id}-words`);
  if (out) out.textContent = words(input.value);
});
