// Build the console into dist/: the bundled ES modules (esbuild) plus the static files of public/.
// Run at set-up time (scripts/setup); dist/ is never committed.
import { build } from "esbuild";
import { cpSync, mkdirSync, rmSync } from "node:fs";

const out = new URL("./dist/", import.meta.url).pathname;
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
cpSync(new URL("./public/", import.meta.url).pathname, out, { recursive: true });
await build({
  entryPoints: ["src/main.js"],
  bundle: true,
  format: "esm",
  splitting: true, // Firebase Auth is loaded only when listening in the cloud
  minify: true,
  sourcemap: true,
  target: ["es2022"],
  outdir: out,
  entryNames: "[name]",
  chunkNames: "chunks/[name]-[hash]",
  logLevel: "warning",
});
console.log(`console built into ${out}`);
