// AzureCommunicationTokenCredential: static tokens, refresh on expiry, proactive refresh, interop
// with the official SDKs in both directions.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { ChatClient as OfficialChatClient } from "@azure/communication-chat";
import { AzureCommunicationTokenCredential as OfficialCredential } from "@azure/communication-common";
import { AzureCommunicationTokenCredential, ChatClient, parseToken } from "@parley/sdk";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { sdkIdentity, sleep, until } from "./support.js";

/** An unsigned JWT-shaped token expiring at `expiresAt` (the credential only reads `exp`). */
function fakeToken(expiresAt: number, tag = Math.random().toString(36).slice(2)): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${b64({ alg: "none" })}.${b64({ exp: Math.floor(expiresAt / 1000), tag })}.sig`;
}

const MIN = 60_000;
/** A whole-second expiry at least `ms` from now (JWT exp has second precision). */
const expiryAfter = (ms: number) => Math.ceil((Date.now() + ms) / 1000) * 1000;

describe("AzureCommunicationTokenCredential", () => {
  it("a static token is returned as is, with its exp; dispose makes getToken throw", async () => {
    const exp = Date.now() + 30 * MIN;
    const token = fakeToken(exp);
    const credential = new AzureCommunicationTokenCredential(token);
    const got = await credential.getToken();
    assert.equal(got.token, token);
    assert.equal(got.expiresOnTimestamp, Math.floor(exp / 1000) * 1000);
    assert.deepEqual(parseToken(token), got);
    credential.dispose();
    await assert.rejects(credential.getToken(), /disposed/);
  });

  it("rejects strings that are not JWTs with an exp", () => {
    assert.throws(() => new AzureCommunicationTokenCredential("not-a-jwt"), /not a JWT/);
    assert.throws(() => new AzureCommunicationTokenCredential(`${Buffer.from("{}").toString("base64url")}.${Buffer.from("{}").toString("base64url")}.x`), /no exp/);
    assert.throws(() => new AzureCommunicationTokenCredential({} as never), /tokenRefresher/);
  });

  it("without an initial token the first getToken calls the refresher; concurrent calls share one refresh", async () => {
    let calls = 0;
    const credential = new AzureCommunicationTokenCredential({
      tokenRefresher: async () => {
        calls++;
        await sleep(20);
        return fakeToken(Date.now() + 60 * MIN);
      },
    });
    const [a, b, c] = await Promise.all([credential.getToken(), credential.getToken(), credential.getToken()]);
    assert.equal(calls, 1);
    assert.equal(a.token, b.token);
    assert.equal(b.token, c.token);
    await credential.getToken();
    assert.equal(calls, 1, "a valid token is reused");
    credential.dispose();
  });

  it("an expired token is refreshed on getToken; a refresher returning an expired token is an error", async () => {
    const fresh = fakeToken(Date.now() + 60 * MIN);
    const credential = new AzureCommunicationTokenCredential({ token: fakeToken(Date.now() - 1000), tokenRefresher: async () => fresh });
    assert.equal((await credential.getToken()).token, fresh);
    const broken = new AzureCommunicationTokenCredential({ tokenRefresher: async () => fakeToken(Date.now() - 1000) });
    await assert.rejects(broken.getToken(), /expired/);
  });

  it("refreshProactively refreshes 10 minutes before expiry and tells onTokenRefreshed listeners", async () => {
    let calls = 0;
    const next = fakeToken(Date.now() + 60 * MIN, "next");
    const credential = new AzureCommunicationTokenCredential({
      token: fakeToken(expiryAfter(10 * MIN + 500), "first"),
      refreshProactively: true,
      tokenRefresher: async () => {
        calls++;
        return next;
      },
    });
    const refreshed: string[] = [];
    const unsubscribe = credential.onTokenRefreshed((t) => refreshed.push(t.token));
    assert.equal(calls, 0);
    await until(() => calls === 1, "the proactive refresh", 3000);
    await until(() => refreshed.length === 1, "the listener");
    assert.deepEqual(refreshed, [next]);
    assert.equal((await credential.getToken()).token, next);
    unsubscribe();
    credential.dispose();
  });

  it("inside the last 10 minutes, refreshes at half the remaining lifetime; dispose cancels it", async () => {
    let calls = 0;
    const credential = new AzureCommunicationTokenCredential({
      token: fakeToken(expiryAfter(2000)),
      refreshProactively: true,
      tokenRefresher: async () => (calls++, fakeToken(Date.now() + 60 * MIN)),
    });
    await sleep(300);
    assert.equal(calls, 0, "not yet: half of the 2–3 s left has not passed");
    await until(() => calls === 1, "the refresh at half-life", 3000);
    credential.dispose();

    let later = 0;
    const disposed = new AzureCommunicationTokenCredential({ token: fakeToken(expiryAfter(10 * MIN + 200)), refreshProactively: true, tokenRefresher: async () => (later++, fakeToken(Date.now() + 60 * MIN)) });
    disposed.dispose();
    await sleep(1500);
    assert.equal(later, 0);
  });

  describe("interop with the official SDKs", () => {
    let server: TestServer;
    before(async () => (server = await startTestServer()));
    after(() => server.close());

    it("the official credential drives @parley/sdk's ChatClient, and this credential the official ChatClient", async () => {
      const { token } = await sdkIdentity(server).createUserAndToken(["chat"]);
      const ours = new ChatClient(server.endpoint, new OfficialCredential(token), { tlsOptions: { ca: server.caPem } });
      const created = await ours.createChatThread({ topic: "official credential" });
      const official = new OfficialChatClient(server.endpoint, new AzureCommunicationTokenCredential(token), { tlsOptions: { ca: server.caPem } });
      const props = await official.getChatThreadClient(created.chatThread!.id).getProperties();
      assert.equal(props.topic, "official credential");
    });
  });
});
