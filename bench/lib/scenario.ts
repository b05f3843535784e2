/**
 * What a scenario is, and what the runner gives it. Add a scenario by writing a module that exports
 * a `Scenario` and listing it in scenarios/index.ts; the runner does the rest (progress, baseline
 * and server processes cleaned up, results in latest.json and the Markdown table).
 */
import type { LoadGenerator } from "./load.js";
import type { Progress } from "./progress.js";
import type { BaselineServer, MemoryProbe, ParleyServer } from "./servers.js";
import type { Settings } from "./settings.js";

/** A cell value: one number, or several shown as "a / b / c" (e.g. p50 / p99 / p99.9). */
export type Value = number | number[];

export interface Row {
  /** e.g. "own threads, HTTP". */
  case: string;
  metric: string;
  unit: string;
  parley: Value;
  baseline?: Value;
  /** parley / baseline (element-wise); for throughput higher is better, for latency lower is. */
  ratio?: Value;
  target?: { text: string; met: boolean };
}

export interface ScenarioOutcome {
  rows: Row[];
  /** Everything measured, for latest.json. */
  data: unknown;
  notes?: string[];
}

export interface ScenarioContext {
  settings: Settings;
  progress: Progress;
  /** The load generator process (separate from every server). */
  load: LoadGenerator;
  /** The run's scratch directory (removed after the run unless --keep); each scenario makes its own subdirectory. */
  workDir: string;
  /**
   * Starts Parley's CLI on a data dir (SQLite, production settings, 127.0.0.1, ports chosen freely
   * unless given). Stopped by the runner when the scenario ends, if the scenario did not stop it.
   * With --cpu-prof the server writes a CPU profile, labelled with `label`, when it stops. With
   * `memoryProbe`, servers/probeMemory() can ask it for a GC and its memory.
   */
  startParley(options: { dataDir: string; label: string; httpPort?: number; memoryProbe?: MemoryProbe }): Promise<ParleyServer>;
  /** Starts the bare node:http baseline; with `tls`, also HTTPS with that certificate. */
  startBaseline(tls?: { certPath: string; keyPath: string }): Promise<BaselineServer>;
  /** Starts the bare `ws` baseline of the real-time scenarios (bench/baseline-ws-server.mjs). */
  startWsBaseline(options?: { memoryProbe?: MemoryProbe }): Promise<BaselineServer>;
  /** Where a CPU profile labelled `label` goes (with --cpu-prof), else undefined. */
  cpuProfDir(label: string): string | undefined;
  /** Data shared by scenarios (e.g. a seeded data dir), made once per run by the first that asks. */
  fixture<T>(name: string, make: () => Promise<T>): Promise<T>;
  log(message: string): void;
}

export interface Scenario {
  /** Stable id, used by `--only`. */
  id: string;
  /** The number issue #7 gives it. */
  number: number;
  title: string;
  /** One paragraph: what is measured and how (also printed by `--list`). */
  description: string;
  /** planned: listed and reported as not yet run (needs something not built yet). */
  status: "ready" | "planned";
  /** Why a planned scenario cannot run yet. */
  blockedBy?: string;
  run?(ctx: ScenarioContext): Promise<ScenarioOutcome>;
}
