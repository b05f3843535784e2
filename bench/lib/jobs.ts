/**
 * What the orchestrator (bench/run.ts) asks the load-generator process (bench/loadgen.ts) to do, and
 * what comes back. Everything here crosses a process boundary as JSON.
 */

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

export type Job = ClosedJob | OpenJob | WalkJob;

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

/** Messages from the load generator to the orchestrator. */
export type WorkerMessage =
  | { type: "ready" }
  | { type: "progress"; id: number; done: number; total: number; phase: string }
  | { type: "result"; id: number; result: LoadResult | WalkResult }
  | { type: "error"; id: number; message: string };

/** Messages from the orchestrator to the load generator. */
export type OrchestratorMessage = { type: "job"; id: number; job: Job } | { type: "exit" };
