// The API Information settings page: shows GET /api-info, changes the key and the token, checks them
// and lists the history. Plain ES module, no build step; the API is reached only through transport.js.

import { call, devIdentity, mode } from "./transport.js";
import { DAY_MONTH, LANGUAGES, has, initialLanguage, t } from "./i18n.js";

const LANGUAGE_KEY = "api-info-language";
const HISTORY_PAGE = 20;

/** The two credentials: their section, form, fields and route. */
const CREDENTIALS = {
  key: {
    section: "api-key",
    form: "key-form",
    info: "apiKey",
    route: "/api-info/key",
    prefix: "key",
    firstField: "key-value",
    infoHeading: "key-info",
  },
  token: {
    section: "api-token",
    form: "token-form",
    info: "apiToken",
    route: "/api-info/token",
    prefix: "token",
    firstField: "token-email",
    infoHeading: "token-info",
  },
};

// The field next to which an Atlassian refusal is shown; other codes go under the form.
const FIELD_OF_CODE = {
  api_key_invalid: "apiKey",
  api_key_has_scopes: "apiKey",
  api_key_no_organization: "apiKey",
  api_token_invalid: "apiToken",
  api_token_has_scopes: "apiToken",
  api_token_email_mismatch: "email",
  api_token_account_inactive: "email",
};

// Each status has its own symbol as well as its own colour: colour is never the only signal.
const STATUS_SYMBOL = { not_configured: "○", valid: "✓", expiring: "!", expired: "✕", invalid: "✕" };
const OUTCOME_SYMBOL = { ok: "✓", rejected: "✕", error: "!", succeeded: "✓", failed: "!" };
// The history's columns: each cell also carries its column's name, shown beside it when rows reflow.
const HISTORY_COLUMNS = ["when", "credential", "action", "outcome", "value", "by"];
// The account id the service puts in place of a closed Atlassian account (docs/PRIVACY.md).
const CLOSED_ACCOUNT = "closed-account";

// The API words a validation detail in English; the page knows its sentences, to say each in the
// page's language (layers/shared/api_info/api.py, _field_message, writes them).
const DETAIL_TEXT = [
  [/is required/, "detail.required"],
  [/must not be empty/, "detail.empty"],
  [/at most (\d+) characters/, "detail.tooLong"],
  [/spaces or line breaks/, "detail.spaces"],
  [/type or paste/, "detail.characters"],
  [/email address/, "detail.email"],
  [/YYYY-MM-DD/, "detail.dateFormat"],
  [/real calendar date/, "detail.realDate"],
  [/in the past/, "detail.past"],
];

const state = {
  lang: "en",
  info: null,
  editing: { key: false, token: false },
  saving: { key: false, token: false },
  errors: { key: null, token: null }, // the last refused answer of each form, kept for a language switch
  history: { events: [], nextCursor: null, failed: false, loaded: false },
  checking: false,
  pageError: null,
  notice: null, // the key of the last action's success line, kept for a language switch
};

const $ = (id) => document.getElementById(id);
const DAY_MS = 24 * 60 * 60 * 1000;

// --- start ---------------------------------------------------------------------------------------

function start() {
  state.lang = initialLanguage(readSavedLanguage(), navigator.languages || [navigator.language]);
  const select = $("language");
  for (const [code, name] of Object.entries(LANGUAGES)) {
    const option = document.createElement("option");
    option.value = code;
    option.lang = code;
    option.textContent = name;
    select.append(option);
  }
  select.addEventListener("change", () => setLanguage(select.value));

  for (const [name, credential] of Object.entries(CREDENTIALS)) {
    const form = $(credential.form);
    form.querySelector('[data-action="change"]').addEventListener("click", () => startEditing(name));
    form.querySelector('[data-action="cancel"]').addEventListener("click", () => stopEditing(name, true));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      save(name);
    });
    form.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && state.editing[name] && !state.saving[name]) stopEditing(name, true);
    });
  }
  $("check-now").addEventListener("click", checkNow);
  $("history-more").addEventListener("click", () => loadHistory(true));

  setLanguage(state.lang, false);
  load();
}

