// HmacVerifier against requests signed exactly as the SDKs sign them.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash, createHmac, randomBytes } from "node:crypto";
import { signRequest } from "@parley/server";
import { HmacVerifier } from "../../packages/server/src/auth/hmac.js";

const key = randomBytes(64).toString("base64");
const now = Date.parse("2026-11-22T17:20:14Z");

function signed(url: string, body = "", date = new Date(now), method = "POST") {
  const headers = signRequest({ accessKeyBase64: key, method, url: new URL(url), body, date });
  return { method, rawUrl: new URL(url).pathname + new URL(url).search, headers: { ...headers, host: new URL(url).host }, body: Buffer.from(body) };
}

describe("HmacVerifier", () => {
  const verifier = new HmacVerifier(key, { clock: () => now, maxSkewMs: 15 * 60_000 });

  it("accepts a signature over the encoded path, query, date, host and body hash", () => {
    const req = signed("https://localhost:8443/identities/8%3Aacs%3Ar_u/:issueAccessToken?api-version=2023-10-01", '{"scopes":["chat"]}');
    assert.deepEqual(verifier.verify(req), { ok: true });
  });

  it("rejects a decoded path, another host, another body, another method", () => {
    const req = signed("https://localhost:8443/identities/8%3Aacs%3Ar_u?api-version=2023-10-01");
    assert.equal(verifier.verify({ ...req, rawUrl: "/identities/8:acs:r_u?api-version=2023-10-01" }).ok, false);
    assert.equal(verifier.verify({ ...req, headers: { ...req.headers, host: "evil:8443" } }).ok, false);
    assert.equal(verifier.verify({ ...req, body: Buffer.from("x") }).ok, false);
    assert.equal(verifier.verify({ ...req, method: "DELETE" }).ok, false);
  });

  it("accepts a host signed with :443 when the Host header omits the default port (Python)", () => {
    const date = new Date(now).toUTCString();
    const hash = createHash("sha256").update("").digest("base64");
    const path = "/identities?api-version=2022-10-01";
    const signature = createHmac("sha256", Buffer.from(key, "base64")).update(`POST\n${path}\n${date};acs.example:443;${hash}`).digest("base64");
    const headers = {
      host: "acs.example",
      "x-ms-date": date,
      "x-ms-content-sha256": hash,
      authorization: `HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=${signature}`,
    };
    assert.deepEqual(verifier.verify({ method: "POST", rawUrl: path, headers, body: Buffer.alloc(0) }), { ok: true });
    assert.equal(verifier.verify({ method: "POST", rawUrl: path, headers: { ...headers, host: "acs.example:8443" }, body: Buffer.alloc(0) }).ok, false);
  });

  it("enforces the 15-minute date window both ways", () => {
    const url = "https://localhost:8443/identities?api-version=2023-10-01";
    assert.equal(verifier.verify(signed(url, "", new Date(now - 14 * 60_000))).ok, true);
    assert.equal(verifier.verify(signed(url, "", new Date(now - 16 * 60_000))).ok, false);
    assert.equal(verifier.verify(signed(url, "", new Date(now + 16 * 60_000))).ok, false);
  });

  it("rejects malformed Authorization headers with a reason", () => {
    const req = signed("https://localhost:8443/identities?api-version=2023-10-01");
    for (const authorization of [undefined, "", "Bearer x", "HMAC-SHA256 Signature=abc", "HMAC-SHA256 SignedHeaders=host&Signature=abc"]) {
      const verdict = verifier.verify({ ...req, headers: { ...req.headers, authorization } });
      assert.equal(verdict.ok, false);
      assert.ok(!verdict.ok && verdict.reason.length > 0);
    }
  });
});
