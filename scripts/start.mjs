// `npm start`: install if needed, build if stale, then run `parley serve` with the given options.
import { ensureBuilt, ensureInstalled } from "./workspace.mjs";

ensureInstalled();
ensureBuilt();
const { run } = await import("../packages/cli/dist/bin.js");
await run(["serve", ...process.argv.slice(2)]).catch((error) => {
  process.stderr.write(`parley: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
