/** What a result is only meaningful with: the machine, the software and the commit it ran on. */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import { createRequire } from "node:module";
import { ROOT } from "./paths.js";

export interface MachineInfo {
  cpuModel: string;
  logicalCores: number;
  /** Cores this process may run on (cgroup/affinity limits included). */
  availableCores: number;
  cpuMHz: number;
  memoryGiB: number;
  platform: string;
  kernel: string;
  arch: string;
  node: string;
  v8: string;
  sqlite: string;
  /** 1/5/15-minute load averages when the run started: other work on the machine skews results. */
  loadAverageAtStart: number[];
  loadAverageAtEnd?: number[];
  /** Linux PSI: % of the last 10 s/60 s in which some runnable task waited for a CPU. */
  cpuPressureAtStart?: number[];
  cpuPressureAtEnd?: number[];
}

/** `some avg10` and `avg60` from /proc/pressure/cpu, when the kernel has it. */
export function cpuPressure(): number[] | undefined {
  try {
    const line = readFileSync("/proc/pressure/cpu", "utf8").split("\n").find((l) => l.startsWith("some"));
    const m = line && /avg10=([\d.]+) avg60=([\d.]+)/.exec(line);
    return m ? [Number(m[1]), Number(m[2])] : undefined;
  } catch {
    return undefined;
  }
}

export interface GitInfo {
  commit: string;
  branch: string;
  /** Files with uncommitted changes when the run started (the numbers may not match the commit). */
  dirtyFiles: number;
  subject: string;
}

function sqliteVersion(): string {
  try {
    const require = createRequire(import.meta.url);
    const Database = require(require.resolve("better-sqlite3", { paths: [`${ROOT}/packages/server`] })) as new (p: string) => {
      prepare(s: string): { pluck(): { get(): string } };
      close(): void;
    };
    const db = new Database(":memory:");
    const version = db.prepare("select sqlite_version()").pluck().get();
    db.close();
    return version;
  } catch {
    return "unknown";
  }
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    logicalCores: cpus.length,
    availableCores: os.availableParallelism(),
    cpuMHz: cpus[0]?.speed ?? 0,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: os.platform(),
    kernel: os.release(),
    arch: os.arch(),
    node: process.version,
    v8: process.versions.v8,
    sqlite: sqliteVersion(),
    loadAverageAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
    ...(cpuPressure() && { cpuPressureAtStart: cpuPressure() }),
  };
}

function git(args: string[]): string {
  try {
    return execFileSync("git", args, { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "";
  }
}

export function gitInfo(): GitInfo {
  const status = git(["status", "--porcelain"]);
  return {
    commit: git(["rev-parse", "HEAD"]) || "unknown",
    branch: git(["rev-parse", "--abbrev-ref", "HEAD"]) || "unknown",
    dirtyFiles: status ? status.split("\n").length : 0,
    subject: git(["log", "-1", "--format=%s"]).slice(0, 120),
  };
}
