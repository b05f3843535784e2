/**
 * The servers under test, each in a process of its own:
 *  - Parley, exactly as a user runs it: `node packages/cli/dist/bin.js serve` with the SQLite store and
 *    its production settings (WAL, synchronous=FULL, group commit), on 127.0.0.1;
 *  - the baseline: bench/baseline-server.mjs, a bare node:http/https server, or for the real-time
 *    scenarios bench/baseline-ws-server.mjs, a bare `ws` server.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { BASELINE_SERVER, BASELINE_WS_SERVER, CLI_BIN, MEMORY_PROBE } from "./paths.js";

export interface EndpointInfo {
  endpoint: string;
  httpEndpoint: string;
  connectionString: string;
  caCertPath: string;
}

/** The environment for a server process: ours, minus PARLEY_* settings that would override the flags. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith("PARLEY_")) delete env[key];
  delete env.NODE_OPTIONS;
  return env;
}

/** Keeps the last lines a process wrote, for error messages. */
class Tail {
  private lines: string[] = [];
  constructor(stream: NodeJS.ReadableStream | null, private readonly keep = 40) {
    stream?.setEncoding("utf8");
    stream?.on("data", (chunk: string) => {
      this.lines.push(...chunk.split("\n").filter(Boolean));
      if (this.lines.length > this.keep) this.lines = this.lines.slice(-this.keep);
    });
  }
  text(): string {
    return this.lines.join("\n");
  }
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  if (!(await waitExit(child, 30_000))) {
    child.kill("SIGKILL");
    await waitExit(child, 5_000);
  }
}

/** Resident memory of a process in bytes (Linux), or undefined. */
export function rssBytes(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** The soft limit on open files of a process (Linux), or undefined. Node raises it to the hard limit at start. */
export function openFileLimit(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const match = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync(`/proc/${pid}/limits`, "utf8"));
    return match ? (match[1] === "unlimited" ? Infinity : Number(match[1])) : undefined;
  } catch {
    return undefined;
  }
}

/** How to start a process so that `probeMemory` can ask it for a GC and its memory (bench/memory-probe.cjs). */
export interface MemoryProbe {
  nodeArgs: string[];
  env: Record<string, string>;
  file: string;
}

export function memoryProbe(file: string): MemoryProbe {
  return { nodeArgs: ["--expose-gc", "--require", MEMORY_PROBE], env: { BENCH_MEMORY_PROBE: file }, file };
}

export interface MemoryReading {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

/** Signals the process to run a full GC and report process.memoryUsage(); waits for it (at most 10 s). */
export async function probeMemory(pid: number | undefined, probe: MemoryProbe): Promise<MemoryReading> {
  if (pid === undefined) throw new Error("no pid to probe");
  rmSync(probe.file, { force: true });
  process.kill(pid, "SIGUSR2");
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (existsSync(probe.file)) return JSON.parse(readFileSync(probe.file, "utf8")) as MemoryReading;
    await sleep(20);
  }
  throw new Error(`process ${pid} did not answer the memory probe within 10 s`);
}

/** CPU time (user + system) a process has used so far, in seconds (Linux), or undefined. */
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    // utime and stime are fields 14 and 15 of stat(5), in clock ticks (USER_HZ = 100 on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

export interface ParleyStartOptions {
  dataDir: string;
  httpPort?: number;
  httpsPort?: number;
  /** Write a V8 CPU profile of the server process into this directory when it exits. */
  cpuProfDir?: string;
  /** Started so that probeMemory() works on it. */
  memoryProbe?: MemoryProbe;
}

export function parleyArgs(options: ParleyStartOptions): string[] {
  return [
    ...(options.cpuProfDir ? ["--cpu-prof", `--cpu-prof-dir=${options.cpuProfDir}`] : []),
    ...(options.memoryProbe?.nodeArgs ?? []),
    CLI_BIN,
    "serve",
    "--data-dir",
    options.dataDir,
    "--host",
    "127.0.0.1",
    "--https-port",
    String(options.httpsPort ?? 0),
    "--http-port",
    String(options.httpPort ?? 0),
    "--store",
    "sqlite",
    "--log-level",
    "warn",
  ];
}

