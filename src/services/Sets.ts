/**
 * Redis sets: add, remove, test membership, and page through members with SSCAN.
 */
import { Context, Effect, Layer } from "effect"
import type { Redis } from "ioredis"
import { ServerConfig } from "../layers/Config.ts"
import { RedisClient } from "../layers/RedisClient.ts"
import {
  type CollectionError,
  checkWrite,
  decodeWrite,
  type Item,
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
import { type Encoding, toBuffer } from "./Values.ts"

export interface SetsShape {
  /** SADD: add members (creating the set); returns how many were new. */
  readonly sadd: (
    key: string,
    members: ReadonlyArray<string>,
    options?: WriteOptions
  ) => Effect.Effect<{ readonly added: number }, CollectionError>
  /** SREM: remove members; returns how many were there. An emptied set disappears. */
  readonly srem: (
    key: string,
    members: ReadonlyArray<string>,
    encoding?: Encoding
  ) => Effect.Effect<{ readonly removed: number }, CollectionError>
  /** SSCAN: one page of members (in no particular order). */
  readonly smembers: (key: string, options?: PageOptions) => Effect.Effect<Paged<Item>, CollectionError>
  /** SISMEMBER: false for a missing key. */
  readonly sismember: (
    key: string,
    member: string,
    encoding?: Encoding
  ) => Effect.Effect<{ readonly isMember: boolean }, CollectionError>
}

const identity = (v: Item) => v

/** The key each call names, checked before it runs (KeyNames.ts). */
const setKeys: KeysOf<SetsShape> = {
  sadd: (key) => [key],
  srem: (key) => [key],
  smembers: (key) => [key],
  sismember: (key) => [key]
}

export class Sets extends Context.Service<Sets, SetsShape>()("effect-redis-mcp/Sets") {
  /** Backed by Redis. */
  static readonly layer = Layer.effect(
    Sets,
    Effect.gen(function* () {
      const redis = yield* RedisClient
      const { limits } = yield* ServerConfig
      const budget = itemBudget(limits)
      const write = redis.script("set_write", WRITE_LUA)
      const pages = pageScripts(redis.script)
      const asSet = (key: string) => explainWrongType(redis, key, "set")
      const r = (c: unknown) => c as Redis

      return Sets.of({
        sadd: Effect.fn("Sets.sadd")(function* (key, members, options) {
          const { ttl, bufs } = yield* checkWrite("sadd members", members, options, limits)
          const reply = yield* write([key], writeArgs("SADD", ttl, 1, [], bufs), { idempotent: true }).pipe(asSet(key))
          return { added: toWriteReply(reply).sum }
        }),
        srem: Effect.fn("Sets.srem")(function* (key, members, encoding) {
          const bufs = yield* decodeWrite("srem members", members, encoding, limits)
          const removed = yield* redis
            .run("SREM", (c) => r(c).srem(key, ...bufs), { idempotent: true })
            .pipe(asSet(key))
          return { removed }
        }),
        smembers: Effect.fn("Sets.smembers")(function* (key, options) {
          const size = yield* pageSize(limits, options?.limit)
          const from = yield* decodeScanCursor(options?.cursor)
          const page = new Page<Item>(size, budget)
          const next = yield* scanIntoPage(
            (args) => pages.scan([key], args, { idempotent: true }).pipe(asSet(key)),
            "SSCAN",
            from,
            page,
            () => identity
          )
          return next === undefined
            ? { items: page.items, truncated: false }
            : { items: page.items, truncated: true, cursor: encodeScanCursor(next) }
        }),
        sismember: Effect.fn("Sets.sismember")(function* (key, member, encoding) {
          const buf = yield* toBuffer(member, encoding)
          const n = yield* redis
            .run("SISMEMBER", (c) => r(c).sismember(key, buf), { idempotent: true })
            .pipe(asSet(key))
          return { isMember: n === 1 }
        })
      })
    }).pipe(withKeyGuard(setKeys))
  )

  /** On the shared in-memory keyspace. */
  static readonly layerMemory = Layer.effect(
    Sets,
    Effect.gen(function* () {
      const store = yield* MemoryStore
      const { limits } = yield* ServerConfig
      const budget = itemBudget(limits)

      return Sets.of({
        sadd: Effect.fn("Sets.sadd")(function* (key, members, options) {
          const { ttl, bufs } = yield* checkWrite("sadd members", members, options, limits)
          let entry = yield* store.getTyped(key, "set")
          if (entry === undefined) {
            entry = { type: "set", expiresAt: null, value: new Set<string>() }
            yield* store.put(key, entry)
          }
          const before = entry.value.size
          for (const b of bufs) entry.value.add(memberKey(b))
          if (ttl > 0) entry.expiresAt = (yield* store.now) + ttl * 1000
          return { added: entry.value.size - before }
        }),
        srem: Effect.fn("Sets.srem")(function* (key, members, encoding) {
          const bufs = yield* decodeWrite("srem members", members, encoding, limits)
          const entry = yield* store.getTyped(key, "set")
          if (entry === undefined) return { removed: 0 }
          let removed = 0
          for (const b of bufs) if (entry.value.delete(memberKey(b))) removed++
          yield* store.dropIfEmpty(key)
          return { removed }
        }),
        smembers: Effect.fn("Sets.smembers")(function* (key, options) {
          const size = yield* pageSize(limits, options?.limit)
          const after = yield* decodeAfterCursor(options?.cursor)
          const entry = yield* store.getTyped(key, "set")
          const page = new Page<Item>(size, budget)
          let last: string | undefined
          for (const k of keysAfter(entry?.value ?? [], after)) {
            if (!page.offer(memberBytes(k), identity)) {
              return { items: page.items, truncated: true, cursor: encodeAfterCursor(last!) }
            }
            last = k
          }
          return { items: page.items, truncated: false }
        }),
        sismember: Effect.fn("Sets.sismember")(function* (key, member, encoding) {
          const buf = yield* toBuffer(member, encoding)
          const entry = yield* store.getTyped(key, "set")
          return { isMember: entry?.value.has(memberKey(buf)) ?? false }
        })
      })
    }).pipe(withKeyGuard(setKeys))
  )
}
