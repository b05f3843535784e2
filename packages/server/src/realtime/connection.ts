/**
 * One event-stream connection: authenticates, then delivers the user's durable log from its cursor
 * (replay and live alike, by reading the log — so ordering and exactly-once come from the store,
 * not from timing) and live-only signals. Memory per connection stays bounded: the log is read only
 * while the socket's send buffer is below a soft limit; a client that stays stalled, or whose buffer
 * passes a hard limit, is closed with 4008 and resumes from its cursor.
 */
import type { WebSocket } from "ws";
import { CLOSE_CODES, type ClientFrame, type ServerFrame } from "@parley/protocol";
import { DomainError } from "../domain/errors.js";
import type { IdentityService } from "../identity/identityService.js";
import type { Store } from "../store/index.js";
import type { EphemeralSignal } from "./bus.js";
import { recipientJson, RenderedEvent, renderSignal } from "./render.js";

export interface ConnectionOptions {
  heartbeatMs: number;
  authTimeoutMs: number;
  softBufferBytes: number;
  hardBufferBytes: number;
  /** How long the log may wait on a full send buffer before the client is dropped. */
  stallMs: number;
  retentionHours: number;
  readBatch: number;
}

export interface ConnectionDeps {
  store: Store;
  identity: IdentityService;
  clock: () => number;
  options: ConnectionOptions;
  /** Called once the connection knows its user, and when it closes. */
  onAuthenticated(connection: StreamConnection): void;
  onClosed(connection: StreamConnection): void;
}

