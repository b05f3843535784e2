/**
 * Every knob of a run, in one object that is recorded with the results. `--quick` picks smaller
 * sizes and shorter runs (the whole run under 60 s); the full run stays under 15 minutes.
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
      ? { sizes: [1_000, 100_000], pageSize: 50, window: 10, rate: 300, warmupSec: 0.2, durationSec: 1, rounds: 1, closedSec: 0, seedBatch: 10_000 }
      : { sizes: [1_000, 100_000, 1_000_000], pageSize: 50, window: 20, rate: 500, warmupSec: 1, durationSec: 6, rounds: 3, closedSec: 4, seedBatch: 10_000 },
    startup: { repetitions: quick ? 3 : 5 },
    maxRunSec: quick ? 180 : 30 * 60,
    cpuProf,
  };
}
