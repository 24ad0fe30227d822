// Builds the Custom UI resource of manifest.yml (static/api-information/) from the reference page in
// local/page/: the page's files as they are, plus @forge/bridge bundled by esbuild into one ES module,
// vendor/forge-bridge.js, which transport.js imports when the page runs inside Forge (invokeRemote for every
// call, view.theme.enable() to follow Jira's light or dark theme). Nothing is fetched
// at run time and no CDN is involved. Run it with `make forge-resource` (or `npm run build` here).
import { cpSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const page = join(here, "..", "local", "page");
const out = join(here, "static", "api-information");

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
for (const name of readdirSync(page)) {
  if (/\.(html|css|js)$/.test(name)) cpSync(join(page, name), join(out, name));
}

await build({
  stdin: { contents: "export { invokeRemote, view } from '@forge/bridge';", resolveDir: here, loader: "js" },
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2020",
  minify: true,
  legalComments: "none",
  outfile: join(out, "vendor", "forge-bridge.js"),
  logLevel: "warning",
});
console.log(`built ${relative(process.cwd(), out) || out}`);
