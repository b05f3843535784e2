/**
 * Trouter emulation: what the official browser SDK (`@azure/communication-chat` 1.6.0 with
 * `@azure/communication-signaling` 1.0.0-beta.34) needs to receive chat events from Parley.
 * The protocol is in docs/realtime.md ("Official browser SDK"); in short:
 *
 *   POST /trouter/v4/a, POST /v4/a       allocate: X-Skypetoken → {socketio, surl, connectparams:{sr}}
 *   GET  /socket.io/1/                   handshake: X-Skypetoken + sr → "sid:60:60:websocket,xhr-polling"
 *   WS   /socket.io/1/websocket/{sid}    1::, trouter.connected, acks, heartbeats, 3::: deliveries
 *   GET|POST /socket.io/1/xhr-polling/{sid}   the same over long polling
 *   POST|DELETE /registrar/v3/registrations   endpoint registration (recorded; does not gate events)
 *   GET  /                               "Trouter" (the client's connectivity check)
 *
 * It is an adapter on the same Bus and per-user durable logs as Parley's own event stream
 * (realtime/), with its own connections: nothing here touches that stream's path.
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { WebSocketServer } from "ws";
import type { Store } from "../store/index.js";
import type { Bus, BusNotice } from "../realtime/bus.js";
import type { IdentityService } from "../identity/identityService.js";
import { DomainError } from "../domain/errors.js";
import { allows, type ChatCaller } from "../domain/caller.js";
import { DEFAULT_TROUTER_OPTIONS, type TrouterFaults, type TrouterOptions, type TrouterTransport } from "./options.js";
import { Endpoint, type DeliveryCounters, type EndpointHost } from "./endpoint.js";
import { Session, type SessionHost } from "./session.js";
import type { TrouterPayload } from "./payloads.js";
import { setBounded } from "../boundedMap.js";

export const TROUTER_PATHS = {
  allocate: "/trouter/v4/a",
  reconnectAllocate: "/v4/a",
  handshake: "/socket.io/1/",
  websocketPrefix: "/socket.io/1/websocket/",
  polling: "/socket.io/1/xhr-polling/:sid",
  registrations: "/registrar/v3/registrations",
} as const;

export interface TrouterDeps {
  store: Store;
  bus: Bus;
  identity: IdentityService;
  clock: () => number;
  log: FastifyBaseLogger;
  corsOrigins: "*" | string[];
  options?: Partial<TrouterOptions>;
}

interface Allocation {
  userId: string;
  epid: string;
  surl: string;
  expiresAt: number;
}

/** A problem answered to the SDK: 401 only where a fresh token helps (see authenticate()). */
interface Refusal {
  status: number;
  code: string;
  message: string;
}

const EPID = /^[A-Za-z0-9-]{1,64}$/;
const SID = /^[A-Za-z0-9_-]{16,64}$/;
const MAX_ALLOCATIONS = 50_000;
const MAX_SESSIONS = 50_000;
const MAX_ENDPOINTS = 100_000;
const MARKS_PER_USER = 8;
const MAX_MARKED_USERS = 50_000;
const SWEEP_MS = 5_000;

export class Trouter implements SessionHost, EndpointHost {
  readonly options: TrouterOptions;
  readonly store: Store;
  readonly log: FastifyBaseLogger;
  readonly counters: DeliveryCounters = { delivered: 0, handled: 0, rejected: 0, failed: 0 };
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  private readonly allocations = new Map<string, Allocation>();
  private readonly sessions = new Map<string, Session>();
  private readonly endpoints = new Map<string, Endpoint>();
  private readonly byUser = new Map<string, Set<Endpoint>>();
  /** Log positions at each user's recent config calls: where a new endpoint's delivery starts. */
  private readonly marks = new Map<string, Array<{ seq: number; at: number }>>();
  private readonly unsubscribe: () => void;
  private readonly heartbeatTimer: NodeJS.Timeout;
  private readonly sweepTimer: NodeJS.Timeout;
  private closing: Promise<void> | undefined;

