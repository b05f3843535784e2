// Token issuance: every token must parse with the Python SDK's fragile decoder; verification is real.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { TokenService } from "@parley/server";

/** What azure-communication-chat 1.2.0 does: standard-alphabet base64 of segment 2 + "==", ASCII. */
function pythonDecode(token: string): { exp: unknown } {
  const parts = token.split(".");
  if (parts.length < 3) throw new Error("Token is not formatted correctly");
  const segment = parts[1]!;
  // Python's non-strict b64decode silently drops characters outside the standard alphabet.
  const cleaned = (segment + "==").replace(/[^A-Za-z0-9+/=]/g, "");
  const bytes = Buffer.from(cleaned, "base64");
  if (bytes.some((b) => b > 0x7f)) throw new Error("payload is not ASCII");
  return JSON.parse(bytes.toString("ascii"));
}

describe("TokenService", () => {
  const resourceId = randomUUID();

  it("issues tokens that Python's decoder reads, for thousands of users and scope sets", async () => {
    const tokens = new TokenService(randomBytes(32), { resourceId, clock: Date.now });
    const scopeSets = [["chat"], ["chat", "voip"], ["chat.join"], ["chat.join.limited", "voip.join"], ["voip"]];
    for (let i = 0; i < 3000; i++) {
      const userId = `8:acs:${resourceId}_${randomUUID()}`;
      const { token, expiresOn } = await tokens.issue({ userId, scopes: scopeSets[i % scopeSets.length]!, epoch: i % 7, expiresInMinutes: 60 + (i % 1381) });
      const segment = token.split(".")[1]!;
      assert.ok(!segment.includes("-") && !segment.includes("_"), `payload segment of token ${i} has - or _`);
      const claims = pythonDecode(token);
      assert.equal(typeof claims.exp, "number");
      assert.equal((claims.exp as number) * 1000, expiresOn.getTime());
    }
  });

  it("verifies its own tokens and returns the claims", async () => {
    const tokens = new TokenService(randomBytes(32), { resourceId, clock: Date.now });
    const userId = `8:acs:${resourceId}_${randomUUID()}`;
    const { token } = await tokens.issue({ userId, scopes: ["chat", "voip"], epoch: 3, expiresInMinutes: 60 });
    const check = await tokens.verify(token);
    assert.ok(check.ok);
    assert.equal(check.claims.userId, userId);
    assert.deepEqual(check.claims.scopes, ["chat", "voip"]);
    assert.equal(check.claims.epoch, 3);
  });

  it("rejects expired tokens, other keys, tampering, alg=none and garbage", async () => {
    let now = Date.now();
    const secret = randomBytes(32);
    const tokens = new TokenService(secret, { resourceId, clock: () => now });
    const userId = `8:acs:${resourceId}_${randomUUID()}`;
    const { token } = await tokens.issue({ userId, scopes: ["chat"], epoch: 0, expiresInMinutes: 60 });

    now += 61 * 60_000;
    assert.deepEqual(await tokens.verify(token), { ok: false, reason: "expired" });
    now -= 61 * 60_000;

    const other = new TokenService(randomBytes(32), { resourceId, clock: () => now });
    assert.deepEqual(await other.verify(token), { ok: false, reason: "signature" });

    const [h, p, s] = token.split(".") as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, "base64url").toString());
    const escalated = Buffer.from(JSON.stringify({ ...claims, skypeid: claims.skypeid.replace(/.$/, (c: string) => (c === "0" ? "1" : "0")) })).toString("base64url");
    assert.equal((await tokens.verify(`${h}.${escalated}.${s}`)).ok, false);

    const none = Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url");
    assert.equal((await tokens.verify(`${none}.${p}.`)).ok, false);
    for (const garbage of ["", "abc", "a.b.c", `${h}.${p}`, "🙂.🙂.🙂"]) assert.equal((await tokens.verify(garbage)).ok, false);
  });

  it("a token verified before still expires on the second, and only that exact token is remembered", async () => {
    let now = Date.now();
    const tokens = new TokenService(randomBytes(32), { resourceId, clock: () => now });
    const { token, expiresOn } = await tokens.issue({ userId: `8:acs:${resourceId}_${randomUUID()}`, scopes: ["chat"], epoch: 0, expiresInMinutes: 60 });
    assert.ok((await tokens.verify(token)).ok, "first use: the signature is checked");
    now = expiresOn.getTime() - 1000;
    assert.ok((await tokens.verify(token)).ok, "remembered, one second before expiry");
    // Same claims, another signature; and the remembered token with a byte of its signature changed.
    const [h, p, sig] = token.split(".") as [string, string, string];
    const flipped = sig.slice(0, 5) + (sig[5] === "A" ? "B" : "A") + sig.slice(6);
    assert.deepEqual(await tokens.verify(`${h}.${p}.${flipped}`), { ok: false, reason: "signature" });
    now = expiresOn.getTime();
    assert.deepEqual(await tokens.verify(token), { ok: false, reason: "expired" }, "expired at exp, as jose decides");
    now = expiresOn.getTime() - 1000;
    assert.ok((await tokens.verify(token)).ok, "forgotten once expired, then checked again from scratch (clock went back)");
  });
});
