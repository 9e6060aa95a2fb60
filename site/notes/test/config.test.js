import { test } from "node:test";
import assert from "node:assert/strict";
import { loadConfig } from "../config.js";
import { recordingFetch } from "../testing/fakes.js";

const good = {
  apiUrl: "https://abc.execute-api.eu-west-1.amazonaws.com/prod/",
  authDomain: "https://notes.auth.eu-west-1.amazoncognito.com",
  clientId: "c",
  userPoolId: "eu-west-1_x",
  region: "eu-west-1",
};

test("loadConfig reads config.json without the cache and trims trailing slashes", async () => {
  const fetchImpl = recordingFetch(() => ({ body: good }));
  const config = await loadConfig(fetchImpl);
  assert.equal(config.apiUrl, "https://abc.execute-api.eu-west-1.amazonaws.com/prod");
  assert.equal(fetchImpl.calls[0].url, "config.json");
  assert.equal(fetchImpl.calls[0].init.cache, "no-store");
});

test("loadConfig names every missing key", async () => {
  const fetchImpl = recordingFetch(() => ({ body: { ...good, clientId: "", region: undefined } }));
  await assert.rejects(loadConfig(fetchImpl), /lacks clientId, region/);
});

test("loadConfig reports an HTTP failure", async () => {
  await assert.rejects(loadConfig(recordingFetch(() => ({ status: 403, body: "denied" }))), /HTTP 403/);
});