  constructor(private readonly deps: TrouterDeps) {
    this.options = { ...DEFAULT_TROUTER_OPTIONS, ...deps.options, faults: { ...deps.options?.faults } };
    this.store = deps.store;
    this.log = deps.log;
    this.unsubscribe = deps.bus.subscribe((notice) => this.route(notice));
    this.heartbeatTimer = setInterval(() => this.tickSessions(true), this.options.heartbeatIntervalMs);
    this.heartbeatTimer.unref();
    this.sweepTimer = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweepTimer.unref();
  }

  clock(): number {
    return this.deps.clock();
  }

  /** Runtime changes for tests: fault injection and the transports the handshake offers. */
  configure(patch: { faults?: TrouterFaults; transports?: TrouterTransport[] }): void {
    if (patch.faults) this.options.faults = { ...patch.faults };
    if (patch.transports) this.options.transports = [...patch.transports];
  }

  /** Counts for tests and diagnostics. */
  stats(userId?: string): { allocations: number; sessions: number; connected: number; websocket: number; polling: number; endpoints: number; registered: number } {
    const sessions = [...this.sessions.values()].filter((s) => userId === undefined || s.userId === userId);
    const endpoints = userId === undefined ? [...this.endpoints.values()] : [...(this.byUser.get(userId) ?? [])];
    return {
      allocations: [...this.allocations.values()].filter((a) => userId === undefined || a.userId === userId).length,
      sessions: sessions.length,
      connected: sessions.filter((s) => s.connected).length,
      websocket: sessions.filter((s) => s.connected && s.transport === "websocket").length,
      polling: sessions.filter((s) => s.connected && s.transport === "xhr-polling").length,
      endpoints: endpoints.length,
      registered: endpoints.filter((e) => e.registration !== undefined).length,
    };
  }

  /** Closes a user's sockets with `0::` (their clients reconnect at once). Returns how many. */
  disconnectUser(userId: string): number {
    let count = 0;
    for (const session of [...this.sessions.values()]) {
      if (session.userId !== userId || session.state !== "open") continue;
      session.close("disconnected by the server", true);
      count++;
    }
    return count;
  }

  /**
   * Sends a hand-made payload to every connected socket of the user, as a delivery (tests use it for
   * what Parley itself never produces: phone and Teams identifiers, attachments). Returns how many.
   */
  deliverRaw(userId: string, payload: TrouterPayload): number {
    let count = 0;
    for (const endpoint of this.byUser.get(userId) ?? []) if (endpoint.deliverRaw(payload)) count++;
    return count;
  }

  /**
   * Called by GET /chat/config/realTimeNotifications: the SDK's startRealtimeNotifications()
   * resolves right after it, so a ChatClient's first endpoint delivers from this point on.
   */
  async noteConfig(userId: string): Promise<void> {
    const { latest } = await this.store.eventBounds(userId);
    const now = this.clock();
    const list = (this.marks.get(userId) ?? []).filter((m) => now - m.at <= this.options.configMarkMs);
    list.push({ seq: latest, at: now });
    if (list.length > MARKS_PER_USER) list.shift();
    setBounded(this.marks, userId, list, MAX_MARKED_USERS);
  }

  // HTTP ---------------------------------------------------------------------------------------

  routes(fastify: FastifyInstance): void {
    const allocate = (request: FastifyRequest, reply: FastifyReply) => this.allocate(request, reply);
    fastify.post(TROUTER_PATHS.allocate, allocate);
    fastify.post(TROUTER_PATHS.reconnectAllocate, allocate);
    fastify.get(TROUTER_PATHS.handshake, (request, reply) => this.handshake(request, reply));
    fastify.get("/socket.io/1", (request, reply) => this.handshake(request, reply));
    fastify.get(TROUTER_PATHS.polling, (request, reply) => this.pollGet(request, reply));
    fastify.post(TROUTER_PATHS.polling, (request, reply) => this.pollPost(request, reply));
    fastify.get(`${TROUTER_PATHS.websocketPrefix}:sid`, async (_request, reply) => text(reply, 400, "WebSocket upgrade required"));
    fastify.post(TROUTER_PATHS.registrations, (request, reply) => this.register(request, reply));
    fastify.delete(`${TROUTER_PATHS.registrations}/:id`, (request, reply) => this.unregister(request, reply));
    // The client's connectivity check before it drops a cached reconnect URL (exact body required).
    fastify.get("/", async (_request, reply) => text(reply, 200, "Trouter"));
  }

