/** Exact latency percentiles from recorded samples (no histogram rounding: Parley answers in ~1 ms). */
import type { LatencySummary } from "./jobs.js";

/** A growable array of float samples with a hard cap (a bound on memory whatever the run does). */
export class Samples {
  private data = new Float64Array(1 << 16);
  private n = 0;
  dropped = 0;

  constructor(private readonly cap = 20_000_000) {}

  add(value: number): void {
    if (this.n === this.data.length) {
      if (this.n >= this.cap) {
        this.dropped++;
        return;
      }
      const bigger = new Float64Array(Math.min(this.cap, this.data.length * 2));
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.n++] = value;
  }

  get count(): number {
    return this.n;
  }

  summary(): LatencySummary {
    return summarize(this.data.subarray(0, this.n));
  }

  values(): number[] {
    return Array.from(this.data.subarray(0, this.n));
  }
}

export function summarize(values: Float64Array | number[]): LatencySummary {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  if (n === 0) return { count: 0, min: NaN, mean: NaN, p50: NaN, p90: NaN, p99: NaN, p999: NaN, max: NaN };
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: n,
    min: round(sorted[0]!),
    mean: round(sum / n),
    p50: round(quantile(sorted, 0.5)),
    p90: round(quantile(sorted, 0.9)),
    p99: round(quantile(sorted, 0.99)),
    p999: round(quantile(sorted, 0.999)),
    max: round(sorted[n - 1]!),
  };
}

/** Nearest-rank quantile of sorted values. */
function quantile(sorted: Float64Array, q: number): number {
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function median(values: number[]): number {
  return summarize(values).p50;
}
