// The official Python SDKs (Debian python3-azure: azure-communication-chat 1.2.0, azure-communication-identity
// 1.3.2; python3-aiohttp for the async clients), unmodified, against a real Parley over HTTPS.
//
// Each it() runs one scenario script from this directory with the SYSTEM interpreter /usr/bin/python3 and
// asserts that it exits 0 (the scripts check with Python `assert`); on failure the script's output is shown.
// A missing interpreter or SDK fails the tests: nothing here is skipped.
import { after, before, describe, it, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadOrCreateSecrets, TokenService } from "@parley/server";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { identityClient } from "../helpers/sdk.js";

const PYTHON = "/usr/bin/python3";
const here = path.dirname(fileURLToPath(import.meta.url));

interface PythonRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
  spawnError?: Error;
}

/** Variables that would change what the scripts see if inherited from the developer's shell. */
const SCRUBBED = [
  "PYTHONPATH",
  "PYTHONHOME",
  "PYTHONSTARTUP",
  "PYTHONOPTIMIZE",
  "REQUESTS_CA_BUNDLE",
  "CURL_CA_BUNDLE",
  "AZURE_LOG_LEVEL",
  "PARLEY_PY_DEBUG",
  "PARLEY_FUZZ_USERS",
];

function runPython(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<PythonRun> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const name of SCRUBBED) delete childEnv[name];
  for (const name of Object.keys(childEnv)) if (name.startsWith("PARLEY_")) delete childEnv[name];
  Object.assign(childEnv, { PYTHONDONTWRITEBYTECODE: "1", PYTHONUNBUFFERED: "1", PYTHONIOENCODING: "utf-8" }, env);
  if (process.env.PARLEY_PY_DEBUG) childEnv.PARLEY_PY_DEBUG = process.env.PARLEY_PY_DEBUG;

  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(PYTHON, args, { cwd: here, env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    let spawnError: Error | undefined;
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("error", (error) => (spawnError = error));
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started, timedOut, ...(spawnError && { spawnError }) });
    });
  });
}

function transcript(run: PythonRun): string {
  const tail = (text: string) => (text.length > 20_000 ? `…${text.slice(-20_000)}` : text);
  return `\n--- stdout ---\n${tail(run.stdout)}\n--- stderr ---\n${tail(run.stderr)}`;
}

function assertPassed(run: PythonRun, what: string): void {
  if (run.spawnError) assert.fail(`could not start ${PYTHON} for ${what}: ${run.spawnError.message} (install python3 and python3-azure)`);
  const how = run.timedOut ? `timed out after ${run.ms} ms` : `exit ${run.code}${run.signal ? `, signal ${run.signal}` : ""}`;
  assert.equal(run.code, 0, `${what} failed (${how})${transcript(run)}`);
  assert.match(run.stdout, /scenario passed/, `${what} exited 0 without reaching its end${transcript(run)}`);
}