  /** POST …/v4/a: a connect handle for this user's endpoint `epid`. */
  private async allocate(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    if (this.options.faults.refuseAllocations) return refuse(reply, { status: 503, code: "ServiceUnavailable", message: "allocations refused (fault injection)" });
    const caller = await this.authenticate(request);
    if (isRefusal(caller)) return refuse(reply, caller);
    const epid = query(request, "epid");
    if (epid === undefined || !EPID.test(epid)) return refuse(reply, { status: 400, code: "BadRequest", message: "epid is required" });

    const endpoint = await this.endpointFor(caller.userId, epid);
    const origin = originOf(request);
    const connectionId = randomBytes(12).toString("hex");
    const surl = `${origin}/trouter/f/${connectionId}/`;
    const sr = randomBytes(24).toString("base64url");
    setBounded(this.allocations, sr, { userId: caller.userId, epid: endpoint.epid, surl, expiresAt: this.clock() + this.options.allocationTtlMs }, MAX_ALLOCATIONS);

    const path = this.options.faults.socketioPath ?? "";
    return reply
      .code(200)
      .header("content-type", "application/json")
      .header("cache-control", "no-store")
      .send(
        JSON.stringify({
          id: connectionId,
          socketio: `${origin}/${path}`,
          surl,
          url: surl,
          ccid: connectionId.slice(0, 8),
          curlb: "",
          // Never `scae` (it would switch the client to another protocol); `sr` binds the handshake.
          connectparams: { sr },
          ttl: String(ttlSec(caller, this.clock())),
        }),
      );
  }

  /** GET /socket.io/1/: a session id for a live allocation of the same user. */
  private async handshake(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const caller = await this.authenticate(request);
    if (isRefusal(caller)) return refuse(reply, caller);
    const sr = query(request, "sr");
    const allocation = sr === undefined ? undefined : this.allocations.get(sr);
    if (!allocation || allocation.expiresAt < this.clock()) return refuse(reply, { status: 403, code: "Forbidden", message: "unknown or expired connect parameters" });
    const epid = query(request, "epid");
    if (allocation.userId !== caller.userId || (epid !== undefined && epid !== allocation.epid)) {
      return refuse(reply, { status: 403, code: "Forbidden", message: "connect parameters belong to another endpoint" });
    }
    const endpoint = await this.endpointFor(allocation.userId, allocation.epid);
    if (this.sessions.size >= MAX_SESSIONS) return refuse(reply, { status: 503, code: "ServiceUnavailable", message: "too many sessions" });

    const sid = randomBytes(18).toString("base64url");
    const session = new Session(
      { sid, endpoint, token: tokenOf(request)!, tokenExpiresAt: caller.tokenExpiresAt, requestUrl: allocation.surl, ttlSec: ttlSec(caller, this.clock()) },
      this,
    );
    this.sessions.set(sid, session);
    const { heartbeatSec, closeSec, transports } = this.options;
    return text(reply, 200, `${sid}:${heartbeatSec}:${closeSec}:${transports.join(",")}`);
  }

  private async pollGet(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const session = await this.pollingSession(request, reply);
    if (!session) return reply;
    if (query(request, "disconnect") !== undefined) {
      session.close("client disconnected", false);
      return text(reply, 200, "0::");
    }
    if (!this.options.transports.includes("xhr-polling") && session.state === "new") return text(reply, 403, "transport not offered");
    if (session.state === "new") this.attach(session);
    return new Promise<FastifyReply>((resolve) => {
      const respond = (payload: string) => resolve(text(reply, 200, payload));
      reply.raw.once("close", () => {
        if (!reply.raw.writableFinished) session.pollAborted(respond);
      });
      session.poll(respond);
    });
  }

