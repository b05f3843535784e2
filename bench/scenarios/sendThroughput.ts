/**
 * 1. Send throughput: N users, one keep-alive connection each (50 by default), send messages as
 * fast as Parley answers — into their own threads (one member each), then all into one shared
 * thread (N members: every message is appended to N event logs) — over HTTP, and into their own
 * threads over HTTPS. The baseline gets the very same requests.
 */
import path from "node:path";
import { TARGETS } from "../lib/settings.js";
import type { Scenario } from "../lib/scenario.js";
import { closedJob, runLoad, sendRequests, sendSetup, throughputRows } from "./common.js";

export const sendThroughput: Scenario = {
  id: "send-throughput",
  number: 1,
  title: "Send throughput",
  status: "ready",
  description:
    "N users (50) on 50 keep-alive connections POST messages as fast as the server answers: into their own threads, into one shared thread, and (own threads) over HTTPS. msg/s and p50/p99/p99.9, against the bare node:http baseline fed the same requests.",
  async run(ctx) {
    const dataDir = path.join(ctx.workDir, "send-throughput");
    const parley = await ctx.startParley({ dataDir, label: "send-throughput" });
    const tls = { certPath: path.join(dataDir, "tls", "server.crt"), keyPath: path.join(dataDir, "tls", "server.key") };
    const baseline = await ctx.startBaseline(tls);
    const setup = await sendSetup(ctx, parley);
    const own = sendRequests(setup, "own");
    const shared = sendRequests(setup, "shared");
    const ca = parley.info.caCertPath;

    const baseHttp = await runLoad(ctx, "baseline, HTTP", closedJob(ctx, { origin: baseline.httpOrigin }, own, 201), baseline.pid);
    const ownHttp = await runLoad(ctx, "Parley, own threads, HTTP", closedJob(ctx, { origin: parley.httpOrigin }, own, 201), parley.pid);
    const sharedHttp = await runLoad(ctx, "Parley, shared thread, HTTP", closedJob(ctx, { origin: parley.httpOrigin }, shared, 201), parley.pid);
    const baseHttps = await runLoad(ctx, "baseline, HTTPS", closedJob(ctx, { origin: baseline.httpsOrigin!, caPath: ca }, own, 201), baseline.pid);
    const ownHttps = await runLoad(ctx, "Parley, own threads, HTTPS", closedJob(ctx, { origin: parley.httpsOrigin, caPath: ca }, own, 201), parley.pid);
    const rss = parley.rss();

    return {
      rows: [
        ...throughputRows("own threads, HTTP", ownHttp, baseHttp, TARGETS.sendThroughputRatio),
        ...throughputRows(`shared thread (${ctx.settings.users} members), HTTP`, sharedHttp, baseHttp, TARGETS.sendThroughputRatio),
        ...throughputRows("own threads, HTTPS", ownHttps, baseHttps, TARGETS.sendThroughputRatio),
      ],
      notes: [
        `${ctx.settings.users} users, ${ctx.settings.connections} connections, ${ctx.settings.send.durationSec} s per run after ${ctx.settings.send.warmupSec} s warm-up; Parley RSS after the runs ${rss ? Math.round(rss / 2 ** 20) : "?"} MiB.`,
      ],
      data: { users: ctx.settings.users, connections: ctx.settings.connections, rssBytes: rss, baseHttp, ownHttp, sharedHttp, baseHttps, ownHttps },
    };
  },
};
