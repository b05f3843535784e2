/**
 * Every knob of a run, in one object that is recorded with the results. `--quick` picks smaller
 * sizes and shorter runs (the whole run in under a minute); the full run in about 13 minutes.
 */
export interface Settings {
  mode: "quick" | "full";
  /** Users in the send scenarios; each has a thread of its own and all share one thread. */
  users: number;
  /** Keep-alive connections of the load generator. */
  connections: number;
  send: { warmupSec: number; durationSec: number };
  latency: { rate: number; warmupSec: number; durationSec: number };
  history: {
    /** Thread sizes in user messages. */
    sizes: number[];
    pageSize: number;
    /** How many consecutive page links are read at each depth. */
    window: number;
    /** Offered load (pages/s) of the latency runs, and their total length per depth. */
    rate: number;
    warmupSec: number;
    durationSec: number;
    /**
     * The depths of a thread are read in turn, this many times, durationSec / rounds each, and the
     * rounds pooled: slow drifts in background load then hit every depth alike.
     */
    rounds: number;
    /** Length of the saturated (closed-loop) runs per depth; 0 skips them. */
    closedSec: number;
    /** Messages per Promise.all batch when seeding. */
    seedBatch: number;
  };
  startup: { repetitions: number };
  fanOut: {
    /** Thread sizes (members, each with one live event-stream connection; the sender is member 0). */
    sizes: number[];
    /** Messages sent one at a time: each waits for every member's receipt and the POST's answer, then gapMs. */
    warmup: number;
    messages: number;
    gapMs: number;
    /** A member that has not received a message by then counts as missing. */
    timeoutMs: number;
    /** Bound on one size's run (Parley's or the baseline's); a run stopped by it is reported as truncated. */
    maxSec: number;
  };
  idle: {
    /** Connection counts at which memory is read (one user per connection). */
    steps: number[];
    /** Pause after each step before the GC and the reading (lets the server finish its per-connection work). */
    settleMs: number;
    /** Hold at the last step for this long (longer than the 25 s heartbeat: every socket must pong once); 0 skips it. */
    holdSec: number;
  };
  /** The whole run is stopped past this (a bound on everything). */
  maxRunSec: number;
  /** Servers are started with `node --cpu-prof` and their profiles summarised. */
  cpuProf: boolean;
}

export const TARGETS = {
  /** Send throughput, as a share of the baseline's requests per second. */
  sendThroughputRatio: 0.5,
  /** p99 of a send at the fixed offered load, ms. */
  sendLatencyP99Ms: 5,
  /** p99 of one page of history at any depth, ms. */
  pageP99Ms: 5,
  /** p99 at the deepest depth over p99 at the shallowest. */
  pageDepthRatio: 1.5,
  /** p99 of the last member's arrival, send start to receipt, by thread size (members). */
  fanOutLastP99Ms: { 10: 5, 1000: 50 } as Record<number, number>,
  /** Server RSS per idle event-stream connection, KiB. */
  idleKiBPerConnection: 20,
} as const;

export function settingsFor(mode: "quick" | "full", cpuProf: boolean): Settings {
  const quick = mode === "quick";
  return {
    mode,
    users: 50,
    connections: 50,
    send: quick ? { warmupSec: 0.3, durationSec: 1.2 } : { warmupSec: 2, durationSec: 10 },
    latency: quick ? { rate: 500, warmupSec: 0.3, durationSec: 2 } : { rate: 1000, warmupSec: 2, durationSec: 20 },
    history: quick
      ? // 20k rather than 100k: seeding and walking 100k took 11 of the quick run's 67 s.
        { sizes: [1_000, 20_000], pageSize: 50, window: 10, rate: 300, warmupSec: 0.2, durationSec: 1, rounds: 1, closedSec: 0, seedBatch: 10_000 }
      : { sizes: [1_000, 100_000, 1_000_000], pageSize: 50, window: 20, rate: 500, warmupSec: 1, durationSec: 6, rounds: 3, closedSec: 4, seedBatch: 10_000 },
    startup: { repetitions: quick ? 3 : 5 },
    fanOut: quick
      ? // 300 members, not 1,000, to keep the quick run under a minute (1,000 members are seeded and
        // connected twice, for Parley and for the baseline).
        { sizes: [10, 100, 300], warmup: 10, messages: 50, gapMs: 10, timeoutMs: 5000, maxSec: 45 }
      : { sizes: [10, 100, 1000], warmup: 20, messages: 200, gapMs: 10, timeoutMs: 5000, maxSec: 240 },
    idle: quick ? { steps: [250, 500, 1000], settleMs: 300, holdSec: 0 } : { steps: [1000, 5000, 10_000], settleMs: 1000, holdSec: 30 },
    maxRunSec: quick ? 180 : 30 * 60,
    cpuProf,
  };
}
