/**
 * 4. Fan-out: one sender, a thread of N members (10 / 100 / 1,000), every member holding a live
 * `/chat/events` connection in the load generator. The sender (member 0, also in the load generator,
 * so send and receipt share one clock) posts a message, waits until every member has its
 * chatMessageReceived and the POST has its 201, pauses, and sends the next. Measured: each member's
 * arrival, and per message the last member's, from the start of the POST.
 *
 * The baseline is bench/baseline-ws-server.mjs holding the same N sockets: a POST makes it send one
 * prebuilt frame to all of them. Its numbers are also the floor the load generator itself puts under
 * any server: N frames are read and timestamped one after the other on one event loop.
 *
 * Each size gets its own data dir and Parley process, its thread written through the Store: the
 * Chat API refuses more than 250 participants (ACS's documented limit, which Parley enforces), so
 * 1,000 members cannot be set up over HTTP. The rows are those the Chat API would write.
 */
import path from "node:path";
import type { FanOutResult, Target } from "../lib/jobs.js";
import { messagesPath } from "../lib/api.js";
import type { Row, Scenario, ScenarioContext } from "../lib/scenario.js";
import { cpuSeconds } from "../lib/servers.js";
import { TARGETS } from "../lib/settings.js";
import { round } from "../lib/stats.js";
import { pct2, ratioOf } from "./common.js";
import { checkFileLimits, connectPool, issueTokens, releasePool, seedMembersTogether } from "./streams.js";

interface Measured extends FanOutResult {
  /** Server CPU time per message sent (warm-up included), ms. */
  serverCpuMsPerMessage?: number;
  connectSec: number;
}

async function measure(ctx: ScenarioContext, who: string, target: Target, sendPath: string, tokens: string[], pid: number | undefined): Promise<Measured> {
  const { warmup, messages, gapMs, timeoutMs, maxSec } = ctx.settings.fanOut;
  const pool = `fan-out-${who}-${tokens.length}`;
  try {
    const connected = await connectPool(ctx, `${who}: ${tokens.length} members connecting`, pool, target, tokens);
    const step = ctx.progress.step(`${who}: ${tokens.length} members, one message at a time`, warmup + messages, "messages");
    const cpu0 = cpuSeconds(pid);
    const result = await ctx.load.run(
      {
        kind: "fanout",
        pool,
        target,
        send: { path: sendPath, headers: { authorization: `Bearer ${tokens[0]!}` } },
        expectStatus: 201,
        warmup,
        messages,
        gapMs,
        timeoutMs,
        maxSec,
      },
      (done, _total, phase) => step.update(done, phase),
    );
    const cpu1 = cpuSeconds(pid);
    step.finish();
    if (result.postErrors > 0) ctx.log(`${who}, ${tokens.length} members: ${result.postErrors} sends failed: ${result.errorSamples.join("; ")}`);
    if (result.missing > 0) ctx.log(`${who}, ${tokens.length} members: ${result.missing} arrivals missing after ${timeoutMs} ms`);
    if (result.truncated) ctx.log(`${who}, ${tokens.length} members: stopped at the time bound after ${result.messages} measured messages`);
    if (result.messages === 0 || result.arrival.count === 0) throw new Error(`${who}, ${tokens.length} members: nothing arrived (${result.errorSamples.join("; ")})`);
    const sent = warmup + result.messages;
    return {
      ...result,
      connectSec: round(connected.elapsedSec, 2),
      ...(cpu0 !== undefined && cpu1 !== undefined && { serverCpuMsPerMessage: round(((cpu1 - cpu0) * 1000) / sent, 3) }),
    };
  } finally {
    await releasePool(ctx, pool);
  }
}

