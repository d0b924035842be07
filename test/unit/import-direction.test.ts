/**
 * The dependency direction of src/: main.ts → mcp/ → tools/ → services/ →
 * layers/, never upward. Errors.ts is importable from anywhere; entry points
 * (main.ts, program.ts, index.ts, docs/) may import anything and nothing imports
 * them, except the launcher (main.ts) loading the program (program.ts). Only
 * the edge (src/mcp/) knows the MCP SDK; tools know no layer either.
 */
import { readdirSync, readFileSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"

const SRC = fileURLToPath(new URL("../../src/", import.meta.url))

type Part = "entry" | "mcp" | "tools" | "services" | "layers" | "errors"

/** Which part of the tree a src-relative path belongs to. */
const partOf = (path: string): Part => {
  if (path === "Errors.ts") return "errors"
  const top = path.split("/")[0]!
  if (top === "mcp" || top === "tools" || top === "services" || top === "layers") return top
  return "entry"
}

/** What each part may import (besides itself and Errors.ts), and which packages it must not. */
const RULES: Record<Exclude<Part, "errors">, { readonly may: ReadonlyArray<Part>; readonly banned?: RegExp }> = {
  entry: { may: ["mcp", "tools", "services", "layers"] },
  mcp: { may: ["tools", "services", "layers"] },
  tools: { may: ["services"], banned: /^@modelcontextprotocol\// },
  services: { may: ["layers"], banned: /^@modelcontextprotocol\// },
  layers: { may: [], banned: /^@modelcontextprotocol\// }
}

/** The module specifiers a source file imports (static, re-exports and dynamic). */
const importsOf = (source: string): ReadonlyArray<string> => {
  const out: Array<string> = []
  const patterns = [
    /\bfrom\s+["']([^"']+)["']/g,
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
    /^\s*import\s+["']([^"']+)["']/gm
  ]
  for (const pattern of patterns) for (const m of source.matchAll(pattern)) out.push(m[1]!)
  return out
}

/** Why `file` (src-relative) may not import `specifier`, or undefined when it may. */
const violation = (file: string, specifier: string): string | undefined => {
  const from = partOf(file)
  if (from === "errors")
    return specifier.startsWith(".") ? `${file} imports ${specifier}: Errors.ts imports nothing of ours` : undefined
  const rule = RULES[from]
  if (!specifier.startsWith(".")) {
    return rule.banned?.test(specifier) ? `${file} (${from}) imports the package ${specifier}` : undefined
  }
  const target = relative(SRC, resolve(join(SRC, dirname(file)), specifier))
  if (target.startsWith("..")) return `${file} imports ${specifier}, outside src/`
  const to = partOf(target)
  if (to === "entry" && !(file === "main.ts" && target === "program.ts")) {
    return `${file} imports the entry point ${target}`
  }
  if (to === "errors" || to === from || rule.may.includes(to)) return undefined
  return `${file} (${from}) imports ${target} (${to}): upward or skipping a level`
}

const sources = (dir: string): ReadonlyArray<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []
  )

describe("import direction", () => {
  it("the checker refuses upward imports, the SDK below the edge, and imports of entry points", () => {
    assert.isUndefined(violation("program.ts", "./mcp/Server.ts"))
    assert.isUndefined(violation("main.ts", "./program.ts"))
    assert.isDefined(violation("index.ts", "./program.ts"))
    assert.isUndefined(violation("mcp/Server.ts", "../tools/index.ts"))
    assert.isUndefined(violation("mcp/Server.ts", "@modelcontextprotocol/server"))
    assert.isUndefined(violation("tools/keys.ts", "../services/Kv.ts"))
    assert.isUndefined(violation("services/Kv.ts", "../layers/RedisClient.ts"))
    assert.isUndefined(violation("services/kv/KvRedis.ts", "../../Errors.ts"))
    assert.isDefined(violation("services/Kv.ts", "../tools/keys.ts"))
    assert.isDefined(violation("services/Kv.ts", "../mcp/Server.ts"))
    assert.isDefined(violation("services/Kv.ts", "@modelcontextprotocol/server"))
    assert.isDefined(violation("tools/keys.ts", "../mcp/Registry.ts"))
    assert.isDefined(violation("tools/keys.ts", "../layers/Config.ts"))
    assert.isDefined(violation("tools/keys.ts", "@modelcontextprotocol/sdk/types.js"))
    assert.isDefined(violation("layers/Config.ts", "../services/Kv.ts"))
    assert.isDefined(violation("mcp/Server.ts", "../main.ts"))
    assert.isDefined(violation("Errors.ts", "./layers/Config.ts"))
    assert.deepStrictEqual(
      importsOf('import { a } from "./a.ts"\nexport * from "../b.ts"\nconst c = import("./c.ts")'),
      ["./a.ts", "../b.ts", "./c.ts"]
    )
  })

  it("every file under src/ follows it", () => {
    const files = sources(SRC)
    assert.isAbove(files.length, 50)
    const problems = files.flatMap((path) => {
      const file = relative(SRC, path)
      return importsOf(readFileSync(path, "utf8")).flatMap((s) => violation(file, s) ?? [])
    })
    assert.deepStrictEqual(problems, [])
  })
})
