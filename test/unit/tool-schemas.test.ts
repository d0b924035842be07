/**
 * What every tool's JSON Schemas promise a client, beyond compiling: each
 * property carries a validation keyword (free-form JSON is a type union, not a
 * bare `{}`, so schema-portability linters such as the MCP Inspector's accept it),
 * and every TTL, lease and delay argument has a maximum.
 */
import { assert, describe, it } from "@effect/vitest"
import { listEntry } from "../../src/mcp/Registry.ts"
import { allTools } from "../../src/tools/index.ts"

const VALIDATION = ["type", "enum", "const", "anyOf", "oneOf", "allOf", "$ref", "not", "properties", "items"]
const TIMES = ["ttlSeconds", "leaseSeconds", "delaySeconds", "backoffSeconds"]

/** [path, schema] of every property schema, at any depth. */
const properties = (node: unknown, path: string, out: Array<[string, Record<string, unknown>]> = []) => {
  if (node === null || typeof node !== "object") return out
  const schema = node as Record<string, unknown>
  for (const [name, sub] of Object.entries((schema.properties ?? {}) as Record<string, unknown>)) {
    out.push([`${path}.${name}`, sub as Record<string, unknown>])
    properties(sub, `${path}.${name}`, out)
  }
  for (const key of ["items", "additionalProperties"]) {
    if (typeof schema[key] === "object") properties(schema[key], `${path}[]`, out)
  }
  for (const key of ["anyOf", "oneOf", "allOf"]) {
    for (const [i, sub] of ((schema[key] ?? []) as Array<unknown>).entries()) properties(sub, `${path}|${i}`, out)
  }
  return out
}

describe("tool schemas", () => {
  it("every property of every tool has a validation keyword (no bare {} for free-form JSON)", () => {
    let freeForm = 0
    for (const tool of allTools) {
      const entry = listEntry(tool)
      for (const [side, schema] of [
        ["input", entry.inputSchema],
        ["output", entry.outputSchema]
      ] as const) {
        for (const [path, sub] of properties(schema, `${tool.name}.${side}`)) {
          assert.isTrue(
            VALIDATION.some((k) => k in sub),
            `${path} has no validation keyword: ${JSON.stringify(sub)}`
          )
          if (Array.isArray(sub.type) && sub.type.length === 6) freeForm++
        }
      }
    }
    // task payload/result, state values, raw replies: at least the 9 the Inspector flagged.
    assert.isAtLeast(freeForm, 9)
  })

  it("every TTL, lease, delay and backoff argument has a maximum", () => {
    let seen = 0
    for (const tool of allTools) {
      for (const [path, sub] of properties(listEntry(tool).inputSchema, tool.name)) {
        const name = path.slice(path.lastIndexOf(".") + 1)
        if (!TIMES.includes(name)) continue
        seen++
        assert.isNumber(sub.maximum, `${path} has no maximum`)
        assert.isAtMost(sub.maximum as number, 10 * 365 * 24 * 3600, path)
      }
    }
    assert.isAtLeast(seen, 12)
  })
})
