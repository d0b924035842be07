/**
 * How the server is bundled (used by scripts/build.ts, and by the test that
 * checks what start-up loads): the launcher `src/main.ts` becomes `dist/main.js`;
 * the program it imports and every dependency go to `dist/chunks/`; what the
 * program imports dynamically (a subcommand) gets a chunk of its own, loaded only
 * when used, and code it shares with the program goes to a chunk both import.
 */
import type { BuildOptions, Metafile } from "esbuild"

export const bundleOptions = (root: string, version: string): BuildOptions => ({
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
  define: { __PACKAGE_VERSION__: JSON.stringify(version) },
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

/**
 * The outputs a start loads before serving: `dist/main.js`, what it imports
 * statically, the program it imports, and what that imports statically (not
 * what the program imports dynamically: that loads only when used).
 */
export const startupOutputs = (metafile: Metafile): ReadonlyArray<string> => {
  const main = Object.keys(metafile.outputs).find((o) => o.endsWith("dist/main.js"))
  if (main === undefined) throw new Error("no dist/main.js in the bundle")
  const loaded = new Set<string>()
  const visit = (output: string, followDynamic: boolean) => {
    if (loaded.has(output)) return
    loaded.add(output)
    for (const i of metafile.outputs[output]?.imports ?? []) {
      if (i.external) continue
      if (i.kind === "import-statement" || (followDynamic && i.kind === "dynamic-import")) visit(i.path, false)
    }
  }
  visit(main, true)
  return [...loaded]
}
