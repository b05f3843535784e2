/** Pieces several scenarios share. */
import type { ClosedJob, LatencySummary, LoadResult, OpenJob, RequestSpec, Target } from "../lib/jobs.js";
import type { Row, ScenarioContext } from "../lib/scenario.js";
import { cpuSeconds, type ParleyServer } from "../lib/servers.js";
import { createThread, createUser, mapLimit, messagesPath, type BenchUser } from "../lib/api.js";
import { round, summarize } from "../lib/stats.js";
import { combineGcPauses } from "../lib/gcPauses.js";

export interface MeasuredLoad extends LoadResult {
  /** Server CPU time (user + system) per answered request, warm-up included, in µs. */
  serverCpuUsPerRequest?: number;
  /** Server CPU use during the job, in cores (1 = one core busy all the time). */
  serverCores?: number;
  /** Raw numbers behind the two above. */
  serverCpuSec?: number;
  wallSec?: number;
}

/**
 * Runs one load job with a progress bar; refuses results without a single good answer. With the
 * server's pid, also measures the server's CPU time per request: unlike throughput and latency,
 * that hardly moves when other work competes for the machine's cores.
 */
export async function runLoad(ctx: ScenarioContext, name: string, job: ClosedJob | OpenJob, serverPid?: number): Promise<MeasuredLoad> {
  const step = ctx.progress.step(name, job.warmupSec + job.durationSec, "s");
  const cpu0 = cpuSeconds(serverPid);
  const t0 = Date.now();
  const result: MeasuredLoad = await ctx.load.run(job, (done, _total, phase) => step.update(done, phase));
  const cpu1 = cpuSeconds(serverPid);
  if (cpu0 !== undefined && cpu1 !== undefined) {
    result.serverCpuSec = round(cpu1 - cpu0, 2);
    result.wallSec = round((Date.now() - t0) / 1000, 3);
    result.serverCpuUsPerRequest = round(((cpu1 - cpu0) * 1e6) / Math.max(1, result.ok + result.warmupAnswers), 1);
    result.serverCores = round((cpu1 - cpu0) / result.wallSec, 2);
  }
  step.finish();
  if (result.ok === 0) throw new Error(`${name}: no request succeeded (${JSON.stringify(result.statuses)}): ${result.errorSamples.join("; ")}`);
  if (result.errors > 0) ctx.log(`${name}: ${result.errors} unexpected answers/errors (${JSON.stringify(result.statuses)}): ${result.errorSamples.slice(0, 2).join("; ")}`);
  return result;
}

