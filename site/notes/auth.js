// Sign-in with the Cognito hosted UI: OAuth 2.0 authorization code flow with PKCE (no client secret).
//
// Everything the browser provides (storage, crypto, fetch, the current time) is passed in, so the
// flow runs unchanged under Node's test runner.

const PENDING_KEY = "notes.auth.pending"; // {state, verifier} between the redirect out and back
const SESSION_KEY = "notes.auth.session"; // {idToken, accessToken, expiresAt}
export const SCOPES = ["openid", "email"];

/** An error the user should see on the sign-in screen (denied consent, tampered redirect, ...). */
export class SignInError extends Error {
  constructor(message) {
    super(message);
    this.name = "SignInError";
  }
}

/** RFC 4648 base64url without padding. */
export function base64UrlEncode(bytes) {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** A random URL-safe string from `byteCount` random bytes. */
export function randomString(cryptoImpl, byteCount = 32) {
  return base64UrlEncode(cryptoImpl.getRandomValues(new Uint8Array(byteCount)));
}

/** PKCE (RFC 7636): a verifier and its S256 challenge. */
export async function createPkcePair(cryptoImpl) {
  const verifier = randomString(cryptoImpl, 32);
  const digest = await cryptoImpl.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return { verifier, challenge: base64UrlEncode(new Uint8Array(digest)) };
}

/** The page Cognito sends the user back to: this site's root. */
export function redirectUri(origin) {
  return `${origin}/`;
}

/** The hosted UI URL that starts a sign-in. */
export function authorizeUrl(config, { state, challenge, origin }) {
  const params = new URLSearchParams({
    response_type: "code",
    client_id: config.clientId,
    redirect_uri: redirectUri(origin),
    scope: SCOPES.join(" "),
    state,
    code_challenge_method: "S256",
    code_challenge: challenge,
  });
  return `${config.authDomain}/oauth2/authorize?${params}`;
}

/** Remember state and verifier, and return the URL to send the browser to. */
export async function beginSignIn({ config, storage, cryptoImpl, origin }) {
  const state = randomString(cryptoImpl, 16);
  const { verifier, challenge } = await createPkcePair(cryptoImpl);
  storage.setItem(PENDING_KEY, JSON.stringify({ state, verifier }));
  return authorizeUrl(config, { state, challenge, origin });
}

/**
 * Finish a sign-in when the browser comes back from the hosted UI with `?code=...&state=...`.
 *
 * Returns null when the URL is not a sign-in redirect, else the new session. Throws SignInError
 * when Cognito reports an error, the state does not match (a forged or replayed redirect), or the
 * token exchange fails. The pending state is used once: it is removed whatever the outcome.
 */
export async function completeSignIn({ config, url, storage, fetchImpl, now }) {
  const params = new URL(url).searchParams;
  const error = params.get("error");
  const code = params.get("code");
  if (!error && !code) return null;
  const pendingText = storage.getItem(PENDING_KEY);
  storage.removeItem(PENDING_KEY);
  if (error) {
    throw new SignInError(`sign-in failed: ${params.get("error_description") || error}`);
  }
  const pending = pendingText ? JSON.parse(pendingText) : null;
  if (!pending || pending.state !== params.get("state")) {
    throw new SignInError("sign-in failed: the response does not match a sign-in started here");
  }
  const response = await fetchImpl(`${config.authDomain}/oauth2/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      client_id: config.clientId,
      code,
      redirect_uri: redirectUri(new URL(url).origin),
      code_verifier: pending.verifier,
    }).toString(),
  });
  if (!response.ok) {
    throw new SignInError(`sign-in failed: the token endpoint answered HTTP ${response.status}`);
  }
  const tokens = await response.json();
  if (typeof tokens.id_token !== "string" || typeof tokens.expires_in !== "number") {
    throw new SignInError("sign-in failed: the token endpoint returned no ID token");
  }
  const session = {
    idToken: tokens.id_token,
    accessToken: tokens.access_token,
    expiresAt: now() + tokens.expires_in * 1000,
  };
  storage.setItem(SESSION_KEY, JSON.stringify(session));
  return session;
}

/** The URL without the OAuth parameters, to put back in the address bar after a redirect. */
export function cleanUrl(url) {
  const clean = new URL(url);
  for (const name of ["code", "state", "error", "error_description"]) clean.searchParams.delete(name);
  return clean.toString();
}

/** The stored session if it is still valid for at least `marginMs`, else null (and it is forgotten). */
export function currentSession(storage, now, marginMs = 60_000) {
  const text = storage.getItem(SESSION_KEY);
  if (!text) return null;
  let session;
  try {
    session = JSON.parse(text);
  } catch {
    session = null;
  }
  if (!session || typeof session.idToken !== "string" || !(session.expiresAt - marginMs > now())) {
    storage.removeItem(SESSION_KEY);
    return null;
  }
  return session;
}

/** Claims of a JWT, decoded for display only (the API verifies the signature, never the browser). */
export function decodeClaims(jwt) {
  const payload = jwt.split(".")[1];
  if (!payload) return {};
  const base64 = payload.replace(/-/g, "+").replace(/_/g, "/");
  const json = new TextDecoder().decode(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)));
  return JSON.parse(json);
}

/** Forget the session here and return the hosted UI logout URL, which ends it at Cognito too. */
export function signOut({ config, storage, origin }) {
  storage.removeItem(SESSION_KEY);
  storage.removeItem(PENDING_KEY);
  const params = new URLSearchParams({ client_id: config.clientId, logout_uri: redirectUri(origin) });
  return `${config.authDomain}/logout?${params}`;
}
