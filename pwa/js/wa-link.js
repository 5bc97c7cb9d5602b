/** Pure: "Kabari warga", a WhatsApp click-to-chat link (wa.me) naming when and where the card
 * is handed over; the phone opens it, the server sends nothing. */
import { dateInWords, parseDate, parseTime } from "./date-input.js";

/** An Indonesian mobile number (0812-…, +62 812…, +62 0812…, 0062 812…, 812…) as wa.me wants
 * it (62812…), or null. */
export function waNumber(phone) {
  const d = String(phone ?? "").replace(/[\s().-]/g, "").replace(/^(\+|00)?(62)?0?(?=8)/, "62");
  return /^628\d{7,11}$/.test(d) ? d : null;
}

/** Tomorrow in WITA (UTC+8, no DST) as "hh/bb/tttt": the default handover day. */
export const defaultDay = (now = new Date()) =>
  new Date(+new Date(now) + 1152e5).toISOString().slice(0, 10).split("-").reverse().join("/");

/** Typed date (hh/bb/tttt), time (jj:mm) and place → {text} or {error}. No NIK: a chat is not private. */
export function waMessage({ name, date, time, place, officer, kecamatan }) {
  const d = parseDate(date);
  const t = parseTime(time);
  if (d.error || t.error) return { error: d.error ? `Tanggal: ${d.error}` : t.error };
  const who = [officer, kecamatan && `petugas Kecamatan ${kecamatan}`].filter(Boolean).join(", ");
  return {
    text: `Yth. Bapak/Ibu ${name}, KTP-el atas nama ${name} sudah jadi dan akan diserahkan pada ${dateInWords(d.iso)} ` +
      `pukul ${t.hm.replace(":", ".")} WITA di ${place?.trim() || "kantor desa"}. Mohon hadir membawa Kartu Keluarga; ` +
      `bila berhalangan, KTP-el dapat diterima wakil keluarga. Terima kasih.${who ? ` (${who})` : ""}`,
  };
}

/** The wa.me link, or null when the number is unusable. */
export function waLink(phone, text) {
  const n = waNumber(phone);
  return n && `https://wa.me/${n}?text=${encodeURIComponent(text)}`;
}
