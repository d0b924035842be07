/**
 * The pieces the in-memory command table (MemoryCommands) is built from: RESP2
 * replies, Redis's error texts, argument parsing, typed access to the keyspace,
 * and the commands with options (SET, the pops and pushes, EXPIRE, TTL).
 */
import { Effect } from "effect"
import { RedisCommandError, type WrongType } from "../Errors.ts"
import { type EntryOf, type MemoryStoreShape, type RedisType, wrongType } from "./MemoryStore.ts"
import { memberKey } from "./Paging.ts"

/** A RESP2 reply: nil, integer, bulk/status string, or array. */
export type Reply = null | number | Buffer | ReadonlyArray<Reply>

export type Failure = RedisCommandError | WrongType
export type Run = (s: MemoryStoreShape, name: string, a: ReadonlyArray<string>) => Effect.Effect<Reply, Failure>

export const RO = ["readonly", "fast"]
export const W = ["write", "fast"]
export const ok = Buffer.from("OK")
export const bulk = (s: string) => Buffer.from(s, "utf8")
/** Hash fields and set/zset members are kept as latin1 strings of their bytes, as the collection services keep them. */
export const mem = (s: string) => memberKey(Buffer.from(s, "utf8"))
export const fail = (name: string, message: string) =>
  Effect.fail(new RedisCommandError({ message: `${name} failed: ERR ${message}` }))

export const int = (name: string, raw: string | undefined): Effect.Effect<number, RedisCommandError> => {
  const n = raw !== undefined && /^-?\d{1,16}$/.test(raw) ? Number(raw) : Number.NaN
  return Number.isSafeInteger(n) ? Effect.succeed(n) : fail(name, "value is not an integer or out of range")
}
export const float = (name: string, raw: string): Effect.Effect<number, RedisCommandError> => {
  const n = /^[+-]?inf$/i.test(raw)
    ? raw.startsWith("-")
      ? -Infinity
      : Infinity
    : Number(raw.trim() === "" ? "x" : raw)
  return Number.isNaN(n) ? fail(name, "value is not a valid float") : Effect.succeed(n)
}
export const score = (n: number) => bulk(n === Infinity ? "inf" : n === -Infinity ? "-inf" : String(n))

/** The live entry of `type` at `key`, created empty (no TTL) when missing. */
export const upsert = <T extends "hash" | "list" | "set" | "zset">(s: MemoryStoreShape, key: string, type: T) =>
  Effect.flatMap(s.getTyped(key, type), (e) => {
    if (e !== undefined) return Effect.succeed(e)
    const empty = { hash: () => new Map(), list: () => [], set: () => new Set(), zset: () => new Map() }[type]()
    const created = { type, value: empty, expiresAt: null } as unknown as EntryOf<T>
    return Effect.as(s.put(key, created), created)
  })

/** Read a collection: its value, or `empty` when the key is missing. */
export const read = <T extends RedisType, A>(
  s: MemoryStoreShape,
  key: string,
  type: T,
  f: (e: EntryOf<T>) => A,
  empty: A
) => Effect.map(s.getTyped(key, type), (e) => (e === undefined ? empty : f(e)))

/** Apply `f` to an existing collection, then drop it if it became empty. */
export const modify = <T extends RedisType>(s: MemoryStoreShape, key: string, type: T, f: (e: EntryOf<T>) => number) =>
  Effect.flatMap(s.getTyped(key, type), (e) =>
    e === undefined ? Effect.succeed(0) : Effect.as(s.dropIfEmpty(key), f(e))
  )

export const pairs = (name: string, a: ReadonlyArray<string>, from: number) =>
  (a.length - from) % 2 === 0 && a.length > from
    ? Effect.void
    : fail(name, `wrong number of arguments for '${name.toLowerCase()}' command`)

export const rangeOf = (len: number, start: number, stop: number): [number, number] => {
  const s = Math.max(start < 0 ? len + start : start, 0)
  const e = Math.min(stop < 0 ? len + stop : stop, len - 1)
  return [s, e]
}

export const incrBy = (s: MemoryStoreShape, name: string, key: string, by: number) =>
  Effect.gen(function* () {
    const e = yield* s.getTyped(key, "string")
    const current = e === undefined ? 0 : yield* int(name, e.value.toString("utf8"))
    const next = current + by
    if (!Number.isSafeInteger(next)) return yield* fail(name, "increment or decrement would overflow")
    yield* s.put(key, { type: "string", value: bulk(String(next)), expiresAt: e?.expiresAt ?? null })
    return next
  })