  private async pollPost(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const session = await this.pollingSession(request, reply);
    if (!session) return reply;
    const body = Buffer.isBuffer(request.body) ? request.body.toString("utf8") : "";
    if (session.state !== "open" || session.transport !== "xhr-polling") return text(reply, 400, "not a polling session");
    if (!session.receive(body)) return text(reply, 400, "bad payload");
    return text(reply, 200, "1");
  }

  /** The session of a polling request, its token re-checked (each poll carries X-Skypetoken). */
  private async pollingSession(request: FastifyRequest, reply: FastifyReply): Promise<Session | undefined> {
    const sid = (request.params as { sid?: string }).sid ?? "";
    const session = this.sessions.get(sid);
    if (!session || session.state === "closed" || (session.state === "open" && session.transport !== "xhr-polling")) {
      text(reply, 404, "unknown session");
      return undefined;
    }
    const caller = await this.authenticate(request);
    if (isRefusal(caller) || caller.userId !== session.userId) {
      session.close("token refused on a poll", false);
      refuse(reply, isRefusal(caller) ? caller : { status: 403, code: "Forbidden", message: "session belongs to another user" });
      return undefined;
    }
    session.updateToken(tokenOf(request)!, caller.tokenExpiresAt);
    return session;
  }

  /** POST /registrar/v3/registrations: recorded on the endpoint; events never wait for it. */
  private async register(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const caller = await this.authenticate(request);
    if (isRefusal(caller)) return refuse(reply, caller);
    let body: { registrationId?: unknown; transports?: { TROUTER?: Array<{ path?: unknown; ttl?: unknown }> } };
    try {
      body = JSON.parse(Buffer.isBuffer(request.body) ? request.body.toString("utf8") : "") as typeof body;
    } catch {
      return refuse(reply, { status: 400, code: "BadRequest", message: "the body must be JSON" });
    }
    const id = body?.registrationId;
    if (typeof id !== "string" || !EPID.test(id)) return refuse(reply, { status: 400, code: "BadRequest", message: "registrationId is required" });
    const transport = body.transports?.TROUTER?.[0];
    const endpoint = await this.endpointFor(caller.userId, id);
    endpoint.registration = {
      path: typeof transport?.path === "string" ? transport.path : "",
      ttlSec: typeof transport?.ttl === "number" ? transport.ttl : 0,
      at: this.clock(),
    };
    return reply.code(202).send();
  }

  /** DELETE /registrar/v3/registrations/{id}: the ChatClient stopped; forget its endpoint. */
  private async unregister(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const caller = await this.authenticate(request);
    if (isRefusal(caller)) return refuse(reply, caller);
    const id = (request.params as { id?: string }).id ?? "";
    const endpoint = this.endpoints.get(endpointKey(caller.userId, id));
    if (endpoint) {
      endpoint.registration = undefined;
      // The ChatClient stopped: forget it now, or as soon as its socket (closing right now) is gone.
      if (endpoint.session) endpoint.stopped = true;
      else this.forget(endpoint);
    }
    return reply.code(204).send();
  }

  /**
   * X-Skypetoken → caller. The SDK treats 401 as "get a fresh token" and gives up after four
   * in a row, so 401 is kept for tokens that are really dead (expired, revoked, user deleted);
   * anything else is 403, which it retries with back-off.
   */
  private async authenticate(request: FastifyRequest): Promise<ChatCaller | Refusal> {
    const token = tokenOf(request);
    if (!token) return { status: 403, code: "Forbidden", message: "X-Skypetoken is required" };
    const caller = await this.deps.identity.authenticate(token);
    if (caller instanceof DomainError) {
      const dead = caller.code === "TokenExpired" || caller.code === "TokenRevoked";
      return { status: dead ? 401 : 403, code: caller.code, message: caller.message };
    }
    if (!allows(caller, "use")) return { status: 403, code: "Forbidden", message: "the token has no chat scope" };
    return caller;
  }

