// Shared by start.mjs and test.mjs: install dependencies when missing or stale, build when stale.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const PACKAGES = ["protocol", "server", "cli", "sdk"];

function mtime(file) {
  return existsSync(file) ? statSync(file).mtimeMs : 0;
}

function newestUnder(dir) {
  if (!existsSync(dir)) return 0;
  let newest = statSync(dir).mtimeMs;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestUnder(full) : statSync(full).mtimeMs);
  }
  return newest;
}

export function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit", ...options });
  if (result.status !== 0) {
    process.stderr.write(`\n${command} ${args.join(" ")} failed (${result.status ?? result.signal})\n`);
    process.exit(result.status ?? 1);
  }
}

/** npm ci on a fresh clone (or after package-lock.json changed); nothing when up to date. */
export function ensureInstalled() {
  const installed = path.join(root, "node_modules", ".package-lock.json");
  if (mtime(installed) >= mtime(path.join(root, "package-lock.json")) && existsSync(path.join(root, "node_modules", "typescript"))) return;
  process.stderr.write("Installing dependencies (npm ci)…\n");
  run("npm", ["ci", "--no-audit", "--no-fund"]);
}

/** tsc -b when any source or config is newer than the last build; a stat walk otherwise. */
export function ensureBuilt() {
  const sources = Math.max(
    mtime(path.join(root, "tsconfig.base.json")),
    mtime(path.join(root, "tsconfig.json")),
    ...PACKAGES.map((p) => Math.max(newestUnder(path.join(root, "packages", p, "src")), mtime(path.join(root, "packages", p, "tsconfig.json")))),
  );
  // tsc -b leaves up-to-date projects' build info untouched, so keep a stamp of our own.
  const stamp = path.join(root, "node_modules", ".parley-build-stamp");
  const missingOutput = PACKAGES.some((p) => !existsSync(path.join(root, "packages", p, "dist")));
  if (!missingOutput && mtime(stamp) >= sources) return;
  process.stderr.write("Building (tsc -b)…\n");
  run(process.execPath, [path.join(root, "node_modules", "typescript", "bin", "tsc"), "-b"]);
  writeFileSync(stamp, new Date().toISOString() + "\n");
}
