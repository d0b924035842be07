/**
 * `npm run build`: a clean `dist/` with
 * - the library (`dist/index.js` and the tree beside it, with `.d.ts` and source
 *   maps), compiled by tsc, for apps that embed the services;
 * - the server (`dist/main.js`, the bin): the launcher, and in `dist/chunks/`
 *   the program it imports, bundled by esbuild with every dependency, so a start
 *   parses a few files instead of resolving and loading hundreds of modules.
 *
 *   npx node scripts/build.ts            (what `npm run build` runs)
 *   npx node scripts/build.ts --analyze  (also print what the bundle is made of)
 */
import { execFileSync } from "node:child_process"
import { readFileSync, rmSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { analyzeMetafile, build } from "esbuild"
import { bundleOptions } from "./bundle.ts"

const root = fileURLToPath(new URL("..", import.meta.url))
const pkg = JSON.parse(readFileSync(`${root}package.json`, "utf8")) as { version: string }

rmSync(`${root}dist`, { recursive: true, force: true })
execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, "-p", `${root}tsconfig.build.json`], {
  stdio: "inherit"
})

const result = await build(bundleOptions(root, pkg.version))

if (process.argv.includes("--analyze")) {
  process.stderr.write(await analyzeMetafile(result.metafile ?? { inputs: {}, outputs: {} }))
}
