// Dates, times and counts of days in the page's language.

import { DAY_MONTH, has, t } from "./i18n.js";
import { state } from "./state.js";

const DAY_MS = 24 * 60 * 60 * 1000;

export function none() {
  return t(state.lang, "meta.none");
}

/** `${base}.one` for 1 in a language that has it, else `${base}.other`. */
export function plural(base, count) {
  return count === 1 && has(state.lang, `${base}.one`) ? `${base}.one` : `${base}.other`;
}

/** Whole days from today (UTC) to expiresOn, as docs/API.md defines daysLeft; the API's value when sent. */
export function daysLeftOf(info) {
  if (Number.isInteger(info.daysLeft)) return info.daysLeft;
  if (!info.expiresOn) return null;
  const day = Date.parse(`${info.expiresOn}T00:00:00Z`);
  if (Number.isNaN(day)) return null;
  const now = new Date();
  return Math.round((day - Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate())) / DAY_MS);
}

export function daysLeftText(days) {
  if (days === null) return none();
  if (days === 0) return t(state.lang, "days.today");
  if (days > 0) return t(state.lang, plural("days.left", days), { days });
  return t(state.lang, plural("days.ago", -days), { days: -days });
}

export function timeElement(value, text) {
  const element = document.createElement("time");
  element.dateTime = value;
  element.textContent = text;
  return element;
}

/** How this language writes a day: every date and time of the page starts with it. */
function dayFormat() {
  return { year: "numeric", month: DAY_MONTH[state.lang] || "short", day: "numeric" };
}

/** A moment, in the browser's own time zone, which is named: "Dec 7, 2026, 16:30 UTC". */
export function formatDateTime(iso) {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return iso;
  const time = { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZoneName: "short" };
  return new Intl.DateTimeFormat(state.lang, { ...dayFormat(), ...time }).format(when);
}

/** A whole day (YYYY-MM-DD, such as expiresOn): the same day in every time zone. */
export function formatDate(day) {
  const when = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(when.getTime())) return day;
  return new Intl.DateTimeFormat(state.lang, { ...dayFormat(), timeZone: "UTC" }).format(when);
}
