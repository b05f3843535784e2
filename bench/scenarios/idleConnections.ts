/**
 * 5. Idle connections: server memory per idle, authenticated `/chat/events` connection. Users are
 * written through the Store, their tokens issued over HTTP; the load generator then opens one
 * connection per user (each user's only one: the worst case for per-user bookkeeping) in steps
 * (10k: 1k, 5k, 10k; quick 1k: 250, 500, 1k) and holds them, answering heartbeats.
 *
 * Memory is read with bench/memory-probe.cjs preloaded into the server: on a signal it runs a full
 * GC and reports process.memoryUsage(), so each reading is taken after a GC, not at a random point
 * of the heap's sawtooth. The full run then holds the last step past one 25 s heartbeat round (every
 * socket must answer, none may be dropped) and reads again.
 *
 * The baseline is bench/baseline-ws-server.mjs (bare `ws`, same preload) holding the same number
 * of sockets, each of which it greets and heartbeats the same way.
 */
import path from "node:path";
import type { HoldResult, Target } from "../lib/jobs.js";
import type { Row, Scenario, ScenarioContext } from "../lib/scenario.js";
import { memoryProbe, probeMemory, sleep, type MemoryProbe, type MemoryReading } from "../lib/servers.js";
import { TARGETS } from "../lib/settings.js";
import { round } from "../lib/stats.js";
import { checkFileLimits, connectPool, issueTokens, releasePool, seedMembers } from "./streams.js";

interface Reading {
  connections: number;
  memory: MemoryReading;
  /** Handshakes per second of the step that led here. */
  connectPerSec?: number;
}

interface Climb {
  readings: Reading[];
  /** The reading after holding the last step through a heartbeat round. */
  afterHold?: Reading;
  hold?: HoldResult;
}

/** Reads memory after a settle delay and a GC (twice: the second GC finds what the first freed). */
async function read(ctx: ScenarioContext, pid: number | undefined, probe: MemoryProbe): Promise<MemoryReading> {
  await sleep(ctx.settings.idle.settleMs);
  await probeMemory(pid, probe);
  return probeMemory(pid, probe);
}

async function climb(ctx: ScenarioContext, who: string, target: Target, tokens: string[], pid: number | undefined, probe: MemoryProbe): Promise<Climb> {
  const { steps, holdSec } = ctx.settings.idle;
  const pool = `idle-${who}`;
  const readings: Reading[] = [{ connections: 0, memory: await read(ctx, pid, probe) }];
  try {
    let open = 0;
    for (const step of steps) {
      const connected = await connectPool(ctx, `${who}: connections ${open.toLocaleString("en-US")} → ${step.toLocaleString("en-US")}`, pool, target, tokens.slice(open, step));
      open = step;
      readings.push({ connections: step, memory: await read(ctx, pid, probe), connectPerSec: round(connected.opened / connected.elapsedSec, 0) });
    }
    if (holdSec <= 0) return { readings };
    const bar = ctx.progress.step(`${who}: holding ${open.toLocaleString("en-US")} connections through a heartbeat round`, holdSec, "s");
    const hold = await ctx.load.run({ kind: "hold", pool, seconds: holdSec }, (done) => bar.update(done));
    bar.finish();
    return { readings, hold, afterHold: { connections: open, memory: await read(ctx, pid, probe) } };
  } finally {
    await releasePool(ctx, pool);
  }
}

const MiB = 1024 * 1024;
const perConnKiB = (r: Reading, zero: Reading, field: keyof MemoryReading = "rss") => round((r.memory[field] - zero.memory[field]) / 1024 / r.connections, 2);

