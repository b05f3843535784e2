/**
 * Webhook test support: a programmable receiver on 127.0.0.1 (the only place tests deliver to) that
 * answers the validation handshakes like a well-behaved subscriber and records every request, and a
 * signed client for the admin API.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { verifyWebhookSignature, type WebhookOptions } from "@parley/server";
import { signedRequest, type RawResponse } from "../helpers/http.js";
import type { TestServer } from "../helpers/server.js";

export interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  json: any;
  /** Date.now() on arrival. */
  at: number;
  /** What the receiver answered. */
  status: number;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Wait this long before answering. */
  delayMs?: number;
}

export interface ReceiverOptions {
  /** How notification POSTs are answered; `n` counts notifications from 0. Default 200. */
  notify?: (req: Received, n: number) => Answer;
  /** Event Grid handshake: echo the code (default), answer 200 without it, a wrong code, or 500. */
  validation?: "echo" | "silent" | "wrong" | "fail";
  /** CloudEvents handshake: allow the requested origin (default) or not. */
  allowOrigin?: boolean;
}

export class Receiver {
  readonly requests: Received[] = [];
  /** event id → how many times it arrived in a request the receiver accepted (2xx). */
  readonly accepted = new Map<string, number>();
  /** Accepted events, in arrival order. */
  readonly events: any[] = [];
  private notifications = 0;

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
    public options: ReceiverOptions,
  ) {}

  static async start(options: ReceiverOptions = {}, path = "/hook"): Promise<Receiver> {
    let receiver!: Receiver;
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => void receiver.handle(req, Buffer.concat(chunks), res));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    receiver = new Receiver(server, `http://127.0.0.1:${port}${path}`, options);
    return receiver;
  }

  /** Notification requests (not handshakes), in arrival order. */
  get deliveries(): Received[] {
    return this.requests.filter((r) => r.method === "POST" && r.headers["aeg-event-type"] === "Notification");
  }

  get handshakes(): Received[] {
    return this.requests.filter((r) => r.method === "OPTIONS" || r.headers["aeg-event-type"] === "SubscriptionValidation");
  }

  async until(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${this.requests.length} requests so far)`);
      await sleep(20);
    }
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): Promise<void> {
    let json: any;
    try {
      json = body.length ? JSON.parse(body.toString("utf8")) : undefined;
    } catch {
      json = undefined;
    }
    const received: Received = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body, json, at: Date.now(), status: 0 };
    const answer = this.answer(received);
    if (answer.delayMs) await sleep(answer.delayMs);
    received.status = answer.status;
    this.requests.push(received);
    if (received.headers["aeg-event-type"] === "Notification" && answer.status >= 200 && answer.status <= 299) {
      for (const event of Array.isArray(json) ? json : [json]) {
        this.accepted.set(event.id, (this.accepted.get(event.id) ?? 0) + 1);
        this.events.push(event);
      }
    }
    res.writeHead(answer.status, answer.headers ?? {});
    res.end(answer.body ?? "");
  }

  private answer(req: Received): Answer {
    if (req.method === "OPTIONS") {
      const origin = String(req.headers["webhook-request-origin"] ?? "");
      return this.options.allowOrigin === false ? { status: 200 } : { status: 200, headers: { "webhook-allowed-origin": origin } };
    }
    if (req.headers["aeg-event-type"] === "SubscriptionValidation") {
      const code = req.json?.[0]?.data?.validationCode;
      switch (this.options.validation ?? "echo") {
        case "echo":
          return { status: 200, headers: { "content-type": "application/json" }, body: JSON.stringify({ validationResponse: code }) };
        case "silent":
          return { status: 200 };
        case "wrong":
          return { status: 200, headers: { "content-type": "application/json" }, body: JSON.stringify({ validationResponse: "nope" }) };
        case "fail":
          return { status: 500 };
      }
    }
    return this.options.notify?.(req, this.notifications++) ?? { status: 200 };
  }
}

/** Short timings so retries and dead-lettering happen within a test. */
export const FAST: Partial<WebhookOptions> = {
  retryBaseMs: 40,
  retryMaxMs: 200,
  maxAttempts: 30,
  requestTimeoutMs: 2000,
  shutdownGraceMs: 2000,
  revalidateEveryMs: 200,
};

/** A call to the webhook admin API, signed with the access key. */
export function admin(server: TestServer, method: string, path: string, body?: unknown): Promise<RawResponse> {
  const query = path.includes("api-version=") ? "" : `${path.includes("?") ? "&" : "?"}api-version=2025-03-15`;
  const url = `${server.httpEndpoint.replace(/\/$/, "")}${path}${query}`;
  return signedRequest(url, server.accessKey, { method, ...(body !== undefined && { body: JSON.stringify(body) }) });
}

export async function subscribe(server: TestServer, body: Record<string, unknown>): Promise<any> {
  const res = await admin(server, "POST", "/webhooks/subscriptions", body);
  if (res.status !== 201) throw new Error(`subscribe failed: ${res.status} ${res.text}`);
  return res.json;
}

/** Asserts every notification the receiver got carries a valid signature for this secret. */
export function allSigned(receiver: Receiver, secret: string): boolean {
  return receiver.deliveries.every((r) =>
    verifyWebhookSignature({
      secret,
      body: r.body,
      timestamp: header(r, "parley-timestamp"),
      signature: header(r, "parley-signature"),
      nowMs: r.at,
    }),
  );
}

export function header(r: Received, name: string): string | undefined {
  const value = r.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Probes every 50 ms until `done` accepts the value, which it returns; throws with the last value after `timeoutMs`. */
export async function until<T>(probe: () => Promise<T>, done: (value: T) => boolean, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await sleep(50);
  }
}
