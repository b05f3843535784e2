/**
 * Progress on stderr (stdout carries only the final Markdown table). On a terminal cli-progress
 * draws two bars, the run's and the current step's; elsewhere (CI logs, pipes) each step prints a
 * line when it starts, every 10 s while it runs, and when it ends.
 */
import cliProgress from "cli-progress";

export interface Step {
  update(done: number, phase?: string): void;
  finish(): void;
}

export class Progress {
  private readonly multi: cliProgress.MultiBar | undefined;
  private readonly overall: cliProgress.SingleBar | undefined;
  private current: cliProgress.SingleBar | undefined;
  private readonly started = Date.now();
  private title = "starting";

  constructor(totalScenarios: number, tty = process.stderr.isTTY === true) {
    if (!tty) return;
    this.multi = new cliProgress.MultiBar(
      {
        stream: process.stderr,
        clearOnComplete: false,
        hideCursor: true,
        barsize: 24,
        format: (options, params, payload: Record<string, string>) => `${cliProgress.Format.BarFormat(params.progress, options)} ${payload.line ?? ""}`,
      },
      cliProgress.Presets.shades_classic,
    );
    this.overall = this.multi.create(totalScenarios, 0, { line: "starting" });
  }

  private elapsed(): string {
    const s = Math.round((Date.now() - this.started) / 1000);
    return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  }

  private overallLine(): string {
    return `${this.title} | ${this.elapsed()} elapsed`;
  }

  scenario(done: number, total: number, title: string): void {
    this.title = done >= total ? "all scenarios done" : `scenario ${done + 1}/${total}: ${title}`;
    if (this.overall) this.overall.update(done, { line: this.overallLine() });
    else process.stderr.write(`[${this.elapsed()}] ${this.title}\n`);
  }

  /** A bar for one step; `unit` is shown after the numbers (s, messages, pages). */
  step(name: string, total: number, unit: string): Step {
    const fmt = (n: number) => (unit === "s" ? n.toFixed(1) : Math.round(n).toLocaleString("en-US"));
    const describe = (done: number, phase?: string) => `${name}${phase ? ` (${phase})` : ""} | ${fmt(done)}/${fmt(total)} ${unit}`;
    const scaled = (done: number) => Math.min(Math.round(done), Math.max(1, Math.round(total)));

    if (!this.multi) {
      const t0 = Date.now();
      let lastPrint = t0;
      process.stderr.write(`[${this.elapsed()}]   ${describe(0)}\n`);
      return {
        update: (done, phase) => {
          if (Date.now() - lastPrint < 10_000) return;
          lastPrint = Date.now();
          process.stderr.write(`[${this.elapsed()}]   ${describe(done, phase)}\n`);
        },
        finish: () => process.stderr.write(`[${this.elapsed()}]   ${describe(total)} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`),
      };
    }
    if (this.current) this.multi.remove(this.current);
    const bar = this.multi.create(Math.max(1, Math.round(total)), 0, { line: describe(0) });
    this.current = bar;
    return {
      update: (done, phase) => {
        bar.update(scaled(done), { line: describe(done, phase) });
        this.overall!.update({ line: this.overallLine() });
      },
      finish: () => bar.update(Math.max(1, Math.round(total)), { line: describe(total) }),
    };
  }

  /** A message above the bars. */
  log(message: string): void {
    const line = message.endsWith("\n") ? message : message + "\n";
    if (this.multi) this.multi.log(line);
    else process.stderr.write(line);
  }

  stop(): void {
    if (!this.multi) {
      process.stderr.write(`[${this.elapsed()}] done\n`);
      return;
    }
    this.overall!.update(this.overall!.getTotal(), { line: `done in ${this.elapsed()}` });
    this.multi.stop();
  }
}
