/**
 * What the Redis and memory layers of `Kv` share: argument checks (made before
 * the store is touched), cutting a value to the output cap, and error messages.
 */
import { Effect } from "effect"
import { InvalidArgument, NotFound, quote, type TooLarge } from "../../Errors.ts"
import type { Limits } from "../../layers/Config.ts"
import type { ExpireOptions, MsetEntry, ScanOptions, SetOptions } from "../Kv.ts"
import { checkTtlSeconds, ttlProblem } from "../Ttl.ts"
import { bytesOf, checkSize, sizeProblem, toBuffer } from "../Values.ts"

export { checkRange as checkGet, missing, rangeProblem, readLength, toPart, type ValuePart } from "../ValueRange.ts"

/** Keys per scan page when the caller does not say. */
export const DEFAULT_SCAN_LIMIT = 100
/** SCAN round trips one `scan` call may make before it hands back a cursor. */
export const MAX_SCAN_ROUNDS = 64

const invalid = (message: string) => Effect.fail(new InvalidArgument({ message }))

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

/** The value's bytes for `set`, or why there are none (checked synchronously: `set` is a hot call). */
export const setBytes = (value: string, options: SetOptions, limits: Limits): Buffer | InvalidArgument | TooLarge => {
  if (options.keepTtl === true && options.ttlSeconds !== undefined) {
    return new InvalidArgument({
      message: "Pass either ttlSeconds (a new TTL) or keepTtl: true (keep the current TTL), not both."
    })
  }
  const ttl = ttlProblem(options.ttlSeconds)
  if (ttl !== undefined) return ttl
  const bytes = bytesOf(value, options.encoding)
  if (!Buffer.isBuffer(bytes)) return bytes
  return sizeProblem("value", bytes.length, limits.maxValueBytes) ?? bytes
}

/** Validated value bytes for `set`. */
export const checkSet = (
  value: string,
  options: SetOptions,
  limits: Limits
): Effect.Effect<Buffer, InvalidArgument | TooLarge> => {
  const bytes = setBytes(value, options, limits)
  return Buffer.isBuffer(bytes) ? Effect.succeed(bytes) : Effect.fail(bytes)
}

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
