/**
 * Argument checks shared by both Streams layers (so a bad id or count is an
 * InvalidArgument before Redis is touched), the limits they enforce, and the
 * conversion of entries to their tool shape.
 */
import { Config, Effect } from "effect"
import { InvalidArgument, quote, type TooLarge } from "../../Errors.ts"
import { RedisConfig, ServerConfig } from "../../layers/Config.ts"
import { checkSize, type Encoding, fromBuffer, toBuffer } from "../Values.ts"
import * as Ids from "./StreamIds.ts"
import type { StreamEntry } from "./StreamTypes.ts"

/** Longest wait a blocking read may ask for, unless REDIS_MCP_STREAM_MAX_BLOCK_MS says otherwise. */
export const DEFAULT_MAX_BLOCK_MS = 10_000
/** Entries returned when a call gives no `count`. */
export const DEFAULT_COUNT = 100

export interface StreamLimits {
  readonly maxItems: number
  readonly maxValueBytes: number
  /** Bytes of entries one result may carry (the output cap minus room for the envelope). */
  readonly entryBudgetBytes: number
  /** Effective cap on `blockMs`: the configured maximum, kept below the command timeout. */
  readonly maxBlockMs: number
  /** Slack between a blocking call's wait and its own timeout. */
  readonly blockMarginMs: number
}

/** The limits, read once when a layer is built. */
export const streamLimits = Effect.gen(function* () {
  const server = yield* ServerConfig
  const redis = yield* RedisConfig
  const configured = yield* Config.Int("REDIS_MCP_STREAM_MAX_BLOCK_MS").pipe(
    Config.withDefault(DEFAULT_MAX_BLOCK_MS),
    Config.map((n) => Math.max(0, n))
  )
  const blockMarginMs = Math.min(500, Math.floor(redis.commandTimeoutMs / 2))
  return {
    maxItems: server.limits.maxItems,
    maxValueBytes: server.limits.maxValueBytes,
    entryBudgetBytes: Math.max(1024, server.limits.maxOutputBytes - 4096),
    maxBlockMs: Math.max(0, Math.min(configured, redis.commandTimeoutMs - blockMarginMs)),
    blockMarginMs
  } satisfies StreamLimits
})

export const invalid = (message: string) => new InvalidArgument({ message })

const fail = (message: string) => Effect.fail(invalid(message))

/** An id in the form `what` allows, or InvalidArgument explaining the forms. */
export const checkId = <A>(
  text: string,
  parser: (t: string) => A | undefined,
  what: string,
  forms: string
): Effect.Effect<A, InvalidArgument> => {
  const parsed = parser(text)
  return parsed === undefined
    ? fail(`${what} ${quote(text)} is not a valid stream id here. Use ${forms}.`)
    : Effect.succeed(parsed)
}

export const EXACT_FORMS = '"<ms>-<seq>" (e.g. "1700000000000-0") or "<ms>"'
export const START_FORMS = '"-" (the first entry), "<ms>-<seq>", "<ms>", or "(<ms>-<seq>" to start after an id'
export const END_FORMS = '"+" (the last entry), "<ms>-<seq>", "<ms>", or "(<ms>-<seq>" to stop before an id'

/** A concrete id, returned as canonical `ms-seq`. */
export const exactId = (text: string, what: string) =>
  Effect.map(
    checkId(text, (t) => Ids.parse(t), what, EXACT_FORMS),
    Ids.format
  )

export const startBound = (text: string, what = "start") => checkId(text, Ids.parseStart, what, START_FORMS)
export const endBound = (text: string, what = "end") => checkId(text, Ids.parseEnd, what, END_FORMS)

export const nonEmpty = (value: string, what: string): Effect.Effect<string, InvalidArgument> =>
  value.length === 0 ? fail(`${what} must not be empty.`) : Effect.succeed(value)

