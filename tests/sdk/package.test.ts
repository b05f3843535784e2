// What @parley/sdk publishes: ESM with types, side-effect free, no Node-only module or `ws` in the
// browser build, no runtime dependency on @parley/protocol, tree-shakeable.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { bundle, root } from "./bundle.js";

const sdkDir = path.join(root, "packages/sdk");
const dist = path.join(sdkDir, "dist");
const pkg = JSON.parse(readFileSync(path.join(sdkDir, "package.json"), "utf8"));

function files(dir: string, ext: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(path.join(dir, e.name), ext) : e.name.endsWith(ext) ? [path.join(dir, e.name)] : [],
  );
}

/** Module specifiers a JS or .d.ts file imports (static and dynamic). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/(?:^|[^.\w])(?:import|export)\s*(?:[^"';]*?\sfrom\s*)?\(?\s*["']([^"']+)["']/gm)].map((m) => m[1]!);
}

describe("@parley/sdk package", () => {
  it("is ESM with types, side-effect free, and maps #platform to a browser build", () => {
    assert.equal(pkg.type, "module");
    assert.equal(pkg.sideEffects, false);
    assert.equal(pkg.exports["."].types, "./dist/index.d.ts");
    assert.deepEqual(pkg.imports["#platform"], { browser: "./dist/platform/browser.js", default: "./dist/platform/node.js" });
    assert.deepEqual(Object.keys(pkg.dependencies ?? {}), ["ws"], "ws is the only runtime dependency (Node 20 only)");
    assert.equal(pkg.dependencies["@parley/protocol"], undefined);
  });

  it("runtime code imports nothing outside itself except `ws`, and only in the Node platform file", () => {
    for (const file of files(dist, ".js")) {
      const external = importsOf(file).filter((s) => !s.startsWith(".") && s !== "#platform");
      const rel = path.relative(dist, file);
      if (rel === path.join("platform", "node.js")) assert.deepEqual(external.sort(), ["node:http", "node:https", "ws"], rel);
      else assert.deepEqual(external, [], `${rel} imports ${external.join(", ")}`);
    }
  });

  it("the public type declarations reach no other package (not even @parley/protocol)", () => {
    const seen = new Set<string>();
    const externals = new Set<string>();
    const walk = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const spec of importsOf(file)) {
        if (spec.startsWith(".")) walk(path.resolve(path.dirname(file), spec.replace(/\.js$/, ".d.ts")));
        else externals.add(spec);
      }
    };
    walk(path.join(dist, "index.d.ts"));
    assert.ok(seen.size > 5);
    assert.deepEqual([...externals], []);
  });

  it("the browser bundle has no Node built-ins, no `ws`, and uses the browser platform file", async () => {
    const { code, inputs } = await bundle(`export * from "@parley/sdk";`);
    assert.ok(inputs.includes("packages/sdk/dist/platform/browser.js"), inputs.join("\n"));
    assert.ok(!inputs.includes("packages/sdk/dist/platform/node.js"));
    assert.ok(!inputs.some((i) => i.includes("node_modules/ws/")), "ws is not bundled");
    assert.doesNotMatch(code, /["']node:|require\(|from ["']ws["']|import\(["']ws["']\)/);
    const minified = await bundle(`export * from "@parley/sdk";`, "browser", { minify: true });
    assert.ok(minified.code.length < 60_000, `the whole SDK minifies to ${minified.code.length} bytes`);
  });

  it("the Node build uses the Node platform file, which loads ws lazily", async () => {
    const { code, inputs } = await bundle(`export * from "@parley/sdk";`, "node");
    assert.ok(inputs.includes("packages/sdk/dist/platform/node.js"));
    assert.match(code, /import\("ws"\)/);
    assert.doesNotMatch(code, /^import .* from "ws"/m, "no static import of ws");
  });

  it("is tree-shakeable: an identity-only app does not carry the chat and real-time code", async () => {
    const { code } = await bundle(`import { CommunicationIdentityClient } from "@parley/sdk"; console.log(new CommunicationIdentityClient("endpoint=http://x/;accesskey=a2V5"));`);
    assert.doesNotMatch(code, /chat\/events|RealtimeConnection|ChatThreadClient/);
    assert.match(code, /HMAC-SHA256/);
  });
});
