#!/usr/bin/env node
/**
 * The real-time baseline (scenarios 4 and 5): a bare `ws` WebSocketServer on a bare `node:http`
 * server, in its own process, doing the least an event-stream server must do:
 *
 *   - accepts every WebSocket upgrade (any path, no authentication) and sends `{"type":"ready"}`
 *     at once, so the load generator's client code is the same as against Parley;
 *   - heartbeats as Parley does: every 25 s a ping frame plus `{"type":"ping"}`, and a socket that
 *     answered neither since the last round is terminated;
 *   - on any POST, reads the JSON body, builds ONE chatMessageReceived-shaped frame around its
 *     `content` (the load generator's marker) and sends it to every open socket, then answers 201.
 *
 * So "Parley / baseline" is what Parley adds over pushing the same bytes through `ws`: the durable
 * write, the per-member event log, the per-connection log read and rendering.
 *
 *   node bench/baseline-ws-server.mjs [--host 127.0.0.1] [--http-port 0]
 *
 * Prints one JSON line with the bound port on stdout once listening. SIGTERM/SIGINT close it.
 * Plain JavaScript, like baseline-server.mjs, so no TypeScript loader is in its memory.
 */
import http from "node:http";
import { WebSocketServer } from "ws";

const args = new Map();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i], process.argv[i + 1]);
const host = args.get("--host") ?? "127.0.0.1";
if (host !== "127.0.0.1") throw new Error("the baseline only listens on 127.0.0.1");

const HEARTBEAT_MS = 25_000;
const READY = JSON.stringify({ type: "ready" });
const PING = JSON.stringify({ type: "ping" });
const ANSWER = Buffer.from(JSON.stringify({ id: "1700000000000" }));
const user = (id) => ({ kind: "communicationUser", communicationUserId: `8:acs:00000000-0000-0000-0000-000000000000_${id}` });

/** About the size and shape of Parley's chatMessageReceived frame. */
function frame(seq, content) {
  return JSON.stringify({
    type: "event",
    seq,
    event: "chatMessageReceived",
    data: {
      threadId: "19:0123456789abcdef0123456789abcdef@thread.v2",
      sender: user("00000000-0000-0000-0000-000000000001"),
      senderDisplayName: "Bench",
      recipient: user("00000000-0000-0000-0000-000000000002"),
      id: "1700000000000",
      createdOn: new Date(1_700_000_000_000).toISOString(),
      version: "1700000000000",
      type: "text",
      sequenceId: String(seq),
      message: content,
      metadata: {},
    },
  });
}

const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
const alive = new WeakMap();
let seq = 0;

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    if (req.method === "POST") {
      let content = "";
      try {
        content = String(JSON.parse(Buffer.concat(chunks).toString()).content ?? "");
      } catch {
        // Not JSON: broadcast an empty message.
      }
      const text = frame(++seq, content);
      for (const ws of wss.clients) if (ws.readyState === ws.OPEN) ws.send(text);
    }
    res.writeHead(req.method === "POST" ? 201 : 200, { "content-type": "application/json; charset=utf-8", "content-length": String(ANSWER.length) });
    res.end(ANSWER);
  });
});

server.on("upgrade", (req, socket, head) => {
  wss.handleUpgrade(req, socket, head, (ws) => {
    alive.set(ws, true);
    ws.on("pong", () => alive.set(ws, true));
    ws.on("message", () => alive.set(ws, true));
    ws.on("error", () => ws.terminate());
    ws.send(READY);
  });
});

const heartbeat = setInterval(() => {
  for (const ws of wss.clients) {
    if (!alive.get(ws)) {
      ws.terminate();
      continue;
    }
    alive.set(ws, false);
    ws.ping();
    ws.send(PING);
  }
}, HEARTBEAT_MS);
heartbeat.unref();

await new Promise((resolve, reject) => {
  server.once("error", reject);
  server.listen(Number(args.get("--http-port") ?? 0), host, resolve);
});
process.stdout.write(JSON.stringify({ ready: true, pid: process.pid, httpPort: server.address().port }) + "\n");

const stop = () => {
  clearInterval(heartbeat);
  for (const ws of wss.clients) ws.terminate();
  server.close();
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 100).unref();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
