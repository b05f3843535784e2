// The README quickstart, run as a user would: a separate Node process trusting the dev CA only
// through NODE_EXTRA_CA_CERTS, with nothing but the connection string.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startTestServer, type TestServer } from "../helpers/server.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

function runExample(file: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(root, file)], { cwd: root, env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("README quickstart", () => {
  let server: TestServer;
  before(async () => (server = await startTestServer()));
  after(() => server.close());

  it("runs against Parley with NODE_EXTRA_CA_CERTS and prints the history", async () => {
    const { code, stdout, stderr } = await runExample("examples/quickstart.mjs", {
      NODE_EXTRA_CA_CERTS: server.caCertPath,
      PARLEY_CONNECTION_STRING: server.connectionString,
    });
    assert.equal(code, 0, stderr);
    assert.deepEqual(stdout.trim().split("\n"), ["3 text Hello, world!", "2 topicUpdated Hello Parley", "1 participantAdded"]);
  });

  it("fails with a certificate error when the CA is not trusted (so the test above proves trust)", async () => {
    const { code, stderr } = await runExample("examples/quickstart.mjs", { PARLEY_CONNECTION_STRING: server.connectionString, NODE_EXTRA_CA_CERTS: "" });
    assert.notEqual(code, 0);
    assert.match(stderr, /certificate|self[- ]signed|UNABLE_TO_VERIFY/i);
  });
});
