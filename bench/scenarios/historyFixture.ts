/**
 * The seeded data dir that scenarios 3 (history paging) and 6 (start-up) share: one reader and a
 * thread per size in settings.history.sizes, written straight through the Store before any server
 * runs on it. Made once per run, by whichever scenario asks first.
 */
import path from "node:path";
import type { ScenarioContext } from "../lib/scenario.js";
import { seedDataDir, type SeedResult } from "../lib/seed.js";

export interface HistoryFixture {
  dataDir: string;
  seed: SeedResult;
  totalMessages: number;
}

export function sizeName(n: number): string {
  return n >= 1_000_000 && n % 1_000_000 === 0 ? `${n / 1_000_000}M` : n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : String(n);
}

export function historyFixture(ctx: ScenarioContext): Promise<HistoryFixture> {
  return ctx.fixture("history", async () => {
    const dataDir = path.join(ctx.workDir, "history");
    const sizes = ctx.settings.history.sizes;
    const total = sizes.reduce((a, b) => a + b, 0);
    const step = ctx.progress.step(`seeding ${sizes.map(sizeName).join(" + ")} messages through the Store`, total, "messages");
    // Bound: generous for the slowest machine we expect (~1,000 messages/s).
    const seed = await seedDataDir({ dataDir, threads: sizes.map((n) => ({ name: sizeName(n), messages: n })), batch: ctx.settings.history.seedBatch }, (done) => step.update(done), 60 + total / 1000);
    step.finish();
    ctx.log(`seeded ${total.toLocaleString("en-US")} messages in ${seed.seconds.toFixed(1)} s (${Math.round(seed.messagesPerSec).toLocaleString("en-US")} messages/s through Store.sendMessage)`);
    return { dataDir, seed, totalMessages: total };
  });
}
