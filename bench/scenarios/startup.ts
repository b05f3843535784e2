/**
 * 6. Start-up: wall time from spawning the process to the first 200 from GET /healthz, for Parley's
 * CLI on the seeded data dir (1M+ messages; quick 20k+), on an initialised but empty data dir, and
 * for the baseline (`node bench/baseline-server.mjs`: what starting Node and listening costs).
 * The three alternate, `repetitions` times each; the files are warm in the OS cache.
 */
import { spawn, type ChildProcess } from "node:child_process";
import http from "node:http";
import path from "node:path";
import { performance } from "node:perf_hooks";
import type { Row, Scenario, ScenarioContext } from "../lib/scenario.js";
import { BASELINE_SERVER } from "../lib/paths.js";
import { freePort, parleyArgs, rssBytes, sleep } from "../lib/servers.js";
import { median, round, summarize } from "../lib/stats.js";
import { historyFixture } from "./historyFixture.js";

function healthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: "127.0.0.1", port, path: "/healthz", agent: false, timeout: 1000 }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode === 200));
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** Spawns `node <args(port)>`, polls /healthz every 2 ms (at most 120 s), stops it; returns ms to the first 200 and the RSS then. */
async function timeToHealthy(args: (port: number) => string[]): Promise<{ ms: number; rssBytes?: number }> {
  const port = await freePort();
  const full = args(port);
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith("PARLEY_")) delete env[key];
  delete env.NODE_OPTIONS;
  const t0 = performance.now();
  const child = spawn(process.execPath, full, { env, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr = (stderr + c).slice(-2000)));
  try {
    const deadline = t0 + 120_000;
    while (performance.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode} before answering: ${stderr}`);
      if (await healthy(port)) {
        const ms = performance.now() - t0;
        const rss = rssBytes(child.pid);
        return { ms, ...(rss !== undefined && { rssBytes: rss }) };
      }
      await sleep(2);
    }
    throw new Error("no 200 from /healthz within 120 s");
  } finally {
    await stop(child);
  }
}

async function measure(ctx: ScenarioContext, variants: Array<{ name: string; args: (port: number) => string[] }>) {
  const reps = ctx.settings.startup.repetitions;
  const step = ctx.progress.step("starting processes until /healthz answers", reps * variants.length, "starts");
  const times: Record<string, number[]> = {};
  const rss: Record<string, number[]> = {};
  let n = 0;
  for (let r = 0; r < reps; r++) {
    for (const v of variants) {
      const t = await timeToHealthy(v.args);
      (times[v.name] ??= []).push(round(t.ms, 1));
      if (t.rssBytes !== undefined) (rss[v.name] ??= []).push(t.rssBytes);
      step.update(++n, v.name);
    }
  }
  step.finish();
  return { times, rss };
}

export const startup: Scenario = {
  id: "startup",
  number: 6,
  title: "Start-up",
  status: "ready",
  description:
    "Time from process start to the first 200 on /healthz: Parley's CLI on the seeded data dir (1M+ messages, quick 20k+), on an empty initialised data dir, and the bare node:http baseline; repeated and alternated.",
  async run(ctx) {
    const fixture = await historyFixture(ctx);
    const emptyDir = path.join(ctx.workDir, "startup-empty");
    // One start of each data dir before timing: the empty one gets its secrets, CA, certificate and
    // schema; the seeded one (fresh when this scenario runs alone) its certificate and webhook cursor.
    // Only steady-state starts are timed.
    for (const dataDir of [emptyDir, fixture.dataDir]) {
      const first = await ctx.startParley({ dataDir, label: "startup-init" });
      await first.stop();
    }

    const variants = [
      { name: "baseline", args: (port: number) => [BASELINE_SERVER, "--host", "127.0.0.1", "--http-port", String(port)] },
      { name: "empty", args: (port: number) => parleyArgs({ dataDir: emptyDir, httpPort: port, ...optProf(ctx, "startup-empty") }) },
      { name: "seeded", args: (port: number) => parleyArgs({ dataDir: fixture.dataDir, httpPort: port, ...optProf(ctx, "startup-seeded") }) },
    ];
    const { times, rss } = await measure(ctx, variants);
    const base = median(times.baseline!);
    const rows: Row[] = [];
    const size = fixture.totalMessages.toLocaleString("en-US");
    for (const [name, label] of [
      ["seeded", `data dir with ${size} messages`],
      ["empty", "empty data dir"],
    ] as const) {
      const m = median(times[name]!);
      rows.push({ case: label, metric: "to first 200 on /healthz, median (min–max)", unit: "ms", parley: [m, Math.min(...times[name]!), Math.max(...times[name]!)], baseline: [base, Math.min(...times.baseline!), Math.max(...times.baseline!)], ratio: round(m / base, 2) });
      if (rss[name]) rows.push({ case: label, metric: "RSS when first healthy, median", unit: "MiB", parley: round(median(rss[name]!) / 2 ** 20, 1), ...(rss.baseline && { baseline: round(median(rss.baseline) / 2 ** 20, 1) }) });
    }
    return {
      rows,
      notes: [`${ctx.settings.startup.repetitions} starts of each, alternating; /healthz polled every 2 ms on a fresh connection; warm OS file cache.`],
      data: { messages: fixture.totalMessages, times, rssBytes: rss, summary: Object.fromEntries(Object.entries(times).map(([k, v]) => [k, summarize(v)])) },
    };
  },
};

function optProf(ctx: ScenarioContext, label: string): { cpuProfDir?: string } {
  const dir = ctx.cpuProfDir(label);
  return dir ? { cpuProfDir: dir } : {};
}
