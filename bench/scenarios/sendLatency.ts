/**
 * 2. Send latency at a fixed offered load: sends start on a fixed schedule (1,000/s; quick 500/s),
 * spread over the N users' own threads, whatever the answers do (open loop), on up to 50 keep-alive
 * connections. The baseline gets the same schedule.
 *
 * Not autocannon's overallRate: it gives each connection a per-second budget that it spends
 * back to back at the start of every second, which measures bursts of 50 concurrent requests
 * rather than a steady rate.
 */
import path from "node:path";
import { TARGETS } from "../lib/settings.js";
import type { Scenario } from "../lib/scenario.js";
import { clientGcText, cpuRow, openJob, pct, ratioOf, runLoad, sendRequests, sendSetup } from "./common.js";
import { round } from "../lib/stats.js";

export const sendLatency: Scenario = {
  id: "send-latency",
  number: 2,
  title: "Send latency at fixed load",
  status: "ready",
  description:
    "Sends start on a fixed schedule (1,000/s, quick 500/s) across the users' own threads, open loop, up to 50 keep-alive connections; p50/p99/p99.9 from each request's start, and from its scheduled start.",
  async run(ctx) {
    const dataDir = path.join(ctx.workDir, "send-latency");
    const parley = await ctx.startParley({ dataDir, label: "send-latency" });
    const baseline = await ctx.startBaseline();
    const setup = await sendSetup(ctx, parley);
    const own = sendRequests(setup, "own");
    const timing = ctx.settings.latency;

    const base = await runLoad(ctx, `baseline, ${timing.rate}/s`, openJob(ctx, { origin: baseline.httpOrigin }, own, 201, timing), baseline.pid);
    const run = await runLoad(ctx, `Parley, ${timing.rate}/s`, openJob(ctx, { origin: parley.httpOrigin }, own, 201, timing), parley.pid);
    const name = `${timing.rate} msg/s offered, own threads, HTTP`;
    const p99 = run.latency.p99;
    return {
      rows: [
        { case: name, metric: "achieved rate", unit: "msg/s", parley: round(run.rps, 0), baseline: round(base.rps, 0) },
        {
          case: name,
          metric: "latency p50 / p99 / p99.9",
          unit: "ms",
          parley: pct(run.latency),
          baseline: pct(base.latency),
          ratio: ratioOf(pct(run.latency), pct(base.latency)),
          target: { text: `p99 ≤ ${TARGETS.sendLatencyP99Ms} ms`, met: p99 <= TARGETS.sendLatencyP99Ms && !run.overloaded },
        },
        {
          case: name,
          metric: "from scheduled start p50 / p99 / p99.9",
          unit: "ms",
          parley: pct(run.latencyFromSchedule!),
          baseline: pct(base.latencyFromSchedule!),
          ratio: ratioOf(pct(run.latencyFromSchedule!), pct(base.latencyFromSchedule!)),
        },
        ...cpuRow(name, run, base),
      ],
      notes: [
        `Open loop: ${timing.durationSec} s at ${timing.rate}/s after ${timing.warmupSec} s warm-up. "From scheduled start" adds the load generator's own timer lag ` +
          `(p99 ${run.startLag!.p99} ms in the Parley run), so it is an upper bound.${run.overloaded ? " Parley could not keep up: the run stopped at the backlog bound." : ""}`,
        `The load generator's own GC while measuring (a pause delays the answers it overlaps): Parley run ${clientGcText(run)}; baseline run ${clientGcText(base)}.`,
      ],
      data: { rate: timing.rate, baseline: base, parley: run },
    };
  },
};
