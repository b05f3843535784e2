/** A test client for the event stream that records frames and can wait for them. */
import WebSocket from "ws";
import type { ServerFrame } from "@parley/protocol";
import type { TestServer } from "./server.js";

export class StreamClient {
  readonly frames: ServerFrame[] = [];
  closed: { code: number; reason: string } | undefined;
  private waiters: Array<() => void> = [];

  constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      this.frames.push(JSON.parse(data.toString()) as ServerFrame);
      this.wake();
    });
    ws.on("close", (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
    ws.on("error", () => {});
  }

  static open(server: TestServer, options: { token?: string; cursor?: number; authFrame?: { token: string; cursor?: number } } = {}): Promise<StreamClient> {
    const url = `${server.endpoint.replace(/^https/, "wss")}chat/events${options.cursor !== undefined ? `?cursor=${options.cursor}` : ""}`;
    const ws = new WebSocket(url, { ca: server.caPem, ...(options.token && { headers: { authorization: `Bearer ${options.token}` } }) });
    const client = new StreamClient(ws);
    return new Promise((resolve, reject) => {
      ws.once("open", () => {
        if (options.authFrame) ws.send(JSON.stringify({ type: "auth", ...options.authFrame }));
        resolve(client);
      });
      ws.once("error", reject);
    });
  }

  /** Durable and live events, in arrival order. */
  get events() {
    return this.frames.filter((f): f is Extract<ServerFrame, { type: "event" }> => f.type === "event");
  }

  get lastSeq(): number {
    const durable = this.events.filter((e) => e.seq !== null);
    return durable.length ? durable.at(-1)!.seq! : ((this.frames.find((f) => f.type === "ready") as { cursor?: number } | undefined)?.cursor ?? 0);
  }

  async until(predicate: (client: StreamClient) => boolean, what: string, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; frames: ${JSON.stringify(this.frames).slice(0, 2000)} closed: ${JSON.stringify(this.closed)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  ready(): Promise<void> {
    return this.until((c) => c.frames.some((f) => f.type === "ready"), "ready");
  }

  eventCount(n: number): Promise<void> {
    return this.until((c) => c.events.length >= n, `${n} events`);
  }

  closedWith(): Promise<{ code: number; reason: string }> {
    return this.until((c) => c.closed !== undefined, "close").then(() => this.closed!);
  }

  close(): void {
    this.ws.close();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach((w) => w());
  }
}
