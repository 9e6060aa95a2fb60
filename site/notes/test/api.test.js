import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiError, BODY_MAX, createNotesApi, TITLE_MAX, validateNote } from "../api.js";
import { recordingFetch } from "../testing/fakes.js";

function client(responder, { token = "id-token", onUnauthorized } = {}) {
  const fetchImpl = recordingFetch(responder);
  const api = createNotesApi({
    baseUrl: "https://abc.execute-api.eu-west-1.amazonaws.com/prod/",
    getToken: () => token,
    fetchImpl,
    onUnauthorized,
  });
  return { api, fetchImpl };
}

test("list sends the ID token and returns the notes", async () => {
  const notes = [{ noteId: "n1", title: "a", body: "b", updatedAt: "2026-01-01T00:00:00Z" }];
  const { api, fetchImpl } = client(() => ({ body: { notes } }));
  assert.deepEqual(await api.list(), notes);
  const { url, init } = fetchImpl.calls[0];
  assert.equal(url, "https://abc.execute-api.eu-west-1.amazonaws.com/prod/notes");
  assert.equal(init.method, "GET");
  assert.equal(init.headers.Authorization, "id-token");
  assert.equal(init.body, undefined);
});

test("create and update send only title and body as JSON", async () => {
  const { api, fetchImpl } = client((url, init) => ({ status: init.method === "POST" ? 201 : 200, body: { noteId: "n1" } }));
  await api.create({ title: "t", body: "b", owner: "someone-else" });
  await api.update("n1", { title: "t2", body: "b2", noteId: "other" });
  const [create, update] = fetchImpl.calls;
  assert.equal(create.url.endsWith("/prod/notes"), true);
  assert.equal(create.init.method, "POST");
  assert.equal(create.init.headers["Content-Type"], "application/json");
  assert.deepEqual(JSON.parse(create.init.body), { title: "t", body: "b" });
  assert.equal(update.url.endsWith("/prod/notes/n1"), true);
  assert.equal(update.init.method, "PUT");
  assert.deepEqual(JSON.parse(update.init.body), { title: "t2", body: "b2" });
});

test("ids are URL-encoded into the path", async () => {
  const { api, fetchImpl } = client(() => ({ status: 204 }));
  assert.equal(await api.remove("a/../b"), null);
  assert.equal(fetchImpl.calls[0].url, "https://abc.execute-api.eu-west-1.amazonaws.com/prod/notes/a%2F..%2Fb");
  assert.equal(fetchImpl.calls[0].init.method, "DELETE");
});

test("an API error becomes an ApiError with the status and the API's message", async () => {
  const { api } = client(() => ({ status: 404, body: { statusCode: 404, message: "note not found" } }));
  await assert.rejects(api.get("n1"), (error) => {
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 404);
    assert.equal(error.message, "note not found");
    return true;
  });
});

test("a non-JSON error body still gives a useful error", async () => {
  const { api } = client(() => ({ status: 502, body: "<html>Bad gateway</html>" }));
  await assert.rejects(api.list(), { status: 502, message: "HTTP 502" });
});

test("a 401 calls onUnauthorized so the page can sign in again", async () => {
  let called = 0;
  const { api } = client(() => ({ status: 401, body: { message: "Unauthorized" } }), {
    onUnauthorized: () => called++,
  });
  await assert.rejects(api.list(), { status: 401 });
  assert.equal(called, 1);
});

test("without a token nothing is sent", async () => {
  let called = 0;
  const { api, fetchImpl } = client(() => ({ body: {} }), { token: null, onUnauthorized: () => called++ });
  await assert.rejects(api.list(), { status: 401, message: "not signed in" });
  assert.equal(fetchImpl.calls.length, 0);
  assert.equal(called, 1);
});

test("validateNote mirrors the API's limits", () => {
  assert.deepEqual(validateNote({ title: "t", body: "" }), []);
  assert.deepEqual(validateNote({ title: "  ", body: "" }), ["title is required"]);
  assert.deepEqual(validateNote({ title: "x".repeat(TITLE_MAX + 1), body: "x".repeat(BODY_MAX + 1) }), [
    `title must be at most ${TITLE_MAX} characters`,
    `body must be at most ${BODY_MAX} characters`,
  ]);
  assert.deepEqual(validateNote({ title: "x".repeat(TITLE_MAX), body: "x".repeat(BODY_MAX) }), []);
});
