/**
 * What the Redis and memory layers of `Kv` share: argument checks (made before
 * the store is touched), cutting a value to the output cap, and error messages.
 */
import { isUtf8 } from "node:buffer"
import { Effect } from "effect"
import { InvalidArgument, NotFound, quote, TooLarge } from "../../Errors.ts"
import type { Limits } from "../../layers/Config.ts"
import type { ExpireOptions, GetOptions, GetResult, MgetItem, MsetEntry, ScanOptions, SetOptions } from "../Kv.ts"
import { checkTtlSeconds } from "../Ttl.ts"
import { checkSize, fromBuffer, toBuffer } from "../Values.ts"

/** Keys per scan page when the caller does not say. */
export const DEFAULT_SCAN_LIMIT = 100
/** SCAN round trips one `scan` call may make before it hands back a cursor. */
export const MAX_SCAN_ROUNDS = 64
/** Room kept for the JSON around a value (field names, length, offset…). */
const ENVELOPE_BYTES = 256

const invalid = (message: string) => Effect.fail(new InvalidArgument({ message }))

const isPositiveInt = (n: number) => Number.isSafeInteger(n) && n > 0

/** Bytes of value one result may carry under the output cap. */
export const valueBudget = (limits: Limits): number => Math.max(64, limits.maxOutputBytes - ENVELOPE_BYTES)

export const missing: GetResult = { found: false, value: null, encoding: "utf8", length: 0, truncated: false }

export const checkGet = (options: GetOptions): Effect.Effect<void, InvalidArgument> => {
  if (options.offset !== undefined && !(Number.isSafeInteger(options.offset) && options.offset >= 0)) {
    return invalid("offset must be a whole number of bytes, 0 or more.")
  }
  if (options.length !== undefined && !isPositiveInt(options.length)) {
    return invalid("length must be a whole number of bytes above 0.")
  }
  return Effect.void
}

/** How many bytes to read from `offset`: what was asked, at most what fits the output. */
export const readLength = (options: GetOptions, limits: Limits): number =>
  Math.min(options.length ?? Number.POSITIVE_INFINITY, valueBudget(limits))

/** A cut part that ends inside a UTF-8 character: drop the partial character so the part stays text. */
const toCharBoundary = (part: Buffer): Buffer => {
  if (isUtf8(part)) return part
  for (let cut = 1; cut <= 3 && cut < part.length; cut++) {
    const shorter = part.subarray(0, part.length - cut)
    if (isUtf8(shorter)) return shorter
  }
  return part
}

/** The result for bytes read at `offset` of a `total`-byte value, shrunk until its JSON fits the cap. */
export const toPart = (chunk: Buffer, offset: number, total: number, limits: Limits): GetResult => {
  const budget = valueBudget(limits)
  let part = chunk
  while (true) {
    if (offset + part.length < total) part = toCharBoundary(part)
    const encoded = fromBuffer(part)
    const cost = Buffer.byteLength(JSON.stringify(encoded.value))
    if (cost <= budget || part.length <= 1) {
      const end = offset + part.length
      const truncated = end < total
      return { found: true, ...encoded, length: total, truncated, ...(truncated ? { offset: end } : {}) }
    }
    part = part.subarray(0, Math.min(part.length - 1, Math.max(1, Math.floor((part.length * budget) / cost))))
  }
}

/** A list of keys within 1..maxItems, de-duplicated in order when `distinct`. */
export const checkKeys = (
  tool: string,
  keys: ReadonlyArray<string>,
  limits: Limits
): Effect.Effect<ReadonlyArray<string>, InvalidArgument> => {
  if (keys.length === 0) return invalid(`${tool} needs at least one key.`)
  if (keys.length > limits.maxItems) {
    return invalid(
      `${tool} takes at most ${limits.maxItems} keys per call (REDIS_MCP_MAX_ITEMS); got ${keys.length}. Split the keys across calls.`
    )
  }
  return Effect.succeed(keys)
}

export const distinct = (keys: ReadonlyArray<string>): ReadonlyArray<string> => [...new Set(keys)]

