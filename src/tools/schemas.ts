/**
 * Schema pieces every toolset shares: key names, names that become Redis bytes,
 * glob patterns, TTLs and free-form JSON. They check what can be checked before
 * any service runs; limits that come from the configuration (REDIS_MCP_MAX_KEY_BYTES)
 * are checked again by the services, which know the configured value.
 */
import { Schema } from "effect"
import { MAX_GLOB_BYTES } from "../services/Glob.ts"
import { isWellFormed, MAX_KEY_BYTES_CEILING } from "../services/KeyNames.ts"
import { MAX_TTL_SECONDS } from "../services/Ttl.ts"
import { JsonValue } from "../services/Values.ts"

export { JsonValue }

/**
 * JSON Schema has no keyword for these checks: they export as a looser `{}`
 * (which also keeps the description annotated after them).
 */
const unexpressed = { toJsonSchema: () => [{}, true] as const }

/** Text that is valid Unicode: a lone UTF-16 surrogate would reach Redis as U+FFFD. */
const wellFormed = Schema.makeFilter(
  (s: string) => (isWellFormed(s) ? true : "must be valid Unicode text (it holds a lone UTF-16 surrogate)"),
  unexpressed
)

const atMostBytes = (max: number, what: string) =>
  Schema.makeFilter(
    (s: string) =>
      s.length <= max / 3 || Buffer.byteLength(s, "utf8") <= max ? true : `${what} is over ${max} bytes of UTF-8`,
    unexpressed
  )

/** A string Redis stores as bytes (field, member, channel, group…): well-formed text. */
export const Text = Schema.String.check(wellFormed)

/**
 * A record's names (hash fields, stream fields) are well-formed text. Checked on
 * the record, not its key schema: a checked key schema would drop the record's
 * `additionalProperties` from the JSON Schema.
 */
export const wellFormedNames = Schema.makeFilter(
  (record: Readonly<Record<string, unknown>>) =>
    Object.keys(record).every(isWellFormed)
      ? true
      : "every name must be valid Unicode text (one holds a lone UTF-16 surrogate)",
  unexpressed
)

/**
 * A key name: well-formed text of at most 64 KiB (the server's own limit,
 * REDIS_MCP_MAX_KEY_BYTES, 8 KiB by default, is checked by the service).
 * Keys starting with `task:` or `state:` are reserved for the task and state tools.
 */
export const KeyName = Schema.String.check(wellFormed, atMostBytes(MAX_KEY_BYTES_CEILING, "a key name"))

/** What the description of a key argument says about the rules. */
export const KEY_RULES = 'At most 8 KiB; names starting "task:" or "state:" are reserved.'

/** A glob pattern (Redis MATCH / PSUBSCRIBE syntax), at most MAX_GLOB_BYTES bytes. */
export const GlobPattern = Schema.String.check(wellFormed, atMostBytes(MAX_GLOB_BYTES, "a glob pattern"))

/** A TTL in seconds: 1 to MAX_TTL_SECONDS (10 years). */
export const TtlSeconds = Schema.Int.check(
  Schema.isGreaterThanOrEqualTo(1),
  Schema.isLessThanOrEqualTo(MAX_TTL_SECONDS)
)