export const set: Run = (s, name, [key, value, ...opts]) =>
  Effect.gen(function* () {
    let ttlMs: number | undefined
    let nx = false
    let xx = false
    let keepTtl = false
    let get = false
    for (let i = 0; i < opts.length; i++) {
      const o = opts[i]!.toUpperCase()
      if (o === "NX") nx = true
      else if (o === "XX") xx = true
      else if (o === "GET") get = true
      else if (o === "KEEPTTL") keepTtl = true
      else if ((o === "EX" || o === "PX") && ttlMs === undefined) {
        const n = yield* int(name, opts[++i])
        if (n <= 0) return yield* fail(name, "invalid expire time in 'set' command")
        ttlMs = o === "EX" ? n * 1000 : n
      } else return yield* fail(name, "syntax error")
    }
    if ((nx && xx) || (keepTtl && ttlMs !== undefined)) return yield* fail(name, "syntax error")
    const old = yield* s.get(key!)
    if (get && old !== undefined && old.type !== "string")
      return yield* Effect.fail(wrongType(key!, old.type, "string"))
    const previous = old?.type === "string" ? old.value : null
    if ((nx && old !== undefined) || (xx && old === undefined)) return get ? previous : null
    const now = yield* s.now
    const expiresAt = ttlMs !== undefined ? now + ttlMs : keepTtl ? (old?.expiresAt ?? null) : null
    yield* s.put(key!, { type: "string", value: bulk(value!), expiresAt })
    return get ? previous : ok
  })

export const pop =
  (end: "start" | "end"): Run =>
  (s, name, [key, count]) =>
    Effect.gen(function* () {
      const n = count === undefined ? undefined : yield* int(name, count)
      if (n !== undefined && n < 0) return yield* fail(name, "value is out of range, must be positive")
      const e = yield* s.getTyped(key!, "list")
      if (e === undefined) return null
      if (n === 0) return []
      const taken = end === "start" ? e.value.splice(0, n ?? 1) : e.value.splice(-(n ?? 1)).reverse()
      yield* s.dropIfEmpty(key!)
      return n === undefined ? (taken[0] ?? null) : taken
    })

export const push =
  (end: "start" | "end"): Run =>
  (s, _name, [key, ...values]) =>
    Effect.map(upsert(s, key!, "list"), (e) => {
      for (const v of values) end === "start" ? e.value.unshift(bulk(v)) : e.value.push(bulk(v))
      return e.value.length
    })

export const expire =
  (unitMs: number): Run =>
  (s, name, [key, amount, ...opts]) =>
    Effect.gen(function* () {
      if (opts.length > 0) return yield* fail(name, "the in-memory store supports no EXPIRE options; use a real Redis")
      const n = yield* int(name, amount)
      const e = yield* s.get(key!)
      if (e === undefined) return 0
      if (n <= 0) return (yield* s.remove(key!)) ? 1 : 0
      e.expiresAt = (yield* s.now) + n * unitMs
      return 1
    })

export const ttl =
  (unitMs: number): Run =>
  (s, _name, [key]) =>
    Effect.gen(function* () {
      const e = yield* s.get(key!)
      if (e === undefined) return -2
      if (e.expiresAt === null) return -1
      return Math.round((e.expiresAt - (yield* s.now)) / unitMs)
    })

export const sortedZ = (e: EntryOf<"zset">) =>
  [...e.value.entries()].sort(([ma, sa], [mb, sb]) => sa - sb || (ma < mb ? -1 : ma > mb ? 1 : 0))

export function count(removed: ReadonlyArray<boolean>): number {
  return removed.filter((r) => r).length
}

/** GETRANGE's bytes, with Redis's rules for negative and out-of-range offsets. */
export function byteRange(value: Buffer, start: number, end: number): Buffer {
  const len = value.length
  if (start < 0 && end < 0 && start > end) return Buffer.alloc(0)
  let s = start < 0 ? len + start : start
  let e = end < 0 ? len + end : end
  s = Math.max(s, 0)
  e = Math.min(Math.max(e, 0), len - 1)
  return s > e || len === 0 ? Buffer.alloc(0) : value.subarray(s, e + 1)
}

export function inclusive([start, end]: [number, number]): [number, number] {
  return [start, Math.max(start, end + 1)]
}
