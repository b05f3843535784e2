/**
 * The load generator: a process of its own (forked by bench/lib/load.ts), so that the client never
 * shares an event loop, or a CPU-time slice it could steal, with the server under test. It takes
 * jobs over IPC, one at a time, and answers with results (see lib/jobs.ts):
 *
 *   closed  autocannon with N keep-alive connections, as fast as the server answers (throughput);
 *           latency of every answer is recorded exactly (autocannon's histogram rounds to 1 ms)
 *   open    a fixed offered load on a node:http keep-alive agent (latency at a given rate)
 *   walk    follows nextLink page after page and keeps the links of chosen pages
 *   connect / fanout / hold / release
 *           WebSocket pools that outlive a job (lib/sockets.ts): event-stream connections held here,
 *           send-to-receipt fan-out timing, idle holding with heartbeats answered
 *
 * Every job is bounded in time and in request count, and only 127.0.0.1 is ever contacted.
 */
import http from "node:http";
import https from "node:https";
import tls from "node:tls";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import autocannon from "autocannon";
import { Samples } from "./lib/stats.js";
import { connect, fanOut, hold, release } from "./lib/sockets.js";
import type { ClosedJob, Job, LoadResult, OpenJob, OrchestratorMessage, RequestSpec, SocketResult, Target, WalkJob, WalkResult, WorkerMessage } from "./lib/jobs.js";
import { watchGcPauses } from "./lib/gcPauses.js";

const send = (message: WorkerMessage) => process.send?.(message);

function parseTarget(target: Target): { url: URL; https: boolean; ca: Buffer | undefined } {
  const url = new URL(target.origin);
  if (url.hostname !== "127.0.0.1") throw new Error(`refusing to load ${url.hostname}: only 127.0.0.1 is allowed`);
  const isHttps = url.protocol === "https:";
  return { url, https: isHttps, ca: isHttps && target.caPath ? readFileSync(target.caPath) : undefined };
}

/** Checks that the server's certificate chains to the CA we were given (autocannon itself never verifies). */
function verifyTls(url: URL, ca: Buffer | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: url.hostname, port: Number(url.port), ca, rejectUnauthorized: true }, () => {
      socket.end();
      resolve();
    });
    socket.once("error", (error) => reject(new Error(`TLS verification against ${url.origin} failed: ${error.message}`)));
    socket.setTimeout(5000, () => socket.destroy(new Error("timeout")));
  });
}

// --- closed loop (autocannon) -------------------------------------------------------------------

function runAutocannon(job: ClosedJob, seconds: number, record: ((status: number, ms: number) => void) | undefined, onTick: (elapsed: number) => void) {
  const { url, ca } = parseTarget(job.target);
  let next = 0;
  const copies = (spec: RequestSpec): autocannon.Request => ({
    method: spec.method,
    path: spec.path,
    ...(spec.headers && { headers: { ...spec.headers } }),
    ...(spec.body !== undefined && { body: spec.body }),
  });
  const perClient = (): autocannon.Request[] => {
    const i = next++;
    if (job.assign === "sticky") return [copies(job.requests[i % job.requests.length]!)];
    const offset = Math.floor((i * job.requests.length) / job.connections);
    return job.requests.map((_, k) => copies(job.requests[(offset + k) % job.requests.length]!));
  };
  const errors: string[] = [];
  let connErrors = 0;
  const started = performance.now();
  return new Promise<{ elapsedSec: number; connErrors: number; errorSamples: string[] }>((resolve, reject) => {
    const tick = setInterval(() => onTick((performance.now() - started) / 1000), 250);
    const instance = autocannon(
      {
        url: url.origin,
        connections: job.connections,
        pipelining: 1,
        duration: seconds,
        // autocannon only notices the end of `duration` on its next sample tick (1 s by default).
        sampleInt: 100,
        timeout: 10,
        maxOverallRequests: job.maxRequests,
        ...(ca && { tlsOptions: { ca } }),
        requests: [copies(job.requests[0]!)],
        setupClient: (client) => client.setRequests(perClient()),
      },
      (error: unknown, result: autocannon.Result) => {
        clearInterval(tick);
        if (error) reject(error instanceof Error ? error : new Error(String(error)));
        else resolve({ elapsedSec: result.duration, connErrors, errorSamples: errors });
      },
    );
    instance.on("response", (_client: unknown, status: number, _bytes: number, ms: number) => record?.(status, ms));
    instance.on("reqError", (error: Error) => {
      connErrors++;
      if (errors.length < 5) errors.push(error.message);
    });
  });
}

