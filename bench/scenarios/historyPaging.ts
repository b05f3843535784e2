/**
 * 3. History paging depth: threads of 1k, 100k and 1M messages (quick: 1k and 20k), seeded through
 * the Store. Each is walked once from the newest page to the oldest by following nextLink (pages of
 * 50, as a client reads), keeping the links of a window of consecutive pages at three depths: the
 * newest pages, the middle and the oldest full pages. Each window is then read at a fixed offered
 * load (open loop; latency) and, in the full run, as fast as possible (closed loop; pages/s).
 */
import type { RequestSpec, WalkResult } from "../lib/jobs.js";
import { issueToken, messagesPath } from "../lib/api.js";
import { TARGETS } from "../lib/settings.js";
import type { Row, Scenario } from "../lib/scenario.js";
import { round } from "../lib/stats.js";
import { historyFixture, sizeName } from "./historyFixture.js";
import { clientGcText, closedJob, cpuRow, openJob, pct2, pool, ratioOf, runLoad, type MeasuredLoad } from "./common.js";

interface DepthResult {
  thread: string;
  messages: number;
  depth: "newest" | "middle" | "oldest";
  firstPage: number;
  /** Messages newer than the window's first page. */
  depthMessages: number;
  latency: MeasuredLoad;
  saturated?: MeasuredLoad;
}

