// A small client for the notes API: JSON in and out, the user's ID token as bearer credential.

export const TITLE_MAX = 200;
export const BODY_MAX = 10_000;

/** An answer from the API other than 2xx; `status` 401 means the session is gone. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}

/** Client-side checks that mirror the API's limits, so the user hears about them before a round trip. */
export function validateNote({ title, body }) {
  const problems = [];
  if (typeof title !== "string" || title.trim() === "") problems.push("title is required");
  else if (title.length > TITLE_MAX) problems.push(`title must be at most ${TITLE_MAX} characters`);
  if (typeof body !== "string") problems.push("body must be text");
  else if (body.length > BODY_MAX) problems.push(`body must be at most ${BODY_MAX} characters`);
  return problems;
}

/**
 * @param {object} options
 * @param {string} options.baseUrl API root, e.g. https://abc.execute-api.eu-west-1.amazonaws.com/prod or /api
 * @param {() => string | null} options.getToken the current ID token, or null when signed out
 * @param {typeof fetch} options.fetchImpl
 * @param {() => void} [options.onUnauthorized] called on a 401 (e.g. to sign in again)
 */
export function createNotesApi({ baseUrl, getToken, fetchImpl, onUnauthorized = () => {} }) {
  const root = baseUrl.replace(/\/+$/, "");

  async function request(method, path, body) {
    const token = getToken();
    if (!token) {
      onUnauthorized();
      throw new ApiError(401, "not signed in");
    }
    const headers = { Authorization: token, Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetchImpl(`${root}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 401) onUnauthorized();
    if (response.status === 204) return null;
    const text = await response.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    if (!response.ok) {
      const message = (data && (data.message || data.error)) || `HTTP ${response.status}`;
      throw new ApiError(response.status, message);
    }
    return data;
  }

  const notePath = (id) => `/notes/${encodeURIComponent(id)}`;
  return {
    /** Every note of the signed-in user, newest first. */
    async list() {
      const data = await request("GET", "/notes");
      return data.notes;
    },
    get: (id) => request("GET", notePath(id)),
    create: (note) => request("POST", "/notes", { title: note.title, body: note.body }),
    update: (id, note) => request("PUT", notePath(id), { title: note.title, body: note.body }),
    remove: (id) => request("DELETE", notePath(id)),
  };
}
