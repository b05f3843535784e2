// The Trouter emulation at the wire, without a browser: the config endpoint, CORS, allocate,
// handshake, WebSocket and xhr-polling framing, acks, heartbeats, token rules, flow control and
// redelivery. The browser suites (events, reconnect, liveness) prove the same against the SDK.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { WebSocket } from "ws";
import {
  createApp,
  generateSecrets,
  listen,
  MemoryStore,
  renderLogPayload,
  TokenService,
  type Listening,
  type ParleyApp,
  type Secrets,
} from "@parley/server";
import { rawRequest, type RawResponse } from "../helpers/http.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { decodePayload, encodePayload } from "../../packages/server/src/trouter/socketio.js";

const ORIGIN = "http://app.example";

/** A Parley on plain http with short Trouter timers, built from createApp like any embedder would. */
class Fixture {
  app!: ParleyApp;
  listening!: Listening;
  base!: string;
  secrets: Secrets = generateSecrets();

  static async start(): Promise<Fixture> {
    const f = new Fixture();
    f.app = await createApp({
      store: new MemoryStore(),
      secrets: f.secrets,
      logLevel: "silent",
      trouter: { heartbeatIntervalMs: 300, pollHoldMs: 400, window: 4 },
    });
    f.listening = await listen(f.app, { host: "127.0.0.1", httpsPort: null, httpPort: 0 });
    f.base = `http://127.0.0.1:${f.listening.httpPort}`;
    return f;
  }

  async user(): Promise<{ id: string; token: string }> {
    const created = await this.app.identity.createUser({ scopes: ["chat"] });
    if (!("userId" in created) || !created.token) throw new Error("no user");
    return { id: created.userId, token: created.token.token };
  }

  /** A token for `userId` expiring `seconds` from now (negative: already expired). */
  async tokenExpiringIn(userId: string, seconds: number): Promise<string> {
    const tokens = new TokenService(this.secrets.tokenSecret, { resourceId: this.secrets.resourceId, clock: () => Date.now() - 60 * 60_000 + seconds * 1000 });
    return (await tokens.issue({ userId, scopes: ["chat"], epoch: 0, expiresInMinutes: 60 })).token;
  }

  post(path: string, token?: string, body?: string, headers: Record<string, string> = {}): Promise<RawResponse> {
    return rawRequest(`${this.base}${path}`, {
      method: "POST",
      headers: { origin: ORIGIN, "content-type": "text/plain", ...(token && { "x-skypetoken": token }), ...headers },
      ...(body !== undefined && { body }),
    });
  }

  get(path: string, token?: string): Promise<RawResponse> {
    return rawRequest(`${this.base}${path}`, { headers: { origin: ORIGIN, ...(token && { "x-skypetoken": token }) } });
  }

  /** allocate + handshake, as the SDK does; returns the session id and the allocation. */
  async session(token: string, epid: string = crypto.randomUUID()): Promise<{ sid: string; allocation: any; epid: string }> {
    const allocated = await this.post(`/trouter/v4/a?cor_id=${crypto.randomUUID()}&con_num=1_1&epid=${epid}`, token);
    assert.equal(allocated.status, 200, allocated.text);
    const query = new URLSearchParams({ ...allocated.json.connectparams, v: "v4", epid, t: String(Date.now()) });
    const handshake = await this.get(`/socket.io/1/?${query}`, token);
    assert.equal(handshake.status, 200, handshake.text);
    return { sid: handshake.text.split(":")[0]!, allocation: allocated.json, epid };
  }

