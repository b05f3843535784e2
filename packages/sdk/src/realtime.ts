/**
 * The client side of Parley's event stream (docs/realtime.md): one WebSocket to `/chat/events`,
 * authenticated with an `auth` frame (tokens never go in URLs, and browsers cannot set headers),
 * resumed from the last durable `seq` after every disconnect so no event is lost or repeated.
 *
 *   close 1001 / 1006 / 4008 / 4009 / network loss → reconnect with back-off + jitter, from the cursor
 *   close 4002 (token expired)                     → credential.getToken() (refreshes), reconnect at once
 *   close 4001 / 4003 / 4000                       → stop, emit disconnected (a new token is needed)
 *   token refreshed while connected                → `auth` frame with the new token on the same socket
 *   `ping` → `pong`; silence for 2 heartbeats      → presumed dead, reconnect
 */
import type { ServerFrame } from "@parley/protocol";
import { unrefTimer, type AccessToken, type CommunicationTokenCredential } from "./credential.js";
import type { RealtimeDisconnectedEvent, RealtimeResyncEvent } from "./events.js";
import type { RealtimeOptions, WebSocketConstructorLike, WebSocketLike } from "./models.js";

/** Close codes of the event stream (same values as `CLOSE_CODES` in @parley/protocol). */
export const CLOSE_CODES = {
  normal: 1000,
  goingAway: 1001,
  abnormal: 1006,
  protocolError: 4000,
  unauthorized: 4001,
  tokenExpired: 4002,
  tokenRevoked: 4003,
  slowConsumer: 4008,
  heartbeatTimeout: 4009,
} as const;

export const EVENT_STREAM_PATH = "chat/events";

const FATAL = new Set<number>([CLOSE_CODES.protocolError, CLOSE_CODES.unauthorized, CLOSE_CODES.tokenRevoked]);
const CONNECT_TIMEOUT_MS = 20_000;
const DEFAULT_HEARTBEAT_MS = 25_000;
const OPEN = 1;

export interface RealtimeHandlers {
  event(name: string, data: unknown): void;
  connected(): void;
  disconnected(info: RealtimeDisconnectedEvent): void;
  resync(info: RealtimeResyncEvent): void;
}

type State = "idle" | "connecting" | "open" | "waiting" | "stopped";

export class RealtimeConnection {
  /** The seq of the last durable event delivered (persist it to resume later). */
  cursor: number | undefined;
  private state: State = "idle";
  private ws: WebSocketLike | undefined;
  private token: AccessToken | undefined;
  private attempts = 0;
  private heartbeatMs = DEFAULT_HEARTBEAT_MS;
  private timers: { reconnect?: unknown; watchdog?: unknown; connect?: unknown; tokenCheck?: unknown } = {};
  private starting: { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } | undefined;
  private unsubscribeRefresh: (() => void) | undefined;
  private generation = 0;

  constructor(
    private readonly url: string,
    private readonly credential: CommunicationTokenCredential,
    private readonly loadWebSocket: () => Promise<WebSocketConstructorLike>,
    private readonly options: RealtimeOptions,
    private readonly on: RealtimeHandlers,
  ) {
    this.cursor = options.cursor;
  }

  get connected(): boolean {
    return this.state === "open";
  }

  get started(): boolean {
    return this.state !== "idle" && this.state !== "stopped";
  }

  /** Connects; resolves once the stream is ready, rejects if it is refused for good (4001/4003). */
  start(cursor?: number): Promise<void> {
    if (this.starting) return this.starting.promise;
    if (this.started) return Promise.resolve();
    if (cursor !== undefined) this.cursor = cursor;
    let resolve!: () => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.starting = { promise, resolve, reject };
    this.state = "connecting";
    this.attempts = 0;
    const refreshable = this.credential as { onTokenRefreshed?: (l: (t: AccessToken) => void) => () => void };
    if (typeof refreshable.onTokenRefreshed === "function") {
      this.unsubscribeRefresh = refreshable.onTokenRefreshed.call(this.credential, (t) => this.reauthenticate(t));
    }
    void this.connect();
    return promise;
  }