export function spawnParley(options: ParleyStartOptions): ChildProcess {
  return spawn(process.execPath, parleyArgs(options), { env: { ...cleanEnv(), ...options.memoryProbe?.env }, stdio: ["ignore", "pipe", "pipe"] });
}

export class ParleyServer {
  private constructor(
    private readonly child: ChildProcess,
    readonly info: EndpointInfo,
    private readonly stderr: Tail,
  ) {}

  static async start(options: ParleyStartOptions): Promise<ParleyServer> {
    if (!existsSync(CLI_BIN)) throw new Error(`${CLI_BIN} is missing: build first (npx tsc -b)`);
    const endpointFile = path.join(options.dataDir, "endpoint.json");
    rmSync(endpointFile, { force: true });
    const child = spawnParley(options);
    new Tail(child.stdout);
    const stderr = new Tail(child.stderr);
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`parley exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${stderr.text()}`);
      }
      if (existsSync(endpointFile)) {
        try {
          const info = JSON.parse(readFileSync(endpointFile, "utf8")) as EndpointInfo;
          return new ParleyServer(child, info, stderr);
        } catch {
          // Being written; read again.
        }
      }
      await sleep(10);
    }
    child.kill("SIGKILL");
    throw new Error("parley did not write endpoint.json within 120 s");
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get httpOrigin(): string {
    return new URL(this.info.httpEndpoint).origin;
  }

  get httpsOrigin(): string {
    return new URL(this.info.endpoint).origin;
  }

  get accessKey(): string {
    return /accesskey=([^;]+)/.exec(this.info.connectionString)![1]!;
  }

  rss(): number | undefined {
    return rssBytes(this.child.pid);
  }

  /** What the server logged at warn level or above (the last lines). */
  logTail(): string {
    return this.stderr.text();
  }

  /** SIGTERM, as a user's Ctrl+C: drains, closes the database (and writes a CPU profile if asked). */
  stop(): Promise<void> {
    return stopProcess(this.child);
  }
}

export class BaselineServer {
  private constructor(
    private readonly child: ChildProcess,
    readonly httpOrigin: string,
    readonly httpsOrigin: string | undefined,
  ) {}

  /** With `tls`, also serves HTTPS with that certificate (Parley's own, so the handshakes compare). */
  static start(tls?: { certPath: string; keyPath: string }): Promise<BaselineServer> {
    return BaselineServer.spawn([BASELINE_SERVER, "--host", "127.0.0.1", "--http-port", "0", ...(tls ? ["--https-port", "0", "--cert", tls.certPath, "--key", tls.keyPath] : [])]);
  }

  /** The bare `ws` server of the real-time scenarios (HTTP only). */
  static startWs(options: { memoryProbe?: MemoryProbe } = {}): Promise<BaselineServer> {
    return BaselineServer.spawn([...(options.memoryProbe?.nodeArgs ?? []), BASELINE_WS_SERVER, "--host", "127.0.0.1", "--http-port", "0"], options.memoryProbe?.env);
  }

  private static async spawn(args: string[], env: Record<string, string> = {}): Promise<BaselineServer> {
    const child = spawn(process.execPath, args, { env: { ...cleanEnv(), ...env }, stdio: ["ignore", "pipe", "pipe"] });
    const stderr = new Tail(child.stderr);
    const ports = await new Promise<{ httpPort: number; httpsPort?: number }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("baseline server did not start within 15 s")), 15_000);
      let buffered = "";
      child.stdout!.setEncoding("utf8");
      child.stdout!.on("data", (chunk: string) => {
        buffered += chunk;
        const line = buffered.split("\n")[0];
        if (buffered.includes("\n") && line) {
          clearTimeout(timer);
          resolve(JSON.parse(line) as { httpPort: number; httpsPort?: number });
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`baseline server exited with ${code}:\n${stderr.text()}`));
      });
    });
    return new BaselineServer(child, `http://127.0.0.1:${ports.httpPort}`, ports.httpsPort ? `https://127.0.0.1:${ports.httpsPort}` : undefined);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  stop(): Promise<void> {
    return stopProcess(this.child);
  }
}

/** A port that was free a moment ago on 127.0.0.1 (for runs that must know the port up front). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