// --- language -------------------------------------------------------------------------------------

function readSavedLanguage() {
  try {
    return window.localStorage.getItem(LANGUAGE_KEY);
  } catch {
    return null; // storage may be off in a sandboxed frame
  }
}

function setLanguage(lang, remember = true) {
  state.lang = lang;
  document.documentElement.lang = lang;
  $("language").value = lang;
  if (remember) {
    try {
      window.localStorage.setItem(LANGUAGE_KEY, lang);
    } catch {
      // not kept: the browser's language decides next time
    }
  }
  for (const element of document.querySelectorAll("[data-i18n]")) {
    setText(element, t(lang, element.dataset.i18n));
  }
  renderDevBanner();
  renderAll();
}

/** Put a text, or [before, emphasised, after], into an element. */
function setText(element, text) {
  if (!Array.isArray(text)) {
    element.textContent = text;
    return;
  }
  const [before, emphasised, after] = text;
  const em = document.createElement("em");
  em.textContent = emphasised;
  element.replaceChildren(before, em, after);
}

function renderDevBanner() {
  const banner = $("dev-banner");
  banner.hidden = mode !== "local";
  if (mode === "local") banner.textContent = t(state.lang, "page.dev", devIdentity());
}

// --- loading ----------------------------------------------------------------------------------------

async function load() {
  const answer = await call("GET", "/api-info");
  $("content").setAttribute("aria-busy", "false");
  $("loading").hidden = true;
  if (answer.status !== 200) {
    state.pageError = answer;
    renderPageError();
    return;
  }
  state.info = answer.body;
  state.pageError = null;
  for (const id of ["api-key", "api-token", "history"]) $(id).hidden = false;
  renderAll();
  await loadHistory(false);
}

async function loadHistory(more) {
  const params = new URLSearchParams({ limit: String(HISTORY_PAGE) });
  if (more && state.history.nextCursor) params.set("cursor", state.history.nextCursor);
  const answer = await call("GET", `/api-info/history?${params}`);
  if (answer.status === 200 && Array.isArray(answer.body?.events)) {
    const events = more ? [...state.history.events, ...answer.body.events] : answer.body.events;
    state.history = { events, nextCursor: answer.body.nextCursor || null, failed: false, loaded: true };
  } else {
    state.history = { ...state.history, failed: true, loaded: true };
  }
  renderHistory();
}

// --- rendering --------------------------------------------------------------------------------------

function renderAll() {
  renderNotice();
  renderPageError();
  renderExpiry();
  if (!state.info) return;
  for (const name of Object.keys(CREDENTIALS)) renderCredential(name);
  renderLinks();
  renderHistory();
  $("check-now").disabled = state.checking;
  $("check-now").textContent = t(state.lang, state.checking ? "check.running" : "check.now");
}

function renderPageError() {
  const box = $("page-error");
  box.hidden = !state.pageError;
  if (state.pageError) box.textContent = messageOf(state.pageError);
}