async function closedLoop(job: ClosedJob, progress: (done: number, total: number, phase: string) => void): Promise<LoadResult> {
  const { url, https: isHttps, ca } = parseTarget(job.target);
  if (isHttps) await verifyTls(url, ca);
  const total = job.warmupSec + job.durationSec;
  let warmupAnswers = 0;
  if (job.warmupSec > 0) await runAutocannon(job, job.warmupSec, () => warmupAnswers++, (s) => progress(s, total, "warm-up"));
  const latencies = new Samples();
  const statuses: Record<string, number> = {};
  let ok = 0;
  let bad = 0;
  const run = await runAutocannon(
    job,
    job.durationSec,
    (status, ms) => {
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status === job.expectStatus) {
        ok++;
        latencies.add(ms);
      } else bad++;
    },
    (s) => progress(job.warmupSec + s, total, "measuring"),
  );
  return {
    kind: "closed",
    ok,
    errors: bad + run.connErrors,
    statuses,
    elapsedSec: run.elapsedSec,
    rps: ok / run.elapsedSec,
    latency: latencies.summary(),
    errorSamples: run.errorSamples,
    warmupAnswers,
    ...(job.returnSamples && { samples: latencies.values() }),
  };
}

// --- open loop (fixed offered load) -------------------------------------------------------------

async function openLoop(job: OpenJob, progress: (done: number, total: number, phase: string) => void): Promise<LoadResult> {
  const { url, https: isHttps, ca } = parseTarget(job.target);
  if (isHttps) await verifyTls(url, ca);
  const agent = isHttps
    ? new https.Agent({ keepAlive: true, maxSockets: job.connections, ca, rejectUnauthorized: true })
    : new http.Agent({ keepAlive: true, maxSockets: job.connections });
  const request = isHttps ? https.request : http.request;
  const total = job.warmupSec + job.durationSec;
  try {
    let warmupAnswers = 0;
    if (job.warmupSec > 0) await schedule(job.warmupSec, () => warmupAnswers++, (s) => progress(s, total, "warm-up"));
    const latency = new Samples();
    const fromSchedule = new Samples();
    const lag = new Samples();
    const statuses: Record<string, number> = {};
    const errorSamples: string[] = [];
    let ok = 0;
    let errors = 0;
    const stopWatchingGc = watchGcPauses();
    const run = await schedule(
      job.durationSec,
      (outcome) => {
        lag.add(outcome.started - outcome.intended);
        if (outcome.status !== undefined) statuses[outcome.status] = (statuses[outcome.status] ?? 0) + 1;
        if (outcome.status === job.expectStatus) {
          ok++;
          latency.add(outcome.ended - outcome.started);
          fromSchedule.add(outcome.ended - outcome.intended);
        } else {
          errors++;
          if (errorSamples.length < 5) errorSamples.push(outcome.error ?? `status ${outcome.status}: ${outcome.body?.slice(0, 200)}`);
        }
      },
      (s) => progress(job.warmupSec + s, total, "measuring"),
    );
    const clientGc = stopWatchingGc();
    return {
      kind: "open",
      ok,
      errors,
      statuses,
      elapsedSec: run.elapsedSec,
      rps: ok / run.elapsedSec,
      latency: latency.summary(),
      latencyFromSchedule: fromSchedule.summary(),
      startLag: lag.summary(),
      offeredRate: job.rate,
      overloaded: run.overloaded,
      clientGc,
      errorSamples,
      warmupAnswers,
      ...(job.returnSamples && { samples: latency.values() }),
    };
  } finally {
    agent.destroy();
  }

  interface Outcome {
    intended: number;
    started: number;
    ended: number;
    status?: number;
    body?: string;
    error?: string;
  }

  function fire(spec: RequestSpec, intended: number, done: (o: Outcome) => void): void {
    const started = performance.now();
    const body = spec.body === undefined ? undefined : Buffer.from(spec.body);
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        method: spec.method,
        path: spec.path,
        headers: { ...spec.headers, ...(body && { "content-length": String(body.length) }) },
        timeout: 10_000,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        // An expected answer is read and dropped: keeping and joining ~16 KB pages only feeds the
        // load generator's own GC, whose pauses would be timed as the server's latency.
        const chunks: Buffer[] | undefined = status === job.expectStatus ? undefined : [];
        res.on("data", (c: Buffer) => chunks?.push(c));
        res.on("end", () => {
          const ended = performance.now();
          done({ intended, started, ended, status, ...(chunks && { body: Buffer.concat(chunks).toString() }) });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error("request timed out")));
    req.on("error", (error) => done({ intended, started, ended: performance.now(), error: error.message }));
    req.end(body);
  }

  /** Starts requests on schedule for `seconds`, then waits (bounded) for the stragglers. */
  function schedule(seconds: number, record: ((o: Outcome) => void) | undefined, onTick: (elapsed: number) => void) {
    const interval = 1000 / job.rate;
    const count = Math.min(job.maxRequests, Math.floor(seconds * job.rate));
    // Stop early rather than pile up an unbounded backlog when the server cannot keep up.
    const maxBacklog = Math.max(job.connections * 20, job.rate * 2);
    return new Promise<{ elapsedSec: number; overloaded: boolean }>((resolve) => {
      const t0 = performance.now();
      let sent = 0;
      let inflight = 0;
      let overloaded = false;
      let lastEnd = t0;
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        clearInterval(ticker);
        resolve({ elapsedSec: (Math.max(lastEnd, t0 + sent * interval) - t0) / 1000, overloaded });
      };
      const ticker = setInterval(() => onTick((performance.now() - t0) / 1000), 250);
      const tick = () => {
        const due = Math.min(count, Math.floor((performance.now() - t0) / interval) + 1);
        while (sent < due && !overloaded) {
          const k = sent++;
          inflight++;
          fire(job.requests[k % job.requests.length]!, t0 + k * interval, (o) => {
            inflight--;
            if (!finished) lastEnd = Math.max(lastEnd, o.ended);
            if (finished) return;
            record?.(o);
            if ((sent >= count || overloaded) && inflight === 0) finish();
          });
          if (inflight > maxBacklog) overloaded = true;
        }
        if (sent < count && !overloaded) setTimeout(tick, 1);
        else {
          if (inflight === 0) finish();
          // Stragglers get at most 15 s.
          setTimeout(finish, 15_000).unref();
        }
      };
      tick();
    });
  }
}

