// Wires the page to auth.js and api.js. Text goes into the page with textContent only (no HTML
// from data), which together with the Content-Security-Policy keeps notes from running script.
import { loadConfig } from "./config.js";
import { beginSignIn, cleanUrl, completeSignIn, currentSession, decodeClaims, signOut, SignInError } from "./auth.js";
import { ApiError, createNotesApi, validateNote, BODY_MAX, TITLE_MAX } from "./api.js";

const $ = (id) => document.getElementById(id);
const storage = window.sessionStorage;
const now = () => Date.now();
let config;
let api;
let editingId = null;

function showMessage(text, isError = false) {
  const box = $("message");
  box.textContent = text;
  box.className = isError ? "message error" : "message";
  box.hidden = !text;
}

function showSignedIn(session) {
  const claims = decodeClaims(session.idToken);
  $("user").textContent = claims.email || "signed in";
  $("signed-out").hidden = true;
  $("signed-in").hidden = false;
}

function showSignedOut() {
  $("signed-out").hidden = false;
  $("signed-in").hidden = true;
}

async function signIn() {
  window.location.assign(
    await beginSignIn({ config, storage, cryptoImpl: window.crypto, origin: window.location.origin }),
  );
}

function renderNotes(notes) {
  const list = $("notes");
  list.replaceChildren();
  $("empty").hidden = notes.length > 0;
  for (const note of notes) {
    const item = document.createElement("li");
    item.className = "note";
    const title = document.createElement("h3");
    title.textContent = note.title;
    const body = document.createElement("p");
    body.textContent = note.body;
    const meta = document.createElement("small");
    meta.textContent = `updated ${new Date(note.updatedAt).toLocaleString()}`;
    const edit = document.createElement("button");
    edit.type = "button";
    edit.textContent = "Edit";
    edit.addEventListener("click", () => startEdit(note));
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "danger";
    remove.textContent = "Delete";
    remove.addEventListener("click", () => deleteNote(note));
    item.append(title, body, meta, edit, remove);
    list.append(item);
  }
}

async function refresh() {
  try {
    renderNotes(await api.list());
  } catch (error) {
    showMessage(error.message, true);
  }
}

function startEdit(note) {
  editingId = note.noteId;
  $("title").value = note.title;
  $("body").value = note.body;
  $("save").textContent = "Save changes";
  $("cancel").hidden = false;
  $("title").focus();
}

function resetForm() {
  editingId = null;
  $("note-form").reset();
  $("save").textContent = "Add note";
  $("cancel").hidden = true;
}

async function saveNote(event) {
  event.preventDefault();
  const note = { title: $("title").value, body: $("body").value };
  const problems = validateNote(note);
  if (problems.length > 0) {
    showMessage(problems.join("; "), true);
    return;
  }
  try {
    if (editingId) await api.update(editingId, note);
    else await api.create(note);
    showMessage(editingId ? "Note saved." : "Note added.");
    resetForm();
    await refresh();
  } catch (error) {
    showMessage(error instanceof ApiError && error.status === 404 ? "That note no longer exists." : error.message, true);
    await refresh();
  }
}

async function deleteNote(note) {
  if (!window.confirm(`Delete "${note.title}"?`)) return;
  try {
    await api.remove(note.noteId);
    showMessage("Note deleted.");
  } catch (error) {
    showMessage(error.message, true);
  }
  await refresh();
}

async function main() {
  $("title").maxLength = TITLE_MAX;
  $("body").maxLength = BODY_MAX;
  try {
    config = await loadConfig(window.fetch.bind(window));
  } catch (error) {
    showMessage(`The site is not configured: ${error.message}`, true);
    return;
  }
  try {
    const completed = await completeSignIn({
      config,
      url: window.location.href,
      storage,
      fetchImpl: window.fetch.bind(window),
      now,
    });
    if (completed) window.history.replaceState(null, "", cleanUrl(window.location.href));
  } catch (error) {
    window.history.replaceState(null, "", cleanUrl(window.location.href));
    showMessage(error instanceof SignInError ? error.message : `sign-in failed: ${error.message}`, true);
  }
  api = createNotesApi({
    baseUrl: config.apiUrl,
    getToken: () => currentSession(storage, now)?.idToken ?? null,
    fetchImpl: window.fetch.bind(window),
    onUnauthorized: () => {
      showSignedOut();
      showMessage("Your session has ended. Please sign in again.", true);
    },
  });
  $("sign-in").addEventListener("click", signIn);
  $("sign-out").addEventListener("click", () => {
    window.location.assign(signOut({ config, storage, origin: window.location.origin }));
  });
  $("note-form").addEventListener("submit", saveNote);
  $("cancel").addEventListener("click", resetForm);
  const session = currentSession(storage, now);
  if (!session) {
    showSignedOut();
    return;
  }
  showSignedIn(session);
  await refresh();
}

main();
