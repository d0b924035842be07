/**
 * What the collection services (hashes, lists, sets, sorted sets) share: their
 * option and result types, input limits checked before Redis is touched, and the
 * Lua script that writes and sets a TTL in one step. Output pages and cursors
 * are in Paging.ts, the scripts that read them in PageScripts.ts.
 */
import { Effect } from "effect"
import { InvalidArgument, type RedisError, TooLarge } from "../Errors.ts"
import type { Limits } from "../layers/Config.ts"
import { checkTtlSeconds } from "./Ttl.ts"
import { type EncodedValue, type Encoding, toBuffer } from "./Values.ts"

/** Every error a collection service can fail with. */
export type CollectionError = RedisError | InvalidArgument | TooLarge

/** Options of the writes that may create a collection. */
export interface WriteOptions {
  /** How the written values are encoded. @default "utf8" */
  readonly encoding?: Encoding | undefined
  /** Set the key's TTL (seconds) after the write, in the same atomic step. */
  readonly ttlSeconds?: number | undefined
}

/** Options of a paged read. */
export interface PageOptions {
  /** The cursor a previous page returned. */
  readonly cursor?: string | undefined
  /** Most items on this page (capped by the server's maxItems). */
  readonly limit?: number | undefined
}

/** A value on an output page; `truncated` and `length` say it was cut to fit the output cap. */
export interface Item extends EncodedValue {
  readonly truncated?: boolean
  /** The full size in bytes, when `truncated`. */
  readonly length?: number
}

/** One page of a collection and where to continue. */
export interface Paged<T> {
  readonly items: ReadonlyArray<T>
  readonly truncated: boolean
  readonly cursor?: string
}

export const invalid = (message: string) => new InvalidArgument({ message })

/**
 * Run a Redis command with Buffer replies through ioredis's `<command>Buffer`
 * method. (ioredis's own `callBuffer` loses the command name under its
 * auto-pipelining, REDIS_AUTO_PIPELINING=on.)
 */
export const sendBuffer = (client: unknown, command: string, ...args: ReadonlyArray<string | number | Buffer>) =>
  (client as Record<string, (...a: ReadonlyArray<unknown>) => Promise<unknown>>)[`${command}Buffer`]!.call(
    client,
    ...args
  )

/** Items per page: the caller's limit within the server's maxItems. */
export const pageSize = (limits: Limits, limit: number | undefined): Effect.Effect<number, InvalidArgument> =>
  limit === undefined
    ? Effect.succeed(limits.maxItems)
    : Number.isInteger(limit) && limit >= 1
      ? Effect.succeed(Math.min(limit, limits.maxItems))
      : Effect.fail(invalid(`limit must be a whole number of at least 1, got ${limit}.`))

/** A count argument (pops, ZRANGE LIMIT): a whole number from 1 to `max`. */
export const checkCount = (name: string, n: number, max: number): Effect.Effect<number, InvalidArgument> =>
  Number.isInteger(n) && n >= 1 && n <= max
    ? Effect.succeed(n)
    : Effect.fail(
        invalid(
          `${name} must be a whole number from 1 to ${max} (REDIS_MCP_MAX_ITEMS), got ${n}. Ask for fewer and call again.`
        )
      )

/** ttlSeconds: a whole number of seconds from 1 to MAX_TTL_SECONDS (Ttl.ts); 0 when absent. */
export const checkTtl = (ttl: number | undefined): Effect.Effect<number, InvalidArgument> =>
  Effect.as(checkTtlSeconds(ttl), ttl ?? 0)

/** Decode the values of a write and check them against maxItems and maxValueBytes. */
export const decodeWrite = (
  what: string,
  values: ReadonlyArray<string>,
  encoding: Encoding | undefined,
  limits: Limits
): Effect.Effect<ReadonlyArray<Buffer>, InvalidArgument | TooLarge> =>
  Effect.gen(function* () {
    yield* checkItemCount(what, values.length, limits)
    const bufs = yield* Effect.forEach(values, (v) => toBuffer(v, encoding))
    yield* checkBytes(
      what,
      bufs.reduce((n, b) => n + b.length, 0),
      limits
    )
    return bufs
  })

