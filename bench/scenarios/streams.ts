/** Pieces the real-time scenarios (4 fan-out, 5 idle connections) share. */
import { EVENT_STREAM_PATH } from "@parley/protocol";
import { issueToken, mapLimit } from "../lib/api.js";
import type { ConnectResult, ReleaseResult, Target } from "../lib/jobs.js";
import type { ScenarioContext } from "../lib/scenario.js";
import { seedDataDir, type MembersSeedResult } from "../lib/seed.js";
import { openFileLimit, type ParleyServer } from "../lib/servers.js";

/** Users (and threads of their first n) written through the Store before the server starts. */
export async function seedMembers(ctx: ScenarioContext, dataDir: string, users: number, threads: number[]): Promise<MembersSeedResult> {
  const [seed] = await seedMembersTogether(ctx, [{ dataDir, users, threads }]);
  return seed!;
}

export interface MembersSeedSpec {
  dataDir: string;
  users: number;
  threads: number[];
}

/**
 * Several data dirs seeded at once, each by a process of its own (one progress bar for all): most
 * of a small seed's time is its process starting, so the fan-out sizes no longer pay it in turn.
 */
export async function seedMembersTogether(ctx: ScenarioContext, specs: MembersSeedSpec[]): Promise<MembersSeedResult[]> {
  const describe = (s: MembersSeedSpec) =>
    s.threads.length > 0 ? `${s.users.toLocaleString("en-US")} users and threads of ${s.threads.join(" / ")} members` : `${s.users.toLocaleString("en-US")} users`;
  const total = specs.reduce((n, s) => n + s.users, 0);
  const step = ctx.progress.step(`seeding ${specs.map(describe).join(" + ")} through the Store`, total, "users");
  const done = specs.map(() => 0);
  const seeds = await Promise.all(
    specs.map((spec, i) =>
      seedDataDir({ kind: "members", ...spec }, (n) => {
        done[i] = n;
        step.update(done.reduce((a, b) => a + b, 0));
      }, 120),
    ),
  );
  step.finish();
  return seeds;
}

/** A `chat` token per user through the Identity API (a read and a signature on the server: no write). */
export async function issueTokens(ctx: ScenarioContext, parley: ParleyServer, userIds: string[]): Promise<string[]> {
  const step = ctx.progress.step("issuing tokens over HTTP", userIds.length, "tokens");
  let done = 0;
  const tokens = await mapLimit(userIds, 16, async (id) => {
    const token = await issueToken(parley.httpOrigin, parley.accessKey, id);
    step.update(++done);
    return token;
  });
  step.finish();
  return tokens;
}

/**
 * Each live connection is a file descriptor in the server and one in the load generator. Node raises
 * its soft limit to the hard limit at start, so the hard limit is what counts; refuse to start rather
 * than report a wall of EMFILE failures as a result.
 */
export function checkFileLimits(connections: number, processes: Record<string, number | undefined>): void {
  const need = connections + 256;
  for (const [name, pid] of Object.entries(processes)) {
    const limit = openFileLimit(pid);
    if (limit !== undefined && limit < need) {
      throw new Error(
        `${name} (pid ${pid}) may open ${limit} files, but ${connections} connections need about ${need}: ` +
          `raise the hard limit of open files (ulimit -Hn; LimitNOFILE for a systemd unit; --ulimit nofile for a container) and run again`,
      );
    }
  }
}

/** Opens one event-stream connection per token in the load generator, into `pool`; refuses partial pools. */
export async function connectPool(ctx: ScenarioContext, name: string, pool: string, target: Target, tokens: string[]): Promise<ConnectResult> {
  const step = ctx.progress.step(name, tokens.length, "connections");
  const result = await ctx.load.run(
    { kind: "connect", pool, target, path: EVENT_STREAM_PATH, tokens, concurrency: 64, maxSec: 60 + tokens.length / 100 },
    (done) => step.update(done),
  );
  step.finish();
  if (result.failed > 0) throw new Error(`${name}: ${result.failed} of ${tokens.length} connections failed: ${result.errorSamples.join("; ")}`);
  return result;
}

export function releasePool(ctx: ScenarioContext, pool: string): Promise<ReleaseResult> {
  return ctx.load.run({ kind: "release", pool, maxSec: 30 });
}
