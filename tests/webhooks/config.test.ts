// Subscriptions from a --webhooks-config file: applied at start, validated in the background (and
// again until the receiver answers), kept in step with the file across restarts, and wired through
// the real `parley serve` command and its PARLEY_* environment variables.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { member, newUser } from "../helpers/sdk.js";
import { admin, allSigned, FAST, Receiver, sleep, subscribe, until } from "./support.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

const subscriptions = async (server: TestServer) => (await admin(server, "GET", "/webhooks/subscriptions")).json.value as any[];

async function someChat(server: TestServer): Promise<void> {
  const [alice, bob] = await Promise.all([newUser(server), newUser(server)]);
  const { chatThread } = await alice.chat.createChatThread({ topic: "configured" }, { participants: [member(alice), member(bob)] });
  await alice.chat.getChatThreadClient(chatThread!.id).sendMessage({ content: "hi" });
}

describe("webhooks config file", () => {
  const dirs: string[] = [];
  const receivers: Receiver[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(path.join(tmpdir(), "parley-webhooks-config-"));
    dirs.push(dir);
    return dir;
  };
  const receiver = async (...args: Parameters<typeof Receiver.start>) => {
    const r = await Receiver.start(...args);
    receivers.push(r);
    return r;
  };
  after(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
    delete process.env.PARLEY_TEST_WEBHOOK_SECRET;
  });

  it("applies the file at start, validates in the background, and follows the file across restarts", async () => {
    const dir = tempDir();
    const file = path.join(dir, "webhooks.json");
    const egReceiver = await receiver();
    const ceReceiver = await receiver();
    process.env.PARLEY_TEST_WEBHOOK_SECRET = "secret-from-the-environment";
    writeFileSync(
      file,
      JSON.stringify([
        { id: "orders", url: egReceiver.url, secret: "inline-secret-0123456789" },
        { id: "audit", url: ceReceiver.url, schema: "CloudEventSchema", secretEnv: "PARLEY_TEST_WEBHOOK_SECRET", skipValidation: true, maxEventsPerBatch: 5 },
      ]),
    );
    const dataDir = path.join(dir, "data");
    const first = await startTestServer({ webhooks: FAST, webhooksConfig: file, dataDir });
    try {
      const listed = await until(() => subscriptions(first), (s) => s.length === 2 && s.every((x) => x.provisioningState === "Succeeded"), "both active");
      assert.deepEqual(listed.map((s) => [s.id, s.source, s.validatedBy]), [["orders", "config", "handshake"], ["audit", "config", "skipped"]]);
      assert.equal(egReceiver.handshakes.length, 1);
      assert.equal(ceReceiver.handshakes.length, 0);
      await subscribe(first, { id: "from-api", url: egReceiver.url, skipValidation: true, secret: "api-secret-0123456789" });

      await someChat(first);
      // Two subscriptions to one receiver: each event twice, with the same id (an event has one id).
      await egReceiver.until(() => egReceiver.events.length >= 8, "events for both of its subscriptions");
      assert.equal(egReceiver.accepted.size, 4);
      assert.ok([...egReceiver.accepted.values()].every((n) => n === 2));
      await ceReceiver.until(() => ceReceiver.accepted.size >= 4, "CloudEvents");
      assert.ok(allSigned(ceReceiver, "secret-from-the-environment"), "secretEnv is the signing key");
    } finally {
      await first.close();
    }

    // The file changes: "audit" goes, "orders" moves to a new URL (validated again), the API one stays.
    const moved = await receiver();
    writeFileSync(file, JSON.stringify([{ id: "orders", url: moved.url, secret: "inline-secret-0123456789" }]));
    const second = await startTestServer({ webhooks: FAST, webhooksConfig: file, dataDir });
    try {
      const listed = await until(() => subscriptions(second), (s) => s.find((x) => x.id === "orders")?.provisioningState === "Succeeded", "orders revalidated");
      assert.deepEqual(listed.map((s) => s.id).sort(), ["from-api", "orders"]);
      assert.equal(listed.find((s) => s.id === "orders").url, moved.url);
      assert.equal(moved.handshakes.length, 1);
    } finally {
      await second.close();
    }

    // Unchanged endpoint: stays validated without another handshake.
    const third = await startTestServer({ webhooks: FAST, webhooksConfig: file, dataDir });
    try {
      assert.equal((await subscriptions(third)).find((x) => x.id === "orders").provisioningState, "Succeeded");
      await sleep(100);
      assert.equal(moved.handshakes.length, 1);
    } finally {
      await third.close();
    }
  });

  it("keeps retrying the handshake of a config subscription until its receiver answers", async () => {
    const dir = tempDir();
    const file = path.join(dir, "webhooks.json");
    const late = await receiver({ validation: "fail" });
    writeFileSync(file, JSON.stringify([{ id: "late", url: late.url, secret: "late-secret-0123456789" }]));
    const server = await startTestServer({ webhooks: FAST, webhooksConfig: file, store: "memory" });
    try {
      await late.until(() => late.handshakes.length >= 2, "two failed handshakes");
      assert.equal((await subscriptions(server))[0].provisioningState, "AwaitingManualAction");
      await someChat(server);
      late.options.validation = "echo";
      await until(() => subscriptions(server), (s) => s[0].provisioningState === "Succeeded", "validated at last");
      await sleep(200);
      assert.equal(late.deliveries.length, 0, "events from before validation are not delivered");
      await someChat(server);
      await late.until(() => late.accepted.size >= 4, "events after validation");
    } finally {
      await server.close();
    }
  });

  it("refuses to start on a bad file, naming the entry", async () => {
    const dir = tempDir();
    const cases: Array<[unknown, RegExp]> = [
      [{ id: "x" }, /expected a JSON array/],
      [[{ url: "http://127.0.0.1:1/a", secret: "0123456789abcdef" }], /\[0\]\.id is required/],
      [[{ id: "nosecret", url: "http://127.0.0.1:1/a" }], /\[0\] needs a secret/],
      [[{ id: "bad-url", url: "mailto:x@example.com", secret: "0123456789abcdef" }], /\[0\]\.url must be an http or https URL/],
      [[{ id: "dup", url: "http://127.0.0.1:1/a", secret: "0123456789abcdef" }, { id: "dup", url: "http://127.0.0.1:1/b", secret: "0123456789abcdef" }], /\[1\]\.id dup appears twice/],
      [[{ id: "env", url: "http://127.0.0.1:1/a", secretEnv: "PARLEY_TEST_UNSET_VARIABLE" }], /PARLEY_TEST_UNSET_VARIABLE, which is not set/],
    ];
    for (const [content, message] of cases) {
      const file = path.join(dir, "bad.json");
      writeFileSync(file, JSON.stringify(content));
      await assert.rejects(startTestServer({ webhooksConfig: file, store: "memory", dataDir: path.join(dir, "data") }), message);
    }
    writeFileSync(path.join(dir, "broken.json"), "[{");
    await assert.rejects(startTestServer({ webhooksConfig: path.join(dir, "broken.json"), store: "memory", dataDir: path.join(dir, "data") }), /webhooks config .*broken\.json/);
    assert.ok(!existsSync(path.join(dir, "data")), "nothing was created");
  });

  it("a first start next to an existing chat database begins at the feed's head: no history is replayed", async () => {
    const dir = tempDir();
    const dataDir = path.join(dir, "data");
    const before = await startTestServer({ dataDir });
    await someChat(before);
    await before.close();
    rmSync(path.join(dataDir, "webhooks.db"), { force: true });
    rmSync(path.join(dataDir, "webhooks.db-wal"), { force: true });
    rmSync(path.join(dataDir, "webhooks.db-shm"), { force: true });

    const r = await receiver();
    const file = path.join(dir, "webhooks.json");
    writeFileSync(file, JSON.stringify([{ id: "new", url: r.url, secret: "fresh-secret-0123456789", skipValidation: true }]));
    const after = await startTestServer({ webhooks: FAST, webhooksConfig: file, dataDir });
    try {
      await sleep(300);
      assert.equal(r.deliveries.length, 0, "changes from before webhooks existed are not delivered");
      await someChat(after);
      await r.until(() => r.accepted.size === 4, "new events only");
    } finally {
      await after.close();
    }
  });

  it("`parley serve` takes --webhooks-config and PARLEY_WEBHOOKS_TOPIC", async () => {
    const dir = tempDir();
    const file = path.join(dir, "hooks.json");
    const r = await receiver();
    writeFileSync(file, JSON.stringify([{ id: "cli", url: r.url, secret: "cli-secret-0123456789", maxEventsPerBatch: 50 }]));
    const dataDir = path.join(dir, "data");
    const topic = "/subscriptions/cli/resourceGroups/rg/providers/Microsoft.Communication/communicationServices/from-env";
    const child = spawn(
      process.execPath,
      [path.join(root, "packages/cli/dist/bin.js"), "serve", "--data-dir", dataDir, "--https-port", "0", "--http-port", "0", "--webhooks-config", file],
      { cwd: root, env: { ...process.env, PARLEY_LOG_LEVEL: "warn", PARLEY_WEBHOOKS_TOPIC: topic }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const exited = new Promise((resolve) => child.on("exit", resolve));
    try {
      const endpointFile = path.join(dataDir, "endpoint.json");
      for (let i = 0; i < 300 && !existsSync(endpointFile) && child.exitCode === null; i++) await sleep(50);
      assert.ok(existsSync(endpointFile), `server did not start:\n${output}`);
      const info = JSON.parse(readFileSync(endpointFile, "utf8"));
      const server = {
        ...info,
        accessKey: /accesskey=(.*)$/.exec(info.connectionString)![1]!,
        caPem: readFileSync(info.caCertPath, "utf8"),
      } as TestServer;
      await until(() => subscriptions(server), (s) => s[0]?.provisioningState === "Succeeded", "the configured subscription");
      await someChat(server);
      await r.until(() => r.events.length >= 4, "events through the CLI-started server");
      assert.ok(r.events.every((e) => e.topic === topic));
      assert.ok(allSigned(r, "cli-secret-0123456789"));
    } finally {
      child.kill("SIGTERM");
      await exited;
    }
  });
});
