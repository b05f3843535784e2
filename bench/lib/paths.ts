import path from "node:path";
import { fileURLToPath } from "node:url";

export const BENCH_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const ROOT = path.resolve(BENCH_DIR, "..");
export const RESULTS_DIR = path.join(BENCH_DIR, "results");
export const CLI_BIN = path.join(ROOT, "packages", "cli", "dist", "bin.js");
export const BASELINE_SERVER = path.join(BENCH_DIR, "baseline-server.mjs");
export const BASELINE_WS_SERVER = path.join(BENCH_DIR, "baseline-ws-server.mjs");
export const MEMORY_PROBE = path.join(BENCH_DIR, "memory-probe.cjs");
