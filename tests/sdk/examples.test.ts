// The @parley/sdk samples in examples/, run as a user would (a separate Node process with only the
// connection string), checked for their output and for ending on their own.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import path from "node:path";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { root } from "./bundle.js";

const LIMIT_MS = 30_000;

function runExample(file: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, file)], { cwd: root, env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${file} did not end on its own within ${LIMIT_MS} ms; output so far:\n${stdout}${stderr}`));
    }, LIMIT_MS);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("@parley/sdk examples", () => {
  let server: TestServer;
  let httpConnectionString: string;
  before(async () => {
    server = await startTestServer();
    httpConnectionString = `endpoint=${server.httpEndpoint};accesskey=${server.accessKey}`;
  });
  after(() => server.close());

  const QUICKSTART_OUTPUT = ["3 text Hello, world!", "2 topicUpdated Hello Parley", "1 participantAdded"];

  it("sdk-quickstart.mjs over https, trusting the CA through NODE_EXTRA_CA_CERTS (fetch and ws honour it)", async () => {
    const { code, stdout, stderr } = await runExample("examples/sdk-quickstart.mjs", { NODE_EXTRA_CA_CERTS: server.caCertPath, PARLEY_CONNECTION_STRING: server.connectionString });
    assert.equal(code, 0, stderr);
    assert.deepEqual(stdout.trim().split("\n"), QUICKSTART_OUTPUT);
  });

  it("sdk-quickstart.mjs fails with a certificate error when the CA is not trusted", async () => {
    const { code, stderr } = await runExample("examples/sdk-quickstart.mjs", { NODE_EXTRA_CA_CERTS: "", PARLEY_CONNECTION_STRING: server.connectionString });
    assert.notEqual(code, 0);
    assert.match(stderr, /RestError/);
    assert.match(stderr, /certificate|CERT|self[- ]signed/i);
  });

  it("sdk-quickstart.mjs over plain http", async () => {
    const { code, stdout, stderr } = await runExample("examples/sdk-quickstart.mjs", { PARLEY_CONNECTION_STRING: httpConnectionString });
    assert.equal(code, 0, stderr);
    assert.deepEqual(stdout.trim().split("\n"), QUICKSTART_OUTPUT);
  });

  it("sdk-live-chat.mjs: two users see each other's typing, messages and read receipts live", async () => {
    const { code, stdout, stderr } = await runExample("examples/sdk-live-chat.mjs", { PARLEY_CONNECTION_STRING: httpConnectionString });
    assert.equal(code, 0, stderr);
    assert.deepEqual(stdout.trim().split("\n"), [
      `[Grace's screen] added to "Compilers" by Ada`,
      "[Grace's screen] Ada is typing…",
      "[Grace's screen] Ada: Can a machine write programs?",
      "[Ada's screen] Grace read your message",
      "[Ada's screen] Grace: I built one that does. We call it a compiler.",
      "done: 2 messages in the thread",
    ]);
  });

  it("sdk-resume.mjs: a returning reader gets exactly what it missed, then live events", async () => {
    const { code, stdout, stderr } = await runExample("examples/sdk-resume.mjs", { NODE_EXTRA_CA_CERTS: server.caCertPath, PARLEY_CONNECTION_STRING: server.connectionString });
    assert.equal(code, 0, stderr);
    // Cursors are change-feed positions on a server other tests share: compare them by order.
    const lines = stdout.trim().split("\n");
    const cursors = lines.map((line) => /^\(reader leaves at cursor (\d+)\)$/.exec(line)?.[1]).filter((c) => c !== undefined).map(Number);
    assert.deepEqual(lines.map((line) => line.replace(/cursor \d+/, "cursor N")), [
      "first visit: Morning edition",
      "(reader leaves at cursor N)",
      "second visit: Noon edition",
      "second visit: Evening edition",
      "second visit: Late edition (live)",
      "(reader leaves at cursor N)",
    ]);
    assert.ok(cursors[1]! >= cursors[0]! + 3, `the cursor moved past the three events read (${cursors.join(" → ")})`);
  });
});
