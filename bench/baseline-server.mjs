#!/usr/bin/env node
/**
 * The baseline every benchmark compares Parley with: a bare `node:http` (and `node:https`) server in
 * its own process that reads the whole request body and answers a fixed small JSON, whatever the
 * method and path. It is what "Node itself" costs for one request on this machine; Parley's numbers
 * are reported as ratios to it.
 *
 *   node bench/baseline-server.mjs [--host 127.0.0.1] [--http-port 0] [--https-port 0 --cert F --key F]
 *
 * Prints one JSON line with the bound ports on stdout once listening. SIGTERM/SIGINT close it.
 * Plain JavaScript on purpose: the start-up scenario times `node <this file>` as the baseline for
 * `node packages/cli/dist/bin.js`, so it must not go through a TypeScript loader.
 */
import http from "node:http";
import https from "node:https";
import { readFileSync } from "node:fs";

const args = new Map();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i], process.argv[i + 1]);
const host = args.get("--host") ?? "127.0.0.1";
if (host !== "127.0.0.1") throw new Error("the baseline only listens on 127.0.0.1");

const BODY = Buffer.from(JSON.stringify({ id: "1700000000000" }));
const HEADERS = { "content-type": "application/json; charset=utf-8", "content-length": String(BODY.length) };

/** Reads the body, then answers 201 to POST and 200 to anything else, with the same small JSON. */
function handle(req, res) {
  req.on("data", () => {});
  req.on("end", () => {
    res.writeHead(req.method === "POST" ? 201 : 200, HEADERS);
    res.end(BODY);
  });
}

function listen(server, port) {
  // Same keep-alive behaviour as Parley's listeners (Node defaults).
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(server.address().port));
  });
}

const servers = [];
const ports = {};
if (args.has("--http-port")) {
  const server = http.createServer(handle);
  servers.push(server);
  ports.httpPort = await listen(server, Number(args.get("--http-port")));
}
if (args.has("--https-port")) {
  const server = https.createServer({ cert: readFileSync(args.get("--cert")), key: readFileSync(args.get("--key")) }, handle);
  servers.push(server);
  ports.httpsPort = await listen(server, Number(args.get("--https-port")));
}
process.stdout.write(JSON.stringify({ ready: true, pid: process.pid, ...ports }) + "\n");

const stop = () => {
  for (const server of servers) {
    server.close();
    server.closeAllConnections();
  }
  setTimeout(() => process.exit(0), 100).unref();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