export class StreamConnection {
  userId: string | undefined;
  /** The seq of the last event delivered. */
  cursor = 0;
  /**
   * Every change up to this seq has been considered for this user: read from the store, or seen
   * in commit order by the gateway (which passes on those for this user). At least `cursor`.
   */
  private considered = 0;
  alive = true;
  private token = "";
  /** Set once `ready` is sent: from then on the cursor is the client's position in the log. */
  private ready = false;
  /** This user as event frames name the recipient (JSON, computed once). */
  private recipient = "";
  private closed = false;
  private pumping = false;
  private dirty = false;
  private expiryTimer: NodeJS.Timeout | undefined;
  private authTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ws: WebSocket,
    private readonly deps: ConnectionDeps,
  ) {
    ws.on("message", (data, isBinary) => this.onMessage(isBinary ? "" : data.toString()));
    ws.on("pong", () => (this.alive = true));
    ws.on("close", () => this.teardown());
    ws.on("error", () => this.teardown());
  }

  /** Starts with a token from the upgrade request, or waits for an `auth` frame. */
  start(token: string | undefined, cursor: number | undefined): void {
    if (token) {
      void this.authenticate(token, cursor);
      return;
    }
    this.authTimer = setTimeout(() => this.close(CLOSE_CODES.unauthorized, "no auth frame in time"), this.deps.options.authTimeoutMs);
  }

  /** Called when the user's log grew. Before `ready`, the first pump will read it anyway. */
  notify(): void {
    if (this.ready) void this.pump();
  }

  /**
   * A just-committed event for this user, with its seq. It can go out as is when nothing before it
   * can be missing: this connection has considered every change up to a point from which the
   * gateway has seen them all (`gapFreeAfter`), so any earlier event for this user was delivered
   * already. Anything else (a possible gap, a pump under way that may be reading it, a full send
   * buffer) falls back to reading the stream, which stays the single source of order.
   */
  deliver(seq: number, event: RenderedEvent, gapFreeAfter: number): void {
    if (!this.ready || this.closed || seq <= this.cursor) return;
    if (this.pumping || this.considered < gapFreeAfter || this.ws.bufferedAmount > this.deps.options.softBufferBytes) return this.notify();
    this.ws.send(event.frame(seq, this.recipient));
    this.cursor = this.considered = seq;
  }

  signal(signal: EphemeralSignal): void {
    if (this.userId === undefined || this.closed) return;
    if (this.ws.bufferedAmount > this.deps.options.hardBufferBytes) {
      this.close(CLOSE_CODES.slowConsumer, "send buffer full; reconnect with your cursor");
      return;
    }
    const { name, data } = renderSignal(signal, this.userId);
    this.send({ type: "event", seq: null, event: name, data });
  }

  /** Re-checks the token after a revocation or deletion. */
  async recheck(): Promise<void> {
    if (this.userId === undefined || this.closed) return;
    const caller = await this.deps.identity.authenticate(this.token);
    if (caller instanceof DomainError) this.close(closeCodeFor(caller), caller.message);
  }

  heartbeat(): void {
    if (this.closed) return;
    if (!this.alive) {
      this.closed = true;
      this.ws.terminate();
      this.teardown();
      return;
    }
    this.alive = false;
    this.ws.ping();
    if (this.userId !== undefined) this.send({ type: "ping" });
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.ws.close(code, reason.slice(0, 120));
    this.teardown();
  }

  private onMessage(text: string): void {
    let frame: ClientFrame;
    try {
      frame = JSON.parse(text) as ClientFrame;
    } catch {
      return this.close(CLOSE_CODES.protocolError, "frames must be JSON");
    }
    this.alive = true;
    if (frame?.type === "pong") return;
    if (frame?.type === "auth" && typeof frame.token === "string") {
      const cursor = typeof frame.cursor === "number" && Number.isSafeInteger(frame.cursor) && frame.cursor >= 0 ? frame.cursor : undefined;
      void this.authenticate(frame.token, cursor);
      return;
    }
    this.close(CLOSE_CODES.protocolError, "unknown frame");
  }

  private async authenticate(token: string, cursor: number | undefined): Promise<void> {
    const caller = await this.deps.identity.authenticate(token);
    if (this.closed) return;
    if (caller instanceof DomainError) return this.close(closeCodeFor(caller), caller.message);
    if (this.userId !== undefined && caller.userId !== this.userId) return this.close(CLOSE_CODES.unauthorized, "a connection belongs to one user");
    this.token = token;
    this.armExpiry(caller.tokenExpiresAt);
    if (this.userId !== undefined) return; // a refreshed token on a live connection
    clearTimeout(this.authTimer);

    this.userId = caller.userId;
    this.recipient = recipientJson(caller.userId);
    this.deps.onAuthenticated(this); // from here on, notices reach us; the log read below misses nothing
    const { latest, pruned } = await this.deps.store.eventBounds(caller.userId);
    if (cursor === undefined) {
      this.cursor = latest;
    } else if (cursor < pruned) {
      this.cursor = latest;
      this.send({ type: "resync", reason: "cursorExpired", cursor: latest });
    } else if (cursor > latest) {
      this.cursor = latest;
      this.send({ type: "resync", reason: "cursorAhead", cursor: latest });
    } else {
      this.cursor = cursor;
    }
    this.considered = this.cursor;
    this.send({ type: "ready", userId: caller.userId, cursor: this.cursor, heartbeatMs: this.deps.options.heartbeatMs, retentionHours: this.deps.options.retentionHours });
    this.ready = true;
    await this.pump();
  }

  /** Delivers everything in the log after the cursor; coalesces notices that arrive meanwhile. */
  private async pump(): Promise<void> {
    if (this.pumping) {
      this.dirty = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.dirty = false;
        for (;;) {
          if (this.closed || !(await this.roomToSend())) return;
          const latest = await this.deps.store.changesHead();
          // From what was considered, not from the last event delivered: a user whose last event is
          // far back would otherwise have the store search all the feed since, on every read.
          const batch = await this.deps.store.readEvents(this.userId!, this.considered, this.deps.options.readBatch);
          if (this.closed) break;
          for (const record of batch) {
            this.ws.send(new RenderedEvent(record).frame(record.seq, this.recipient));
            this.cursor = record.seq;
          }
          // A short batch is the whole stream up to at least `latest` (read before it).
          this.considered = batch.length < this.deps.options.readBatch ? Math.max(latest, this.cursor) : this.cursor;
          if (batch.length < this.deps.options.readBatch) break;
        }
      } while (this.dirty);
    } finally {
      this.pumping = false;
    }
  }

  /** Waits while the send buffer is above the soft limit; false if the client stalled too long. */
  private async roomToSend(): Promise<boolean> {
    const { softBufferBytes, stallMs } = this.deps.options;
    const since = this.deps.clock();
    while (this.ws.bufferedAmount > softBufferBytes) {
      if (this.closed) return false;
      if (this.deps.clock() - since > stallMs) {
        this.close(CLOSE_CODES.slowConsumer, "client too slow; reconnect with your cursor");
        return false;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return !this.closed;
  }

  private armExpiry(expiresAt: number | undefined): void {
    clearTimeout(this.expiryTimer);
    if (expiresAt === undefined) return;
    const delay = Math.max(0, expiresAt - this.deps.clock());
    this.expiryTimer = setTimeout(() => this.close(CLOSE_CODES.tokenExpired, "token expired; refresh it and reconnect with your cursor"), delay);
  }

  private send(frame: ServerFrame): void {
    if (!this.closed) this.ws.send(JSON.stringify(frame));
  }

  private teardown(): void {
    this.closed = true;
    clearTimeout(this.expiryTimer);
    clearTimeout(this.authTimer);
    this.deps.onClosed(this);
  }
}

function closeCodeFor(error: DomainError): number {
  if (error.code === "TokenExpired") return CLOSE_CODES.tokenExpired;
  if (error.code === "TokenRevoked") return CLOSE_CODES.tokenRevoked;
  return CLOSE_CODES.unauthorized;
}
