/**
 * `Kv` on the shared in-memory keyspace (`MemoryStore`), with Redis's semantics:
 * TTLs by Effect's Clock, WrongType naming the actual type, MGET reading other
 * types as missing. The key prefix is not applied: the keyspace is private to
 * the process. Scan pages walk the keys in sorted order behind a cursor that
 * names the last key seen, so keys present for the whole walk are each returned.
 */
import { Effect } from "effect"
import { ServerConfig } from "../../layers/Config.ts"
import { matcher } from "../Glob.ts"
import type { ExpireOptions, GetOptions, KeyInfo, KvShape, MsetEntry, ScanOptions, SetOptions } from "../Kv.ts"
import { type Entry, MemoryStore } from "../MemoryStore.ts"
import {
  badCursor,
  checkExpire,
  checkGet,
  checkIncrement,
  checkKeys,
  checkMset,
  checkSet,
  distinct,
  missing,
  notInteger,
  readLength,
  renameMissing,
  scanLimit,
  toPart
} from "./KvShared.ts"
import { mgetBudget, selectInMemory, toMgetResult } from "./Mget.ts"

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

/** Redis's rule for a string that INCR accepts: a plain base-10 int64, no sign on 0, no leading zeros. */
const parseInt64 = (text: string): bigint | undefined => {
  if (!/^(0|-?[1-9][0-9]{0,19})$/.test(text)) return undefined
  const n = BigInt(text)
  return n < INT64_MIN || n > INT64_MAX ? undefined : n
}

const sizeOf = (e: Entry): number | null => {
  switch (e.type) {
    case "string":
      return e.value.length
    case "hash":
    case "set":
    case "zset":
      return e.value.size
    case "list":
      return e.value.length
    case "stream": {
      // The stream's shape belongs to the Streams memory layer (entries in an array); anything else is unknown.
      const entries = (e.value as { readonly entries?: unknown } | null)?.entries
      return Array.isArray(entries) ? entries.length : null
    }
  }
}

const encodeCursor = (lastKey: string) => `m${Buffer.from(lastKey, "utf8").toString("base64url")}`
const decodeCursor = (cursor: string): string | undefined =>
  /^m[A-Za-z0-9_-]*$/.test(cursor) ? Buffer.from(cursor.slice(1), "base64url").toString("utf8") : undefined

