// What the page shows: the credentials' cards, the expiry banner, the history, the outcome of the last
// action. Everything is drawn from `state` (state.js) in the page's language.

import { has, t } from "./i18n.js";
import { $, CREDENTIALS, state } from "./state.js";
import { daysLeftOf, daysLeftText, formatDate, formatDateTime, none, plural, timeElement } from "./format.js";
import { codeText, errorsByField, messageOf } from "./messages.js";

// Each status has its own symbol as well as its own colour: colour is never the only signal.
const STATUS_SYMBOL = { not_configured: "○", valid: "✓", expiring: "!", expired: "✕", invalid: "✕" };
const OUTCOME_SYMBOL = { ok: "✓", rejected: "✕", error: "!", succeeded: "✓", failed: "!" };
// The history's columns: each cell also carries its column's name, shown beside it when rows reflow.
const HISTORY_COLUMNS = ["when", "credential", "action", "outcome", "value", "by"];
// The account id the service puts in place of a closed Atlassian account (docs/PRIVACY.md).
const CLOSED_ACCOUNT = "closed-account";

export function renderPageError() {
  const box = $("page-error");
  box.hidden = !state.pageError;
  if (state.pageError) box.textContent = messageOf(state.pageError);
}

export function renderNotice() {
  $("announcer").textContent = state.notice ? t(state.lang, state.notice) : "";
}

export function renderCredential(name) {
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
export function renderExpiry(startEditing) {
  const region = $("expiry");
  const items = [];
  for (const [name, credential] of Object.entries(CREDENTIALS)) {
    const info = state.info?.[credential.info];
    if (!info || (info.status !== "expiring" && info.status !== "expired")) continue;
    const item = document.createElement("li");
    item.className = "expiry-item";
    item.dataset.status = info.status;
    const text = document.createElement("p");
    text.append(symbol(STATUS_SYMBOL[info.status]), expirySentence(name, info));
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

/** The expiry date, and where it came from: Atlassian's listing, or the administrator who typed it. */
function expiresOn(info) {
  const element = document.createElement("span");
  element.append(timeElement(info.expiresOn, formatDate(info.expiresOn)));
  if (info.expiresOnSource === "atlassian" || info.expiresOnSource === "admin") {
    const source = document.createElement("span");
    source.className = "expiry-source";
    source.dataset.source = info.expiresOnSource;
    source.textContent = ` (${t(state.lang, `source.${info.expiresOnSource}`)})`;
    element.append(source);
  }
  return element;
}

export function renderLinks() {
  for (const link of document.querySelectorAll("a[data-link]")) {
    const href = state.info.links?.[link.dataset.link];
    if (href) link.href = href;
  }
}

export function renderHistory() {
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

function symbol(text, className = "symbol") {
  const element = document.createElement("span");
  element.className = className;
  element.setAttribute("aria-hidden", "true");
  element.textContent = text;
  return element;
}

function badge(status) {
  const element = document.createElement("span");
  element.className = "status";
  element.dataset.status = status;
  element.append(symbol(STATUS_SYMBOL[status] || "?"), t(state.lang, `status.${status}`));
  return element;
}

function outcomeSymbol(outcome) {
  return symbol(OUTCOME_SYMBOL[outcome] || "", `symbol outcome-${outcome}`);
}

/** The last check's outcome and time; and, when Atlassian refused, why and what to do (its detail). */
function lastCheck(check) {
  const element = document.createElement("span");
  element.append(
    outcomeSymbol(check.outcome),
    `${t(state.lang, `outcome.${check.outcome}`)}, `,
    timeElement(check.at, formatDateTime(check.at)),
  );
  const why = check.outcome !== "ok" ? codeText(check.detail) : null;
  if (why) {
    const detail = document.createElement("span");
    detail.className = "check-detail";
    detail.textContent = why;
    element.append(detail);
  }
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

export function renderErrors(name) {
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
