/**
 * The load generator's WebSocket side (runs inside bench/loadgen.ts, never in the orchestrator):
 * named pools of live event-stream connections that outlive a job, so the orchestrator can read the
 * server's memory between steps, and the fan-out measurement, whose sender lives here too so send
 * and receipt times come from one clock (performance.now()).
 */
import http from "node:http";
import https from "node:https";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { randomBytes } from "node:crypto";
import WebSocket from "ws";
import { Samples } from "./stats.js";
import type { ConnectJob, ConnectResult, FanOutJob, FanOutResult, HoldJob, HoldResult, PoolStats, ReleaseJob, ReleaseResult, Target } from "./jobs.js";

type Progress = (done: number, total: number, phase: string) => void;

const PING = Buffer.from('{"type":"ping"}');
const PONG = '{"type":"pong"}';

interface Member {
  ws: WebSocket;
  open: boolean;
}

interface Pool {
  members: Member[];
  stats: Omit<PoolStats, "open">;
  releasing: boolean;
  /** Set while a fan-out job listens; called first, with the arrival time, for every text frame. */
  onFrame?: (index: number, data: Buffer, at: number) => void;
}

const pools = new Map<string, Pool>();

function poolFor(name: string): Pool {
  let pool = pools.get(name);
  if (!pool) pools.set(name, (pool = { members: [], stats: { jsonPings: 0, wsPings: 0, closedByServer: 0, closeCodes: {} }, releasing: false }));
  return pool;
}

function statsOf(pool: Pool): PoolStats {
  return { open: pool.members.filter((m) => m.open).length, ...pool.stats, closeCodes: { ...pool.stats.closeCodes } };
}

function endpoint(target: Target, path: string): { url: string; ca: Buffer | undefined } {
  const origin = new URL(target.origin);
  if (origin.hostname !== "127.0.0.1") throw new Error(`refusing to connect to ${origin.hostname}: only 127.0.0.1 is allowed`);
  const secure = origin.protocol === "https:";
  return { url: `${secure ? "wss" : "ws"}://${origin.host}${path}`, ca: secure && target.caPath ? readFileSync(target.caPath) : undefined };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One socket, resolved at its first text frame (the server's `ready`), at most 15 s. */
function openOne(pool: Pool, url: string, token: string, ca: Buffer | undefined): Promise<number> {
  const started = performance.now();
  // No compression (Parley does not negotiate it) and no UTF-8 validation: the client's own cost per
  // frame is in every arrival time, so keep it small (and the same for Parley and the baseline).
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false, skipUTF8Validation: true, handshakeTimeout: 10_000, ...(ca && { ca }) });
  const member: Member = { ws, open: false };
  const index = pool.members.push(member) - 1;
  return new Promise<number>((resolve, reject) => {
    let ready = false;
    const timer = setTimeout(() => fail(new Error("no first frame within 15 s")), 15_000);
    function fail(error: Error) {
      if (ready) return;
      ready = true;
      clearTimeout(timer);
      ws.terminate();
      reject(error);
    }
    ws.on("message", (data: Buffer, isBinary) => {
      const at = performance.now();
      if (isBinary) return;
      pool.onFrame?.(index, data, at);
      if (data.length === PING.length && data.equals(PING)) {
        ws.send(PONG);
        pool.stats.jsonPings++;
      }
      if (!ready) {
        ready = true;
        member.open = true;
        clearTimeout(timer);
        resolve(at - started);
      }
    });
    ws.on("ping", () => pool.stats.wsPings++);
    ws.on("error", (error) => fail(error));
    ws.on("close", (code) => {
      if (!ready) return fail(new Error(`closed with ${code} before the first frame`));
      member.open = false;
      if (pool.releasing) return;
      pool.stats.closedByServer++;
      pool.stats.closeCodes[code] = (pool.stats.closeCodes[code] ?? 0) + 1;
    });
  });
}

export async function connect(job: ConnectJob, progress: Progress): Promise<ConnectResult> {
  const { url, ca } = endpoint(job.target, job.path);
  const pool = poolFor(job.pool);
  const ready = new Samples();
  const errorSamples: string[] = [];
  const deadline = performance.now() + job.maxSec * 1000;
  const t0 = performance.now();
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < job.tokens.length && performance.now() < deadline) {
      const token = job.tokens[next++]!;
      try {
        ready.add(await openOne(pool, url, token, ca));
      } catch (error) {
        failed++;
        if (errorSamples.length < 5) errorSamples.push(error instanceof Error ? error.message : String(error));
      }
      progress(ready.count + failed, job.tokens.length, "connecting");
    }
  };
  await Promise.all(Array.from({ length: Math.min(job.concurrency, job.tokens.length) }, worker));
  // Tokens never tried because maxSec ran out count as failures.
  failed += job.tokens.length - next;
  return { kind: "connect", opened: ready.count, failed, elapsedSec: (performance.now() - t0) / 1000, readyLatency: ready.summary(), errorSamples, pool: statsOf(pool) };
}

