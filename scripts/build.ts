/**
 * `npm run build`: a clean `dist/` with
 * - the library (`dist/index.js` and the tree beside it, with `.d.ts` and source
 *   maps), compiled by tsc, for apps that embed the services;
 * - the server (`dist/main.js`, the bin): the launcher, bundled by esbuild, and
 *   the program it imports in `dist/chunks/`, one file of our code and every
 *   dependency (plus a chunk per lazily imported part), so a start parses one
 *   file instead of resolving and loading hundreds of modules.
 *
 *   npx node scripts/build.ts            (what `npm run build` runs)
 *   npx node scripts/build.ts --analyze  (also print what the bundle is made of)
 */
import { execFileSync } from "node:child_process"
import { readFileSync, rmSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { build } from "esbuild"

const root = fileURLToPath(new URL("..", import.meta.url))
const pkg = JSON.parse(readFileSync(`${root}package.json`, "utf8")) as { version: string }

rmSync(`${root}dist`, { recursive: true, force: true })
execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, "-p", `${root}tsconfig.build.json`], {
  stdio: "inherit"
})

const result = await build({
  absWorkingDir: root,
  entryPoints: { main: "src/main.ts" },
  outdir: "dist",
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  // The launcher imports the program dynamically; so can the program its optional parts.
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node22",
  // Whitespace and syntax only: smaller and quicker to parse, with readable names in stack traces.
  minifyWhitespace: true,
  minifySyntax: true,
  // Maps for `node --enable-source-maps`: positions in our sources; the sources stay in the repository.
  sourcemap: "linked",
  sourcesContent: false,
  // The package version, inlined: the bundle does not sit where package.json is two levels up.
  define: { __PACKAGE_VERSION__: JSON.stringify(pkg.version) },
  // CommonJS dependencies (ioredis) call require() and read __dirname: give each ESM chunk both.
  banner: {
    js: [
      'import { createRequire as __bundleRequire } from "node:module";',
      'import { dirname as __bundleDirname } from "node:path";',
      'import { fileURLToPath as __bundleFileURLToPath } from "node:url";',
      "const require = __bundleRequire(import.meta.url);",
      "const __filename = __bundleFileURLToPath(import.meta.url);",
      "const __dirname = __bundleDirname(__filename);"
    ].join("")
  },
  metafile: true,
  logLevel: "warning"
})

if (process.argv.includes("--analyze")) {
  const { analyzeMetafile } = await import("esbuild")
  process.stderr.write(await analyzeMetafile(result.metafile))
}
