// The page's only way to reach the API: one function, `call`, two transports.
//
// - Served by the local stack (a loopback address): `fetch` against the same origin, with a fresh
//   development token from POST /dev/token for every request (Forge's tokens live 25 s and serve one
//   call; the local issuer mints the same kind). `?installation=<name>&account=admin|user` in the page's
//   address chooses the simulated site and Jira user.
// - Anywhere else, i.e. as a Forge Custom UI resource: `invokeRemote` of @forge/bridge, which sends the
//   request through Forge with a real Forge Invocation Token and the app system token. The bridge is
//   loaded from ./vendor/forge-bridge.js, @forge/bridge bundled as one ES module into the resource by
//   `make forge-resource` (forge/build.mjs). It is imported only here: it needs the `window.__bridge`
//   Forge gives a Custom UI iframe, and the local stack serves no such file.
//
// Inside Forge, `followJiraTheme` asks Jira for its theme (@forge/bridge's view.theme.enable()): Jira then
// marks <html> with data-color-mode="light"|"dark" and gives the page its design tokens, which theme.css
// reads. On the local stack the system's preference (prefers-color-scheme) decides, in theme.css alone.
//
// Either way `call` resolves to {status, headers, body}; it never rejects. A failure to reach the API at
// all comes back as status 0 with the error body {error: {code: "network", ...}}.

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

export const mode = LOOPBACK.has(window.location.hostname) ? "local" : "forge";

/** The simulated site and user of the local stack, from the page's address. */
export function devIdentity() {
  const params = new URLSearchParams(window.location.search);
  return {
    installation: params.get("installation") || "acme",
    account: params.get("account") || "admin",
  };
}

/**
 * Send one request to the API.
 * @param {"GET"|"PUT"|"POST"|"DELETE"} method
 * @param {string} path  e.g. "/api-info/key" (with its query string)
 * @param {{body?: object, headers?: Record<string,string>}} [options]
 * @returns {Promise<{status: number, headers: Record<string,string>, body: any}>}
 */
export async function call(method, path, options = {}) {
  try {
    return mode === "local"
      ? await viaLocalStack(method, path, options)
      : await viaForge(method, path, options);
  } catch (error) {
    return { status: 0, headers: {}, body: networkError(error) };
  }
}

async function viaLocalStack(method, path, { body, headers = {} }) {
  const signIn = await fetch(`/dev/token?${new URLSearchParams(devIdentity())}`, { method: "POST" });
  if (!signIn.ok) throw new Error(`the local stack gave no development token (${signIn.status})`);
  const tokens = await signIn.json();
  const answer = await fetch(path, {
    method,
    headers: {
      ...tokens.headers,
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await answer.text();
  return {
    status: answer.status,
    headers: Object.fromEntries([...answer.headers].map(([k, v]) => [k.toLowerCase(), v])),
    body: text ? parseJson(text) : null,
  };
}

let bridge = null;

/** Follow the theme Jira is in (Forge only). Never fails: without it the page keeps its own theme. */
export async function followJiraTheme() {
  if (mode !== "forge") return;
  try {
    bridge ??= import("./vendor/forge-bridge.js");
    const { view } = await bridge;
    await view.theme.enable();
  } catch {
    // An older Jira or a refused call: the page stays in the theme the browser prefers.
  }
}

async function viaForge(method, path, { body, headers = {} }) {
  bridge ??= import("./vendor/forge-bridge.js");
  const { invokeRemote } = await bridge;
  let answer;
  try {
    answer = await invokeRemote({ path, method, headers, body });
  } catch (error) {
    // invokeRemote rejects when the remote answers 401 (Forge keeps that status for token failures)
    // and when an answer breaks Forge's rules; everything else resolves with its status.
    const message = String(error?.message || error);
    if (/Forge Invocation Token/i.test(message)) {
      return { status: 401, headers: {}, body: { error: { code: "unauthenticated", message } } };
    }
    throw error;
  }
  // When Forge cannot deliver the call at all, the bridge resolves with Forge's error object instead of
  // the remote's answer: it has no status, and is no answer of the API.
  if (typeof answer?.status !== "number") {
    throw new Error(answer?.message || "Forge could not deliver the call to the service.");
  }
  // Forge gives headers as {name: [values]}.
  const flat = {};
  for (const [name, value] of Object.entries(answer.headers || {})) {
    flat[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : String(value);
  }
  // The body comes parsed; should it come as the remote's JSON text, it is read the same way.
  const text = typeof answer.body === "string";
  const read = text ? (answer.body ? parseJson(answer.body) : null) : answer.body;
  return { status: answer.status, headers: flat, body: read ?? null };
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return { error: { code: "bad_answer", message: "The service gave an answer that could not be read." } };
  }
}

function networkError(error) {
  return { error: { code: "network", message: String(error?.message || error) } };
}