function renderCredential(name) {
  const credential = CREDENTIALS[name];
  const section = $(credential.section);
  const info = state.info[credential.info];
  section.querySelector('[data-role="badge"]').replaceChildren(badge(info.status));

  const fields = {
    status: badge(info.status),
    maskedValue: info.maskedValue || t(state.lang, "meta.none"),
    expiresOn: info.expiresOn ? expiresOn(info) : none(),
    daysLeft: daysLeftText(daysLeftOf(info)),
    lastUpdatedAt: info.lastUpdatedAt
      ? timeElement(info.lastUpdatedAt, formatDateTime(info.lastUpdatedAt))
      : none(),
    createdBy: info.createdBy ? actorName(info.createdBy) : none(),
    lastCheck: info.lastCheck ? lastCheck(info.lastCheck) : none(),
    organization: info.organization ? info.organization.name || info.organization.id : none(),
    email: info.email || none(),
    account: info.account ? info.account.displayName || info.account.accountId : none(),
  };
  for (const dd of section.querySelectorAll("dd[data-field]")) {
    const value = fields[dd.dataset.field];
    dd.replaceChildren(value);
  }

  const form = $(credential.form);
  const editing = state.editing[name];
  const saving = state.saving[name];
  for (const input of form.querySelectorAll("input")) input.disabled = !editing || saving;
  for (const field of form.querySelectorAll("[data-editing-only]")) field.hidden = !editing;
  form.querySelector('[data-action="change"]').hidden = editing;
  const saveButton = form.querySelector('[data-action="save"]');
  saveButton.hidden = !editing;
  saveButton.disabled = saving;
  saveButton.textContent = t(state.lang, saving ? "button.saving" : "button.save");
  form.querySelector('[data-action="cancel"]').hidden = !editing;
  form.querySelector('[data-action="cancel"]').disabled = saving;
  form.setAttribute("aria-busy", String(saving));

  const secret = form.querySelector('input[type="password"]');
  secret.placeholder = editing ? t(state.lang, `${credential.prefix}.placeholder`) : info.maskedValue || "";
  if (!editing) {
    secret.value = "";
    const email = form.querySelector('input[name="email"]');
    if (email) email.value = info.email || "";
  }
  renderErrors(name);
}

/** The banner: one line for each credential that is expiring or expired, with a button to change it. */
function renderExpiry() {
  const region = $("expiry");
  const items = [];
  for (const [name, credential] of Object.entries(CREDENTIALS)) {
    const info = state.info?.[credential.info];
    if (!info || (info.status !== "expiring" && info.status !== "expired")) continue;
    const item = document.createElement("li");
    item.className = "expiry-item";
    item.dataset.status = info.status;
    const text = document.createElement("p");
    const symbol = document.createElement("span");
    symbol.className = "symbol";
    symbol.setAttribute("aria-hidden", "true");
    symbol.textContent = STATUS_SYMBOL[info.status];
    text.append(symbol, expirySentence(name, info));
    if (info.expiresOnSource === "atlassian") {
      const source = document.createElement("span");
      source.className = "expiry-source";
      source.textContent = t(state.lang, "expiry.fromAtlassian");
      text.append(" ", source);
    }
    const button = document.createElement("button");
    button.type = "button";
    button.className = "button";
    button.textContent = t(state.lang, `${credential.prefix}.change`);
    button.addEventListener("click", () => startEditing(name));
    item.append(text, button);
    items.push(item);
  }
  region.querySelector(".expiry-list").replaceChildren(...items);
  region.hidden = items.length === 0;
}

function expirySentence(name, info) {
  const subject = t(state.lang, `expiry.subject.${name}`);
  const days = daysLeftOf(info);
  if (days === null) return t(state.lang, info.status === "expired" ? "expiry.past" : "expiry.soon", { subject });
  const date = formatDate(info.expiresOn);
  if (days === 0) return t(state.lang, "expiry.today", { subject, date });
  if (days > 0) return t(state.lang, plural("expiry.in", days), { subject, days, date });
  return t(state.lang, plural("expiry.ago", -days), { subject, days: -days, date });
}

/** Whole days from today (UTC) to expiresOn, as docs/API.md defines daysLeft; the API's value when sent. */
function daysLeftOf(info) {
  if (Number.isInteger(info.daysLeft)) return info.daysLeft;
  if (!info.expiresOn) return null;
  const day = Date.parse(`${info.expiresOn}T00:00:00Z`);
  if (Number.isNaN(day)) return null;
  const now = new Date();
  return Math.round((day - Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate())) / DAY_MS);
}

function daysLeftText(days) {
  if (days === null) return none();
  if (days === 0) return t(state.lang, "days.today");
  if (days > 0) return t(state.lang, plural("days.left", days), { days });
  return t(state.lang, plural("days.ago", -days), { days: -days });
}

