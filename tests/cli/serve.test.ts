// The real `parley serve` process: endpoint.json, env options, graceful SIGTERM, restart with data kept.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { rawRequest, signedRequest } from "../helpers/http.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const bin = path.join(root, "packages/cli/dist/bin.js");

interface Running {
  child: ChildProcess;
  output: () => string;
  endpoint: { endpoint: string; httpEndpoint: string; connectionString: string; caCertPath: string };
  exited: Promise<number | null>;
}

async function serve(args: string[], env: Record<string, string> = {}, command = [bin, "serve"]): Promise<Running> {
  const dataDir = args[args.indexOf("--data-dir") + 1] ?? env.PARLEY_DATA_DIR!;
  rmSync(path.join(dataDir, "endpoint.json"), { force: true });
  const child = spawn(process.execPath, [...command, ...args], { cwd: root, env: { ...process.env, PARLEY_LOG_LEVEL: "warn", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const file = path.join(dataDir, "endpoint.json");
  for (let i = 0; i < 300 && !existsSync(file); i++) {
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(existsSync(file), `server did not start:\n${output}`);
  await new Promise((r) => setTimeout(r, 50));
  return { child, output: () => output, endpoint: JSON.parse(readFileSync(file, "utf8")), exited };
}

async function stop(running: Running, signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
  running.child.kill(signal);
  return running.exited;
}

describe("parley serve (a real process)", () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(path.join(tmpdir(), "parley-cli-"));
    dirs.push(dir);
    return dir;
  };
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it("writes endpoint.json with exactly the documented keys and prints how to trust the CA", async () => {
    const dataDir = tempDir();
    const running = await serve(["--data-dir", dataDir, "--https-port", "0", "--http-port", "0", "--host", "127.0.0.1"]);
    try {
      const info = running.endpoint;
      assert.deepEqual(Object.keys(info).sort(), ["caCertPath", "connectionString", "endpoint", "httpEndpoint"]);
      assert.match(info.endpoint, /^https:\/\/127\.0\.0\.1:\d+\/$/);
      assert.match(info.httpEndpoint, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      const key = /^endpoint=(https:\/\/[^;]+\/);accesskey=(.+)$/.exec(info.connectionString);
      assert.ok(key, info.connectionString);
      assert.equal(key[1], info.endpoint);
      assert.equal(Buffer.from(key[2]!, "base64").length, 64);
      assert.ok(path.isAbsolute(info.caCertPath));
      assert.match(running.output(), new RegExp(`NODE_EXTRA_CA_CERTS="${info.caCertPath}"`));
      assert.match(running.output(), /REQUESTS_CA_BUNDLE="/);
      const ca = readFileSync(info.caCertPath, "utf8");
      assert.equal((await rawRequest(`${info.endpoint}healthz`, { ca })).status, 200);
      assert.equal((await rawRequest(`${info.httpEndpoint}healthz`)).status, 200);
    } finally {
      assert.equal(await stop(running), 0);
    }
  });

  it("takes its options from PARLEY_* environment variables", async () => {
    const dataDir = tempDir();
    const running = await serve([], { PARLEY_DATA_DIR: dataDir, PARLEY_HTTPS_PORT: "0", PARLEY_HTTP_PORT: "0", PARLEY_HOST: "127.0.0.1" });
    try {
      assert.match(running.endpoint.endpoint, /^https:\/\/127\.0\.0\.1:\d+\/$/);
    } finally {
      assert.equal(await stop(running), 0);
    }
  });

  it("rejects a bad option with a clear message and a non-zero exit", async () => {
    const child = spawn(process.execPath, [bin, "serve", "--https-port", "99999"], { cwd: root });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    const code = await new Promise((resolve) => child.on("exit", resolve));
    assert.notEqual(code, 0);
    assert.match(err, /port/);
  });

  it("on SIGTERM finishes in-flight writes; every acknowledged write is there after a restart", async () => {
    const dataDir = tempDir();
    const args = ["--data-dir", dataDir, "--https-port", "0", "--http-port", "0", "--host", "127.0.0.1"];
    const first = await serve(args);
    const { endpoint, connectionString, caCertPath } = first.endpoint;
    const ca = readFileSync(caCertPath, "utf8");
    const accessKey = /accesskey=(.+)$/.exec(connectionString)![1]!;
    const created = await signedRequest(`${endpoint}identities?api-version=2023-10-01`, accessKey, { body: '{"createTokenWithScopes":["chat"]}', ca });
    const token = created.json.accessToken.token as string;
    const auth = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const thread = await rawRequest(`${endpoint}chat/threads?api-version=2025-03-15`, { method: "POST", headers: auth, body: '{"topic":"durable"}', ca });
    const threadPath = `chat/threads/${encodeURIComponent(thread.json.chatThread.id)}`;

    // Fire a burst of sends and stop the server while they are in flight.
    const sends = Array.from({ length: 100 }, (_, i) =>
      rawRequest(`${endpoint}${threadPath}/messages?api-version=2025-03-15`, { method: "POST", headers: auth, body: JSON.stringify({ content: `m${i}` }), ca }).then(
        (res) => res,
        () => undefined,
      ),
    );
    await new Promise((r) => setTimeout(r, 5));
    const code = await stop(first);
    const results = await Promise.all(sends);
    assert.equal(code, 0, first.output());
    const acknowledged = results.filter((r) => r?.status === 201).map((r) => r!.json.id as string);
    console.log(`# acknowledged ${acknowledged.length}, refused ${results.filter((r) => !r).length}, 503 ${results.filter((r) => r?.status === 503).length}`);
    for (const r of results) if (r) assert.ok(r.status === 201 || r.status === 503, `unexpected ${r.status} ${r.text}`);

    const second = await serve(args);
    try {
      assert.equal(second.endpoint.connectionString.split("accesskey=")[1], accessKey, "the access key is kept");
      assert.equal(readFileSync(second.endpoint.caCertPath, "utf8"), ca, "the CA is kept");
      const ids = new Set<string>();
      let link: string | undefined = `/${threadPath}/messages?maxPageSize=200&api-version=2025-03-15`;
      while (link) {
        const page = await rawRequest(`${second.endpoint.endpoint}${link.replace(/^\//, "")}`, { headers: auth, ca });
        assert.equal(page.status, 200, page.text);
        for (const m of page.json.value) ids.add(m.id);
        link = page.json.nextLink;
      }
      for (const id of acknowledged) assert.ok(ids.has(id), `acknowledged message ${id} was lost`);
    } finally {
      assert.equal(await stop(second, "SIGINT"), 0);
    }
  });

  it("npm start's script serves the same way (install and build are skipped when up to date)", async () => {
    const dataDir = tempDir();
    const running = await serve(["--data-dir", dataDir, "--https-port", "0", "--http-port", "0"], {}, [path.join(root, "scripts/start.mjs")]);
    try {
      assert.match(running.endpoint.endpoint, /^https:\/\/127\.0\.0\.1:\d+\/$/);
    } finally {
      assert.equal(await stop(running), 0);
    }
  });
});
