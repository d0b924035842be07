/**
 * Effect Schema → MCP tool JSON Schema (2020-12, inlined, object root, no `$schema`,
 * no `$id`), as verified in MCP-SCHEMA.md, made compact for the model's context.
 */
import { Schema } from "effect"

const MAX_SAFE = 9007199254740991

/** Drop `additionalProperties: true` and the ±2^53 integer bounds: noise in a model's context. */
const compact = (node: unknown): unknown => {
  if (Array.isArray(node)) return node.map(compact)
  if (node === null || typeof node !== "object") return node
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(node)) {
    if (k === "additionalProperties" && v === true) continue
    if ((k === "maximum" && v === MAX_SAFE) || (k === "minimum" && v === -MAX_SAFE)) continue
    out[k] = compact(v)
  }
  return out
}

export const toMcpJsonSchema = (schema: Schema.Top): Record<string, unknown> => {
  let doc = Schema.toJsonSchemaDocument(schema, { referencePolicy: () => undefined })
  const ref = doc.schema.$ref
  if (typeof ref === "string") {
    const name = ref.slice("#/$defs/".length)
    doc = { ...doc, schema: doc.definitions[name] ?? doc.schema }
  }
  const out = compact(doc.schema) as Record<string, unknown>
  if (Object.keys(doc.definitions).length > 0) out.$defs = compact(doc.definitions)
  if (out.type !== "object") throw new Error('MCP tool schemas need a type:"object" root')
  return out
}
