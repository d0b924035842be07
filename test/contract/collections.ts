/**
 * Layers for the collection contract suites (hashes, lists, sets, sorted sets):
 * all four services on one keyspace, plus `Raw`, which writes past the services
 * (a plain string key, oversize values) and reads TTLs, the way another Redis
 * client would.
 */
import { Context, Effect, Layer } from "effect"
import type { Redis } from "ioredis"
import { RedisClient } from "../../src/layers/RedisClient.ts"
import { Hashes } from "../../src/services/Hashes.ts"
import { Lists } from "../../src/services/Lists.ts"
import { MemoryStore } from "../../src/services/MemoryStore.ts"
import { Sets } from "../../src/services/Sets.ts"
import { SortedSets } from "../../src/services/SortedSets.ts"
import { onMemory, onRedis, Traffic } from "./layers.ts"

export interface RawShape {
  /** SET key value (a string key). */
  readonly setString: (key: string, value: string) => Effect.Effect<void>
  /** HSET one field with raw bytes (any size). */
  readonly hsetBytes: (key: string, field: string, value: Buffer) => Effect.Effect<void>
  /** RPUSH raw bytes (any size). */
  readonly rpushBytes: (key: string, value: Buffer) => Effect.Effect<void>
  /** SADD raw bytes (any size). */
  readonly saddBytes: (key: string, value: Buffer) => Effect.Effect<void>
  /** PTTL: -2 when missing, -1 without TTL. */
  readonly pttl: (key: string) => Effect.Effect<number>
  /** ZADD one member with raw bytes (any size). */
  readonly zaddBytes: (key: string, score: number, member: Buffer) => Effect.Effect<void>
}

export class Raw extends Context.Service<Raw, RawShape>()("test/Raw") {
  static readonly memory = Layer.effect(
    Raw,
    Effect.gen(function* () {
      const store = yield* MemoryStore
      return Raw.of({
        setString: (key, value) => store.put(key, { type: "string", expiresAt: null, value: Buffer.from(value) }),
        hsetBytes: (key, field, value) =>
          Effect.gen(function* () {
            const e = yield* Effect.orDie(store.getTyped(key, "hash"))
            if (e) e.value.set(Buffer.from(field).toString("latin1"), value)
            else yield* store.put(key, { type: "hash", expiresAt: null, value: new Map([[field, value]]) })
          }),
        rpushBytes: (key, value) =>
          Effect.gen(function* () {
            const e = yield* Effect.orDie(store.getTyped(key, "list"))
            if (e) e.value.push(value)
            else yield* store.put(key, { type: "list", expiresAt: null, value: [value] })
          }),
        saddBytes: (key, value) =>
          Effect.gen(function* () {
            const e = yield* Effect.orDie(store.getTyped(key, "set"))
            const k = value.toString("latin1")
            if (e) e.value.add(k)
            else yield* store.put(key, { type: "set", expiresAt: null, value: new Set([k]) })
          }),
        pttl: (key) =>
          Effect.gen(function* () {
            const e = yield* store.get(key)
            if (e === undefined) return -2
            if (e.expiresAt === null) return -1
            return e.expiresAt - (yield* store.now)
          }),
        zaddBytes: (key, score, member) =>
          Effect.gen(function* () {
            const e = yield* Effect.orDie(store.getTyped(key, "zset"))
            const k = member.toString("latin1")
            if (e) e.value.set(k, score)
            else yield* store.put(key, { type: "zset", expiresAt: null, value: new Map([[k, score]]) })
          })
      })
    })
  )

  static readonly redis = Layer.effect(
    Raw,
    Effect.gen(function* () {
      const c = (yield* RedisClient).unsafeClient as Redis
      const p = <A>(f: () => Promise<A>) => Effect.asVoid(Effect.promise(f))
      return Raw.of({
        setString: (key, value) => p(() => c.set(key, value)),
        hsetBytes: (key, field, value) => p(() => c.hset(key, field, value)),
        rpushBytes: (key, value) => p(() => c.rpush(key, value)),
        saddBytes: (key, value) => p(() => c.sadd(key, value)),
        pttl: (key) => Effect.promise(() => c.pttl(key)),
        zaddBytes: (key, score, member) => p(() => c.zadd(key, score, member))
      })
    })
  )
}

/**
 * Small caps so paging is cheap to exercise: 10 items and 4 KiB per page, 2 KiB
 * per write. On Redis every key is under a prefix, which must stay invisible.
 */
export const env = {
  REDIS_MCP_MAX_ITEMS: "10",
  REDIS_MCP_MAX_OUTPUT_BYTES: "4096",
  REDIS_MCP_MAX_VALUE_BYTES: "2048"
}

export const memoryLayer = onMemory(
  Layer.mergeAll(
    Hashes.layerMemory,
    Lists.layerMemory,
    Sets.layerMemory,
    SortedSets.layerMemory,
    Raw.memory,
    Traffic.memory
  ).pipe(Layer.provide(MemoryStore.layer)),
  env
)

export const redisLayer = onRedis(
  Layer.mergeAll(Hashes.layer, Lists.layer, Sets.layer, SortedSets.layer, Raw.redis, Traffic.redis),
  {
    ...env,
    REDIS_MCP_KEY_PREFIX: "pfx:"
  }
)

let n = 0
/** A key no other test uses. */
export const uniqueKey = (name: string): string =>
  `${name}:${process.pid}:${++n}:${Math.random().toString(36).slice(2, 8)}`

/** The byte size of a value as the tools would return it in JSON. */
export const jsonBytes = (x: unknown): number => Buffer.byteLength(JSON.stringify(x))

/** Base64 of bytes that are not valid UTF-8. */
export const BINARY = Buffer.from([0xff, 0xfe, 0x00, 0x41])
export const BINARY_B64 = BINARY.toString("base64")
