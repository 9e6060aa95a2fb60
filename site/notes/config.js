// Loads the settings the stack generates at deploy time (config.json, next to index.html).

/** The keys config.json must carry; a missing one is a deployment error, not a user error. */
export const REQUIRED_KEYS = ["apiUrl", "authDomain", "clientId", "userPoolId", "region"];

/**
 * Fetch and check config.json.
 * @param {typeof fetch} fetchImpl
 * @param {string} [url]
 * @returns {Promise<{apiUrl: string, authDomain: string, clientId: string, userPoolId: string, region: string}>}
 */
export async function loadConfig(fetchImpl, url = "config.json") {
  const response = await fetchImpl(url, { cache: "no-store" });
  if (!response.ok) {
    throw new Error(`could not load ${url}: HTTP ${response.status}`);
  }
  const config = await response.json();
  const missing = REQUIRED_KEYS.filter((key) => typeof config[key] !== "string" || config[key] === "");
  if (missing.length > 0) {
    throw new Error(`${url} lacks ${missing.join(", ")}`);
  }
  return { ...config, apiUrl: config.apiUrl.replace(/\/+$/, ""), authDomain: config.authDomain.replace(/\/+$/, "") };
}
