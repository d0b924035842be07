/**
 * `Kv` on Redis. Values travel as Buffers (binary-safe); with a key prefix
 * configured ioredis prefixes every key argument, and `scan` adds the prefix to
 * MATCH and strips it from results itself (SCAN has no key arguments).
 */
import { Effect } from "effect"
import { type RedisError, RedisUnavailable } from "../../Errors.ts"
import { decodeClusterCursor, encodeClusterCursor, groupBySlot } from "../../layers/ClusterSlots.ts"
import { ServerConfig } from "../../layers/Config.ts"
import { RedisClient, type RedisClientShape, type RedisLike } from "../../layers/RedisClient.ts"
import { escapeGlob } from "../Glob.ts"
import type { ExpireOptions, GetOptions, KeyInfo, KvShape, MsetEntry, ScanOptions, SetOptions } from "../Kv.ts"
import type { RedisType } from "../MemoryStore.ts"
import { explainWrongType } from "../RedisTypes.ts"
import {
  badCursor,
  checkExpire,
  checkIncrement,
  checkKeys,
  checkMset,
  distinct,
  MAX_SCAN_ROUNDS,
  missing,
  notInteger,
  rangeProblem,
  readLength,
  renameMissing,
  scanLimit,
  setBytes,
  toPart,
  type ValuePart
} from "./KvShared.ts"
import { MGET_LUA, type MgetRaw, mgetBudget, mgetInTwoSteps, parseMgetReply, toMgetResult } from "./Mget.ts"
import { decodeScanCursor, encodeScanCursor, scanKeyHash } from "./ScanCursor.ts"

/**
 * The commands that touch several keys (and SCAN), one function each. On a
 * standalone server or behind Sentinel each is one command. The Cluster seam: a
 * Cluster refuses these with CROSSSLOT when keys sit in different slots, so a
 * cluster version of this interface groups keys by slot, runs one command per
 * group, and merges the replies back into input order; its `scanPage` walks every
 * primary behind one opaque cursor (`clusterOps` below).
 */
