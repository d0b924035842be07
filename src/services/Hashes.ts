/**
 * Redis hashes: set and read fields, page through big hashes with HSCAN, count
 * with HINCRBY. Field names are UTF-8 text; values UTF-8 or binary.
 */

import { Context, Effect, Layer } from "effect"
import type { Redis } from "ioredis"
import { quote } from "../Errors.ts"
import { ServerConfig } from "../layers/Config.ts"
import { RedisClient } from "../layers/RedisClient.ts"
import { jsonBound } from "./Budget.ts"
import {
  type CollectionError,
  checkItemCount,
  checkWrite,
  type Item,
  invalid,
  type Paged,
  type PageOptions,
  pageSize,
  toWriteReply,
  WRITE_LUA,
  type WriteOptions,
  writeArgs
} from "./Collection.ts"
import { type KeysOf, withKeyGuard } from "./KeyNames.ts"
import { MemoryStore } from "./MemoryStore.ts"
import { pageScripts, scanIntoPage } from "./PageScripts.ts"
import {
  type Build,
  decodeAfterCursor,
  decodeScanCursor,
  encodeAfterCursor,
  encodeScanCursor,
  itemBudget,
  keysAfter,
  memberBytes,
  memberKey,
  Page
} from "./Paging.ts"
import { explainWrongType } from "./RedisTypes.ts"
import { checkRange, missing, type RangeOptions, readLength, toPart, type ValuePart } from "./ValueRange.ts"
import { type Encoding, fromBuffer } from "./Values.ts"

/**
 * One field of a hash page. `fieldEncoding` is "base64" when the field name is not
 * UTF-8. A value cut to fit has `truncated`, its `length` and the `offset` where
 * `hget` reads on.
 */
export interface HashField extends Item {
  readonly field: string
  readonly fieldEncoding: Encoding
  readonly offset?: number
}

/** One field's value, or the part of it read (`offset`/`length` as `get`). */
export type HashValue = ValuePart

export interface HashesShape {
  /** HSET: set fields (creating the hash); returns how many fields are new. */
  readonly hset: (
    key: string,
    fields: Readonly<Record<string, string>>,
    options?: WriteOptions
  ) => Effect.Effect<{ readonly added: number }, CollectionError>
  /** HGET: one field's value (or a byte range of it, within the output cap); `found: false` for a missing key or field. */
  readonly hget: (key: string, field: string, options?: RangeOptions) => Effect.Effect<HashValue, CollectionError>
  /** HSCAN: one page of fields and values. */
  readonly hgetall: (key: string, options?: PageOptions) => Effect.Effect<Paged<HashField>, CollectionError>
  /** HDEL: remove fields; returns how many existed. An emptied hash disappears. */
  readonly hdel: (
    key: string,
    fields: ReadonlyArray<string>
  ) => Effect.Effect<{ readonly deleted: number }, CollectionError>
  /** HINCRBY: add to an integer field (created at 0); returns the new value. */
  readonly hincrby: (
    key: string,
    field: string,
    increment: number
  ) => Effect.Effect<{ readonly value: number }, CollectionError>
}

const notInteger = (key: string, field: string) =>
  invalid(
    `Field ${quote(field)} of hash ${quote(key)} does not hold an integer, so hincrby cannot add to it. Read it with hget, or overwrite it with hset.`
  )
const overflow = (key: string, field: string) =>
  invalid(
    `hincrby on field ${quote(field)} of hash ${quote(key)} would overflow a 64-bit integer. Use a smaller increment.`
  )

const checkIncrement = (increment: number) =>
  Number.isSafeInteger(increment)
    ? Effect.void
    : Effect.fail(invalid(`increment must be a whole number within ±9007199254740991, got ${increment}.`))

const INT64_MAX = 2n ** 63n - 1n
const INT64_MIN = -(2n ** 63n)

const hashField =
  (field: Buffer): Build<HashField> =>
  (v, cutBytes) => {
    const f = fromBuffer(field)
    return { field: f.value, fieldEncoding: f.encoding, ...v, ...(cutBytes === undefined ? {} : { offset: cutBytes }) }
  }