/** `${base}.one` for 1 in a language that has it, else `${base}.other`. */
function plural(base, count) {
  return count === 1 && has(state.lang, `${base}.one`) ? `${base}.one` : `${base}.other`;
}

function expiresOn(info) {
  const element = document.createElement("span");
  element.append(timeElement(info.expiresOn, formatDate(info.expiresOn)));
  if (info.expiresOnSource === "atlassian" || info.expiresOnSource === "admin") {
    const source = document.createElement("span");
    source.className = "expiry-source";
    source.textContent = ` (${t(state.lang, `source.${info.expiresOnSource}`)})`;
    element.append(source);
  }
  return element;
}

function renderLinks() {
  for (const link of document.querySelectorAll("a[data-link]")) {
    const href = state.info.links?.[link.dataset.link];
    if (href) link.href = href;
  }
}

function renderHistory() {
  const table = $("history-table");
  const message = $("history-message");
  const { events, nextCursor, failed, loaded } = state.history;
  if (!loaded) return;
  const body = table.querySelector("tbody");
  const names = knownNames();
  body.replaceChildren(
    ...events.map((event) => {
      const row = document.createElement("tr");
      const cells = [
        timeElement(event.at, formatDateTime(event.at)),
        t(state.lang, `credential.${event.credential}`),
        t(state.lang, `action.${event.action}`),
        outcome(event),
        maskedValue(event.maskedValue),
        actorName(event.actor, names),
      ];
      cells.forEach((value, index) => {
        const cell = document.createElement("td");
        cell.dataset.label = t(state.lang, `history.${HISTORY_COLUMNS[index]}`);
        cell.append(value);
        row.append(cell);
      });
      return row;
    }),
  );
  table.hidden = events.length === 0;
  message.hidden = events.length > 0 && !failed;
  message.textContent = failed ? t(state.lang, "history.unavailable") : t(state.lang, "history.empty");
  $("history-more").hidden = !nextCursor || failed;
}

function maskedValue(masked) {
  if (!masked) return t(state.lang, "meta.none");
  const element = document.createElement("span");
  element.className = "mono";
  element.textContent = masked;
  return element;
}

function badge(status) {
  const element = document.createElement("span");
  element.className = "status";
  element.dataset.status = status;
  const symbol = document.createElement("span");
  symbol.className = "symbol";
  symbol.setAttribute("aria-hidden", "true");
  symbol.textContent = STATUS_SYMBOL[status] || "?";
  element.append(symbol, t(state.lang, `status.${status}`));
  return element;
}

function outcomeSymbol(outcome) {
  const symbol = document.createElement("span");
  symbol.className = `symbol outcome-${outcome}`;
  symbol.setAttribute("aria-hidden", "true");
  symbol.textContent = OUTCOME_SYMBOL[outcome] || "";
  return symbol;
}

function lastCheck(check) {
  const element = document.createElement("span");
  element.append(
    outcomeSymbol(check.outcome),
    `${t(state.lang, `outcome.${check.outcome}`)}, `,
    timeElement(check.at, formatDateTime(check.at)),
  );
  return element;
}

/** The outcome in words, with the reason of a refusal or failure (its code is kept as a tooltip). */
function outcome(event) {
  const element = document.createElement("span");
  const result = t(state.lang, `result.${event.outcome}`);
  const known = event.code && has(state.lang, `reason.${event.code}`);
  const reason = known ? t(state.lang, `reason.${event.code}`) : "";
  const text = reason ? t(state.lang, "history.because", { result, reason }) : result;
  element.append(outcomeSymbol(event.outcome), text);
  if (event.code) element.title = event.code;
  return element;
}

/** accountId -> the name the service has learnt for it, from what the page has loaded. */
function knownNames() {
  const names = new Map();
  const learn = (person) => {
    if (person?.accountId && person.displayName && !names.has(person.accountId)) {
      names.set(person.accountId, person.displayName);
    }
  };
  for (const event of state.history.events) learn(event.actor);
  for (const info of [state.info?.apiKey, state.info?.apiToken]) {
    learn(info?.createdBy);
    learn(info?.account);
  }
  return names;
}