  // WebSocket ----------------------------------------------------------------------------------

  /** For the app's upgrade router: `/socket.io/1/websocket/{sid}`. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? "/", "http://parley.invalid");
    const sid = url.pathname.slice(TROUTER_PATHS.websocketPrefix.length);
    const session = SID.test(sid) ? this.sessions.get(sid) : undefined;
    const origin = req.headers.origin;
    let refusal: string | undefined;
    if (!url.pathname.startsWith(TROUTER_PATHS.websocketPrefix) || !session) refusal = "404 Not Found";
    else if (session.state !== "new" || !this.options.transports.includes("websocket")) refusal = "403 Forbidden";
    else if (origin && this.deps.corsOrigins !== "*" && !this.deps.corsOrigins.includes(origin)) refusal = "403 Forbidden";
    if (refusal || !session || this.closing) {
      socket.end(`HTTP/1.1 ${refusal ?? "503 Service Unavailable"}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      return;
    }
    session.state = "open"; // claimed: a second upgrade or a poll for this sid is refused
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.attach(session);
      session.attachWebSocket(ws);
    });
  }

  // Sessions and endpoints (SessionHost) --------------------------------------------------------

  onConnected(session: Session): void {
    session.endpoint.connected(session);
  }

  onResponse(session: Session, id: number, status: number): void {
    session.endpoint.onResponse(session, id, status);
  }

  onClosed(session: Session, reason: string): void {
    this.sessions.delete(session.sid);
    session.endpoint.detached(session);
    if (session.endpoint.stopped && !session.endpoint.session) this.forget(session.endpoint);
    this.log.debug({ transport: session.transport, reason }, "trouter: session closed");
  }

  private attach(session: Session): void {
    const endpoint = session.endpoint;
    // An endpoint forgotten meanwhile (unregistered, evicted) comes back for its live socket.
    if (this.endpoints.get(endpointKey(endpoint.userId, endpoint.epid)) !== endpoint) this.remember(endpoint);
    endpoint.attach(session);
  }

  private async endpointFor(userId: string, epid: string): Promise<Endpoint> {
    const key = endpointKey(userId, epid);
    const known = this.endpoints.get(key);
    if (known) {
      known.lastActive = this.clock();
      known.stopped = false;
      return known;
    }
    const cursor = await this.startCursor(userId);
    const raced = this.endpoints.get(key);
    if (raced) return raced;
    const endpoint = new Endpoint(userId, epid, cursor, this);
    this.remember(endpoint);
    return endpoint;
  }

  /** A new endpoint starts at its ChatClient's config call if that was recent, else at "now". */
  private async startCursor(userId: string): Promise<number> {
    const now = this.clock();
    const list = this.marks.get(userId);
    while (list && list.length > 0) {
      const mark = list.shift()!;
      if (now - mark.at <= this.options.configMarkMs) return mark.seq;
    }
    return (await this.store.eventBounds(userId)).latest;
  }

  private remember(endpoint: Endpoint): void {
    this.endpoints.set(endpointKey(endpoint.userId, endpoint.epid), endpoint);
    let set = this.byUser.get(endpoint.userId);
    if (!set) this.byUser.set(endpoint.userId, (set = new Set()));
    set.add(endpoint);
    if (set.size > this.options.endpointsPerUser) {
      const idle = [...set].filter((e) => !e.session).sort((a, b) => a.lastActive - b.lastActive)[0];
      if (idle) this.forget(idle);
    }
    if (this.endpoints.size > MAX_ENDPOINTS) {
      for (const candidate of this.endpoints.values()) {
        if (!candidate.session) {
          this.forget(candidate);
          break;
        }
      }
    }
  }