/**
 * One field's bytes from `offset`, at most `n` of them: KEYS[1]; ARGV: field,
 * offset, n. Returns {exists, total length, bytes}. Redis has no range read for a
 * hash field, so the script reads the value and returns only the part.
 */
const HGET_LUA = `
local len = redis.call('HSTRLEN', KEYS[1], ARGV[1])
if len == 0 then return {redis.call('HEXISTS', KEYS[1], ARGV[1]), 0, ''} end
local from, n = tonumber(ARGV[2]), tonumber(ARGV[3])
if from >= len then return {1, len, ''} end
local v = redis.call('HGET', KEYS[1], ARGV[1])
if from == 0 and n >= len then return {1, len, v} end
return {1, len, string.sub(v, from + 1, from + n)}
`

const flatten = (fields: Readonly<Record<string, string>>, values: ReadonlyArray<Buffer>): Array<Buffer> =>
  Object.keys(fields).flatMap((f, i) => [Buffer.from(f, "utf8"), values[i]!])

/** The key each call names, checked before it runs (KeyNames.ts). */
const hashKeys: KeysOf<HashesShape> = {
  hset: (key) => [key],
  hget: (key) => [key],
  hgetall: (key) => [key],
  hdel: (key) => [key],
  hincrby: (key) => [key]
}

export class Hashes extends Context.Service<Hashes, HashesShape>()("effect-redis-mcp/Hashes") {
  /** Backed by Redis. */
  static readonly layer = Layer.effect(
    Hashes,
    Effect.gen(function* () {
      const redis = yield* RedisClient
      const { limits } = yield* ServerConfig
      const budget = itemBudget(limits)
      const write = redis.script("hash_write", WRITE_LUA)
      const read = redis.script("hash_get", HGET_LUA, { buffers: true, readOnly: true })
      const pages = pageScripts(redis.script)
      const asHash = (key: string) => explainWrongType(redis, key, "hash")
      const r = (c: unknown) => c as Redis

      return Hashes.of({
        hset: Effect.fn("Hashes.hset")(function* (key, fields, options) {
          const { ttl, bufs: values } = yield* checkWrite("hset fields", Object.values(fields), options, limits)
          const reply = yield* write([key], writeArgs("HSET", ttl, 2, [], flatten(fields, values)), {
            idempotent: true
          }).pipe(asHash(key))
          return { added: toWriteReply(reply).sum }
        }),
        hget: Effect.fn("Hashes.hget")(function* (key, field, options = {}) {
          yield* checkRange(options)
          const offset = options.offset ?? 0
          const [exists, total, chunk] = (yield* read([key], [field, offset, readLength(options, limits)], {
            idempotent: true
          }).pipe(asHash(key))) as [number, number, Buffer]
          return exists === 0 ? missing : toPart(chunk, offset, total, limits)
        }),
        hgetall: Effect.fn("Hashes.hgetall")(function* (key, options) {
          const size = yield* pageSize(limits, options?.limit)
          const from = yield* decodeScanCursor(options?.cursor)
          const page = new Page<HashField>(size, budget)
          const next = yield* scanIntoPage(
            (args) => pages.scan([key], args, { idempotent: true }).pipe(asHash(key)),
            "HSCAN",
            from,
            page,
            (item) => hashField(item.name!)
          )
          return next === undefined
            ? { items: page.items, truncated: false }
            : { items: page.items, truncated: true, cursor: encodeScanCursor(next) }
        }),
        hdel: Effect.fn("Hashes.hdel")(function* (key, fields) {
          yield* checkItemCount("hdel fields", fields.length, limits)
          const deleted = yield* redis
            .run("HDEL", (c) => r(c).hdel(key, ...fields), { idempotent: true })
            .pipe(asHash(key))
          return { deleted }
        }),
        hincrby: Effect.fn("Hashes.hincrby")(function* (key, field, increment) {
          yield* checkIncrement(increment)
          const value = yield* redis
            .run("HINCRBY", (c) => r(c).hincrby(key, field, increment))
            .pipe(
              asHash(key),
              Effect.catchTag("RedisCommandError", (e) =>
                Effect.fail(
                  /not an integer/.test(e.message)
                    ? notInteger(key, field)
                    : /overflow/.test(e.message)
                      ? overflow(key, field)
                      : e
                )
              )
            )
          return { value }
        })
      })
    }).pipe(withKeyGuard(hashKeys))
  )