  /** A chat REST call with a Bearer token, as any client makes it. */
  async rest(method: string, path: string, token: string, body?: unknown): Promise<RawResponse> {
    const res = await rawRequest(`${this.base}${path}${path.includes("?") ? "&" : "?"}api-version=2024-09-01`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${res.text}`);
    return res;
  }

  async thread(owner: { token: string }, members: Array<{ id: string }>, topic = "t"): Promise<string> {
    const participants = members.map((m) => ({ communicationIdentifier: { rawId: m.id, communicationUser: { id: m.id } } }));
    return (await this.rest("POST", "/chat/threads", owner.token, { topic, participants })).json.chatThread.id;
  }

  async message(sender: { token: string }, threadId: string, content: string): Promise<string> {
    return (await this.rest("POST", `/chat/threads/${encodeURIComponent(threadId)}/messages`, sender.token, { content, type: "text" })).json.id;
  }

  async close(): Promise<void> {
    await this.listening.close();
  }
}

/** A WebSocket client that records every packet. */
class Socket {
  readonly packets: string[] = [];
  constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => this.packets.push(...(decodePayload(data.toString()) ?? [])));
  }
  static open(base: string, sid: string): Promise<Socket> {
    const ws = new WebSocket(`${base.replace(/^http/, "ws")}/socket.io/1/websocket/${sid}?v=v4`, { headers: { origin: ORIGIN } });
    const socket = new Socket(ws);
    return new Promise((resolve, reject) => {
      ws.once("open", () => resolve(socket));
      ws.once("unexpected-response", (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      ws.once("error", reject);
    });
  }
  async next(match: (p: string) => boolean, timeoutMs = 3000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.packets.findIndex(match);
      if (i >= 0) return this.packets.splice(i, 1)[0]!;
      if (Date.now() > deadline) throw new Error(`no matching packet; have ${JSON.stringify(this.packets)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  send(packet: string): void {
    this.ws.send(packet);
  }
  close(): void {
    this.ws.terminate();
  }
}

/** The body (parsed) of each `3:::` delivery, with its id. */
function delivery(packet: string): { id: number; body: any } {
  const frame = JSON.parse(packet.slice(4));
  assert.equal(typeof frame.body, "string", "body is a JSON string");
  return { id: frame.id, body: JSON.parse(frame.body) };
}

describe("Trouter wire protocol", () => {
  let f: Fixture;
  before(async () => {
    f = await Fixture.start();
  });
  after(async () => f?.close());

  it("socket.io framing counts UTF-16 code units", () => {
    const packets = ["3:::{\"m\":\"😀 ünï\"}", "2::", "5:::{}"];
    const framed = encodePayload(packets);
    assert.equal(framed.slice(0, 5), `\uFFFD${packets[0]!.length}\uFFFD3`);
    assert.deepEqual(decodePayload(framed), packets);
    assert.deepEqual(decodePayload("2::"), ["2::"]);
    assert.equal(decodePayload("\uFFFD99\uFFFD2::"), undefined);
  });

  it("renders nested thread strings with escape() so % sequences and non-ASCII survive the SDK's unescape()", () => {
    const topic = "100% %41 %u2713 ✓ ünï";
    const payload = renderLogPayload({
      userId: "8:acs:r_u",
      seq: 1,
      name: "chatThreadPropertiesUpdated",
      threadId: "19:x@thread.v2",
      at: 1,
      data: { thread: { id: "19:x@thread.v2", topic, createdAt: 1, createdBy: "8:acs:r_u", lastMessageAt: 1, order: 1, metadata: { k: "%" } }, actor: { userId: "8:acs:r_u", displayName: "A%20", shareHistoryTime: 0 } },
    });
    assert.equal(payload.eventId, 258);
    const properties = JSON.parse(unescape(String(payload.properties)));
    assert.equal(properties.topic, topic);
    assert.equal(JSON.parse(properties.acsChatThreadMetadata).k, "%");
    assert.equal(JSON.parse(unescape(String(payload.editedBy))).displayName, "A%20");
  });

  it("GET /chat/config/realTimeNotifications answers this origin's trouter and registrar URLs, also at //chat/config; 401 without a token", async () => {
    const { token } = await f.user();
    for (const path of ["/chat/config/realTimeNotifications", "//chat/config/realTimeNotifications"]) {
      const res = await rawRequest(`${f.base}${path}?api-version=2024-09-01`, { headers: { authorization: `Bearer ${token}`, origin: ORIGIN } });
      assert.equal(res.status, 200);
      assert.match(String(res.headers["content-type"]), /^application\/json/);
      assert.deepEqual(res.json, { trouterServiceUrl: `${f.base}/trouter`, registrarServiceUrl: `${f.base}/registrar`, cloudType: "Public" });
      assert.equal(res.headers["access-control-allow-origin"], ORIGIN);
    }
    const anonymous = await rawRequest(`${f.base}/chat/config/realTimeNotifications?api-version=2024-09-01`);
    assert.equal(anonymous.status, 401);
    assert.equal(typeof anonymous.json.error.code, "string", "ACS error body kept for the ACS API");
  });

  it("answers CORS preflights on every Trouter route with the origin and the requested headers", async () => {
    const routes = ["/chat/config/realTimeNotifications", "/trouter/v4/a", "/v4/a", "/socket.io/1/", "/socket.io/1/xhr-polling/abc", "/registrar/v3/registrations", "/registrar/v3/registrations/x", "/"];
    for (const path of routes) {
      const res = await rawRequest(`${f.base}${path}`, {
        method: "OPTIONS",
        headers: { origin: ORIGIN, "access-control-request-method": "POST", "access-control-request-headers": "content-type,x-skypetoken" },
      });
      assert.equal(res.status, 204, path);
      assert.equal(res.headers["access-control-allow-origin"], ORIGIN, path);
      assert.equal(res.headers["access-control-allow-headers"], "content-type,x-skypetoken", path);
      assert.match(String(res.headers["access-control-allow-methods"]), /DELETE/, path);
    }
    const root = await f.get("/");
    assert.equal(root.status, 200);
    assert.equal(root.text, "Trouter");
    assert.match(String(root.headers["content-type"]), /^text\/plain/);
    assert.equal(root.headers["access-control-allow-origin"], ORIGIN);
  });

  it("allocates at /trouter/v4/a and /v4/a with a socketio origin, surl, url and string connectparams", async () => {
    const { token } = await f.user();
    for (const path of ["/trouter/v4/a?cor_id=c&con_num=1_1&epid=e1", "/v4/a?cor_id=c&con_num=1_2&epid=e1&sr=old&v=v4"]) {
      const res = await f.post(path, token);
      assert.equal(res.status, 200, res.text);
      assert.match(String(res.headers["content-type"]), /^application\/json(;|$)/, "what the client accepts");
      const a = res.json;
      assert.equal(a.socketio, `${f.base}/`);
      assert.match(a.surl, new RegExp(`^${f.base}/trouter/f/[0-9a-f]+/$`));
      assert.equal(a.url, a.surl);
      for (const key of ["id", "ccid", "ttl"]) assert.equal(typeof a[key], "string", key);
      assert.ok(Number(a.ttl) > 3000);
      assert.deepEqual(Object.keys(a.connectparams), ["sr"]);
      assert.equal(typeof a.connectparams.sr, "string");
    }
  });

  it("answers 401 only to tokens that are really dead (expired, revoked) and 403 to others, so the SDK does not give up on a live token", async () => {
    const user = await f.user();
    assert.equal((await f.post("/trouter/v4/a?epid=e", await f.tokenExpiringIn(user.id, -5))).status, 401, "expired");
    assert.equal((await f.post("/trouter/v4/a?epid=e", `${user.token.slice(0, -3)}abc`)).status, 403, "bad signature");
    assert.equal((await f.post("/trouter/v4/a?epid=e")).status, 403, "no token");
    assert.equal((await f.post("/trouter/v4/a?epid=e", "not-a-jwt")).status, 403, "malformed");
    const revoked = await f.user();
    await f.app.identity.revokeTokens(revoked.id);
    assert.equal((await f.post("/trouter/v4/a?epid=e", revoked.token)).status, 401, "revoked");
    assert.equal((await f.post("/registrar/v3/registrations", revoked.token, "{}")).status, 401);
  });

  it("binds the handshake to the allocation's user: another user's connect handle or none is refused", async () => {
    const [alice, bob] = [await f.user(), await f.user()];
    const { allocation } = await f.session(alice.token, "ep-a");
    const sr = allocation.connectparams.sr;
    const ok = await f.get(`/socket.io/1/?sr=${sr}&epid=ep-a&t=1`, alice.token);
    assert.equal(ok.status, 200);
    assert.match(ok.text, /^[A-Za-z0-9_-]+:60:60:websocket,xhr-polling$/);
    assert.equal((await f.get(`/socket.io/1/?sr=${sr}&epid=ep-a&t=1`, bob.token)).status, 403, "bob with alice's handle");
    assert.equal((await f.get(`/socket.io/1/?sr=${sr}&epid=other&t=1`, alice.token)).status, 403, "another endpoint");
    assert.equal((await f.get(`/socket.io/1/?epid=ep-a&t=1`, alice.token)).status, 403, "no handle");
    assert.equal((await f.get(`/socket.io/1/?sr=forged&epid=ep-a&t=1`, alice.token)).status, 403, "unknown handle");
  });

  it("WebSocket: refuses unknown and reused session ids; sends 1:: then trouter.connected; acks user.activity and ping; heartbeats", async () => {
    const user = await f.user();
    await assert.rejects(Socket.open(f.base, "unknownsessionid1234"), /404/);
    const { sid } = await f.session(user.token);
    const socket = await Socket.open(f.base, sid);
    await assert.rejects(Socket.open(f.base, sid), /403/, "a session id serves one transport");
    assert.equal(await socket.next(() => true), "1::");
    const connected = JSON.parse((await socket.next((p) => p.startsWith("5:::"))).slice(4));
    assert.equal(connected.name, "trouter.connected");
    assert.ok(connected.args[0].ttl > 3000 && !("connectparams" in connected.args[0]));
    const t0 = Date.now();
    socket.send(`5:1+::${JSON.stringify({ name: "user.activity", args: [{ state: "active", cv: "x" }] })}`);
    assert.equal(await socket.next((p) => p.startsWith("6:::")), "6:::1+[]");
    socket.send(`5:2+::{"name":"ping"}`);
    assert.equal(await socket.next((p) => p.startsWith("6:::")), "6:::2+[]");
    assert.ok(Date.now() - t0 < 1000, "acks within a second");
    await socket.next((p) => p === "2::", 2000);
    socket.close();
  });

  it("delivers 3::: requests with a JSON-string body and a numeric eventId; keeps at most `window` unanswered; redelivers what a dead socket left unanswered", async () => {
    const [alice, bob] = [await f.user(), await f.user()];
    const epid = "bob-endpoint";
    const first = await Socket.open(f.base, (await f.session(bob.token, epid)).sid);
    await first.next((p) => p.startsWith("5:::"));
    const threadId = await f.thread(alice, [alice, bob]);
    for (let i = 0; i < 6; i++) await f.message(alice, threadId, `m${i}`);
    await new Promise((r) => setTimeout(r, 300));
    const frames = first.packets.filter((p) => p.startsWith("3:::")).map(delivery);
    assert.equal(frames.length, 4, "window of 4: thread created + three messages, then it waits for answers");
    assert.deepEqual(frames.map((d) => d.body.eventId), [257, 200, 200, 200]);
    assert.equal(frames[1]!.body.messageBody, "m0");
    // Answer the first two, then the socket dies with two unanswered.
    for (const d of frames.slice(0, 2)) first.send(`3:::${JSON.stringify({ id: d.id, status: 200, headers: {}, body: "" })}`);
    await new Promise((r) => setTimeout(r, 200));
    first.close();
    await new Promise((r) => setTimeout(r, 200));

    const second = await Socket.open(f.base, (await f.session(bob.token, epid)).sid);
    await second.next((p) => p.startsWith("5:::"));
    const bodies: string[] = [];
    while (bodies.length < 5) {
      const d = delivery(await second.next((p) => p.startsWith("3:::")));
      bodies.push(d.body.messageBody);
      second.send(`3:::${JSON.stringify({ id: d.id, status: 200 })}`);
    }
    assert.deepEqual(bodies, ["m1", "m2", "m3", "m4", "m5"], "unanswered ones again, then the rest, in order");
    assert.equal(f.app.trouter.counters.rejected, 0);
    second.close();
  });

  it("xhr-polling: first poll carries 1:: and trouter.connected, idle polls end in a noop, POSTs answer 200, deliveries arrive on the next poll", async () => {
    const [alice, bob] = [await f.user(), await f.user()];
    const { sid } = await f.session(bob.token);
    const path = `/socket.io/1/xhr-polling/${sid}?v=v4&t=`;
    const firstPoll = await f.get(`${path}1`, bob.token);
    assert.equal(firstPoll.status, 200);
    const packets = decodePayload(firstPoll.text)!;
    assert.equal(packets[0], "1::");
    assert.equal(JSON.parse(packets[1]!.slice(4)).name, "trouter.connected");
    const t0 = Date.now();
    const idle = await f.get(`${path}2&connected=true`, bob.token);
    assert.equal(idle.text, "8::");
    assert.ok(Date.now() - t0 >= 350, "held until pollHoldMs");

    const posted = await f.post(`${path}3`, bob.token, `5:1+::{"name":"user.activity","args":[{}]}`);
    assert.equal(posted.status, 200);
    const ack = await f.get(`${path}4`, bob.token);
    assert.equal(ack.text, "6:::1+[]");

    const poll = f.get(`${path}5`, bob.token);
    await new Promise((r) => setTimeout(r, 50));
    await f.thread(alice, [alice, bob], "polled");
    const delivered = decodePayload((await poll).text)!.filter((p) => p.startsWith("3:::")).map(delivery);
    assert.equal(delivered[0]!.body.eventId, 257);
    assert.equal((await f.post(`${path}6`, bob.token, `3:::${JSON.stringify({ id: delivered[0]!.id, status: 200 })}`)).status, 200);

    assert.equal((await f.get(`${path}7`, alice.token)).status, 403, "another user's token on the session");
    assert.equal((await f.get(`${path}8`, bob.token)).status, 404, "the session ended with that");
  });
});

describe("Trouter on Parley's HTTPS listener", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ store: "memory" });
  });
  after(async () => server?.close());

  it("serves the config, allocate and a wss socket on the API's own https origin", async () => {
    const created = await server.parley.app.identity.createUser({ scopes: ["chat"] });
    const token = ("token" in created && created.token!.token) as string;
    const base = server.endpoint.replace(/\/$/, "");
    const config = await rawRequest(`${server.endpoint}chat/config/realTimeNotifications?api-version=2024-09-01`, { headers: { authorization: `Bearer ${token}` }, ca: server.caPem });
    assert.deepEqual(config.json, { trouterServiceUrl: `${base}/trouter`, registrarServiceUrl: `${base}/registrar`, cloudType: "Public" });
    const allocated = await rawRequest(`${config.json.trouterServiceUrl}/v4/a?epid=e`, { method: "POST", headers: { "x-skypetoken": token }, ca: server.caPem });
    assert.equal(allocated.json.socketio, `${base}/`);
    const handshake = await rawRequest(`${base}/socket.io/1/?sr=${allocated.json.connectparams.sr}&epid=e&t=1`, { headers: { "x-skypetoken": token }, ca: server.caPem });
    const sid = handshake.text.split(":")[0]!;
    const ws = new WebSocket(`${base.replace("https", "wss")}/socket.io/1/websocket/${sid}`, { ca: server.caPem });
    const first = await new Promise<string>((resolve, reject) => {
      ws.once("message", (d) => resolve(d.toString()));
      ws.once("error", reject);
    });
    assert.equal(first, "1::");
    ws.terminate();
  });
});