  private forget(endpoint: Endpoint): void {
    const key = endpointKey(endpoint.userId, endpoint.epid);
    if (this.endpoints.get(key) === endpoint) this.endpoints.delete(key);
    const set = this.byUser.get(endpoint.userId);
    set?.delete(endpoint);
    if (set?.size === 0) this.byUser.delete(endpoint.userId);
  }

  // Bus ---------------------------------------------------------------------------------------

  private route(notice: BusNotice): void {
    switch (notice.type) {
      case "logsGrew":
        for (const userId of notice.userIds) this.byUser.get(userId)?.forEach((e) => e.notify());
        return;
      case "ephemeral":
        for (const userId of notice.userIds) this.byUser.get(userId)?.forEach((e) => e.signal(notice.signal));
        return;
      case "tokensChanged":
        void this.recheck(notice.userId);
        return;
    }
  }

  /** After a revocation or deletion: close the user's sockets whose token no longer holds. */
  private async recheck(userId: string): Promise<void> {
    for (const session of [...this.sessions.values()]) {
      if (session.userId !== userId) continue;
      const caller = await this.deps.identity.authenticate(session.token);
      if (caller instanceof DomainError) session.close(caller.message, true);
    }
  }

  // Timers ------------------------------------------------------------------------------------

  private tickSessions(heartbeat: boolean): void {
    const now = this.clock();
    for (const session of [...this.sessions.values()]) session.tick(now, heartbeat);
  }

  private sweep(): void {
    const now = this.clock();
    this.tickSessions(false);
    for (const session of [...this.sessions.values()]) {
      const oldest = session.connected ? session.endpoint.oldestUnanswered() : undefined;
      if (oldest !== undefined && now - oldest > this.options.responseTimeoutMs) session.close("deliveries unanswered", true);
    }
    for (const [sr, allocation] of this.allocations) if (allocation.expiresAt < now) this.allocations.delete(sr);
    for (const endpoint of [...this.endpoints.values()]) {
      if (!endpoint.session && now - endpoint.lastActive > this.options.endpointIdleMs) this.forget(endpoint);
    }
    for (const [userId, list] of this.marks) {
      const fresh = list.filter((m) => now - m.at <= this.options.configMarkMs);
      if (fresh.length === 0) this.marks.delete(userId);
      else this.marks.set(userId, fresh);
    }
  }

  /** Tells every client to go (`0::`), answers held polls, stops the timers. Safe to call twice. */
  close(): Promise<void> {
    return (this.closing ??= (async () => {
      clearInterval(this.heartbeatTimer);
      clearInterval(this.sweepTimer);
      this.unsubscribe();
      for (const session of [...this.sessions.values()]) session.close("server shutting down", true);
      await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    })());
  }
}

function endpointKey(userId: string, epid: string): string {
  return `${userId}\n${epid}`;
}

function tokenOf(request: FastifyRequest): string | undefined {
  const value = request.headers["x-skypetoken"];
  const token = (Array.isArray(value) ? value[0] : value)?.trim();
  return token ? token : undefined;
}

function query(request: FastifyRequest, name: string): string | undefined {
  const value = (request.query as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(value) ? value[0] : value;
}

function originOf(request: FastifyRequest): string {
  return `${request.protocol}://${request.headers.host ?? "localhost"}`;
}

/** Connection lifetime announced to the client: until the token expires (the socket closes then). */
function ttlSec(caller: ChatCaller, now: number): number {
  if (caller.tokenExpiresAt === undefined) return 3600;
  return Math.max(1, Math.min(86_400, Math.floor((caller.tokenExpiresAt - now) / 1000)));
}

function isRefusal(value: ChatCaller | Refusal): value is Refusal {
  return "status" in value;
}

function refuse(reply: FastifyReply, refusal: Refusal): FastifyReply {
  return reply
    .code(refusal.status)
    .header("content-type", "application/json")
    .send(JSON.stringify({ error: { code: refusal.code, message: refusal.message } }));
}

function text(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.code(status).header("content-type", "text/plain; charset=utf-8").header("cache-control", "no-store").send(body);
}