export const checkTtl = (ttlSeconds: number | undefined): Effect.Effect<void, InvalidArgument> =>
  checkTtlSeconds(ttlSeconds)

/** Validated value bytes for `set`. */
export const checkSet = Effect.fnUntraced(function* (value: string, options: SetOptions, limits: Limits) {
  if (options.keepTtl === true && options.ttlSeconds !== undefined) {
    return yield* invalid("Pass either ttlSeconds (a new TTL) or keepTtl: true (keep the current TTL), not both.")
  }
  yield* checkTtl(options.ttlSeconds)
  const bytes = yield* toBuffer(value, options.encoding)
  yield* checkSize("value", bytes.length, limits.maxValueBytes)
  return bytes
})

/** Validated entries for `mset`, values as bytes. */
export const checkMset = Effect.fnUntraced(function* (
  entries: ReadonlyArray<MsetEntry>,
  ttlSeconds: number | undefined,
  limits: Limits
) {
  yield* checkKeys(
    "mset",
    entries.map((e) => e.key),
    limits
  )
  yield* checkTtl(ttlSeconds)
  const out: Array<{ readonly key: string; readonly bytes: Buffer }> = []
  for (const e of entries) {
    const bytes = yield* toBuffer(e.value, e.encoding)
    yield* checkSize(`value of ${quote(e.key)}`, bytes.length, limits.maxValueBytes)
    out.push({ key: e.key, bytes })
  }
  return out
})

/** The TTL in seconds to set, or "persist". */
export const checkExpire = (options: ExpireOptions): Effect.Effect<number | "persist", InvalidArgument> => {
  if (options.persist === true) {
    return options.ttlSeconds === undefined
      ? Effect.succeed("persist")
      : invalid("Pass either ttlSeconds (set a TTL) or persist: true (remove the TTL), not both.")
  }
  if (options.ttlSeconds === undefined) {
    return invalid("Pass ttlSeconds to set a TTL, or persist: true to remove the key's TTL.")
  }
  return Effect.as(checkTtl(options.ttlSeconds), options.ttlSeconds)
}

export const checkIncrement = (by: number): Effect.Effect<void, InvalidArgument> =>
  Number.isSafeInteger(by) ? Effect.void : invalid(`by must be a whole number; got ${by}.`)

/** Keys per page: what was asked, clamped to 1..maxItems. */
export const scanLimit = (options: ScanOptions, limits: Limits): number =>
  Math.max(1, Math.min(options.limit ?? DEFAULT_SCAN_LIMIT, limits.maxItems))

export const badCursor = (cursor: string) =>
  new InvalidArgument({
    message: `cursor "${cursor}" is not one this server handed out. Pass the cursor from the previous scan result, or "0" to start over.`
  })

export const notInteger = (key: string) =>
  new InvalidArgument({
    message: `Key ${quote(key)} does not hold an integer, or the result would leave the 64-bit range. incr works on values like "42"; set the key to an integer first, or use another key.`
  })

export const renameMissing = (key: string) =>
  new NotFound({
    message: `Key ${quote(key)} does not exist, so it cannot be renamed. Check the name with exists or scan.`
  })

/** mget reads whole values: refuse a result that cannot fit the output cap. */
export const checkMgetOutput = (items: ReadonlyArray<MgetItem>, limits: Limits): Effect.Effect<void, TooLarge> => {
  const size = items.reduce((n, i) => n + (i.value?.length ?? 0), 0)
  return size > valueBudget(limits)
    ? Effect.fail(
        new TooLarge({
          message: `The values of these ${items.length} keys total about ${size} bytes, over the ${limits.maxOutputBytes}-byte output cap. Ask for fewer keys, or read large values with get (offset/length).`,
          size,
          limit: limits.maxOutputBytes
        })
      )
    : Effect.void
}

export const mgetItem = (key: string, buf: Buffer | null | undefined): MgetItem =>
  buf === null || buf === undefined
    ? { key, found: false, value: null, encoding: "utf8" }
    : { key, found: true, ...fromBuffer(buf) }