/** A whole number at or above `min`, or InvalidArgument. */
export const wholeNumber = (value: number, what: string, min: number): Effect.Effect<number, InvalidArgument> =>
  Number.isSafeInteger(value) && value >= min
    ? Effect.succeed(value)
    : fail(`${what} must be a whole number of at least ${min}, got ${value}.`)

/** `count` checked (1 or more) and capped at the item limit. */
export const checkCount = (
  count: number | undefined,
  limits: StreamLimits,
  fallback = DEFAULT_COUNT
): Effect.Effect<number, InvalidArgument> =>
  count === undefined
    ? Effect.succeed(Math.min(fallback, limits.maxItems))
    : Effect.map(wholeNumber(count, "count", 1), (n) => Math.min(n, limits.maxItems))

/** `blockMs` checked (0 or more) and capped; 0 means do not wait. */
export const checkBlock = (
  blockMs: number | undefined,
  limits: StreamLimits
): Effect.Effect<number, InvalidArgument> =>
  blockMs === undefined
    ? Effect.succeed(0)
    : Effect.map(wholeNumber(blockMs, "blockMs", 0), (n) => Math.min(n, limits.maxBlockMs))

/** A list of 1..maxItems ids, canonical and without duplicates. */
export const idList = (
  ids: ReadonlyArray<string>,
  limits: StreamLimits
): Effect.Effect<ReadonlyArray<string>, InvalidArgument> => {
  if (ids.length === 0) return fail("ids must name at least one entry id.")
  if (ids.length > limits.maxItems) return fail(`ids names ${ids.length} entries; at most ${limits.maxItems} per call.`)
  return Effect.map(
    Effect.forEach(ids, (id) => exactId(id, "id")),
    (canonical) => [...new Set(canonical)]
  )
}

/** The field/value pairs of a new entry as bytes, within the value size limit. */
export const encodeFields = (
  fields: Readonly<Record<string, string>>,
  encoding: Encoding | undefined,
  limits: StreamLimits
): Effect.Effect<ReadonlyArray<readonly [Buffer, Buffer]>, InvalidArgument | TooLarge> =>
  Effect.gen(function* () {
    const names = Object.keys(fields)
    if (names.length === 0) return yield* fail('fields must hold at least one field, e.g. {"event": "created"}.')
    const pairs: Array<readonly [Buffer, Buffer]> = []
    let bytes = 0
    for (const name of names) {
      const value = yield* toBuffer(fields[name]!, encoding)
      const nameBytes = Buffer.from(name, "utf8")
      bytes += nameBytes.length + value.length
      pairs.push([nameBytes, value])
    }
    yield* checkSize("The entry", bytes, limits.maxValueBytes)
    return pairs
  })

/** An entry in tool shape: field names as text, values as text or base64. */
export const toEntry = (id: string, flat: ReadonlyArray<Buffer> | null): StreamEntry => {
  if (flat === null) return { id, fields: {}, deleted: true }
  const fields: Record<string, string> = {}
  const base64 = new Set<string>()
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = flat[i]!.toString("utf8")
    const encoded = fromBuffer(flat[i + 1]!)
    fields[name] = encoded.value
    if (encoded.encoding === "base64") base64.add(name)
    else base64.delete(name)
  }
  return base64.size === 0 ? { id, fields } : { id, fields, base64Fields: [...base64] }
}

/** Messages for the id errors both layers report the same way. */
export const addIdError = (reason: "zero" | "notGreater" | "overflow", key: string) =>
  invalid(
    reason === "zero"
      ? 'The id 0-0 is reserved: a stream entry id must be greater than 0-0. Omit id (or pass "*") to let Redis pick one.'
      : reason === "notGreater"
        ? `The id is not greater than the last id of stream ${quote(key)}. Ids only grow: omit id (or pass "*") to let Redis pick one, or use xinfo to see the last id.`
        : `Stream ${quote(key)} has no id left after its last one. Use another key.`
  )

export const noGroup = (key: string, group: string) =>
  `No consumer group ${quote(group)} on stream ${quote(key)} (or no such stream). Create it with xgroup_create (mkstream: true creates the stream too).`
