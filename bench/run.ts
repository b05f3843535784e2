/**
 * `npm run bench [-- --quick] [-- --only id,id] [-- --cpu-prof] [-- --list] [-- --keep]`
 *
 * Runs the scenarios of scenarios/index.ts against Parley's CLI (SQLite, production settings) on
 * 127.0.0.1, each with its bare node:http baseline, the load coming from a separate process. Shows
 * progress on stderr, prints a Markdown table on stdout and writes bench/results/latest.json (plus
 * a timestamped copy) with the machine, the commit, the settings and every measurement.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { LoadGenerator } from "./lib/load.js";
import { cpuPressure, gitInfo, machineInfo } from "./lib/machine.js";
import { RESULTS_DIR } from "./lib/paths.js";
import { summarizeProfiles, type ProfileSummary } from "./lib/profile.js";
import { Progress } from "./lib/progress.js";
import { markdown, type ScenarioReport } from "./lib/report.js";
import type { ScenarioContext } from "./lib/scenario.js";
import { BaselineServer, ParleyServer } from "./lib/servers.js";
import { settingsFor, TARGETS } from "./lib/settings.js";
import { SCENARIOS } from "./scenarios/index.js";

const USAGE = `usage: npm run bench -- [options]
  --quick          small sizes, short runs (under a minute)
  --only IDS       comma-separated scenario ids (see --list)
  --cpu-prof       run the servers with node --cpu-prof; profiles and summaries in bench/results/profiles/
  --keep           keep the scratch data dirs (printed at the end)
  --out FILE       results file (default bench/results/latest.json)
  --list           list the scenarios and exit`;

interface Args {
  quick: boolean;
  only?: string[];
  cpuProf: boolean;
  keep: boolean;
  out: string;
  list: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, cpuProf: false, keep: false, out: path.join(RESULTS_DIR, "latest.json"), list: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--quick") args.quick = true;
    else if (a === "--cpu-prof") args.cpuProf = true;
    else if (a === "--keep") args.keep = true;
    else if (a === "--list") args.list = true;
    else if (a === "--only") args.only = (argv[++i] ?? "").split(",").filter(Boolean);
    else if (a === "--out") args.out = path.resolve(argv[++i] ?? "");
    else if (a === "--help" || a === "-h") {
      process.stdout.write(USAGE + "\n");
      process.exit(0);
    } else {
      process.stderr.write(`unknown option ${a}\n${USAGE}\n`);
      process.exit(2);
    }
  }
  return args;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (args.list) {
    for (const s of SCENARIOS) process.stdout.write(`${s.number}. ${s.id}${s.status === "planned" ? " (planned: " + s.blockedBy + ")" : ""}\n   ${s.description}\n`);
    return 0;
  }
  const unknown = (args.only ?? []).filter((id) => !SCENARIOS.some((s) => s.id === id));
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(", ")}; --list shows them`);
  const selected = SCENARIOS.filter((s) => !args.only || args.only.includes(s.id));

  const mode = args.quick ? "quick" : "full";
  const settings = settingsFor(mode, args.cpuProf);
  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/[:.]/g, "-");
  const machine = machineInfo();
  const git = gitInfo();
  if (machine.loadAverageAtStart[0]! > machine.availableCores * 0.5 || (machine.cpuPressureAtStart?.[0] ?? 0) > 20) {
    process.stderr.write(
      `warning: the machine is busy (load average ${machine.loadAverageAtStart.join(" / ")} on ${machine.availableCores} cores` +
        `${machine.cpuPressureAtStart ? `, CPU pressure ${machine.cpuPressureAtStart[0]} %` : ""}): other work will skew the numbers\n`,
    );
  }
  const workDir = mkdtempSync(path.join(os.tmpdir(), "parley-bench-"));
  const profRoot = path.join(RESULTS_DIR, "profiles", stamp);

  const progress = new Progress(selected.length);
  const live = new Set<{ stop(): Promise<void> }>();
  const stopAll = async () => {
    await Promise.all([...live].map((p) => p.stop().catch(() => {})));
    live.clear();
  };
  let load: LoadGenerator | undefined;
  const abort = async (why: string, code: number) => {
    progress.stop();
    process.stderr.write(`\n${why}: stopping servers\n`);
    await stopAll();
    await load?.close();
    if (!args.keep) rmSync(workDir, { recursive: true, force: true });
    process.exit(code);
  };
  process.once("SIGINT", () => void abort("interrupted", 130));
  process.once("SIGTERM", () => void abort("terminated", 143));
  const watchdog = setTimeout(() => void abort(`the run took longer than its bound of ${settings.maxRunSec} s`, 3), settings.maxRunSec * 1000);

  load = await LoadGenerator.start();
  const fixtures = new Map<string, Promise<unknown>>();
  const reports: ScenarioReport[] = [];
  for (const [i, scenario] of selected.entries()) {
    progress.scenario(i, selected.length, scenario.title);
    if (scenario.status === "planned" || !scenario.run) {
      reports.push({ id: scenario.id, number: scenario.number, title: scenario.title, status: "planned", rows: [], notes: [`not run: ${scenario.blockedBy ?? "planned"}`] });
      continue;
    }
    const profDirs: string[] = [];
    const cpuProfDir = (label: string) => {
      if (!settings.cpuProf) return undefined;
      const dir = path.join(profRoot, label);
      mkdirSync(dir, { recursive: true });
      if (!profDirs.includes(dir)) profDirs.push(dir);
      return dir;
    };
    const ctx: ScenarioContext = {
      settings,
      progress,
      load,
      workDir,
      cpuProfDir,
      startParley: async ({ dataDir, label, httpPort, memoryProbe }) => {
        const prof = cpuProfDir(label);
        const server = await ParleyServer.start({ dataDir, ...(httpPort !== undefined && { httpPort }), ...(prof && { cpuProfDir: prof }), ...(memoryProbe && { memoryProbe }) });
        live.add(server);
        return server;
      },
      startBaseline: async (tls) => {
        const server = await BaselineServer.start(tls);
        live.add(server);
        return server;
      },
      startWsBaseline: async (options = {}) => {
        const server = await BaselineServer.startWs(options);
        live.add(server);
        return server;
      },
      fixture: <T>(name: string, make: () => Promise<T>) => {
        if (!fixtures.has(name)) fixtures.set(name, make());
        return fixtures.get(name) as Promise<T>;
      },
      log: (message) => progress.log(`[${scenario.id}] ${message}`),
    };
    const t0 = Date.now();
    let report: ScenarioReport;
    try {
      const outcome = await scenario.run(ctx);
      report = { id: scenario.id, number: scenario.number, title: scenario.title, status: "ok", rows: outcome.rows, notes: outcome.notes ?? [], data: outcome.data };
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      progress.log(`[${scenario.id}] failed: ${message}`);
      report = { id: scenario.id, number: scenario.number, title: scenario.title, status: "failed", rows: [], notes: [], error: message };
    } finally {
      await stopAll();
    }
    report.seconds = Math.round((Date.now() - t0) / 100) / 10;
    if (profDirs.length > 0) {
      const profiles: Record<string, ProfileSummary[]> = {};
      for (const dir of profDirs) {
        profiles[path.basename(dir)] = summarizeProfiles(dir);
        for (const p of profiles[path.basename(dir)]!) {
          progress.log(
            `[${scenario.id}] CPU profile ${p.file}: ${p.idlePct}% idle; busy time by self: ` + p.self.slice(0, 8).map((e) => `${e.pct}% ${e.fn}`).join(", "),
          );
        }
      }
      report.data = { ...(report.data as object), cpuProfiles: profiles };
    }
    reports.push(report);
  }
  progress.scenario(selected.length, selected.length, "done");
  progress.stop();
  clearTimeout(watchdog);
  await load.close();
  machine.loadAverageAtEnd = os.loadavg().map((x) => Math.round(x * 100) / 100);
  const pressure = cpuPressure();
  if (pressure) machine.cpuPressureAtEnd = pressure;

  const finishedAt = new Date();
  const run = { mode, startedAt: startedAt.toISOString(), machine, git, settings, scenarios: reports };
  const table = markdown(run);
  const results = {
    schema: 1,
    ...run,
    finishedAt: finishedAt.toISOString(),
    seconds: Math.round((finishedAt.getTime() - startedAt.getTime()) / 100) / 10,
    argv: process.argv.slice(2),
    targets: TARGETS,
    workDir: args.keep ? workDir : undefined,
    markdown: table,
  };
  mkdirSync(path.dirname(args.out), { recursive: true });
  writeFileSync(args.out, JSON.stringify(results, null, 2) + "\n");
  writeFileSync(path.join(RESULTS_DIR, `${stamp}-${mode}.json`), JSON.stringify(results, null, 2) + "\n");
  process.stdout.write("\n" + table);
  process.stderr.write(`\nResults: ${path.relative(process.cwd(), args.out)} (${results.seconds} s)${settings.cpuProf ? `; CPU profiles in ${path.relative(process.cwd(), profRoot)}` : ""}\n`);
  if (args.keep) process.stderr.write(`Data dirs kept in ${workDir}\n`);
  else rmSync(workDir, { recursive: true, force: true });
  return reports.some((r) => r.status === "failed") ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