describe("official Python SDKs (azure-communication-chat 1.2.0, azure-communication-identity 1.3.2)", () => {
  let server: TestServer;
  let baseEnv: Record<string, string>;

  before(async () => {
    server = await startTestServer();
    baseEnv = {
      PARLEY_ENDPOINT: server.endpoint,
      PARLEY_CONNECTION_STRING: server.connectionString,
      PARLEY_HTTP_ENDPOINT: server.httpEndpoint,
      PARLEY_ACCESS_KEY: server.accessKey,
      REQUESTS_CA_BUNDLE: server.caCertPath,
    };
  });
  after(() => server.close());

  /** A token for a new user signed with the server's own key, as if issued at `issuedAgoMs`. */
  async function tokenIssuedAgo(issuedAgoMs: number, expiresInMinutes: number): Promise<{ userId: string; token: string }> {
    const secrets = loadOrCreateSecrets(server.dataDir);
    const tokens = new TokenService(secrets.tokenSecret, { resourceId: secrets.resourceId, clock: () => Date.now() - issuedAgoMs });
    const { communicationUserId: userId } = await identityClient(server).createUser();
    const { token } = await tokens.issue({ userId, scopes: ["chat"], epoch: 0, expiresInMinutes });
    return { userId, token };
  }

  async function scenario(t: TestContext, script: string, extraEnv: Record<string, string> = {}, args: string[] = [], timeoutMs?: number) {
    const run = await runPython([path.join(here, script), ...args], { ...baseEnv, ...extraEnv }, timeoutMs);
    assertPassed(run, [script, ...args].join(" "));
    t.diagnostic(`${script}: ${run.ms} ms`);
  }

  it("/usr/bin/python3 has the SDKs: azure.communication.chat(.aio), azure.communication.identity(.aio), aiohttp", async (t) => {
    const probe = [
      "import azure.communication.chat, azure.communication.chat.aio, azure.communication.identity, azure.communication.identity.aio, aiohttp, azure.core",
      "from azure.communication.chat._version import VERSION as chat",
      "from azure.communication.identity._version import VERSION as identity",
      "import sys; print(f'python {sys.version.split()[0]}, chat {chat}, identity {identity}, azure-core {azure.core.__version__}, aiohttp {aiohttp.__version__}')",
      "print('scenario passed')",
    ].join("\n");
    const run = await runPython(["-c", probe], {});
    assertPassed(run, `${PYTHON} -c 'import azure.communication...' (Debian packages python3-azure and python3-aiohttp)`);
    t.diagnostic(run.stdout.split("\n")[0]!);
  });

  it("the identity and chat quickstarts run as written, trusting the dev CA through REQUESTS_CA_BUNDLE", (t) => scenario(t, "quickstart.py"));

  it("without REQUESTS_CA_BUNDLE the quickstart fails on the certificate (so the run above proves trust)", async () => {
    const { REQUESTS_CA_BUNDLE: _, ...untrusted } = baseEnv;
    const run = await runPython([path.join(here, "quickstart.py")], untrusted);
    assert.notEqual(run.code, 0, `the quickstart should not reach an untrusted server${transcript(run)}`);
    assert.match(run.stderr, /CERTIFICATE_VERIFY_FAILED/, `expected a certificate error${transcript(run)}`);
  });

  it("identity: create_user, create_user_and_token, get_token (lifetimes, 400 outside 60–1440), revoke_tokens, delete_user", (t) =>
    scenario(t, "identity.py"));

  it("CommunicationTokenCredential: static token, and token_refresher called once for a token about to expire", async (t) => {
    // Issued 58.5 minutes ago for 60 minutes: valid for 90 s more, inside the SDK's 2-minute refresh window.
    const short = await tokenIssuedAgo(58.5 * 60_000, 60);
    await scenario(t, "credential.py", { PARLEY_SHORT_TOKEN: short.token, PARLEY_SHORT_TOKEN_USER: short.userId });
  });

  it("threads: create_chat_thread (participants, idempotency, invalid participant), get_properties, update_topic, list_chat_threads paging, delete", (t) =>
    scenario(t, "threads.py"));

  it("messages: send_message text/html/metadata, get_message, list_messages paging and system messages, update_message, delete_message", (t) =>
    scenario(t, "messages.py"));

  it("participants: add_participants (empty list / failure pairs), list_participants by_page and skip, remove_participant, share_history_time", (t) =>
    scenario(t, "participants.py"));

  it("typing and read receipts: send_typing_notification, send_read_receipt, list_read_receipts with paging and skip", (t) =>
    scenario(t, "receipts.py"));

  it("errors: unknown thread → ResourceNotFoundError, bad tokens → ClientAuthenticationError, non-member → 403", async (t) => {
    const expired = await tokenIssuedAgo(2 * 86_400_000, 60);
    await scenario(t, "errors.py", { PARLEY_EXPIRED_TOKEN: expired.token });
  });

  it("async clients (chat.aio, identity.aio over aiohttp): the core flow with async with / async for", (t) => scenario(t, "async_flow.py"));

  it("JWT fuzz: 2000 users' tokens all parse in CommunicationTokenCredential", (t) =>
    scenario(t, "jwt_fuzz.py", { PARLEY_FUZZ_USERS: "2000" }, [], 90_000));

  it("HMAC: CommunicationIdentityClient(endpoint, AzureKeyCredential(key)) over http and https", (t) => scenario(t, "hmac_http.py"));

  it("HMAC with the endpoint exactly as Parley prints it (trailing '/'): identity 1.3.2 signs host 'h:p/' and a shortened path", (t) =>
    scenario(t, "hmac_http.py", {}, ["trailing-slash"]));
});
