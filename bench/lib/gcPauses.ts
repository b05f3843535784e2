/**
 * The load generator's own garbage-collection pauses while it measures. A pause stops its event
 * loop, so answers that arrive meanwhile are timestamped late: the pause shows up as server latency.
 * Open-loop jobs report these next to their percentiles, so a tail can be told apart from the
 * client's own (it reads ~16 KB per page of messages; a baseline's fixed answer is tiny).
 */
import { constants, PerformanceObserver, type PerformanceEntry } from "node:perf_hooks";

export interface GcPauses {
  count: number;
  /** Mark-compact (full) collections among them. */
  major: number;
  totalMs: number;
  maxMs: number;
}

export const NO_GC_PAUSES: GcPauses = { count: 0, major: 0, totalMs: 0, maxMs: 0 };

/** Starts watching; the returned function stops and sums up what happened in between. */
export function watchGcPauses(): () => GcPauses {
  const entries: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => entries.push(...list.getEntries()));
  observer.observe({ entryTypes: ["gc"] });
  return () => {
    entries.push(...observer.takeRecords());
    observer.disconnect();
    return entries.reduce(addPause, { ...NO_GC_PAUSES });
  };
}

function addPause(sum: GcPauses, entry: PerformanceEntry): GcPauses {
  const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
  return {
    count: sum.count + 1,
    major: sum.major + (kind === constants.NODE_PERFORMANCE_GC_MAJOR ? 1 : 0),
    totalMs: sum.totalMs + entry.duration,
    maxMs: Math.max(sum.maxMs, entry.duration),
  };
}

/** Several runs' pauses as one. */
export function combineGcPauses(all: GcPauses[]): GcPauses {
  return all.reduce((a, b) => ({ count: a.count + b.count, major: a.major + b.major, totalMs: a.totalMs + b.totalMs, maxMs: Math.max(a.maxMs, b.maxMs) }), { ...NO_GC_PAUSES });
}
