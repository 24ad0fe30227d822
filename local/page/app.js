// The API Information settings page: shows GET /api-info, changes the key and the token, checks them
// and lists the history. Plain ES modules, no build step: this one holds the actions, render.js draws
// what they leave in state.js, and the API is reached only through transport.js.

import { call, devIdentity, followJiraTheme, mode } from "./transport.js";
import { LANGUAGES, initialLanguage, t } from "./i18n.js";
import { $, CREDENTIALS, state } from "./state.js";
import {
  renderCredential,
  renderErrors,
  renderExpiry,
  renderHistory,
  renderLinks,
  renderNotice,
  renderPageError,
} from "./render.js";

const LANGUAGE_KEY = "api-info-language";
const HISTORY_PAGE = 20;

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
  followJiraTheme();
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
  renderExpiry(startEditing);
  if (!state.info) return;
  for (const name of Object.keys(CREDENTIALS)) renderCredential(name);
  renderLinks();
  renderHistory();
  $("check-now").disabled = state.checking;
  $("check-now").textContent = t(state.lang, state.checking ? "check.running" : "check.now");
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
    renderExpiry(startEditing);
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

start();
