/**
 * RFC 7396 JSON Merge Patch, as a pure function on JSON values.
 */
import type { Schema } from "effect"

export type Json = Schema.Json
export type JsonObject = Schema.JsonObject

/** A JSON object (not null, not an array). */
export const isJsonObject = (value: unknown): value is JsonObject =>
  value !== null && typeof value === "object" && !Array.isArray(value)

// `out[k] = v` with k = "__proto__" would set the prototype instead of a member.
const setOwn = (out: Record<string, Json>, key: string, value: Json) =>
  Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true })

/**
 * Apply `patch` to `target` (undefined when there is no document yet), as RFC 7396
 * section 2 defines it: an object patch merges member by member, a `null` member
 * removes that member, any other patch replaces the target whole. Existing members
 * keep their order; new ones are appended. Neither argument is modified.
 */
export const mergePatch = (target: Json | undefined, patch: Json): Json => {
  if (!isJsonObject(patch)) return patch
  const out: Record<string, Json> = {}
  if (isJsonObject(target)) for (const [k, v] of Object.entries(target)) setOwn(out, k, v)
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k]
    else setOwn(out, k, mergePatch(Object.hasOwn(out, k) ? out[k] : undefined, v))
  }
  return out
}
