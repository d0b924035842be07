/**
 * What the bundle loads, read from esbuild's metafile for the build's own
 * options: the launcher holds nothing but itself and the version check (so an
 * old Node can run it), and a stdio start loads neither the HTTP stack nor the
 * OAuth library (they belong in chunks loaded only for `--transport http`), nor
 * the `doctor` subcommand.
 */
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { build, type Metafile } from "esbuild"
import { bundleOptions, startupOutputs } from "../../scripts/bundle.ts"

const ROOT = fileURLToPath(new URL("../../", import.meta.url))
const VERSION = JSON.parse(readFileSync(`${ROOT}package.json`, "utf8")).version as string

let metafile: Metafile = { inputs: {}, outputs: {} }
beforeAll(async () => {
  const result = await build({ ...bundleOptions(ROOT, VERSION), write: false, logLevel: "error" })
  metafile = result.metafile ?? metafile
}, 60_000)

const outputs = () => Object.entries(metafile.outputs).filter(([path]) => path.endsWith(".js"))
const inputsOf = (output: string) => Object.keys(metafile.outputs[output]?.inputs ?? {})

describe("the bundle", () => {
  it("the launcher is its own code, the version check and the young and old generations' bounds; it imports Node built-ins, the runtime helpers and the program", () => {
    const [main, out] = outputs().find(([path]) => path.endsWith("dist/main.js")) ?? assert.fail("no dist/main.js")
    assert.sameMembers(inputsOf(main), [
      "src/main.ts",
      "src/layers/NodeVersion.ts",
      "src/layers/YoungGeneration.ts",
      "src/layers/OldGeneration.ts"
    ])
    for (const i of out.imports) {
      if (i.external) assert.match(i.path, /^node:/, "only built-ins from outside the bundle")
      else if (i.kind === "import-statement") {
        assert.deepStrictEqual(inputsOf(i.path), [], `${i.path} is esbuild's runtime helpers only`)
      } else assert.strictEqual(i.kind, "dynamic-import")
    }
    const program = out.imports.filter((i) => i.kind === "dynamic-import")
    assert.strictEqual(program.length, 1)
    assert.include(inputsOf(program[0]!.path), "src/program.ts")
  })

  it("a stdio start loads no HTTP server, no Hono, no OAuth library (jose), no node:http and no doctor", () => {
    const loaded = startupOutputs(metafile)
    assert.isAtLeast(loaded.length, 2)
    const inputs = loaded.flatMap(inputsOf)
    assert.include(inputs, "src/program.ts")
    const unwanted = inputs.filter((p) =>
      /node_modules\/(jose|hono|@hono|@modelcontextprotocol\/node)\/|^src\/mcp\/(Http|auth\/OAuth|doctor\/)/.test(p)
    )
    assert.deepStrictEqual(unwanted, [])
    const builtins = loaded.flatMap((o) => (metafile.outputs[o]?.imports ?? []).filter((i) => i.external))
    assert.deepStrictEqual(
      builtins.filter((i) => /^(node:)?(http|https|http2)$/.test(i.path)),
      [],
      "no HTTP module of Node"
    )
  })
})
