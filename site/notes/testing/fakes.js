// Stand-ins for the browser's sessionStorage and fetch, used by the tests in this folder.

export class MemoryStorage {
  constructor() {
    this.items = new Map();
  }
  getItem(key) {
    return this.items.has(key) ? this.items.get(key) : null;
  }
  setItem(key, value) {
    this.items.set(key, String(value));
  }
  removeItem(key) {
    this.items.delete(key);
  }
}

/** A fetch that records each call and answers from `responder(url, init)` -> {status, body}. */
export function recordingFetch(responder) {
  const calls = [];
  async function fetchImpl(url, init = {}) {
    calls.push({ url: String(url), init });
    const { status = 200, body = null } = await responder(String(url), init);
    const text = body === null ? "" : typeof body === "string" ? body : JSON.stringify(body);
    return new Response(status === 204 ? null : text, { status });
  }
  fetchImpl.calls = calls;
  return fetchImpl;
}

/** An unsigned JWT-shaped string carrying `claims` (the browser never verifies signatures). */
export function fakeJwt(claims) {
  const encode = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${encode({ alg: "none" })}.${encode(claims)}.signature`;
}