/**
 * The checks every collection write makes before touching a store, whichever the
 * backing: the TTL, then the values (count, encoding, size).
 */
export const checkWrite = (
  what: string,
  values: ReadonlyArray<string>,
  options: WriteOptions | undefined,
  limits: Limits
): Effect.Effect<{ readonly ttl: number; readonly bufs: ReadonlyArray<Buffer> }, InvalidArgument | TooLarge> =>
  Effect.gen(function* () {
    const ttl = yield* checkTtl(options?.ttlSeconds)
    const bufs = yield* decodeWrite(what, values, options?.encoding, limits)
    return { ttl, bufs }
  })

/** At least one item, at most maxItems per call. */
export const checkItemCount = (
  what: string,
  n: number,
  limits: Limits
): Effect.Effect<void, InvalidArgument | TooLarge> =>
  n === 0
    ? Effect.fail(invalid(`${what}: give at least one.`))
    : n > limits.maxItems
      ? Effect.fail(
          new TooLarge({
            message: `${what}: ${n} items, over the limit of ${limits.maxItems} per call (REDIS_MCP_MAX_ITEMS). Split them across several calls.`,
            size: n,
            limit: limits.maxItems
          })
        )
      : Effect.void

/** The bytes one write stores stay under maxValueBytes. */
export const checkBytes = (what: string, bytes: number, limits: Limits): Effect.Effect<void, TooLarge> =>
  bytes > limits.maxValueBytes
    ? Effect.fail(
        new TooLarge({
          message: `${what}: ${bytes} bytes in one call, over the ${limits.maxValueBytes}-byte limit (REDIS_MCP_MAX_VALUE_BYTES). Split them across several calls or store less.`,
          size: bytes,
          limit: limits.maxValueBytes
        })
      )
    : Effect.void

/**
 * Write to a collection and set its TTL atomically: runs `ARGV[1]` on KEYS[1]
 * with the option words and the items (in chunks, so any number of items fits
 * Lua's unpack), optionally counting the collection before and after with
 * `ARGV[5]`, then EXPIRE when a TTL is given. A WRONGTYPE aborts before EXPIRE.
 * ARGV: command, ttl (0 = none), option count, stride, card command ('' = none), options…, items…
 * Returns {sum of replies, last reply, size before, size after}.
 */
export const WRITE_LUA = `
local cmd, ttl, nopt, stride, card = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local before, after = 0, 0
if card ~= '' then before = redis.call(card, KEYS[1]) end
local per = stride * math.floor(1000 / stride)
local sum, last, i = 0, 0, 6 + nopt
while i <= #ARGV do
  local args = {}
  for k = 6, 5 + nopt do args[#args + 1] = ARGV[k] end
  local j = math.min(i + per - 1, #ARGV)
  for k = i, j do args[#args + 1] = ARGV[k] end
  last = redis.call(cmd, KEYS[1], unpack(args))
  sum = sum + last
  i = j + 1
end
if card ~= '' then after = redis.call(card, KEYS[1]) end
if ttl > 0 then redis.call('EXPIRE', KEYS[1], ttl) end
return {sum, last, before, after}
`

export interface WriteReply {
  readonly sum: number
  readonly last: number
  readonly before: number
  readonly after: number
}

export const writeArgs = (
  command: string,
  ttl: number,
  stride: number,
  options: ReadonlyArray<string>,
  items: ReadonlyArray<Buffer | string>,
  card = ""
): Array<string | number | Buffer> => [command, ttl, options.length, stride, card, ...options, ...items]

export const toWriteReply = (reply: unknown): WriteReply => {
  const [sum, last, before, after] = reply as [number, number, number, number]
  return { sum, last, before, after }
}

/** Redis index rules: negative from the end, clamped to the list. */
export const resolveRange = (len: number, start: number, stop: number): readonly [number, number] => {
  let s = start < 0 ? len + start : start
  let e = stop < 0 ? len + stop : stop
  if (s < 0) s = 0
  if (e >= len) e = len - 1
  return [s, e]
}