export interface MultiKeyOps {
  /** Distinct keys' sizes and the values that fit `budget` JSON bytes, read in order (see Mget.ts). */
  readonly mget: (keys: ReadonlyArray<string>, budget: number) => Effect.Effect<ReadonlyArray<MgetRaw>, RedisError>
  /** All entries at once; with `ttlMs`, each with that TTL (atomic). */
  readonly mset: (
    entries: ReadonlyArray<{ readonly key: string; readonly bytes: Buffer }>,
    ttlMs: number | undefined
  ) => Effect.Effect<void, RedisError>
  readonly del: (keys: ReadonlyArray<string>) => Effect.Effect<number, RedisError>
  /** One flag per key, in order. */
  readonly exists: (keys: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<boolean>, RedisError>
  /** One SCAN round trip: the next cursor and the (still prefixed) key names. */
  readonly scanPage: (
    cursor: string,
    match: string,
    count: number,
    type: RedisType | undefined
  ) => Effect.Effect<readonly [string, ReadonlyArray<string>], RedisError>
}

type ExecReply = Array<[error: Error | null, result: unknown]> | null

/** The replies of a MULTI, or the first error in it (thrown so RedisClient maps it). */
const execReplies = (replies: ExecReply): Array<unknown> => {
  if (replies === null) throw new Error("EXECABORT transaction aborted")
  return replies.map(([error, result]) => {
    if (error !== null) throw error
    return result
  })
}

/** MGET_LUA on some keys (one slot on a Cluster). */
type MgetScript = (
  keys: ReadonlyArray<string>,
  budget: number,
  mayCut: boolean
) => Effect.Effect<Array<MgetRaw>, RedisError>

const mgetScript = (redis: RedisClientShape): MgetScript => {
  const run = redis.script("mget", MGET_LUA, { buffers: true, readOnly: true })
  return (keys, budget, mayCut) =>
    Effect.map(run(keys, [budget, mayCut ? "1" : "0"], { idempotent: true }), parseMgetReply)
}

/** One command per operation: for a standalone server or Sentinel. */
export const standaloneOps = (redis: RedisClientShape, script = mgetScript(redis)): MultiKeyOps => ({
  mget: (keys, budget) => script(keys, budget, true),
  mset: (entries, ttlMs) =>
    ttlMs === undefined
      ? redis.run(
          "MSET",
          (c) =>
            c.call(
              "MSET",
              entries.flatMap((e) => [e.key, e.bytes])
            ),
          { idempotent: true }
        )
      : redis.run(
          "MULTI SET",
          (c) =>
            c
              .multi(entries.map((e) => ["set", e.key, e.bytes, "PX", String(ttlMs)]))
              .exec()
              .then(execReplies),
          { idempotent: true }
        ),
  // Not retried: a retry after a lost reply would report 0 deleted.
  del: (keys) => redis.run("DEL", (c) => c.del(...keys)),
  exists: (keys) =>
    redis.run("EXISTS", (c) => Promise.all(keys.map((k) => c.exists(k).then((n) => n > 0))), { idempotent: true }),
  scanPage: (cursor, match, count, type) =>
    redis.run(
      "SCAN",
      (c: RedisLike) =>
        c.call("SCAN", [
          cursor,
          "MATCH",
          match,
          "COUNT",
          count,
          ...(type === undefined ? [] : ["TYPE", type])
        ]) as Promise<[string, Array<string>]>,
      { idempotent: true }
    )
})

/**
 * A Cluster refuses multi-key commands across slots (CROSSSLOT), so here each is
 * split per slot: one command per slot, run concurrently, replies put back in input
 * order. `mset` is therefore atomic per slot only (keys sharing a `{hash tag}` share
 * a slot). `scanPage` walks the primaries one after another behind one cursor.
 */
export const clusterOps = (redis: RedisClientShape): MultiKeyOps => {
  const script = mgetScript(redis)
  const single = standaloneOps(redis, script)
  const perSlot = <A>(keys: ReadonlyArray<string>, f: (part: Array<number>) => Effect.Effect<A, RedisError>) =>
    Effect.forEach(groupBySlot(keys, redis.keyPrefix), f, { concurrency: SLOT_CONCURRENCY })
  /** `run` once per slot's keys, its results put back in key order. */
  const inOrder = (
    keys: ReadonlyArray<string>,
    run: (part: ReadonlyArray<string>) => Effect.Effect<Array<MgetRaw>, RedisError>
  ) =>
    Effect.map(
      perSlot(keys, (part) =>
        Effect.map(run(part.map((i) => keys[i]!)), (raws) => part.map((i, j) => [i, raws[j]!] as const))
      ),
      (groups) => {
        const out = new Array<MgetRaw>(keys.length)
        for (const [i, raw] of groups.flat()) out[i] = raw
        return out
      }
    )
  return {
    mget: (keys, budget) => mgetInTwoSteps(keys, budget, inOrder, script),
    mset: (entries, ttlMs) =>
      Effect.asVoid(
        perSlot(
          entries.map((e) => e.key),
          (part) =>
            single.mset(
              part.map((i) => entries[i]!),
              ttlMs
            )
        )
      ),
    del: (keys) =>
      Effect.map(
        perSlot(keys, (part) => single.del(part.map((i) => keys[i]!))),
        (counts) => counts.reduce((a, b) => a + b, 0)
      ),
    // One EXISTS per key already: each goes to its own slot.
    exists: single.exists,
    scanPage: (cursor, match, count, type) =>
      Effect.gen(function* () {
        const at = decodeClusterCursor(cursor) ?? { slot: 0, nodeCursor: 0n }
        const primaries = yield* redis.primaries
        const node =
          cursor === "0"
            ? primaries[0]
            : primaries.find((p) => p.slots.some(([from, to]) => at.slot >= from && at.slot <= to))
        if (node === undefined) {
          return yield* new RedisUnavailable({
            message: `SCAN: no primary serves slot ${at.slot} right now (failover or resharding); retry in a few seconds with the same cursor.`
          })
        }
        const slot = node.slots[0]![0]
        const [next, keys] = yield* redis.runOnPrimary(
          slot,
          "SCAN",
          (c) =>
            c.call("SCAN", [
              at.nodeCursor.toString(),
              "MATCH",
              match,
              "COUNT",
              count,
              ...(type === undefined ? [] : ["TYPE", type])
            ]) as Promise<[string, Array<string>]>,
          { idempotent: true }
        )
        if (next !== "0") return [encodeClusterCursor({ slot, nodeCursor: BigInt(next) }), keys] as const
        const following = primaries.find((p) => p.slots[0]![0] > slot)
        return [
          following === undefined ? "0" : encodeClusterCursor({ slot: following.slots[0]![0], nodeCursor: 0n }),
          keys
        ] as const
      })
  }
}

/** Slots one multi-key call works on at the same time. */
const SLOT_CONCURRENCY = 32

/** Type, PTTL and size in one atomic round trip (no binary replies, so Lua is safe here). */
const KEY_INFO_LUA = `
local k = KEYS[1]
local t = redis.call('TYPE', k)['ok']
if t == 'none' then return {t, -2, 0} end
local sizes = {string = 'STRLEN', hash = 'HLEN', list = 'LLEN', set = 'SCARD', zset = 'ZCARD', stream = 'XLEN'}
local size = -1
if sizes[t] then size = redis.call(sizes[t], k) end
return {t, redis.call('PTTL', k), size}
`

/**
 * A value's size and at most ARGV[2] bytes of it from ARGV[1], in one round trip
 * (never the whole of a value bigger than that: GETRANGE, which is as cheap as GET
 * for a value that fits): {exists, length, bytes}.
 */
const GET_LUA = `
local n = redis.call('STRLEN', KEYS[1])
if n == 0 then return {redis.call('EXISTS', KEYS[1]), 0, ''} end
local from, m = tonumber(ARGV[1]), tonumber(ARGV[2])
if from >= n then return {1, n, ''} end
return {1, n, redis.call('GETRANGE', KEYS[1], from, from + m - 1)}
`

export const makeRedis = Effect.gen(function* () {
  const redis = yield* RedisClient
  const { limits } = yield* ServerConfig
  const prefix = redis.keyPrefix
  const ops = redis.settings.mode === "cluster" ? clusterOps(redis) : standaloneOps(redis)
  const keyInfoScript = redis.script("key_info", KEY_INFO_LUA)
  const getScript = redis.script("get_range", GET_LUA, { buffers: true, readOnly: true })

  // get is the hottest call: plain combinators, no generator and no span (Effect.fn captures a stack
  // trace and opens one per call), the range checked before anything is built.
  const fallback = (key: string, offset: number, length: number) =>
    Effect.map(getScript([key], [offset, length], { idempotent: true }), (reply) => {
      const [exists, total, chunk] = reply as [number, number, Buffer]
      return exists === 0 ? missing : toPart(chunk, offset, total, limits)
    })

  // One GETRANGE of one byte more than may be read: a non-empty reply that fits is the
  // whole rest of the value, read atomically and as cheaply as a GET (the script costs
  // Redis ten times that). An empty reply is a missing key, an empty value or an offset
  // past the end: then an EXISTS of 0 answers "missing", true of the moment the EXISTS
  // ran, as cheaply again. Anything else (an empty value, past the end, more to come)
  // takes the script, which reads the size and the part in one atomic step.
  const read = (key: string, offset: number, length: number): Effect.Effect<ValuePart, RedisError> =>
    Effect.flatMap(
      redis.run("GETRANGE", (c) => c.getrangeBuffer(key, offset, offset + length), { idempotent: true }),
      (head) => {
        if (head.length > 0 && head.length <= length) {
          return Effect.succeed(toPart(head, offset, offset + head.length, limits))
        }
        if (head.length > 0) return fallback(key, offset, length)
        return Effect.flatMap(
          redis.run("EXISTS", (c) => c.exists(key), { idempotent: true }),
          (exists) => (exists === 0 ? Effect.succeed(missing) : fallback(key, offset, length))
        )
      }
    )

  const get = (key: string, options: GetOptions = {}) => {
    const problem = rangeProblem(options)
    if (problem !== undefined) return Effect.fail(problem)
    return read(key, options.offset ?? 0, readLength(options, limits)).pipe(explainWrongType(redis, key, "string"))
  }

  // The next hottest: the same, checked synchronously, one step to Redis.
  const set = (key: string, value: string, options: SetOptions = {}) => {
    const bytes = setBytes(value, options, limits)
    if (!Buffer.isBuffer(bytes)) return Effect.fail(bytes)
    const condition = options.condition ?? "always"
    const args: Array<string | Buffer> = [key, bytes]
    if (options.ttlSeconds !== undefined) args.push("EX", String(options.ttlSeconds))
    if (options.keepTtl === true) args.push("KEEPTTL")
    if (condition === "ifAbsent") args.push("NX")
    if (condition === "ifPresent") args.push("XX")
    // NX is not retried: a retry after a lost "OK" would answer "not written".
    return Effect.map(
      redis.run("SET", (c) => c.call("SET", args), { idempotent: condition !== "ifAbsent" }),
      (reply) => reply === "OK"
    )
  }

  const mget = Effect.fn("Kv.mget")(function* (keys: ReadonlyArray<string>) {
    yield* checkKeys("mget", keys, limits)
    const unique = distinct(keys)
    const budget = mgetBudget(unique, limits)
    return toMgetResult(unique, yield* ops.mget(unique, budget), budget)
  })

  const mset = Effect.fn("Kv.mset")(function* (entries: ReadonlyArray<MsetEntry>, ttlSeconds?: number) {
    const checked = yield* checkMset(entries, ttlSeconds, limits)
    yield* ops.mset(checked, ttlSeconds === undefined ? undefined : ttlSeconds * 1000)
    return true
  })

  const del = Effect.fn("Kv.del")(function* (keys: ReadonlyArray<string>) {
    yield* checkKeys("del", keys, limits)
    return yield* ops.del(distinct(keys))
  })

  const exists = Effect.fn("Kv.exists")(function* (keys: ReadonlyArray<string>) {
    yield* checkKeys("exists", keys, limits)
    const unique = distinct(keys)
    const flags = yield* ops.exists(unique)
    const existing = unique.filter((_, i) => flags[i] === true)
    return { count: existing.length, existing }
  })

  const expire = Effect.fn("Kv.expire")(function* (key: string, options: ExpireOptions) {
    const change = yield* checkExpire(options)
    const applied =
      change === "persist"
        ? // Not retried: a retry after a lost reply would answer 0 (no TTL left to remove).
          yield* redis.run("PERSIST", (c) => c.persist(key))
        : yield* redis.run("EXPIRE", (c) => c.expire(key, change), { idempotent: true })
    return applied === 1
  })

  const keyInfo = Effect.fn("Kv.keyInfo")(function* (key: string) {
    const [type, pttl, size] = (yield* keyInfoScript([key], [], { idempotent: true })) as [string, number, number]
    return {
      exists: type !== "none",
      type,
      ttlMs: pttl >= 0 ? pttl : null,
      size: size >= 0 ? size : null
    } satisfies KeyInfo
  })

  const rename = Effect.fn("Kv.rename")(function* (key: string, newKey: string, onlyIfAbsent = false) {
    // Not retried: after a lost reply the source is gone and a retry would answer NotFound.
    const reply = yield* redis
      .run(
        onlyIfAbsent ? "RENAMENX" : "RENAME",
        (c): Promise<unknown> => (onlyIfAbsent ? c.renamenx(key, newKey) : c.rename(key, newKey))
      )
      .pipe(
        Effect.catchTag("RedisCommandError", (e) =>
          Effect.fail(/no such key/i.test(e.message) ? renameMissing(key) : e)
        )
      )
    return reply === "OK" || reply === 1
  })

  const incr = Effect.fn("Kv.incr")(function* (key: string, by = 1) {
    yield* checkIncrement(by)
    // Never retried: INCRBY twice adds twice.
    return yield* redis
      .run("INCRBY", (c) => c.incrby(key, by))
      .pipe(
        explainWrongType(redis, key, "string"),
        Effect.catchTag("RedisCommandError", (e) =>
          Effect.fail(/not an integer|overflow/i.test(e.message) ? notInteger(key) : e)
        )
      )
  })

  /**
   * Pages hold at most `limit` keys. SCAN may answer a batch with more keys than
   * are still wanted; the cursor then names that batch (its SCAN cursor and COUNT)
   * and the keys of it already returned, and the next call reads the batch again
   * and returns the others.
   */
  const scan = Effect.fn("Kv.scan")(function* (options: ScanOptions = {}) {
    const from = decodeScanCursor(options.cursor ?? "0")
    if (from === undefined) return yield* badCursor(options.cursor!)
    const limit = scanLimit(options, limits)
    const match = escapeGlob(prefix) + (options.match ?? "*")
    const keys: Array<string> = []
    let cursor = from.cursor
    let again = from.batch
    for (let round = 0; round < MAX_SCAN_ROUNDS; round++) {
      // COUNT stays within what is still wanted, so a batch rarely holds more than fits.
      const count = again?.count ?? Math.max(1, Math.min(options.count ?? limit, limit - keys.length))
      const [next, batch] = yield* ops.scanPage(cursor, match, count, options.type)
      const seen = again?.seen ?? new Set<string>()
      const fresh = again === undefined ? batch : batch.filter((k) => !seen.has(scanKeyHash(k)))
      const room = limit - keys.length
      for (const k of fresh.slice(0, room)) {
        keys.push(k.startsWith(prefix) ? k.slice(prefix.length) : k)
        seen.add(scanKeyHash(k))
      }
      if (fresh.length > room) {
        return { keys, cursor: encodeScanCursor(cursor, { count, seen }), done: false, truncated: true }
      }
      again = undefined
      cursor = next
      if (cursor === "0" || keys.length >= limit) break
    }
    return { keys, cursor, done: cursor === "0", truncated: cursor !== "0" }
  })

  return { get, set, mget, mset, del, exists, expire, keyInfo, rename, incr, scan } satisfies KvShape
})
