// What the page holds while it runs, shared by app.js (actions) and render.js (what is shown).

/** The two credentials: their section, form, fields and route. */
export const CREDENTIALS = {
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

export const state = {
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

export const $ = (id) => document.getElementById(id);