  /** Closes the stream for good (until the next start). */
  stop(): void {
    if (!this.started) return;
    const wasOpen = this.state === "open";
    this.state = "stopped";
    this.teardownSocket(CLOSE_CODES.normal, "client stopped");
    this.clearTimers();
    this.unsubscribeRefresh?.();
    this.unsubscribeRefresh = undefined;
    this.settleStart(); // a start() still waiting just ends: the caller asked to stop
    if (wasOpen) this.on.disconnected({ code: CLOSE_CODES.normal, reason: "stopped", willReconnect: false });
  }

  private async connect(): Promise<void> {
    const generation = ++this.generation;
    this.state = "connecting";
    const stale = () => generation !== this.generation || (this.state as State) === "stopped";
    let WebSocketImpl: WebSocketConstructorLike;
    try {
      WebSocketImpl = await this.loadWebSocket();
    } catch (error) {
      if (!stale()) this.fail(CLOSE_CODES.protocolError, (error as Error).message);
      return;
    }
    let token: AccessToken;
    try {
      token = await this.credential.getToken();
    } catch (error) {
      if (stale()) return;
      // A disposed credential never recovers; a failing tokenRefresher (network) may.
      if (/disposed/i.test(String((error as Error)?.message))) return this.fail(CLOSE_CODES.unauthorized, (error as Error).message);
      return this.scheduleReconnect();
    }
    if (stale()) return;
    if (token.expiresOnTimestamp <= Date.now()) {
      return this.fail(CLOSE_CODES.tokenExpired, "the token expired and the credential has no fresh one (give it a tokenRefresher)");
    }
    this.token = token;

    let ws: WebSocketLike;
    try {
      ws = new WebSocketImpl(this.url);
    } catch (error) {
      return this.fail(CLOSE_CODES.protocolError, `cannot open ${this.url}: ${(error as Error).message}`);
    }
    this.ws = ws;
    this.timers.connect = this.timer(() => this.dropped(ws, CLOSE_CODES.abnormal, "no ready frame in time"), CONNECT_TIMEOUT_MS);
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: "auth", token: token.token, ...(this.cursor !== undefined && { cursor: this.cursor }) }));
    };
    ws.onmessage = (event) => this.onFrame(ws, event.data);
    ws.onerror = () => {
      // a close event follows
    };
    ws.onclose = (event) => this.dropped(ws, event.code || CLOSE_CODES.abnormal, event.reason ?? "");
  }

  private onFrame(ws: WebSocketLike, data: unknown): void {
    if (ws !== this.ws) return;
    let frame: ServerFrame;
    try {
      frame = JSON.parse(typeof data === "string" ? data : String(data)) as ServerFrame;
    } catch {
      return;
    }
    this.armWatchdog(ws);
    switch (frame.type) {
      case "ready": {
        clearTimeout(this.timers.connect as number);
        this.state = "open";
        this.attempts = 0;
        this.cursor = frame.cursor;
        if (frame.heartbeatMs > 0) this.heartbeatMs = frame.heartbeatMs;
        this.armWatchdog(ws);
        this.scheduleTokenCheck();
        this.settleStart();
        this.on.connected();
        return;
      }
      case "event": {
        if (frame.seq !== null) {
          if (this.cursor !== undefined && frame.seq <= this.cursor) return; // already delivered
          this.cursor = frame.seq;
        }
        this.on.event(frame.event, frame.data);
        return;
      }
      case "resync":
        this.cursor = frame.cursor;
        this.on.resync({ reason: frame.reason, cursor: frame.cursor });
        return;
      case "ping":
        if (ws.readyState === OPEN) ws.send('{"type":"pong"}');
        return;
      default:
        return;
    }
  }

  /** The socket ended (close event, watchdog or connect timeout). */
  private dropped(ws: WebSocketLike, code: number, reason: string): void {
    if (ws !== this.ws) return;
    const wasOpen = this.state === "open";
    this.teardownSocket(CLOSE_CODES.heartbeatTimeout, reason);
    this.clearTimers();
    if (this.state === "stopped") return;
    if (FATAL.has(code)) return this.fail(code, reason, wasOpen);
    if (wasOpen) this.on.disconnected({ code, reason, willReconnect: true });
    if (code === CLOSE_CODES.tokenExpired) {
      // getToken() in connect() refreshes an expired token; reconnect without waiting.
      this.state = "waiting";
      this.timers.reconnect = this.timer(() => void this.connect(), 0, false);
      return;
    }
    this.scheduleReconnect();
  }

  private fail(code: number, reason: string, wasOpen = this.state === "open"): void {
    this.teardownSocket(CLOSE_CODES.normal, reason);
    this.clearTimers();
    this.state = "stopped";
    this.unsubscribeRefresh?.();
    this.unsubscribeRefresh = undefined;
    const error = Object.assign(new Error(`Real-time notifications failed (${code}): ${reason}`), { code });
    const pendingStart = this.starting !== undefined;
    this.settleStart(error);
    if (wasOpen || !pendingStart) this.on.disconnected({ code, reason, willReconnect: false });
  }

  private scheduleReconnect(): void {
    this.state = "waiting";
    const base = this.options.reconnectDelayInMs ?? 500;
    const max = this.options.maxReconnectDelayInMs ?? 30_000;
    const capped = Math.min(max, base * 2 ** this.attempts);
    this.attempts++;
    const delay = capped / 2 + Math.random() * (capped / 2);
    this.timers.reconnect = this.timer(() => void this.connect(), delay, false);
  }

  /** The credential refreshed: send the new token on the live socket so it outlives the old one. */
  private reauthenticate(token: AccessToken): void {
    if (this.state !== "open" || !this.ws || this.ws.readyState !== OPEN || token.token === this.token?.token) return;
    this.token = token;
    this.ws.send(JSON.stringify({ type: "auth", token: token.token }));
    this.scheduleTokenCheck();
  }

  /** For credentials without onTokenRefreshed: ask getToken() again shortly before expiry. */
  private scheduleTokenCheck(): void {
    clearTimeout(this.timers.tokenCheck as number);
    const expires = this.token?.expiresOnTimestamp;
    if (expires === undefined) return;
    const now = Date.now();
    const at = [expires - 5 * 60_000, expires - 30_000].find((t) => t > now + 1_000);
    if (at === undefined) return; // the server closes with 4002 at expiry; connect() refreshes then
    this.timers.tokenCheck = this.timer(async () => {
      try {
        const token = await this.credential.getToken();
        if (token.token !== this.token?.token) this.reauthenticate(token);
        else this.scheduleTokenCheck();
      } catch {
        // keep the connection; the server's 4002 path refreshes later
      }
    }, Math.min(at - now, 2 ** 31 - 1));
  }

  private armWatchdog(ws: WebSocketLike): void {
    clearTimeout(this.timers.watchdog as number);
    if (this.state !== "open") return;
    this.timers.watchdog = this.timer(() => this.dropped(ws, CLOSE_CODES.heartbeatTimeout, "no heartbeat from the server"), this.heartbeatMs * 2 + 5_000);
  }

  private teardownSocket(code: number, reason: string): void {
    const ws = this.ws;
    this.ws = undefined;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
    ws.onerror = () => {};
    try {
      const terminate = (ws as { terminate?: () => void }).terminate;
      if (code !== CLOSE_CODES.normal && typeof terminate === "function") terminate.call(ws);
      else ws.close(code, reason.slice(0, 120));
    } catch {
      // already closed
    }
  }

  private clearTimers(): void {
    for (const t of Object.values(this.timers)) clearTimeout(t as number);
    this.timers = {};
  }

  private settleStart(error?: Error): void {
    const starting = this.starting;
    this.starting = undefined;
    if (!starting) return;
    if (error) starting.reject(error);
    else starting.resolve();
  }

  /** setTimeout that does not keep Node alive when only housekeeping is pending. */
  private timer(fn: () => void, ms: number, unref = true): unknown {
    const t = setTimeout(fn, ms);
    if (unref) unrefTimer(t);
    return t;
  }
}