/** Several runs of the same load taken as one (they must have been run with returnSamples). */
export function pool(runs: MeasuredLoad[]): MeasuredLoad {
  const sum = (f: (r: MeasuredLoad) => number) => runs.reduce((n, r) => n + f(r), 0);
  const statuses: Record<string, number> = {};
  for (const r of runs) for (const [k, v] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
  const samples = runs.flatMap((r) => r.samples ?? []);
  const ok = sum((r) => r.ok);
  const elapsedSec = sum((r) => r.elapsedSec);
  const cpuKnown = runs.every((r) => r.serverCpuSec !== undefined);
  const cpu = sum((r) => r.serverCpuSec ?? 0);
  const wall = sum((r) => r.wallSec ?? 0);
  const answered = sum((r) => r.ok + r.warmupAnswers);
  const first = runs[0]!;
  return {
    kind: first.kind,
    ok,
    errors: sum((r) => r.errors),
    statuses,
    elapsedSec: round(elapsedSec, 3),
    rps: ok / elapsedSec,
    latency: summarize(samples),
    ...(runs.every((r) => r.startLag) && { startLag: { ...first.startLag!, p99: Math.max(...runs.map((r) => r.startLag!.p99)) } }),
    ...(first.offeredRate !== undefined && { offeredRate: first.offeredRate }),
    overloaded: runs.some((r) => r.overloaded),
    ...(runs.every((r) => r.clientGc) && { clientGc: combineGcPauses(runs.map((r) => r.clientGc!)) }),
    errorSamples: runs.flatMap((r) => r.errorSamples).slice(0, 5),
    warmupAnswers: sum((r) => r.warmupAnswers),
    ...(cpuKnown && { serverCpuSec: round(cpu, 2), wallSec: round(wall, 3), serverCpuUsPerRequest: round((cpu * 1e6) / Math.max(1, answered), 1), serverCores: round(cpu / wall, 2) }),
  };
}

export function closedJob(ctx: ScenarioContext, target: Target, requests: RequestSpec[], expectStatus: number, timing = ctx.settings.send): ClosedJob {
  return {
    kind: "closed",
    target,
    requests,
    assign: "sticky",
    connections: ctx.settings.connections,
    warmupSec: timing.warmupSec,
    durationSec: timing.durationSec,
    expectStatus,
    maxRequests: 10_000_000,
  };
}

export function openJob(
  ctx: ScenarioContext,
  target: Target,
  requests: RequestSpec[],
  expectStatus: number,
  timing: { rate: number; warmupSec: number; durationSec: number },
): OpenJob {
  return {
    kind: "open",
    target,
    requests,
    assign: "rotate",
    connections: ctx.settings.connections,
    rate: timing.rate,
    warmupSec: timing.warmupSec,
    durationSec: timing.durationSec,
    expectStatus,
    maxRequests: Math.ceil(timing.rate * timing.durationSec) + 1,
  };
}

/** The load generator's GC during an open-loop run, for a note: "12 pauses (1 full), max 3.1 ms". */
export function clientGcText(run: MeasuredLoad): string {
  const gc = run.clientGc;
  if (!gc) return "not recorded";
  return `${gc.count} pauses (${gc.major} full), max ${gc.maxMs.toFixed(1)} ms, ${gc.totalMs.toFixed(0)} ms in all`;
}

export const pct = (l: LatencySummary) => [l.p50, l.p99, l.p999];
export const pct2 = (l: LatencySummary) => [l.p50, l.p99];

export function ratioOf(a: number | number[], b: number | number[]): number | number[] {
  if (Array.isArray(a) && Array.isArray(b)) return a.map((x, i) => round(x / b[i]!, 3));
  return round((a as number) / (b as number), 3);
}

/** Server CPU time per request, when both were measured. */
export function cpuRow(name: string, parley: MeasuredLoad, baseline: MeasuredLoad): Row[] {
  if (parley.serverCpuUsPerRequest === undefined || baseline.serverCpuUsPerRequest === undefined) return [];
  return [
    {
      case: name,
      metric: "server CPU time per request",
      unit: "µs",
      parley: parley.serverCpuUsPerRequest,
      baseline: baseline.serverCpuUsPerRequest,
      ratio: round(parley.serverCpuUsPerRequest / baseline.serverCpuUsPerRequest, 3),
    },
  ];
}

/** Throughput row plus latency row (and CPU per request) for a closed-loop run against its baseline. */
export function throughputRows(name: string, parley: MeasuredLoad, baseline: MeasuredLoad, minRatio?: number): Row[] {
  const r = round(parley.rps / baseline.rps, 3);
  return [
    {
      case: name,
      metric: "throughput",
      unit: "req/s",
      parley: round(parley.rps, 0),
      baseline: round(baseline.rps, 0),
      ratio: r,
      ...(minRatio !== undefined && { target: { text: `ratio ≥ ${minRatio}`, met: r >= minRatio } }),
    },
    { case: name, metric: "latency p50 / p99 / p99.9", unit: "ms", parley: pct(parley.latency), baseline: pct(baseline.latency), ratio: ratioOf(pct(parley.latency), pct(baseline.latency)) },
    ...cpuRow(name, parley, baseline),
  ];
}

export interface SendSetup {
  users: BenchUser[];
  ownThreads: string[];
  sharedThread: string;
}

/** N users through the Identity API; each creates a thread of its own; user 0 creates one with everyone. */
export async function sendSetup(ctx: ScenarioContext, parley: ParleyServer): Promise<SendSetup> {
  const n = ctx.settings.users;
  const step = ctx.progress.step("creating users and threads over HTTP", 2 * n + 1, "calls");
  let calls = 0;
  const tick = () => step.update(++calls);
  const users = await mapLimit(Array.from({ length: n }), 8, async () => {
    const u = await createUser(parley.httpOrigin, parley.accessKey);
    tick();
    return u;
  });
  const ownThreads = await mapLimit(users, 8, async (u, i) => {
    const id = await createThread(parley.httpOrigin, u, `own thread ${i}`, [u.id]);
    tick();
    return id;
  });
  const sharedThread = await createThread(
    parley.httpOrigin,
    users[0]!,
    "shared thread",
    users.map((u) => u.id),
  );
  tick();
  step.finish();
  return { users, ownThreads, sharedThread };
}

export const SEND_BODY = JSON.stringify({ content: "Hello from the Parley benchmark", senderDisplayName: "Bench", type: "text" });

export function sendRequests(setup: SendSetup, into: "own" | "shared"): RequestSpec[] {
  return setup.users.map((u, i) => ({
    method: "POST" as const,
    path: messagesPath(into === "own" ? setup.ownThreads[i]! : setup.sharedThread),
    headers: { authorization: `Bearer ${u.token}`, "content-type": "application/json" },
    body: SEND_BODY,
  }));
}