/** A person by name: theirs on this line, else the one learnt elsewhere, else the account id. */
function actorName(actor, names = knownNames()) {
  if (!actor) return t(state.lang, "meta.none");
  if (actor.type === "atlassian") {
    if (actor.accountId === CLOSED_ACCOUNT) return t(state.lang, "actor.closed");
    return actor.displayName || names.get(actor.accountId) || actor.accountId || t(state.lang, "meta.none");
  }
  if (actor.type === "aws") return t(state.lang, "actor.aws", { arn: actor.arn || "" });
  return has(state.lang, `actor.${actor.type}`) ? t(state.lang, `actor.${actor.type}`) : actor.type;
}

function none() {
  return t(state.lang, "meta.none");
}

function timeElement(value, text) {
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
function formatDateTime(iso) {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return iso;
  const time = { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZoneName: "short" };
  return new Intl.DateTimeFormat(state.lang, { ...dayFormat(), ...time }).format(when);
}

/** A whole day (YYYY-MM-DD, such as expiresOn): the same day in every time zone. */
function formatDate(day) {
  const when = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(when.getTime())) return day;
  return new Intl.DateTimeFormat(state.lang, { ...dayFormat(), timeZone: "UTC" }).format(when);
}

// --- changing a credential ------------------------------------------------------------------------

/** A new action: the outcome of the last one (its success line, its refusal) goes. */
function clearOutcome() {
  state.notice = null;
  if (state.info) state.pageError = null; // a page that did not load keeps saying why
  for (const name of Object.keys(CREDENTIALS)) {
    if (!state.errors[name]) continue;
    state.errors[name] = null;
    renderErrors(name);
  }
  renderNotice();
  renderPageError();
}

function startEditing(name) {
  const credential = CREDENTIALS[name];
  clearOutcome();
  state.editing[name] = true;
  state.errors[name] = null;
  const form = $(credential.form);
  form.reset();
  const email = form.querySelector('input[name="email"]');
  if (email) email.value = state.info[credential.info].email || "";
  // "not in the past", judged in UTC like the service does
  form.querySelector('input[name="expiresOn"]').min = new Date().toISOString().slice(0, 10);
  renderCredential(name);
  $(credential.firstField).focus();
}

function stopEditing(name, returnFocus) {
  const credential = CREDENTIALS[name];
  state.editing[name] = false;
  state.errors[name] = null;
  $(credential.form).reset();
  renderCredential(name);
  if (returnFocus) $(credential.form).querySelector('[data-action="change"]').focus();
}

async function save(name) {
  const credential = CREDENTIALS[name];
  if (!state.editing[name] || state.saving[name]) return;
  const form = $(credential.form);
  const body = {};
  for (const input of form.querySelectorAll("input")) {
    if (input.name === "expiresOn") {
      if (input.value) body.expiresOn = input.value;
    } else {
      body[input.name] = input.value.trim();
    }
  }
  clearOutcome();
  state.saving[name] = true;
  renderCredential(name);

  const answer = await call("PUT", credential.route, {
    body,
    headers: { "Idempotency-Key": newIdempotencyKey() },
  });
  state.saving[name] = false;
  if (answer.status === 200 && answer.body?.[credential.info]) {
    state.info[credential.info] = answer.body[credential.info];
    state.editing[name] = false;
    form.reset();
    if (name === "key") await refreshLinks();
    renderCredential(name);
    renderExpiry();
    announce(`${credential.prefix}.saved`);
    // Focus moves to what changed: the credential's info, which now shows the new status.
    $(credential.infoHeading).focus();
    loadHistory(false);
    return;
  }
  state.errors[name] = answer;
  renderCredential(name);
  focusFirstError(form);
  loadHistory(false); // a refused change is recorded too
}