function rows(parley: Climb, base: Climb): Row[] {
  const out: Row[] = [];
  const [p0, b0] = [parley.readings[0]!, base.readings[0]!];
  out.push({ case: "0 connections", metric: "RSS after GC", unit: "MiB", parley: round(p0.memory.rss / MiB, 1), baseline: round(b0.memory.rss / MiB, 1) });
  const last = parley.readings.length - 1;
  parley.readings.forEach((p, i) => {
    if (i === 0) return;
    const b = base.readings[i]!;
    const name = `${p.connections.toLocaleString("en-US")} connections`;
    const kib = perConnKiB(p, p0);
    const bKib = perConnKiB(b, b0);
    out.push({ case: name, metric: "RSS after GC", unit: "MiB", parley: round(p.memory.rss / MiB, 1), baseline: round(b.memory.rss / MiB, 1) });
    out.push({
      case: name,
      metric: "RSS per connection (over 0)",
      unit: "KiB",
      parley: kib,
      baseline: bKib,
      ratio: round(kib / bKib, 2),
      ...(i === last && { target: { text: `≤ ${TARGETS.idleKiBPerConnection} KiB`, met: kib <= TARGETS.idleKiBPerConnection } }),
    });
    if (i === last) {
      const heap = perConnKiB(p, p0, "heapUsed");
      const bHeap = perConnKiB(b, b0, "heapUsed");
      out.push({ case: name, metric: "JS heap used per connection", unit: "KiB", parley: heap, baseline: bHeap, ratio: round(heap / bHeap, 2) });
      out.push({ case: name, metric: "connection set-up rate, last step", unit: "conn/s", parley: p.connectPerSec ?? NaN, baseline: b.connectPerSec ?? NaN });
    }
  });
  if (parley.afterHold && base.afterHold) {
    const name = `${parley.afterHold.connections.toLocaleString("en-US")} connections, after a heartbeat round`;
    const kib = perConnKiB(parley.afterHold, p0);
    const bKib = perConnKiB(base.afterHold, b0);
    out.push({ case: name, metric: "RSS per connection (over 0)", unit: "KiB", parley: kib, baseline: bKib, ratio: round(kib / bKib, 2) });
  }
  return out;
}

function heartbeatNote(who: string, c: Climb): string {
  if (!c.hold) return `${who}: not held through a heartbeat (quick run).`;
  const s = c.hold.pool;
  return `${who}: ${s.open.toLocaleString("en-US")} open after ${c.hold.seconds} s, ${s.jsonPings.toLocaleString("en-US")} JSON pings answered, ${s.wsPings.toLocaleString("en-US")} ping frames, ${s.closedByServer} closed by the server${s.closedByServer > 0 ? ` (${JSON.stringify(s.closeCodes)})` : ""}.`;
}

export const idleConnections: Scenario = {
  id: "idle-connections",
  number: 5,
  title: "Idle connections",
  status: "ready",
  description:
    "Server memory per idle authenticated /chat/events connection: one user per connection, opened in steps (1k, 5k, 10k; quick 250, 500, 1k) by the load generator, heartbeats answered; " +
    "RSS after a forced GC at 0 and at each step, KiB per connection, held through a heartbeat round in the full run; against a bare ws server holding as many sockets.",
  async run(ctx) {
    const { steps, holdSec } = ctx.settings.idle;
    const most = Math.max(...steps);
    const dataDir = path.join(ctx.workDir, "idle-connections");
    const seed = await seedMembers(ctx, dataDir, most, []);
    const parleyProbe = memoryProbe(path.join(ctx.workDir, "idle-parley-memory.json"));
    const baselineProbe = memoryProbe(path.join(ctx.workDir, "idle-baseline-memory.json"));
    const parley = await ctx.startParley({ dataDir, label: "idle-connections", memoryProbe: parleyProbe });
    const baseline = await ctx.startWsBaseline({ memoryProbe: baselineProbe });
    checkFileLimits(most, { Parley: parley.pid, "the baseline": baseline.pid, "the load generator": ctx.load.pid });
    const tokens = await issueTokens(ctx, parley, seed.userIds);

    const base = await climb(ctx, "baseline", { origin: baseline.httpOrigin }, tokens, baseline.pid, baselineProbe);
    const run = await climb(ctx, "Parley", { origin: parley.httpOrigin }, tokens, parley.pid, parleyProbe);
    const dropped = (run.hold?.pool.closedByServer ?? 0) + (base.hold?.pool.closedByServer ?? 0);
    return {
      rows: rows(run, base),
      notes: [
        `One user per connection, ${most.toLocaleString("en-US")} users seeded through the Store, tokens issued over HTTP before the 0 reading. ` +
          `Each reading: ${ctx.settings.idle.settleMs} ms settle, then two full GCs in the server (node --expose-gc, bench/memory-probe.cjs on SIGUSR2), then process.memoryUsage(). ` +
          (holdSec > 0 ? `Held ${holdSec} s at the last step (heartbeat every 25 s). ` : "") +
          `${heartbeatNote("Parley", run)} ${heartbeatNote("Baseline", base)}` +
          (dropped > 0 ? " Connections were dropped during the hold: heartbeats failed somewhere." : ""),
      ],
      data: { settings: ctx.settings.idle, parley: run, baseline: base },
    };
  },
};
