import { test } from "node:test";
import assert from "node:assert/strict";
import {
  dateInWords, echoText, parseDate, parseStepTime, parseTime, witaParts,
} from "../../pwa/js/date-input.js";

test("a KK's 12062005 is 12 June 2005 (day first), with or without separators", () => {
  assert.deepEqual(parseDate("12062005"), { iso: "2005-06-12" });
  assert.deepEqual(parseDate(" 12/06/2005 "), { iso: "2005-06-12" });
  assert.deepEqual(parseDate("12-6-2005"), { iso: "2005-06-12" });
  assert.deepEqual(parseDate("12.06.2005"), { iso: "2005-06-12" });
  assert.deepEqual(parseDate("2005-06-12"), { iso: "2005-06-12" }, "ISO (prefill, rejected args) is unambiguous");
  assert.equal(dateInWords("2005-06-12"), "Minggu, 12 Juni 2005");
  assert.equal(echoText("12062005", null, "2026-12-06"), "Minggu, 12 Juni 2005");
  assert.equal(dateInWords("2026-11-28"), "Sabtu, 28 November 2026");
});

test("impossible dates and month-first dates are refused in Indonesian", () => {
  assert.match(parseDate("31/02/2005").error, /^Tanggal 31 Februari 2005 tidak ada \(bulan itu 28 hari\)/);
  assert.equal(parseDate("29/02/2004").iso, "2004-02-29");
  assert.match(parseDate("06/13/2005").error, /^Bulan 13 tidak ada/, "mm/dd/yyyy as an English Chrome writes it");
  assert.match(parseDate("00/01/2005").error, /tidak ada/);
  assert.match(parseDate("1262005").error, /hh\/bb\/tttt/, "seven digits cannot be split safely");
  assert.match(parseDate("12 Juni 2005").error, /hh\/bb\/tttt/);
  assert.equal(parseDate("").error, "Wajib diisi.");
  assert.match(echoText("31/02/2005"), /tidak ada/);
  assert.match(echoText("01/01/2027", null, "2026-12-06"), /belum lewat/);
});

test("times are 24-hour jj:mm; 24:00 and 12-hour AM/PM are refused", () => {
  assert.deepEqual(parseTime("0915"), { hm: "09:15" });
  assert.deepEqual(parseTime("9:15"), { hm: "09:15" });
  assert.deepEqual(parseTime("14.30"), { hm: "14:30" });
  assert.deepEqual(parseTime("23:59"), { hm: "23:59" });
  assert.match(parseTime("24:00").error, /^Jam tidak valid/);
  assert.match(parseTime("12:60").error, /^Jam tidak valid/);
  assert.match(parseTime("2:30 PM").error, /^Jam tidak valid/);
  assert.equal(parseTime(" ").error, "Wajib diisi.");
});

test("a step time is WITA on the wire whatever the device zone; prefill shows an instant in WITA", () => {
  assert.deepEqual(parseStepTime("28/11/2026", "14:30"), { iso: "2026-11-28T14:30:00+08:00" });
  assert.match(parseStepTime("28/11/2026", "24:00").error, /^Jam tidak valid/);
  assert.deepEqual(witaParts(new Date("2026-11-28T17:30:00Z")), ["2026-11-29", "01:30"]);
  assert.deepEqual(witaParts("2026-11-28T14:30:00+08:00"), ["2026-11-28", "14:30"]);
  assert.equal(echoText("28/11/2026", "1430", "2026-12-06"), "Sabtu, 28 November 2026, pukul 14.30 WITA");
});

test("a year must be 4 digits from 1900: 12/06/0205 is not year 205 (it would compare below '2020' as text)", () => {
  for (const typed of ["12/06/0205", "12060205", "0205-06-12", "01/01/1899", "01/01/0000"]) {
    const { iso, error } = parseDate(typed);
    assert.equal(iso, undefined, typed);
    assert.match(error, /^Tahun \d{4} tidak masuk akal: tulis 4 angka tahun, mulai 1900/, typed);
  }
  assert.match(parseDate("12/06/205").error, /hh\/bb\/tttt/, "three digits are no year");
  assert.equal(parseDate("01/01/1900").iso, "1900-01-01");
  assert.match(parseStepTime("12/06/0205", "10:00").error, /^Tahun 0205/);
  assert.match(echoText("12/06/0205", "10:00", "2026-12-06"), /^Tahun 0205/);
});
