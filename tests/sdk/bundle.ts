/** Bundles code that imports @parley/sdk with esbuild, as an app's bundler would. */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface Bundle {
  code: string;
  /** Input files that ended up in the bundle, relative to the repository root. */
  inputs: string[];
}

export async function bundle(source: string, platform: "browser" | "node" = "browser", options: { minify?: boolean } = {}): Promise<Bundle> {
  const result = await build({
    stdin: { contents: source, resolveDir: root, loader: "js", sourcefile: "entry.js" },
    bundle: true,
    format: "esm",
    platform,
    target: platform === "browser" ? "es2022" : "node20",
    write: false,
    metafile: true,
    minify: options.minify ?? false,
    logLevel: "silent",
    // On Node, `ws` stays an import (loaded only when there is no global WebSocket).
    ...(platform === "node" && { external: ["ws"] }),
  });
  const inputs = Object.keys(result.metafile!.inputs).map((p) => path.relative(root, path.resolve(root, p)));
  return { code: result.outputFiles![0]!.text, inputs };
}
