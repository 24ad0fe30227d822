// What the page says for an error answer of the API: its own sentence for each error code and validation
// detail, in the page's language, next to the field it concerns.

import { has, t } from "./i18n.js";
import { state } from "./state.js";

// The field next to which an Atlassian refusal is shown; other codes go under the form.
const FIELD_OF_CODE = {
  api_key_invalid: "apiKey",
  api_key_has_scopes: "apiKey",
  api_key_no_organization: "apiKey",
  api_key_other_organization: "apiKey",
  api_token_invalid: "apiToken",
  api_token_has_scopes: "apiToken",
  api_token_email_mismatch: "email",
  api_token_account_inactive: "email",
};

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

/** The Jira site as an administrator knows it ("acme.atlassian.net"), from GET /api-info's tenant. */
function siteName() {
  try {
    return new URL(state.info.tenant.siteUrl).host;
  } catch {
    return t(state.lang, "site.this"); // no site known: "this Jira site"
  }
}

/** The page's sentence for an error code, or null when it has none in this language. */
export function codeText(code) {
  if (!code || !has(state.lang, `code.${code}`)) return null;
  return t(state.lang, `code.${code}`, { site: siteName() });
}

/** {field: message} for an error answer; "*" for what belongs to no field of the form. */
export function errorsByField(answer) {
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
export function messageOf(answer) {
  const error = answer.body?.error || {};
  const code = error.code || (answer.status === 0 ? "network" : "internal_error");
  let text = codeText(code);
  if (text === null) text = state.lang === "en" && error.message ? error.message : t(state.lang, "error.other");
  const retry = answer.headers?.["retry-after"];
  if (retry && /^\d+$/.test(retry)) text += ` ${t(state.lang, "error.retry", { seconds: retry })}`;
  return text;
}
