/**
 * The event-stream gateway: `GET /chat/events` upgraded to a WebSocket (protocol in
 * docs/realtime.md). Keeps the live connections per user and routes bus notices to them.
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import { CLOSE_CODES, EVENT_STREAM_PATH } from "@parley/protocol";
import type { IdentityService } from "../identity/identityService.js";
import type { CommittedChange, Store } from "../store/index.js";
import type { Bus, BusNotice } from "./bus.js";
import { StreamConnection, type ConnectionOptions } from "./connection.js";
import { RenderedEvent } from "./render.js";

export interface GatewayDeps {
  store: Store;
  bus: Bus;
  identity: IdentityService;
  clock: () => number;
  options?: Partial<ConnectionOptions>;
}

export const DEFAULT_STREAM_OPTIONS: ConnectionOptions = {
  heartbeatMs: 25_000,
  authTimeoutMs: 10_000,
  softBufferBytes: 256 * 1024,
  hardBufferBytes: 1024 * 1024,
  stallMs: 30_000,
  retentionHours: 24,
  readBatch: 256,
};

export class EventGateway {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  private readonly byUser = new Map<string, Set<StreamConnection>>();
  private readonly all = new Set<StreamConnection>();
  private readonly options: ConnectionOptions;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly unsubscribe: () => void;
  private closing: Promise<void> | undefined;
  /**
   * Every change with a seq in (gapFreeAfter, seen] has passed through `deliver`, in order (commit
   * announcements carry consecutive seqs; a jump means this gateway missed some). A connection that
   * has considered everything up to a seq in that range may send a new change straight away.
   */
  private seen = -1;
  private gapFreeAfter = Number.MAX_SAFE_INTEGER;

  constructor(private readonly deps: GatewayDeps) {
    this.options = { ...DEFAULT_STREAM_OPTIONS, ...deps.options };
    this.unsubscribe = deps.bus.subscribe((notice) => this.route(notice));
    this.heartbeat = setInterval(() => this.all.forEach((c) => c.heartbeat()), this.options.heartbeatMs);
    this.heartbeat.unref();
  }

  get connectionCount(): number {
    return this.all.size;
  }

  /** For the HTTP servers' `upgrade` event. Anything but the event stream path is refused. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? "/", "http://parley.invalid");
    if (url.pathname !== EVENT_STREAM_PATH) {
      socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      return;
    }
    const header = req.headers.authorization;
    const token = header?.startsWith("Bearer ") ? header.slice(7).trim() : undefined;
    const cursorText = url.searchParams.get("cursor");
    const cursor = cursorText !== null && /^\d{1,15}$/.test(cursorText) ? Number(cursorText) : undefined;
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const connection = new StreamConnection(ws, {
        store: this.deps.store,
        identity: this.deps.identity,
        clock: this.deps.clock,
        options: this.options,
        onAuthenticated: (c) => this.register(c),
        onClosed: (c) => this.unregister(c),
      });
      this.all.add(connection);
      connection.start(token, cursor);
    });
  }

  /** Closes every stream with 1001 (reconnect with your cursor). Safe to call more than once. */
  close(): Promise<void> {
    return (this.closing ??= (async () => {
      clearInterval(this.heartbeat);
      this.unsubscribe();
      for (const connection of [...this.all]) connection.close(CLOSE_CODES.goingAway, "server shutting down; reconnect with your cursor");
      await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    })());
  }

  private route(notice: BusNotice): void {
    switch (notice.type) {
      case "logsGrew":
        if (notice.changes && notice.changes.length > 0) this.deliver(notice.changes);
        else {
          // No seqs: assume anything was missed; the next notice with seqs starts a new gap-free run.
          this.gapFreeAfter = Number.MAX_SAFE_INTEGER;
          this.seen = -1;
          for (const userId of notice.userIds) this.byUser.get(userId)?.forEach((c) => c.notify());
        }
        return;
      case "ephemeral":
        for (const userId of notice.userIds) this.byUser.get(userId)?.forEach((c) => c.signal(notice.signal));
        return;
      case "tokensChanged":
        this.byUser.get(notice.userId)?.forEach((c) => void c.recheck());
        return;
    }
  }

  /** Committed events straight to the connections of their recipients, each rendered once. */
  private deliver(changes: CommittedChange[]): void {
    const first = changes[0]!.seq;
    if (first - 1 !== this.seen) this.gapFreeAfter = first - 1;
    this.seen = changes.at(-1)!.seq;
    for (const change of changes) {
      let rendered: RenderedEvent | undefined;
      for (const userId of change.recipients) {
        const connections = this.byUser.get(userId);
        if (!connections) continue;
        rendered ??= new RenderedEvent(change);
        for (const connection of connections) connection.deliver(change.seq, rendered, this.gapFreeAfter);
      }
    }
  }

  private register(connection: StreamConnection): void {
    let set = this.byUser.get(connection.userId!);
    if (!set) this.byUser.set(connection.userId!, (set = new Set()));
    set.add(connection);
  }

  private unregister(connection: StreamConnection): void {
    this.all.delete(connection);
    if (connection.userId === undefined) return;
    const set = this.byUser.get(connection.userId);
    set?.delete(connection);
    if (set?.size === 0) this.byUser.delete(connection.userId);
  }
}
