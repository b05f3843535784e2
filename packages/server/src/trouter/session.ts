/**
 * One socket.io session (a session id from the handshake) over WebSocket or xhr-polling. It knows
 * the packet protocol, acks, heartbeats and its token's expiry; what to deliver is the Endpoint's
 * business. A session is used by at most one transport and dies with it: the client reconnects
 * with a new allocation and handshake.
 */
import { randomBytes } from "node:crypto";
import type { WebSocket } from "ws";
import type { FastifyBaseLogger } from "fastify";
import type { TrouterOptions, TrouterTransport } from "./options.js";
import type { Endpoint } from "./endpoint.js";
import { PACKET, ackPacket, decodePacket, decodePayload, encodePayload, eventPacket, messagePacket } from "./socketio.js";
import type { TrouterPayload } from "./payloads.js";

export interface SessionHost {
  readonly options: TrouterOptions;
  readonly log: FastifyBaseLogger;
  clock(): number;
  /** `trouter.connected` has reached the client (deliveries may start). */
  onConnected(session: Session): void;
  /** The client answered a delivery. */
  onResponse(session: Session, id: number, status: number): void;
  onClosed(session: Session, reason: string): void;
}

export interface SessionInit {
  sid: string;
  endpoint: Endpoint;
  token: string;
  tokenExpiresAt: number | undefined;
  /** The `surl` of the allocation, used as the request frames' url. */
  requestUrl: string;
  /** The connection ttl in seconds, announced in `trouter.connected`. */
  ttlSec: number;
}

/** Bytes an xhr-polling outbox may hold before live signals are dropped (durable ones wait in the log). */
const OUTBOX_LIMIT = 1024 * 1024;

export class Session {
  readonly sid: string;
  readonly endpoint: Endpoint;
  readonly createdAt: number;
  state: "new" | "open" | "closed" = "new";
  transport: TrouterTransport | undefined;
  /** true once `trouter.connected` reached the client. */
  connected = false;
  token: string;
  tokenExpiresAt: number | undefined;
  private readonly requestUrl: string;
  private readonly ttlSec: number;
  private readonly cv = randomBytes(12).toString("base64url");
  private lastHeard: number;
  private nextId = 1;
  private expiryTimer: NodeJS.Timeout | undefined;
  private ws: WebSocket | undefined;
  // xhr-polling
  private outbox: string[] = [];
  private outboxBytes = 0;
  private held: { respond: (payload: string) => void; timer: NodeJS.Timeout } | undefined;
  private announcing = false;

  constructor(
    init: SessionInit,
    private readonly host: SessionHost,
  ) {
    this.sid = init.sid;
    this.endpoint = init.endpoint;
    this.token = init.token;
    this.tokenExpiresAt = init.tokenExpiresAt;
    this.requestUrl = init.requestUrl;
    this.ttlSec = init.ttlSec;
    this.createdAt = host.clock();
    this.lastHeard = this.createdAt;
    this.armExpiry();
  }

  get userId(): string {
    return this.endpoint.userId;
  }

  attachWebSocket(ws: WebSocket): void {
    this.state = "open";
    this.transport = "websocket";
    this.ws = ws;
    ws.on("message", (data, isBinary) => {
      if (isBinary) return this.close("binary frame", false);
      const text = data.toString();
      for (const packet of decodePayload(text) ?? []) this.onPacket(packet);
    });
    ws.on("close", () => this.close("socket closed", false));
    ws.on("error", () => this.close("socket error", false));
    this.push(`${PACKET.connect}::`);
    this.announce();
  }

  /** An xhr-polling GET: answers at once when something is queued, else holds it up to pollHoldMs. */
  poll(respond: (payload: string) => void): void {
    this.lastHeard = this.host.clock();
    if (this.state === "new") {
      this.state = "open";
      this.transport = "xhr-polling";
      this.push(`${PACKET.connect}::`);
      this.announce();
    }
    if (this.held) this.answerHeld(`${PACKET.noop}::`);
    if (this.outbox.length > 0 || this.state === "closed") {
      respond(this.drainOutbox());
      this.afterFlush();
      return;
    }
    const timer = setTimeout(() => this.answerHeld(`${PACKET.noop}::`), this.host.options.pollHoldMs);
    this.held = { respond, timer };
  }

  /** The held GET went away (the client aborted it). */
  pollAborted(respond: (payload: string) => void): void {
    if (this.held?.respond !== respond) return;
    clearTimeout(this.held.timer);
    this.held = undefined;
  }

  /** An xhr-polling POST: client packets. False when the framing is broken. */
  receive(payload: string): boolean {
    const packets = decodePayload(payload);
    if (!packets) return false;
    for (const packet of packets) this.onPacket(packet);
    return true;
  }

  /** Sends one Trouter request frame; returns its id (the client's response carries it). */
  deliver(payload: TrouterPayload): number {
    const id = this.nextId++;
    this.push(
      messagePacket({
        id,
        method: "POST",
        url: `${this.requestUrl}messaging`,
        headers: { "MS-CV": `${this.cv}.${id}`, "trouter-request": JSON.stringify({ id: `${this.sid}.${id}` }) },
        body: JSON.stringify(payload),
      }),
    );
    return id;
  }

  /** Room for live-only signals (durable events are flow-controlled by the endpoint's window). */
  hasRoomForSignals(): boolean {
    if (this.ws) return this.ws.bufferedAmount < OUTBOX_LIMIT;
    return this.outboxBytes < OUTBOX_LIMIT;
  }

