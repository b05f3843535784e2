/**
 * Preloaded into a server under test by the idle-connections scenario only:
 *
 *   node --expose-gc --require bench/memory-probe.cjs <server> …   (with BENCH_MEMORY_PROBE=<file>)
 *
 * On SIGUSR2 it runs a full garbage collection and then writes process.memoryUsage() as JSON to
 * $BENCH_MEMORY_PROBE (temp file + rename), so the orchestrator reads memory after a GC rather than
 * at whatever point of the heap's sawtooth the process happens to be, and knows when it is done.
 * The server's own code is untouched; nothing else in it uses SIGUSR2.
 */
"use strict";
const fs = require("node:fs");

const file = process.env.BENCH_MEMORY_PROBE;
if (file && typeof globalThis.gc === "function") {
  process.on("SIGUSR2", () => {
    globalThis.gc();
    const tmp = `${file}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify({ ...process.memoryUsage(), at: Date.now() }));
    fs.renameSync(tmp, file);
  });
}
