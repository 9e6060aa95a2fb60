import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, webcrypto } from "node:crypto";
import {
  authorizeUrl,
  base64UrlEncode,
  beginSignIn,
  cleanUrl,
  completeSignIn,
  createPkcePair,
  currentSession,
  decodeClaims,
  signOut,
  SignInError,
} from "../auth.js";
import { fakeJwt, MemoryStorage, recordingFetch } from "../testing/fakes.js";

const config = {
  apiUrl: "https://api.example.com/prod",
  authDomain: "https://notes-123.auth.eu-west-1.amazoncognito.com",
  clientId: "client123",
  userPoolId: "eu-west-1_abc",
  region: "eu-west-1",
};
const origin = "https://d111.cloudfront.net";
const t0 = 1_700_000_000_000;

async function startSignIn(storage) {
  const url = new URL(await beginSignIn({ config, storage, cryptoImpl: webcrypto, origin }));
  return url.searchParams.get("state");
}

test("base64url has no padding or URL-unsafe characters", () => {
  assert.equal(base64UrlEncode(new Uint8Array([251, 255, 191])), "-_-_");
  assert.equal(base64UrlEncode(new Uint8Array([1])), "AQ");
});

test("PKCE challenge is the S256 of the verifier", async () => {
  const { verifier, challenge } = await createPkcePair(webcrypto);
  assert.match(verifier, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(challenge, createHash("sha256").update(verifier).digest("base64url"));
  const other = await createPkcePair(webcrypto);
  assert.notEqual(other.verifier, verifier);
});

test("the authorize URL asks the hosted UI for a code with PKCE and returns to the site root", () => {
  const url = new URL(authorizeUrl(config, { state: "s1", challenge: "c1", origin }));
  assert.equal(url.origin + url.pathname, `${config.authDomain}/oauth2/authorize`);
  assert.deepEqual(Object.fromEntries(url.searchParams), {
    response_type: "code",
    client_id: "client123",
    redirect_uri: "https://d111.cloudfront.net/",
    scope: "openid email",
    state: "s1",
    code_challenge_method: "S256",
    code_challenge: "c1",
  });
});

test("beginSignIn stores state and verifier; the URL carries the verifier's challenge, not the verifier", async () => {
  const storage = new MemoryStorage();
  const url = new URL(await beginSignIn({ config, storage, cryptoImpl: webcrypto, origin }));
  const pending = JSON.parse(storage.getItem("notes.auth.pending"));
  assert.equal(url.searchParams.get("state"), pending.state);
  assert.equal(url.searchParams.get("code_challenge"), createHash("sha256").update(pending.verifier).digest("base64url"));
  assert.ok(!url.href.includes(pending.verifier));
});

test("a redirect with code and matching state exchanges the code with the verifier and stores the session", async () => {
  const storage = new MemoryStorage();
  const state = await startSignIn(storage);
  const { verifier } = JSON.parse(storage.getItem("notes.auth.pending"));
  const idToken = fakeJwt({ sub: "user-a", email: "a@example.com" });
  const fetchImpl = recordingFetch(() => ({ body: { id_token: idToken, access_token: "at", expires_in: 3600 } }));
  const session = await completeSignIn({
    config,
    url: `${origin}/?code=abc&state=${state}`,
    storage,
    fetchImpl,
    now: () => t0,
  });
  assert.deepEqual(session, { idToken, accessToken: "at", expiresAt: t0 + 3_600_000 });
  assert.equal(fetchImpl.calls.length, 1);
  const { url, init } = fetchImpl.calls[0];
  assert.equal(url, `${config.authDomain}/oauth2/token`);
  assert.equal(init.method, "POST");
  assert.deepEqual(Object.fromEntries(new URLSearchParams(init.body)), {
    grant_type: "authorization_code",
    client_id: "client123",
    code: "abc",
    redirect_uri: "https://d111.cloudfront.net/",
    code_verifier: verifier,
  });
  assert.equal(storage.getItem("notes.auth.pending"), null, "the pending state is single use");
  assert.deepEqual(currentSession(storage, () => t0), session);
  assert.equal(decodeClaims(currentSession(storage, () => t0).idToken).email, "a@example.com");
});

test("a redirect whose state does not match is rejected without calling the token endpoint", async () => {
  const storage = new MemoryStorage();
  await startSignIn(storage);
  const fetchImpl = recordingFetch(() => ({ body: {} }));
  await assert.rejects(
    completeSignIn({ config, url: `${origin}/?code=abc&state=forged`, storage, fetchImpl, now: () => t0 }),
    SignInError,
  );
  assert.equal(fetchImpl.calls.length, 0);
  assert.equal(currentSession(storage, () => t0), null);
  assert.equal(storage.getItem("notes.auth.pending"), null);
});

test("a redirect with no sign-in started here is rejected", async () => {
  const fetchImpl = recordingFetch(() => ({ body: {} }));
  await assert.rejects(
    completeSignIn({ config, url: `${origin}/?code=abc&state=x`, storage: new MemoryStorage(), fetchImpl, now: () => t0 }),
    /does not match a sign-in started here/,
  );
  assert.equal(fetchImpl.calls.length, 0);
});

test("an error from the hosted UI becomes a SignInError with its description", async () => {
  const storage = new MemoryStorage();
  await startSignIn(storage);
  await assert.rejects(
    completeSignIn({
      config,
      url: `${origin}/?error=access_denied&error_description=User+cancelled`,
      storage,
      fetchImpl: recordingFetch(() => ({ body: {} })),
      now: () => t0,
    }),
    { name: "SignInError", message: "sign-in failed: User cancelled" },
  );
  assert.equal(storage.getItem("notes.auth.pending"), null);
});

test("a failed token exchange is a SignInError and stores nothing", async () => {
  const storage = new MemoryStorage();
  const state = await startSignIn(storage);
  const fetchImpl = recordingFetch(() => ({ status: 400, body: { error: "invalid_grant" } }));
  await assert.rejects(
    completeSignIn({ config, url: `${origin}/?code=abc&state=${state}`, storage, fetchImpl, now: () => t0 }),
    /HTTP 400/,
  );
  assert.equal(currentSession(storage, () => t0), null);
});

test("a page load without OAuth parameters is not a sign-in", async () => {
  const fetchImpl = recordingFetch(() => ({ body: {} }));
  const result = await completeSignIn({
    config,
    url: `${origin}/?tab=notes`,
    storage: new MemoryStorage(),
    fetchImpl,
    now: () => t0,
  });
  assert.equal(result, null);
  assert.equal(fetchImpl.calls.length, 0);
});

test("cleanUrl removes the OAuth parameters and keeps the others", () => {
  assert.equal(cleanUrl(`${origin}/?code=abc&state=s&tab=notes`), `${origin}/?tab=notes`);
  assert.equal(cleanUrl(`${origin}/?error=x&error_description=y`), `${origin}/`);
});

test("a session close to expiry or corrupt is forgotten", () => {
  const storage = new MemoryStorage();
  storage.setItem("notes.auth.session", JSON.stringify({ idToken: "t", expiresAt: t0 + 30_000 }));
  assert.equal(currentSession(storage, () => t0), null, "expires within the one-minute margin");
  assert.equal(storage.getItem("notes.auth.session"), null);
  storage.setItem("notes.auth.session", "{not json");
  assert.equal(currentSession(storage, () => t0), null);
  storage.setItem("notes.auth.session", JSON.stringify({ idToken: "t", expiresAt: t0 + 120_000 }));
  assert.equal(currentSession(storage, () => t0).idToken, "t");
});

test("signOut forgets the session and returns the hosted UI logout URL", () => {
  const storage = new MemoryStorage();
  storage.setItem("notes.auth.session", JSON.stringify({ idToken: "t", expiresAt: t0 + 3_600_000 }));
  const url = new URL(signOut({ config, storage, origin }));
  assert.equal(url.origin + url.pathname, `${config.authDomain}/logout`);
  assert.equal(url.searchParams.get("client_id"), "client123");
  assert.equal(url.searchParams.get("logout_uri"), "https://d111.cloudfront.net/");
  assert.equal(currentSession(storage, () => t0), null);
});
