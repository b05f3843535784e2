// `npm test`: build, type-check the tests, then run every test file with Node's test runner.
// Pass file paths or name fragments to run a subset: `npm test -- store compat`.
import { readdirSync } from "node:fs";
import path from "node:path";
import { ensureBuilt, ensureInstalled, root, run } from "./workspace.mjs";

ensureInstalled();
ensureBuilt();
run(process.execPath, [path.join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "tests", "--noEmit"]);

function testFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "node_modules" ? [] : testFiles(full);
    return entry.name.endsWith(".test.ts") ? [path.relative(root, full)] : [];
  });
}

const filters = process.argv.slice(2);
const files = testFiles(path.join(root, "tests"))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  process.stderr.write(`no test files match ${filters.join(" ")}\n`);
  process.exit(1);
}
run(process.execPath, ["--import", "tsx", "--test", "--test-reporter=spec", ...files]);
