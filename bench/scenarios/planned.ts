/**
 * Scenarios issue #7 asks for that need Parley's real-time WebSocket stream under load, which is
 * being built now. They are registered (so `--list` and the report show them) but not run.
 *
 * To implement one: give it `status: "ready"` and a `run(ctx)` like the others. What it needs:
 *  - ctx.startParley / ctx.startBaseline for the processes (cleaned up by the runner);
 *  - users and threads: sendSetup() in common.ts (Identity + Chat API over HTTP), or createUser /
 *    createThread in lib/api.ts;
 *  - live connections must be held by a process other than the server: add a job kind to
 *    lib/jobs.ts and handle it in loadgen.ts (e.g. "hold N WebSocket connections for user tokens,
 *    report each received event's arrival time"), so the load generator stays the only client;
 *  - lib/stats.ts for exact percentiles, lib/servers.ts rssBytes(pid) for memory.
 */
import type { Scenario } from "../lib/scenario.js";

export const fanOut: Scenario = {
  id: "fan-out",
  number: 4,
  title: "Fan-out",
  status: "planned",
  blockedBy: "needs the real-time WebSocket stream under load (in progress)",
  description:
    "Send-to-receipt latency from one POST …/messages to the chatMessageReceived event on every member's live connection, for threads of 10, 100 and 1,000 members (p50/p99 of the last member's arrival), against a baseline that broadcasts a fixed frame on plain WebSockets.",
};

export const idleConnections: Scenario = {
  id: "idle-connections",
  number: 5,
  title: "Idle connections",
  status: "planned",
  blockedBy: "needs the real-time WebSocket stream under load (in progress)",
  description:
    "Server RSS per idle authenticated event-stream connection (RSS at 0, 1k, 5k, 10k connections, heartbeats running), against a baseline holding the same number of bare WebSockets.",
};
