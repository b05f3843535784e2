/**
 * What the orchestrator (bench/run.ts) asks the load-generator process (bench/loadgen.ts) to do, and
 * what comes back. Everything here crosses a process boundary as JSON.
 */
import type { GcPauses } from "./gcPauses.js";

/** One HTTP request, sent as is. */
export interface RequestSpec {
  method: "GET" | "POST";
  /** Path and query, e.g. `/chat/threads/19:…@thread.v2/messages?api-version=2025-03-15`. */
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface Target {
  /** `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT`; only 127.0.0.1 is accepted. */
  origin: string;
  /** PEM file of the CA to trust for https (Parley's `caCertPath`). */
  caPath?: string;
}

interface JobBase {
  target: Target;
  requests: RequestSpec[];
  /**
   * sticky: connection i sends only `requests[i % n]` (one user per connection);
   * rotate: connection i cycles through the whole list starting at its own offset (open loop: request k is `requests[k % n]`).
   */
  assign: "sticky" | "rotate";
  connections: number;
  durationSec: number;
  /** Same load, not recorded, before the measured part. */
  warmupSec: number;
  /** The status every answer must have; others are counted as errors. */
  expectStatus: number;
  /** Hard cap on requests in the measured part (a bound, whatever the duration). */
  maxRequests: number;
  /** Also return every measured latency (ms), so runs can be pooled. */
  returnSamples?: boolean;
}

/** As many requests as `connections` keep-alive connections can do (autocannon). */
export interface ClosedJob extends JobBase {
  kind: "closed";
}

/**
 * A fixed offered load: requests start on a fixed schedule (`rate` per second) whatever the answers
 * do, on up to `connections` keep-alive connections (node:http agent). Latency is measured from
 * the moment a request was started (queueing for a busy connection included) and, separately,
 * from the moment the schedule wanted it started (corrected for coordinated omission).
 */
export interface OpenJob extends JobBase {
  kind: "open";
  rate: number;
}

/**
 * Follows `nextLink` from `start` one page after the other on one connection, and returns the
 * links (the URL that fetches that page) of the pages listed in `keep` (0 = the first page).
 */
export interface WalkJob {
  kind: "walk";
  target: Target;
  start: RequestSpec;
  keep: number[];
  maxPages: number;
  maxSec: number;
}

/**
 * Opens one WebSocket per token to `path` (Authorization: Bearer <token>, as a Node client does) and
 * adds them to the named pool, which outlives the job: later jobs measure on it, `release` closes it.
 * A connection counts once its first text frame arrives (Parley's `ready`; the bare baseline sends
 * one too). Every pooled socket answers `{"type":"ping"}` with `{"type":"pong"}` (and ws answers
 * ping frames itself), so the server's heartbeat keeps it.
 */
export interface ConnectJob {
  kind: "connect";
  pool: string;
  target: Target;
  path: string;
  tokens: string[];
  /** Handshakes in flight at once. */
  concurrency: number;
  maxSec: number;
}

/**
 * One sender, one message at a time: POSTs `{content: <unique marker>}` to `send.path`, records when
 * each pooled socket receives a frame containing the marker (same clock as the send), waits for
 * every socket and the POST's answer (or `timeoutMs`), pauses `gapMs`, and sends the next.
 */
export interface FanOutJob {
  kind: "fanout";
  pool: string;
  target: Target;
  send: { path: string; headers: Record<string, string> };
  expectStatus: number;
  warmup: number;
  messages: number;
  gapMs: number;
  timeoutMs: number;
  maxSec: number;
}

/** Keeps the pool open (answering heartbeats) for `seconds`, then reports on it. */
export interface HoldJob {
  kind: "hold";
  pool: string;
  seconds: number;
}

/** Closes every socket of the pool (close handshake, then terminate stragglers) and forgets it. */
export interface ReleaseJob {
  kind: "release";
  pool: string;
  maxSec: number;
}

export type SocketJob = ConnectJob | FanOutJob | HoldJob | ReleaseJob;

export type Job = ClosedJob | OpenJob | WalkJob | SocketJob;

export interface LatencySummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export interface LoadResult {
  kind: "closed" | "open";
  /** Measured requests that got the expected status. */
  ok: number;
  /** Wrong status, connection errors and timeouts. */
  errors: number;
  statuses: Record<string, number>;
  elapsedSec: number;
  /** ok / elapsedSec. */
  rps: number;
  /** Milliseconds, from the request's start to the end of its answer. */
  latency: LatencySummary;
  /** Open loop only: milliseconds from the scheduled start (coordinated-omission corrected). */
  latencyFromSchedule?: LatencySummary;
  /** Open loop only: how late requests started against the schedule (load generator's own lag), ms. */
  startLag?: LatencySummary;
  offeredRate?: number;
  /** Open loop only: true when the backlog bound was hit and the run stopped early. */
  overloaded?: boolean;
  /** Open loop only: the load generator's own GC pauses during the measured part (lib/gcPauses.ts). */
  clientGc?: GcPauses;
  /** The first few unexpected answers, for diagnosis. */
  errorSamples: string[];
  /** Answers during the warm-up (not in the statistics; lets CPU per request count every request). */
  warmupAnswers: number;
  /** Every measured latency (ms, from the request's start), when the job asked for them. */
  samples?: number[];
}

export interface WalkResult {
  kind: "walk";
  pages: number;
  messages: number;
  elapsedSec: number;
  /** page index → URL (path and query) that fetches it. */
  links: Record<number, string>;
  latency: LatencySummary;
  complete: boolean;
}

/** The state of a connection pool (counters since it was created). */
export interface PoolStats {
  /** Sockets open now. */
  open: number;
  /** `{"type":"ping"}` frames answered with a pong, and WebSocket ping frames received (ws pongs them). */
  jsonPings: number;
  wsPings: number;
  /** Sockets the server closed (or that failed) while pooled, by close code. */
  closedByServer: number;
  closeCodes: Record<string, number>;
}

export interface ConnectResult {
  kind: "connect";
  opened: number;
  failed: number;
  elapsedSec: number;
  /** From starting the handshake to the first frame, ms. */
  readyLatency: LatencySummary;
  errorSamples: string[];
  pool: PoolStats;
}

export interface FanOutResult {
  kind: "fanout";
  members: number;
  /** Measured messages (warm-up excluded). */
  messages: number;
  /** Every member's arrival, ms from the send's start (members × messages samples). */
  arrival: LatencySummary;
  /** Per message: the first and the last member's arrival, and the POST's answer, ms from the send's start. */
  first: LatencySummary;
  last: LatencySummary;
  postAnswer: LatencySummary;
  /** Arrivals that never came within timeoutMs (measured messages only), and failed POSTs. */
  missing: number;
  postErrors: number;
  errorSamples: string[];
  elapsedSec: number;
  /** True when maxSec ran out before every message was sent. */
  truncated: boolean;
  /** Last arrival of each measured message, ms, in send order. */
  lastSamples: number[];
  pool: PoolStats;
}

export interface HoldResult {
  kind: "hold";
  seconds: number;
  pool: PoolStats;
}

export interface ReleaseResult {
  kind: "release";
  closed: number;
  elapsedSec: number;
  pool: PoolStats;
}

export type SocketResult = ConnectResult | FanOutResult | HoldResult | ReleaseResult;

/** Messages from the load generator to the orchestrator. */
export type WorkerMessage =
  | { type: "ready" }
  | { type: "progress"; id: number; done: number; total: number; phase: string }
  | { type: "result"; id: number; result: LoadResult | WalkResult | SocketResult }
  | { type: "error"; id: number; message: string };

/** Messages from the orchestrator to the load generator. */
export type OrchestratorMessage = { type: "job"; id: number; job: Job } | { type: "exit" };
