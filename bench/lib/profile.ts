/**
 * Reads the V8 CPU profiles (`node --cpu-prof`) a server process wrote and says where its time went:
 * self time per function, and inclusive time per function (a function counted once per sample even
 * when it recurses). Native work done inside a JS function (a better-sqlite3 statement, a syscall)
 * shows as that function's self time.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { ROOT } from "./paths.js";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileEntry {
  fn: string;
  pct: number;
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  /** Share of samples in which the process was idle (waiting in the event loop). */
  idlePct: number;
  self: ProfileEntry[];
  inclusive: ProfileEntry[];
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  let where = url.replace(/^file:\/\//, "");
  if (where.startsWith(ROOT)) where = path.relative(ROOT, where);
  where = where.replace(/^.*node_modules\//, "");
  return `${functionName || "(anonymous)"}${where ? ` ${where}:${lineNumber + 1}` : ""}`;
}

export function summarizeProfile(file: string, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n] as const));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const timeById = new Map<number, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    timeById.set(id, (timeById.get(id) ?? 0) + dt);
    total += dt;
  });
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let idle = 0;
  for (const [id, t] of timeById) {
    const node = byId.get(id)!;
    const name = label(node);
    if (node.callFrame.functionName === "(idle)") idle += t;
    self.set(name, (self.get(name) ?? 0) + t);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const k = label(byId.get(cur)!);
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + t);
    }
  }
  const busy = total - idle;
  const rank = (m: Map<string, number>, skip: (k: string) => boolean): ProfileEntry[] =>
    [...m]
      .filter(([k]) => !skip(k))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([fn, t]) => ({ fn, pct: Math.round((t / Math.max(1, busy)) * 1000) / 10 }));
  return {
    file: path.relative(ROOT, file),
    totalMs: Math.round(total / 1000),
    idlePct: Math.round((idle / Math.max(1, total)) * 1000) / 10,
    // Percentages are of busy (non-idle) time.
    self: rank(self, (k) => k.startsWith("(idle)")),
    inclusive: rank(inclusive, (k) => k.startsWith("(root)") || k.startsWith("(idle)") || k.startsWith("(program)")),
  };
}

export function summarizeProfiles(dir: string, top = 15): ProfileSummary[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
  } catch {
    return [];
  }
  return files.sort().map((f) => summarizeProfile(path.join(dir, f), top));
}