function rows(size: number, parley: Measured, base: Measured): Row[] {
  const name = `${size.toLocaleString("en-US")} members`;
  const limit = TARGETS.fanOutLastP99Ms[size];
  const row = (metric: string, p: number[], b: number[]): Row => ({ case: name, metric, unit: "ms", parley: p, baseline: b, ratio: ratioOf(p, b) });
  const last = row("last member's arrival p50 / p99", pct2(parley.last), pct2(base.last));
  if (limit !== undefined) last.target = { text: `p99 ≤ ${limit} ms`, met: parley.last.p99 <= limit && parley.missing === 0 };
  return [
    row("arrival at each member p50 / p99", pct2(parley.arrival), pct2(base.arrival)),
    last,
    row("first member's arrival p50 / p99", pct2(parley.first), pct2(base.first)),
    row("POST answered p50 / p99", pct2(parley.postAnswer), pct2(base.postAnswer)),
    ...(parley.serverCpuMsPerMessage !== undefined && base.serverCpuMsPerMessage !== undefined
      ? [
          {
            case: name,
            metric: "server CPU time per message",
            unit: "ms",
            parley: parley.serverCpuMsPerMessage,
            baseline: base.serverCpuMsPerMessage,
            ratio: round(parley.serverCpuMsPerMessage / base.serverCpuMsPerMessage, 3),
          },
        ]
      : []),
  ];
}

export const fanOut: Scenario = {
  id: "fan-out",
  number: 4,
  title: "Fan-out",
  status: "ready",
  description:
    "One sender, threads of 10 / 100 / 1,000 members (quick 10 / 100 / 300) each holding a live /chat/events connection in the load generator; messages sent one at a time (each waits for every receipt); " +
    "send-to-receipt p50/p99 at each member and of the last member per message, against a bare ws server that broadcasts one frame to the same sockets.",
  async run(ctx) {
    const { sizes, warmup, messages, gapMs, maxSec } = ctx.settings.fanOut;
    const baseline = await ctx.startWsBaseline();
    const results: Array<{ members: number; seedSec: number; baseline: Measured; parley: Measured }> = [];
    // A data dir and a server per size, so each size is measured on a database holding only its own
    // users, thread and connections (a 10-member thread does not share a server with 1,000 idle
    // members' sockets). All are seeded before anything is measured.
    const dataDirOf = (size: number) => path.join(ctx.workDir, `fan-out-${size}`);
    const seeds = await seedMembersTogether(ctx, sizes.map((size) => ({ dataDir: dataDirOf(size), users: size, threads: [size] })));
    for (const [i, size] of sizes.entries()) {
      const dataDir = dataDirOf(size);
      const seed = seeds[i]!;
      const parley = await ctx.startParley({ dataDir, label: `fan-out-${size}` });
      checkFileLimits(size, { Parley: parley.pid, "the baseline": baseline.pid, "the load generator": ctx.load.pid });
      const tokens = await issueTokens(ctx, parley, seed.userIds);
      const base = await measure(ctx, "baseline", { origin: baseline.httpOrigin }, "/broadcast", tokens, baseline.pid);
      const run = await measure(ctx, "Parley", { origin: parley.httpOrigin }, messagesPath(seed.threads[0]!.id), tokens, parley.pid);
      await parley.stop();
      results.push({ members: size, seedSec: round(seed.seconds, 2), baseline: base, parley: run });
    }
    const missing = results.filter((r) => r.parley.missing > 0 || r.baseline.missing > 0);
    return {
      rows: results.flatMap((r) => rows(r.members, r.parley, r.baseline)),
      notes: [
        `${messages} messages per thread size after ${warmup} warm-up, one at a time: each waits for all receipts and the 201, then ${gapMs} ms. ` +
          `Times from the start of the POST to the frame's arrival in the load generator (one process, one clock). The sender is member 0 and its own connection counts as a member. ` +
          `Each thread size has its own data dir and server; threads are seeded through the Store (the Chat API caps threads at 250 participants). Target applies to the last member's p99.` +
          results.flatMap((r) => (r.parley.truncated ? [` Parley at ${r.members} members stopped at the ${maxSec} s bound after ${r.parley.messages} measured messages.`] : [])).join("") +
          (missing.length > 0 ? ` Missing arrivals: ${missing.map((r) => `${r.members} members: Parley ${r.parley.missing}, baseline ${r.baseline.missing}`).join("; ")}.` : ""),
      ],
      data: { settings: ctx.settings.fanOut, results },
    };
  },
};