export async function fanOut(job: FanOutJob, progress: Progress): Promise<FanOutResult> {
  const pool = pools.get(job.pool);
  if (!pool) throw new Error(`no connection pool ${job.pool}`);
  const origin = new URL(job.target.origin);
  if (origin.hostname !== "127.0.0.1") throw new Error(`refusing to send to ${origin.hostname}`);
  const secure = origin.protocol === "https:";
  const ca = secure && job.target.caPath ? readFileSync(job.target.caPath) : undefined;
  const agent = secure ? new https.Agent({ keepAlive: true, maxSockets: 1, ca }) : new http.Agent({ keepAlive: true, maxSockets: 1 });
  const request = secure ? https.request : http.request;
  // Members are the sockets open now; one that closes later just counts as missing.
  const live = new Set(pool.members.flatMap((m, i) => (m.open ? [i] : [])));
  const expected = live.size;
  const arrival = new Samples();
  const first = new Samples();
  const last = new Samples();
  const postAnswer = new Samples();
  const errorSamples: string[] = [];
  let missing = 0;
  let postErrors = 0;
  // A marker no other frame can contain; the trailing "z" keeps "x1" from matching "x10".
  const tag = randomBytes(4).toString("hex");
  const total = job.warmup + job.messages;
  const deadline = performance.now() + job.maxSec * 1000;
  const t0 = performance.now();
  let k = 0;
  try {
    for (; k < total && performance.now() < deadline; k++) {
      const measured = k >= job.warmup;
      const content = `fo${tag}x${k}z`;
      const one = await sendOne(content);
      if (measured) {
        const got = one.arrivals.filter((a) => !Number.isNaN(a));
        for (const a of got) arrival.add(a);
        missing += expected - got.length;
        if (got.length > 0) {
          first.add(Math.min(...got));
          last.add(Math.max(...got));
        }
        if (one.post !== undefined) postAnswer.add(one.post);
      }
      if (one.error) {
        postErrors++;
        if (errorSamples.length < 5) errorSamples.push(one.error);
      }
      progress(k + 1, total, measured ? "measuring" : "warm-up");
      await sleep(job.gapMs);
    }
  } finally {
    pool.onFrame = undefined;
    agent.destroy();
  }
  return {
    kind: "fanout",
    members: expected,
    messages: Math.max(0, k - job.warmup),
    arrival: arrival.summary(),
    first: first.summary(),
    last: last.summary(),
    postAnswer: postAnswer.summary(),
    missing,
    postErrors,
    errorSamples,
    elapsedSec: (performance.now() - t0) / 1000,
    truncated: k < total,
    lastSamples: last.values(),
    pool: statsOf(pool),
  };

  /** Sends one message; resolves when every member and the POST answered, or after timeoutMs. */
  function sendOne(content: string): Promise<{ arrivals: number[]; post?: number; error?: string }> {
    const marker = Buffer.from(content);
    const arrivals = new Map<number, number>();
    return new Promise((resolve) => {
      let post: number | undefined;
      let error: string | undefined;
      let answered = false;
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        pool!.onFrame = undefined;
        resolve({ arrivals: [...live].map((i) => arrivals.get(i) ?? NaN), ...(post !== undefined && { post }), ...(error && { error }) });
      };
      const timer = setTimeout(finish, job.timeoutMs);
      const body = Buffer.from(JSON.stringify({ content, senderDisplayName: "Bench", type: "text" }));
      const started = performance.now();
      pool!.onFrame = (index, data, at) => {
        if (!live.has(index) || arrivals.has(index) || data.indexOf(marker) === -1) return;
        arrivals.set(index, at - started);
        if (arrivals.size === expected && answered) finish();
      };
      const req = request(
        { agent, host: origin.hostname, port: origin.port, method: "POST", path: job.send.path, headers: { ...job.send.headers, "content-type": "application/json", "content-length": String(body.length) }, timeout: job.timeoutMs },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            answered = true;
            if (res.statusCode === job.expectStatus) post = performance.now() - started;
            else error = `status ${res.statusCode}: ${Buffer.concat(chunks).toString().slice(0, 200)}`;
            if (arrivals.size === expected || error) finish();
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error("request timed out")));
      req.on("error", (e) => {
        answered = true;
        error = e.message;
        finish();
      });
      req.end(body);
    });
  }
}

export async function hold(job: HoldJob, progress: Progress): Promise<HoldResult> {
  const pool = pools.get(job.pool);
  if (!pool) throw new Error(`no connection pool ${job.pool}`);
  const t0 = performance.now();
  while (performance.now() - t0 < job.seconds * 1000) {
    await sleep(Math.min(250, job.seconds * 1000 - (performance.now() - t0)));
    progress((performance.now() - t0) / 1000, job.seconds, "holding");
  }
  return { kind: "hold", seconds: job.seconds, pool: statsOf(pool) };
}

export async function release(job: ReleaseJob): Promise<ReleaseResult> {
  const pool = pools.get(job.pool);
  const t0 = performance.now();
  if (!pool) return { kind: "release", closed: 0, elapsedSec: 0, pool: { open: 0, jsonPings: 0, wsPings: 0, closedByServer: 0, closeCodes: {} } };
  pool.releasing = true;
  const open = pool.members.filter((m) => m.open);
  const closed = Promise.all(open.map((m) => new Promise<void>((resolve) => (m.ws.readyState === WebSocket.CLOSED ? resolve() : m.ws.once("close", () => resolve())))));
  for (const m of open) m.ws.close(1000);
  // Bounded: whatever has not finished its close handshake by then is cut.
  await Promise.race([closed, sleep(job.maxSec * 1000)]);
  for (const m of pool.members) {
    if (m.ws.readyState !== WebSocket.CLOSED) m.ws.terminate();
    m.open = false;
  }
  const stats = statsOf(pool);
  pools.delete(job.pool);
  return { kind: "release", closed: open.length, elapsedSec: (performance.now() - t0) / 1000, pool: stats };
}
