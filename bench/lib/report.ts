/** The Markdown table printed at the end of a run (and stored in latest.json). */
import type { GitInfo, MachineInfo } from "./machine.js";
import type { Row, Value } from "./scenario.js";
import type { Settings } from "./settings.js";

export interface ScenarioReport {
  id: string;
  number: number;
  title: string;
  status: "ok" | "failed" | "planned" | "skipped";
  seconds?: number;
  rows: Row[];
  notes: string[];
  error?: string;
  data?: unknown;
}

function num(n: number): string {
  if (!Number.isFinite(n)) return "–";
  const abs = Math.abs(n);
  if (abs >= 1000) return Math.round(n).toLocaleString("en-US");
  if (abs >= 100) return n.toFixed(0);
  if (abs >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

export function formatValue(v: Value | undefined): string {
  if (v === undefined) return "";
  return Array.isArray(v) ? v.map(num).join(" / ") : num(v);
}

function ratio(v: Value | undefined): string {
  if (v === undefined) return "";
  return Array.isArray(v) ? v.map((x) => `${x.toFixed(2)}`).join(" / ") + " ×" : `${v.toFixed(2)} ×`;
}

export function markdown(run: { mode: string; startedAt: string; machine: MachineInfo; git: GitInfo; settings: Settings; scenarios: ScenarioReport[] }): string {
  const m = run.machine;
  const lines = [
    `### Parley benchmark (${run.mode}) — ${run.startedAt}`,
    "",
    `Machine: ${m.cpuModel}, ${m.logicalCores} logical cores (${m.availableCores} available), ${m.memoryGiB} GiB, ${m.platform} ${m.kernel}; Node ${m.node}, SQLite ${m.sqlite}; ` +
      `load average at start ${m.loadAverageAtStart.join(" / ")}${m.loadAverageAtEnd ? `, at end ${m.loadAverageAtEnd.join(" / ")}` : ""}` +
      (m.cpuPressureAtStart ? `; CPU pressure (PSI some avg10/avg60) at start ${m.cpuPressureAtStart.join(" / ")} %${m.cpuPressureAtEnd ? `, at end ${m.cpuPressureAtEnd.join(" / ")} %` : ""}` : "") +
      ".",
    `Commit: ${run.git.commit.slice(0, 12)} (${run.git.branch})${run.git.dirtyFiles ? `, ${run.git.dirtyFiles} files with uncommitted changes` : ""}.`,
    "",
    "| # | scenario | case | metric | Parley | baseline | ratio | target | met |",
    "| --- | --- | --- | --- | ---: | ---: | ---: | --- | --- |",
  ];
  for (const s of run.scenarios) {
    if (s.status === "planned" || s.status === "skipped" || s.status === "failed") {
      const why = s.status === "failed" ? `failed: ${s.error?.split("\n")[0] ?? ""}` : s.notes[0] ?? s.status;
      lines.push(`| ${s.number} | ${s.title} | ${s.status} | ${why.replace(/\|/g, "\\|")} | | | | | |`);
      continue;
    }
    for (const r of s.rows) {
      const met = r.target ? (r.target.met ? "✅" : "❌") : "";
      lines.push(
        `| ${s.number} | ${s.title} | ${r.case} | ${r.metric} (${r.unit}) | ${formatValue(r.parley)} | ${formatValue(r.baseline)} | ${ratio(r.ratio)} | ${r.target?.text ?? ""} | ${met} |`,
      );
    }
  }
  const notes = run.scenarios.flatMap((s) => (s.status === "ok" ? s.notes.map((n) => `- ${s.number}. ${n}`) : []));
  if (notes.length > 0) lines.push("", "Notes:", ...notes);
  return lines.join("\n") + "\n";
}