export const historyPaging: Scenario = {
  id: "history-paging",
  number: 3,
  title: "History paging depth",
  status: "ready",
  description:
    "Threads of 1k/100k/1M messages (quick: 1k/20k) seeded through the Store; nextLinks gathered by walking each thread; pages of 50 read at the newest, middle and oldest depths at a fixed rate (p50/p99) and, full run, saturated (pages/s).",
  async run(ctx) {
    const s = ctx.settings.history;
    const fixture = await historyFixture(ctx);
    const parley = await ctx.startParley({ dataDir: fixture.dataDir, label: "history-paging" });
    const baseline = await ctx.startBaseline();
    const token = await issueToken(parley.httpOrigin, parley.accessKey, fixture.seed.readerId);
    const headers = { authorization: `Bearer ${token}` };
    const target = { origin: parley.httpOrigin };
    const get = (p: string): RequestSpec => ({ method: "GET", path: p, headers });

    const results: DepthResult[] = [];
    const walks: Record<string, Omit<WalkResult, "links">> = {};
    let baselineLinks: string[] = [];
    for (const thread of fixture.seed.threads) {
      const total = thread.messages + 2; // + the two system messages of the thread's creation
      const pages = Math.ceil(total / s.pageSize);
      const fullPages = Math.floor(total / s.pageSize);
      // Three windows that do not overlap (small threads get smaller windows).
      const k = Math.max(1, Math.min(s.window, Math.floor(fullPages / 3)));
      const windows = {
        newest: 0,
        middle: Math.max(0, Math.floor(fullPages / 2) - Math.floor(k / 2)),
        oldest: Math.max(0, fullPages - k),
      };
      const keep = Object.values(windows).flatMap((first) => Array.from({ length: k }, (_, i) => first + i));

      const step = ctx.progress.step(`walking thread ${thread.name} (${pages.toLocaleString("en-US")} pages of ${s.pageSize})`, pages, "pages");
      const walk = await ctx.load.run(
        { kind: "walk", target, start: get(messagesPath(thread.id, `&maxPageSize=${s.pageSize}`)), keep, maxPages: pages + 1, maxSec: 600 },
        (done) => step.update(done),
      );
      step.finish();
      if (!walk.complete || walk.messages !== total) throw new Error(`walking thread ${thread.name}: ${walk.pages} pages, ${walk.messages} of ${total} messages`);
      const { links, ...walkSummary } = walk;
      walks[thread.name] = walkSummary;

      // Latency: the three depths in turn, `rounds` times, pooled per depth.
      const depths = Object.entries(windows) as Array<[DepthResult["depth"], number]>;
      const requestsAt = (first: number) => Array.from({ length: k }, (_, i) => get(links[first + i]!));
      const segments = new Map<DepthResult["depth"], MeasuredLoad[]>();
      for (let round = 0; round < s.rounds; round++) {
        for (const [depth, first] of depths) {
          const timing = { rate: s.rate, warmupSec: round === 0 ? s.warmupSec : 0, durationSec: s.durationSec / s.rounds };
          const label = `thread ${thread.name}, ${depth} pages, ${s.rate} pages/s${s.rounds > 1 ? `, round ${round + 1}/${s.rounds}` : ""}`;
          const run = await runLoad(ctx, label, { ...openJob(ctx, target, requestsAt(first), 200, timing), returnSamples: true }, parley.pid);
          segments.set(depth, [...(segments.get(depth) ?? []), run]);
        }
      }
      for (const [depth, first] of depths) {
        const requests = requestsAt(first);
        const saturated =
          s.closedSec > 0
            ? await runLoad(ctx, `thread ${thread.name}, ${depth} pages, saturated`, { ...closedJob(ctx, target, requests, 200, { warmupSec: 0.5, durationSec: s.closedSec }), assign: "rotate" }, parley.pid)
            : undefined;
        const { samples: _samples, ...latency } = pool(segments.get(depth)!);
        results.push({ thread: thread.name, messages: thread.messages, depth, firstPage: first, depthMessages: first * s.pageSize, latency, ...(saturated && { saturated }) });
        if (depth === "oldest") baselineLinks = requests.map((r) => r.path);
      }
    }

    // The baseline answers the same GETs (the deepest window of the biggest thread).
    const baseRequests = baselineLinks.map(get);
    const baseTarget = { origin: baseline.httpOrigin };
    const baseLatency = await runLoad(ctx, `baseline, ${s.rate} pages/s`, openJob(ctx, baseTarget, baseRequests, 200, s), baseline.pid);
    const baseSaturated =
      s.closedSec > 0 ? await runLoad(ctx, "baseline, saturated", { ...closedJob(ctx, baseTarget, baseRequests, 200, { warmupSec: 0.5, durationSec: s.closedSec }), assign: "rotate" }, baseline.pid) : undefined;

    const rows: Row[] = [];
    for (const r of results) {
      const name = `${r.thread} thread, ${r.depth} (depth ${r.depthMessages.toLocaleString("en-US")})`;
      rows.push({
        case: name,
        metric: `page of ${s.pageSize} at ${s.rate}/s, p50 / p99`,
        unit: "ms",
        parley: pct2(r.latency.latency),
        baseline: pct2(baseLatency.latency),
        ratio: ratioOf(pct2(r.latency.latency), pct2(baseLatency.latency)),
        target: { text: `p99 ≤ ${TARGETS.pageP99Ms} ms`, met: r.latency.latency.p99 <= TARGETS.pageP99Ms },
      });
      if (r.saturated && baseSaturated) {
        rows.push({ case: name, metric: "saturated throughput", unit: "pages/s", parley: round(r.saturated.rps, 0), baseline: round(baseSaturated.rps, 0), ratio: round(r.saturated.rps / baseSaturated.rps, 3) });
      }
      rows.push(...cpuRow(name, r.latency, baseLatency));
    }
    const biggest = fixture.seed.threads.at(-1)!.name;
    const shallow = results.find((r) => r.thread === biggest && r.depth === "newest")!;
    const deep = results.find((r) => r.thread === biggest && r.depth === "oldest")!;
    const depthRatio = ratioOf(pct2(deep.latency.latency), pct2(shallow.latency.latency)) as number[];
    rows.push({
      case: `${biggest} thread, oldest / newest pages`,
      metric: "deepest / shallowest p50 / p99",
      unit: "×",
      parley: depthRatio,
      target: { text: `p99 ratio ≤ ${TARGETS.pageDepthRatio}`, met: depthRatio[1]! <= TARGETS.pageDepthRatio },
    });
    for (const [name, w] of Object.entries(walks)) {
      rows.push({ case: `${name} thread, whole walk (one connection)`, metric: "page p50 / p99", unit: "ms", parley: pct2(w.latency) });
    }

    return {
      rows,
      notes: [
        `${fixture.totalMessages.toLocaleString("en-US")} messages seeded in ${fixture.seed.seconds.toFixed(1)} s (${Math.round(fixture.seed.messagesPerSec).toLocaleString("en-US")}/s through Store.sendMessage, batches of ${s.seedBatch}).`,
        `Each depth reads a window of up to ${s.window} consecutive pages (links from the walk; a third of the pages for small threads) at ${s.rate} pages/s, open loop, for ${s.durationSec} s in all` +
          `${s.rounds > 1 ? ` (${s.rounds} rounds taking the depths in turn, pooled)` : ""}. Pages are warm in SQLite's and the OS's caches.`,
        `The baseline's p99 (${baseLatency.latency.p99} ms for a fixed answer) is the floor this machine's scheduling noise puts under any server at this rate.`,
        `The load generator's own GC while measuring (a pause delays the answers it overlaps; a page is ~16 KB to read, the baseline's answer a few bytes): ` +
          results.map((r) => `${r.thread} ${r.depth}: ${clientGcText(r.latency)}`).join("; ") +
          `; baseline: ${clientGcText(baseLatency)}.`,
      ],
      data: { seed: fixture.seed, walks, depths: results, baseline: { latency: baseLatency, saturated: baseSaturated } },
    };
  },
};