export const makeMemory = Effect.gen(function* () {
  const store = yield* MemoryStore
  const { limits } = yield* ServerConfig

  const expiresAt = (ttlSeconds: number | undefined) =>
    ttlSeconds === undefined ? Effect.succeed(null) : Effect.map(store.now, (now) => now + ttlSeconds * 1000)

  // get and set are the hottest calls: untraced (Effect.fn captures a stack trace and opens a span per call).
  const get = Effect.fnUntraced(function* (key: string, options: GetOptions = {}) {
    yield* checkGet(options)
    const entry = yield* store.getTyped(key, "string")
    if (entry === undefined) return missing
    const offset = options.offset ?? 0
    const chunk = entry.value.subarray(offset, offset + readLength(options, limits))
    return toPart(chunk, offset, entry.value.length, limits)
  })

  const set = Effect.fnUntraced(function* (key: string, value: string, options: SetOptions = {}) {
    const bytes = yield* checkSet(value, options, limits)
    const current = yield* store.get(key)
    const condition = options.condition ?? "always"
    if ((condition === "ifAbsent" && current !== undefined) || (condition === "ifPresent" && current === undefined)) {
      return false
    }
    const ttl = options.keepTtl === true ? (current?.expiresAt ?? null) : yield* expiresAt(options.ttlSeconds)
    yield* store.put(key, { type: "string", value: bytes, expiresAt: ttl })
    return true
  })

  const mget = Effect.fn("Kv.mget")(function* (keys: ReadonlyArray<string>) {
    yield* checkKeys("mget", keys, limits)
    const unique = distinct(keys)
    const stored: Array<Buffer | null | "other"> = []
    for (const key of unique) {
      const e = yield* store.get(key)
      stored.push(e === undefined ? null : e.type === "string" ? e.value : "other")
    }
    const budget = mgetBudget(unique, limits)
    return toMgetResult(unique, selectInMemory(stored, budget), budget)
  })

  const mset = Effect.fn("Kv.mset")(function* (entries: ReadonlyArray<MsetEntry>, ttlSeconds?: number) {
    const checked = yield* checkMset(entries, ttlSeconds, limits)
    const at = yield* expiresAt(ttlSeconds)
    for (const { key, bytes } of checked) yield* store.put(key, { type: "string", value: bytes, expiresAt: at })
    return true
  })

  const del = Effect.fn("Kv.del")(function* (keys: ReadonlyArray<string>) {
    yield* checkKeys("del", keys, limits)
    let deleted = 0
    for (const key of distinct(keys)) if (yield* store.remove(key)) deleted++
    return deleted
  })

  const exists = Effect.fn("Kv.exists")(function* (keys: ReadonlyArray<string>) {
    yield* checkKeys("exists", keys, limits)
    const existing: Array<string> = []
    for (const key of distinct(keys)) if ((yield* store.get(key)) !== undefined) existing.push(key)
    return { count: existing.length, existing }
  })

  const expire = Effect.fn("Kv.expire")(function* (key: string, options: ExpireOptions) {
    const change = yield* checkExpire(options)
    const entry = yield* store.get(key)
    if (entry === undefined) return false
    if (change === "persist") {
      if (entry.expiresAt === null) return false
      entry.expiresAt = null
      return true
    }
    entry.expiresAt = yield* expiresAt(change)
    return true
  })

  const keyInfo = Effect.fn("Kv.keyInfo")(function* (key: string) {
    const entry = yield* store.get(key)
    if (entry === undefined) return { exists: false, type: "none", ttlMs: null, size: 0 } satisfies KeyInfo
    const now = yield* store.now
    return {
      exists: true,
      type: entry.type,
      ttlMs: entry.expiresAt === null ? null : entry.expiresAt - now,
      size: sizeOf(entry)
    } satisfies KeyInfo
  })

  const rename = Effect.fn("Kv.rename")(function* (key: string, newKey: string, onlyIfAbsent = false) {
    const entry = yield* store.get(key)
    if (entry === undefined) return yield* renameMissing(key)
    if (onlyIfAbsent && (yield* store.get(newKey)) !== undefined) return false
    if (newKey === key) return true
    yield* store.remove(key)
    yield* store.put(newKey, entry)
    return true
  })

  const incr = Effect.fn("Kv.incr")(function* (key: string, by = 1) {
    yield* checkIncrement(by)
    const entry = yield* store.getTyped(key, "string")
    const current = entry === undefined ? 0n : parseInt64(entry.value.toString("utf8"))
    if (current === undefined) return yield* notInteger(key)
    const next = current + BigInt(by)
    if (next < INT64_MIN || next > INT64_MAX) return yield* notInteger(key)
    const bytes = Buffer.from(next.toString(), "utf8")
    if (entry === undefined) yield* store.put(key, { type: "string", value: bytes, expiresAt: null })
    else entry.value = bytes
    return Number(next)
  })

  const scan = Effect.fn("Kv.scan")(function* (options: ScanOptions = {}) {
    const cursor = options.cursor ?? "0"
    const after = cursor === "0" ? undefined : decodeCursor(cursor)
    if (cursor !== "0" && after === undefined) return yield* badCursor(cursor)
    const limit = scanLimit(options, limits)
    const matches = options.match === undefined ? () => true : matcher(options.match)
    const all = [...(yield* store.keys)].sort()
    const keys: Array<string> = []
    let last: string | undefined
    for (const key of all) {
      if (after !== undefined && key <= after) continue
      if (keys.length >= limit) break
      last = key
      if (!matches(key)) continue
      if (options.type !== undefined && (yield* store.get(key))?.type !== options.type) continue
      keys.push(key)
    }
    const done = last === undefined || last === all[all.length - 1]
    return { keys, cursor: done ? "0" : encodeCursor(last!), done, truncated: !done }
  })

  return { get, set, mget, mset, del, exists, expire, keyInfo, rename, incr, scan } satisfies KvShape
})