async function refreshLinks() {
  // The organization of a new key changes where "Create and manage API keys" leads.
  const answer = await call("GET", "/api-info");
  if (answer.status === 200) {
    state.info.links = answer.body.links;
    renderLinks();
  }
}

function newIdempotencyKey() {
  if (window.crypto?.randomUUID) return window.crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

function renderErrors(name) {
  const form = $(CREDENTIALS[name].form);
  const answer = state.errors[name];
  const messages = answer ? errorsByField(answer) : {};
  for (const box of form.querySelectorAll("[data-error-for]")) {
    const field = box.dataset.errorFor;
    const text = messages[field];
    box.hidden = !text;
    box.textContent = text ? `${text}` : "";
    const input = field === "*" ? null : form.querySelector(`input[name="${field}"]`);
    if (input) {
      if (text) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    }
  }
}

/** {field: message} for an error answer; "*" for what belongs to no field of the form. */
function errorsByField(answer) {
  const error = answer.body?.error || {};
  const fields = {};
  const add = (field, text) => {
    fields[field] = fields[field] ? `${fields[field]} ${text}` : text;
  };
  if (error.code === "validation_error" && Array.isArray(error.details) && error.details.length) {
    for (const detail of error.details) {
      const field = String(detail.field || "").split(".")[0];
      add(["apiKey", "apiToken", "email", "expiresOn"].includes(field) ? field : "*", detailText(detail));
    }
    return fields;
  }
  add(FIELD_OF_CODE[error.code] || "*", messageOf(answer));
  return fields;
}

function focusFirstError(form) {
  const invalid = form.querySelector('input[aria-invalid="true"]:not([disabled])');
  if (invalid) {
    invalid.focus();
    return;
  }
  const box = form.querySelector('[data-error-for="*"]');
  box.tabIndex = -1;
  box.focus();
}

/** A validation detail in the page's language: the page's own sentence for the API's. */
function detailText(detail) {
  const message = String(detail.message || "");
  for (const [pattern, key] of DETAIL_TEXT) {
    const found = message.match(pattern);
    if (found) return t(state.lang, key, { max: found[1] });
  }
  return state.lang === "en" && message ? message : t(state.lang, "detail.invalid");
}

/** The message to show for an error answer: the page's own text for its code, in the page's language
 * (the API's English message only for a code the page does not know, on the English page). */
function messageOf(answer) {
  const error = answer.body?.error || {};
  const code = error.code || (answer.status === 0 ? "network" : "internal_error");
  let text;
  if (has(state.lang, `code.${code}`)) text = t(state.lang, `code.${code}`);
  else if (state.lang === "en" && error.message) text = error.message;
  else text = t(state.lang, "error.other");
  const retry = answer.headers?.["retry-after"];
  if (retry && /^\d+$/.test(retry)) text += ` ${t(state.lang, "error.retry", { seconds: retry })}`;
  return text;
}

// --- check now ---------------------------------------------------------------------------------------

async function checkNow() {
  if (state.checking) return;
  clearOutcome();
  state.checking = true;
  renderAll();
  const answer = await call("POST", "/api-info/check");
  state.checking = false;
  if (answer.status >= 200 && answer.status < 300) {
    // The check answers with the info page; should it not, ask for it.
    const fresh = answer.body?.apiKey && answer.body?.apiToken ? answer : await call("GET", "/api-info");
    if (fresh.status === 200 && fresh.body?.apiKey) state.info = fresh.body;
    renderAll();
    announce("check.done");
  } else {
    state.pageError = answer;
    renderAll();
  }
  await loadHistory(false);
}

/** Say that an action succeeded: one line, in the page's language, until the next action. */
function announce(key) {
  state.notice = key;
  // Clearing first makes screen readers repeat the same sentence said twice in a row.
  $("announcer").textContent = "";
  window.setTimeout(renderNotice, 50);
}

function renderNotice() {
  $("announcer").textContent = state.notice ? t(state.lang, state.notice) : "";
}

start();