  /** On the shared in-memory keyspace. */
  static readonly layerMemory = Layer.effect(
    Hashes,
    Effect.gen(function* () {
      const store = yield* MemoryStore
      const { limits } = yield* ServerConfig
      const budget = itemBudget(limits)

      const getOrCreate = Effect.fn(function* (key: string) {
        const existing = yield* store.getTyped(key, "hash")
        if (existing !== undefined) return existing
        const entry = { type: "hash" as const, expiresAt: null, value: new Map<string, Buffer>() }
        yield* store.put(key, entry)
        return entry
      })

      return Hashes.of({
        hset: Effect.fn("Hashes.hset")(function* (key, fields, options) {
          const { ttl, bufs: values } = yield* checkWrite("hset fields", Object.values(fields), options, limits)
          const entry = yield* getOrCreate(key)
          let added = 0
          Object.keys(fields).forEach((f, i) => {
            const k = memberKey(Buffer.from(f, "utf8"))
            if (!entry.value.has(k)) added++
            entry.value.set(k, values[i]!)
          })
          if (ttl > 0) entry.expiresAt = (yield* store.now) + ttl * 1000
          return { added }
        }),
        hget: Effect.fn("Hashes.hget")(function* (key, field, options = {}) {
          yield* checkRange(options)
          const entry = yield* store.getTyped(key, "hash")
          const value = entry?.value.get(memberKey(Buffer.from(field, "utf8")))
          if (value === undefined) return missing
          const offset = options.offset ?? 0
          return toPart(value.subarray(offset, offset + readLength(options, limits)), offset, value.length, limits)
        }),
        hgetall: Effect.fn("Hashes.hgetall")(function* (key, options) {
          const size = yield* pageSize(limits, options?.limit)
          const after = yield* decodeAfterCursor(options?.cursor)
          const entry = yield* store.getTyped(key, "hash")
          const page = new Page<HashField>(size, budget)
          let last: string | undefined
          for (const k of keysAfter(entry?.value.keys() ?? [], after)) {
            const name = memberBytes(k)
            if (!page.offer(entry!.value.get(k)!, hashField(name), jsonBound(name))) {
              return { items: page.items, truncated: true, cursor: encodeAfterCursor(last!) }
            }
            last = k
          }
          return { items: page.items, truncated: false }
        }),
        hdel: Effect.fn("Hashes.hdel")(function* (key, fields) {
          yield* checkItemCount("hdel fields", fields.length, limits)
          const entry = yield* store.getTyped(key, "hash")
          if (entry === undefined) return { deleted: 0 }
          let deleted = 0
          for (const f of fields) if (entry.value.delete(memberKey(Buffer.from(f, "utf8")))) deleted++
          yield* store.dropIfEmpty(key)
          return { deleted }
        }),
        hincrby: Effect.fn("Hashes.hincrby")(function* (key, field, increment) {
          yield* checkIncrement(increment)
          const existing = yield* store.getTyped(key, "hash")
          const k = memberKey(Buffer.from(field, "utf8"))
          const text = existing?.value.get(k)?.toString("latin1") ?? "0"
          const current = /^(0|-?[1-9]\d{0,18})$/.test(text) ? BigInt(text) : undefined
          if (current === undefined || current > INT64_MAX || current < INT64_MIN) return yield* notInteger(key, field)
          const next = current + BigInt(increment)
          if (next > INT64_MAX || next < INT64_MIN) return yield* overflow(key, field)
          const entry = yield* getOrCreate(key)
          entry.value.set(k, Buffer.from(next.toString(), "latin1"))
          return { value: Number(next) }
        })
      })
    }).pipe(withKeyGuard(hashKeys))
  )
}
