/**
 * The orchestrator's handle on the load-generator process (bench/loadgen.ts): one long-lived child
 * per benchmark run, so each job starts without paying a process start-up.
 */
import { fork, type ChildProcess } from "node:child_process";
import path from "node:path";
import type {
  ClosedJob,
  ConnectJob,
  ConnectResult,
  FanOutJob,
  FanOutResult,
  HoldJob,
  HoldResult,
  Job,
  LoadResult,
  OpenJob,
  ReleaseJob,
  ReleaseResult,
  SocketResult,
  WalkJob,
  WalkResult,
  WorkerMessage,
} from "./jobs.js";
import { BENCH_DIR } from "./paths.js";

type Result = LoadResult | WalkResult | SocketResult;

export type ProgressFn = (done: number, total: number, phase: string) => void;

export class LoadGenerator {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (r: Result) => void; reject: (e: Error) => void; progress?: ProgressFn }>();

  private constructor(private readonly child: ChildProcess) {
    child.on("message", (message: WorkerMessage) => {
      if (message.type === "ready") return;
      const entry = this.waiting.get(message.id);
      if (!entry) return;
      if (message.type === "progress") entry.progress?.(message.done, message.total, message.phase);
      else {
        this.waiting.delete(message.id);
        if (message.type === "result") entry.resolve(message.result);
        else entry.reject(new Error(`load generator: ${message.message}`));
      }
    });
    child.on("exit", (code, signal) => {
      for (const entry of this.waiting.values()) entry.reject(new Error(`load generator exited (${code ?? signal})`));
      this.waiting.clear();
    });
  }

  static async start(): Promise<LoadGenerator> {
    const child = fork(path.join(BENCH_DIR, "loadgen.ts"), [], {
      execArgv: [
        "--import",
        "tsx",
        // V8 starts incremental marking whenever the old generation's headroom is smaller than the
        // young generation, and after a long walk the young generation has grown to its maximum: a
        // ~10 MB heap then ran a full GC (3-10 ms pause) every second or so, timed as the server's
        // latency. A 256 MB starting old space keeps the headroom; measured with --trace-gc.
        "--initial-old-space-size=256",
        // And the young generation starts grown: at its initial 1 MB the first paging windows (1k
        // thread) ran ~40 scavenges in 6 s (pauses up to 5.5 ms) against 4-5 once it had grown.
        "--min-semi-space-size=16",
        // Extra flags for investigating the load generator itself, e.g. LOADGEN_FLAGS=--trace-gc.
        ...(process.env.LOADGEN_FLAGS ?? "").split(" ").filter(Boolean),
      ],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("load generator did not start within 30 s")), 30_000);
      child.once("message", (m: WorkerMessage) => {
        clearTimeout(timer);
        if (m.type === "ready") resolve();
        else reject(new Error("load generator sent no ready message"));
      });
      child.once("exit", (code) => reject(new Error(`load generator exited with ${code}`)));
    });
    return new LoadGenerator(child);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  run(job: ClosedJob | OpenJob, progress?: ProgressFn): Promise<LoadResult>;
  run(job: WalkJob, progress?: ProgressFn): Promise<WalkResult>;
  run(job: ConnectJob, progress?: ProgressFn): Promise<ConnectResult>;
  run(job: FanOutJob, progress?: ProgressFn): Promise<FanOutResult>;
  run(job: HoldJob, progress?: ProgressFn): Promise<HoldResult>;
  run(job: ReleaseJob, progress?: ProgressFn): Promise<ReleaseResult>;
  run(job: Job, progress?: ProgressFn): Promise<Result> {
    const id = this.nextId++;
    const limitSec = job.kind === "closed" || job.kind === "open" ? job.warmupSec + job.durationSec + 60 : (job.kind === "hold" ? job.seconds : job.maxSec) + 30;
    return new Promise<Result>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`load job ${id} (${job.kind}) took longer than ${limitSec} s`));
      }, limitSec * 1000);
      this.waiting.set(id, {
        resolve: (r) => (clearTimeout(timer), resolve(r)),
        reject: (e) => (clearTimeout(timer), reject(e)),
        ...(progress && { progress }),
      });
      this.child.send({ type: "job", id, job });
    });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.send({ type: "exit" });
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  }
}
