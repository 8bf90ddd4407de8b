// The API over fetch: JSON in and out, the session's bearer token when signed in, and every
// refusal turned into an ApiError carrying the API's own words (error.message) for the person.

import { t } from "./i18n.js";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const TOKEN_KEY = "citypass.session";

// The session lives in sessionStorage: it ends with the tab, and is bound to one address.
export function session() {
  try {
    return JSON.parse(sessionStorage.getItem(TOKEN_KEY) || "null");
  } catch {
    return null;
  }
}

export function saveSession(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, JSON.stringify(value));
  else sessionStorage.removeItem(TOKEN_KEY);
}

// Lease ids are (slotId << 48) | …: from slot 32 on they pass 2^53, where a JavaScript number
// loses digits. Such integers are kept as their exact decimal text (the API reads a decimal
// string as the integer), using the source text JSON.parse hands its reviver.
export function parseJson(text) {
  return JSON.parse(text, (_key, value, context) =>
    typeof value === "number" && Number.isInteger(value) && !Number.isSafeInteger(value) && context
      ? context.source
      : value,
  );
}

export async function api(method, path, { body, query, auth = false } = {}) {
  const url = new URL(path, location.origin);
  for (const [key, value] of Object.entries(query || {})) url.searchParams.set(key, value);
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const current = session();
  if (auth && current) headers.Authorization = `Bearer ${current.token}`;
  let reply;
  try {
    reply = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (exc) {
    throw new ApiError(0, "network", t("networkError", { message: exc.message }));
  }
  const text = await reply.text();
  let data = null;
  try {
    data = text ? parseJson(text) : null;
  } catch {
    data = null;
  }
  if (!reply.ok) {
    const error = data && data.error ? data.error : { code: "http", message: `HTTP ${reply.status}: ${text.slice(0, 200)}` };
    if (reply.status === 401 && auth) saveSession(null); // expired or ended: sign in again
    throw new ApiError(reply.status, error.code, error.message);
  }
  return data;
}