  /** Periodic: heartbeats (`2::`) on WebSocket, and dropping transports that went silent. */
  tick(now: number, heartbeat: boolean): void {
    if (this.state === "closed") return;
    const { heartbeatSec, closeSec, handshakeTtlMs } = this.host.options;
    if (this.state === "new") {
      if (now - this.createdAt > handshakeTtlMs) this.close("no transport in time", false);
      return;
    }
    if (this.transport === "websocket") {
      if (now - this.lastHeard > heartbeatSec * 1000 + 10_000) return this.close("client silent", false);
      if (heartbeat) this.push(`${PACKET.heartbeat}::`);
    } else if (!this.held && now - this.lastHeard > closeSec * 1000 + 10_000) {
      this.close("no poll in time", false);
    }
  }

  /** Re-checks the token's expiry after a refresh (xhr-polling requests carry the current token). */
  updateToken(token: string, expiresAt: number | undefined): void {
    if (token === this.token) return;
    this.token = token;
    this.tokenExpiresAt = expiresAt;
    this.armExpiry();
  }

  /**
   * Ends the session. With `notify`, the client first gets `0::` (it reconnects at once, with a
   * fresh allocation that re-checks its token).
   */
  close(reason: string, notify: boolean): void {
    if (this.state === "closed") return;
    const wasOpen = this.state === "open";
    this.state = "closed";
    this.connected = false;
    clearTimeout(this.expiryTimer);
    if (this.ws) {
      const ws = this.ws;
      if (notify && ws.readyState === ws.OPEN) ws.send(`${PACKET.disconnect}::`, () => ws.close(1000));
      else ws.terminate();
      setTimeout(() => ws.terminate(), 1000).unref();
    } else if (wasOpen) {
      this.outbox = notify ? [`${PACKET.disconnect}::`] : [];
      if (this.held) this.answerHeld(notify ? this.drainOutbox() : `${PACKET.noop}::`);
    }
    this.host.onClosed(this, reason);
  }

  private announce(): void {
    if (this.host.options.faults.withholdConnected) return;
    this.push(eventPacket("trouter.connected", [{ ttl: this.ttlSec }]));
    if (this.ws) {
      this.connected = true;
      this.host.onConnected(this);
    } else {
      // Over xhr-polling the client learns it with the next GET's answer.
      this.announcing = true;
    }
  }

  private afterFlush(): void {
    if (!this.announcing || this.state !== "open") return;
    this.announcing = false;
    this.connected = true;
    this.host.onConnected(this);
  }

  private onPacket(text: string): void {
    this.lastHeard = this.host.clock();
    const packet = decodePacket(text);
    if (!packet) return;
    switch (packet.type) {
      case PACKET.disconnect:
        return this.close("client disconnected", false);
      case PACKET.message:
        return this.onMessage(packet.data);
      case PACKET.event:
        return this.onEvent(packet.id, packet.ackData, packet.data);
      default:
        // 2 (heartbeat reply), 6 (acks of ours), 8 (noop) need no answer.
        return;
    }
  }

  /** `3:::{"id":N,"status":S,…}`: the response to a delivery. */
  private onMessage(data: string): void {
    let response: { id?: unknown; status?: unknown };
    try {
      response = JSON.parse(data) as typeof response;
    } catch {
      return;
    }
    const id = Number(response?.id);
    const status = Number(response?.status);
    if (Number.isSafeInteger(id)) this.host.onResponse(this, id, status);
  }

  /** `5:N+::{"name":…}`: user.activity and ping want an ack within 10 s and 5 s. */
  private onEvent(id: string | undefined, withData: boolean, data: string): void {
    let name: unknown;
    try {
      name = (JSON.parse(data) as { name?: unknown })?.name;
    } catch {
      return;
    }
    const { faults } = this.host.options;
    if (name === "user.activity" && faults.ignoreUserActivity) return;
    if (name === "ping" && faults.ignorePing) return;
    if (id !== undefined) this.push(ackPacket(id, withData));
  }

  private push(packet: string): void {
    if (this.state === "closed") return;
    if (this.ws) {
      if (this.ws.readyState === this.ws.OPEN) this.ws.send(packet);
      return;
    }
    this.outbox.push(packet);
    this.outboxBytes += packet.length;
    if (this.held) {
      // Let packets queued in the same turn share one answer.
      const held = this.held;
      queueMicrotask(() => {
        if (this.held === held && this.outbox.length > 0) {
          this.answerHeld(this.drainOutbox());
          this.afterFlush();
        }
      });
    }
  }

  private drainOutbox(): string {
    const payload = this.outbox.length > 0 ? encodePayload(this.outbox) : `${PACKET.noop}::`;
    this.outbox = [];
    this.outboxBytes = 0;
    return payload;
  }

  private answerHeld(payload: string): void {
    const held = this.held;
    if (!held) return;
    this.held = undefined;
    clearTimeout(held.timer);
    this.lastHeard = this.host.clock();
    held.respond(payload);
  }

  private armExpiry(): void {
    clearTimeout(this.expiryTimer);
    if (this.tokenExpiresAt === undefined) return;
    const delay = Math.max(0, this.tokenExpiresAt - this.host.clock());
    this.expiryTimer = setTimeout(() => this.close("token expired", true), delay);
    this.expiryTimer.unref();
  }
}