// --- walk (follow nextLink) ---------------------------------------------------------------------

async function walk(job: WalkJob, progress: (done: number, total: number, phase: string) => void): Promise<WalkResult> {
  const { url, https: isHttps, ca } = parseTarget(job.target);
  const agent = isHttps ? new https.Agent({ keepAlive: true, maxSockets: 1, ca }) : new http.Agent({ keepAlive: true, maxSockets: 1 });
  const request = isHttps ? https.request : http.request;
  const keep = new Set(job.keep);
  const links: Record<number, string> = {};
  const latency = new Samples();
  const deadline = performance.now() + job.maxSec * 1000;
  const t0 = performance.now();
  let path: string | undefined = job.start.path;
  let pages = 0;
  let messages = 0;
  try {
    while (path !== undefined && pages < job.maxPages && performance.now() < deadline) {
      if (keep.has(pages)) links[pages] = path;
      const started = performance.now();
      const page = await getJson(path);
      latency.add(performance.now() - started);
      messages += page.value.length;
      pages++;
      path = page.nextLink === undefined ? undefined : new URL(page.nextLink, url.origin).pathname + new URL(page.nextLink, url.origin).search;
      if (pages % 200 === 0) progress(pages, job.maxPages, "walking");
    }
  } finally {
    agent.destroy();
  }
  return { kind: "walk", pages, messages, elapsedSec: (performance.now() - t0) / 1000, links, latency: latency.summary(), complete: path === undefined };

  function getJson(p: string): Promise<{ value: unknown[]; nextLink?: string }> {
    return new Promise((resolve, reject) => {
      const req = request({ agent, host: url.hostname, port: url.port, method: "GET", path: p, headers: job.start.headers, timeout: 10_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString();
          if (res.statusCode !== 200) reject(new Error(`GET ${p} answered ${res.statusCode}: ${text.slice(0, 300)}`));
          else resolve(JSON.parse(text) as { value: unknown[]; nextLink?: string });
        });
      });
      req.on("timeout", () => req.destroy(new Error("request timed out")));
      req.on("error", reject);
      req.end();
    });
  }
}

// --- IPC ----------------------------------------------------------------------------------------

async function runJob(id: number, job: Job): Promise<void> {
  let last = 0;
  const progress = (done: number, total: number, phase: string) => {
    const now = performance.now();
    if (now - last < 200) return;
    last = now;
    send({ type: "progress", id, done, total, phase });
  };
  try {
    send({ type: "result", id, result: await dispatch(job, progress) });
  } catch (error) {
    send({ type: "error", id, message: error instanceof Error ? error.message : String(error) });
  }
}

function dispatch(job: Job, progress: (done: number, total: number, phase: string) => void): Promise<LoadResult | WalkResult | SocketResult> {
  switch (job.kind) {
    case "closed":
      return closedLoop(job, progress);
    case "open":
      return openLoop(job, progress);
    case "walk":
      return walk(job, progress);
    case "connect":
      return connect(job, progress);
    case "fanout":
      return fanOut(job, progress);
    case "hold":
      return hold(job, progress);
    case "release":
      return release(job);
  }
}

let queue = Promise.resolve();
process.on("message", (message: OrchestratorMessage) => {
  if (message.type === "exit") process.exit(0);
  if (message.type === "job") queue = queue.then(() => runJob(message.id, message.job));
});
// Never outlive the orchestrator.
process.on("disconnect", () => process.exit(0));
send({ type: "ready" });
