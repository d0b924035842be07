/**
 * Key names through the generic services (Kv, hashes, lists, sets, sorted sets,
 * streams), on memory and on Redis alike: reserved task/state keys are refused
 * (PermissionDenied naming the right tools) and never listed by scan, names that
 * are not valid Unicode or are over REDIS_MCP_MAX_KEY_BYTES are refused
 * (InvalidArgument), error messages quote at most ~200 characters of a key, and
 * every TTL has its maximum.
 */
import { assert } from "@effect/vitest"
import { Context, Effect, Exit, Layer } from "effect"
import { RedisClient } from "../../src/layers/RedisClient.ts"
import { Hashes } from "../../src/services/Hashes.ts"
import { Kv } from "../../src/services/Kv.ts"
import { Lists } from "../../src/services/Lists.ts"
import { MemoryStore } from "../../src/services/MemoryStore.ts"
import { Sets } from "../../src/services/Sets.ts"
import { SortedSets } from "../../src/services/SortedSets.ts"
import { Streams } from "../../src/services/Streams.ts"
import { MAX_TTL_SECONDS } from "../../src/services/Ttl.ts"
import { onMemory, onRedis, runContract } from "./layers.ts"

/** Writes and reads behind the services' backs, the way another client would. */
class Raw extends Context.Service<
  Raw,
  {
    readonly set: (key: string, value: string) => Effect.Effect<void>
    readonly get: (key: string) => Effect.Effect<string | null>
  }
>()("test/KeyNamesRaw") {
  static readonly memory = Layer.effect(
    Raw,
    Effect.gen(function* () {
      const store = yield* MemoryStore
      return Raw.of({
        set: (key, value) => store.put(key, { type: "string", expiresAt: null, value: Buffer.from(value) }),
        get: (key) =>
          Effect.map(store.get(key), (e) => (e?.type === "string" ? e.value.toString("utf8") : e ? e.type : null))
      })
    })
  )
  static readonly redis = Layer.effect(
    Raw,
    Effect.gen(function* () {
      const redis = yield* RedisClient
      return Raw.of({
        set: (key, value) => Effect.orDie(Effect.asVoid(redis.run("SET", (c) => c.set(key, value)))),
        get: (key) =>
          Effect.orDie(
            redis.run("GET", (c) => c.get(key).catch(() => c.type(key)), {
              idempotent: true
            })
          )
      })
    })
  )
}

// Low enough to test, high enough for a key that makes a long error message.
const MAX_KEY_BYTES = 9000
const env = { REDIS_MCP_MAX_KEY_BYTES: String(MAX_KEY_BYTES) }
const services = {
  memory: Layer.mergeAll(
    Kv.layerMemory,
    Hashes.layerMemory,
    Lists.layerMemory,
    Sets.layerMemory,
    SortedSets.layerMemory,
    Streams.layerMemory,
    Raw.memory
  ).pipe(Layer.provide(MemoryStore.layer)),
  redis: Layer.mergeAll(Kv.layer, Hashes.layer, Lists.layer, Sets.layer, SortedSets.layer, Streams.layer, Raw.redis)
}

const uid = () => Math.random().toString(36).slice(2, 10)

/** The failure of `self`, which must fail. */
const failure = <A, E extends { readonly _tag: string; readonly message: string }, R>(self: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.exit(self), (exit) => {
    if (Exit.isSuccess(exit)) return assert.fail(`expected a failure, got ${JSON.stringify(exit.value)}`)
    const error = exit.cause.reasons.find((r) => r._tag === "Fail")
    if (error === undefined || error._tag !== "Fail") return assert.fail(`expected a typed failure: ${exit.cause}`)
    return error.error as E
  })

/** One call of every generic tool's service method naming `key`. */
const everyCall = (key: string, other: string) =>
  Effect.gen(function* () {
    const kv = yield* Kv
    const h = yield* Hashes
    const l = yield* Lists
    const s = yield* Sets
    const z = yield* SortedSets
    const x = yield* Streams
    return {
      get: kv.get(key),
      set: kv.set(key, "x"),
      mget: kv.mget([other, key]),
      mset: kv.mset([
        { key: other, value: "1" },
        { key, value: "2" }
      ]),
      del: kv.del([other, key]),
      exists: kv.exists([key]),
      expire: kv.expire(key, { ttlSeconds: 10 }),
      keyInfo: kv.keyInfo(key),
      renameFrom: kv.rename(key, other),
      renameTo: kv.rename(other, key),
      incr: kv.incr(key),
      hset: h.hset(key, { f: "v" }),
      hget: h.hget(key, "f"),
      hgetall: h.hgetall(key),
      hdel: h.hdel(key, ["f"]),
      hincrby: h.hincrby(key, "f", 1),
      lpush: l.push("left", key, ["v"]),
      lpop: l.pop("left", key),
      lrange: l.range(key, 0, -1),
      llen: l.length(key),
      sadd: s.sadd(key, ["m"]),
      srem: s.srem(key, ["m"]),
      smembers: s.smembers(key),
      sismember: s.sismember(key, "m"),
      zadd: z.zadd(key, [{ member: "m", score: 1 }]),
      zrange: z.zrange(key, { by: "index", start: 0, stop: -1 }),
      zrem: z.zrem(key, ["m"]),
      zscore: z.zscore(key, "m"),
      zincrby: z.zincrby(key, "m", 1),
      xadd: x.xadd({ key, fields: { f: "v" } }),
      xrange: x.xrange({ key }),
      xread: x.xread({
        streams: [
          { key: other, id: "0" },
          { key, id: "0" }
        ]
      }),
      xlen: x.xlen(key),
      xdel: x.xdel(key, ["1-1"]),
      xtrim: x.xtrim({ key, maxLen: 1 }),
      xgroupCreate: x.xgroupCreate({ key, group: "g", mkstream: true }),
      xreadgroup: x.xreadgroup({ key, group: "g", consumer: "c" }),
      xack: x.xack(key, "g", ["1-1"]),
      xpending: x.xpending({ key, group: "g" }),
      xautoclaim: x.xautoclaim({ key, group: "g", consumer: "c", minIdleMs: 0 }),
      xinfo: x.xinfo({ key })
    } as Record<string, Effect.Effect<unknown, { readonly _tag: string; readonly message: string }>>
  })

runContract("Key names contract", onMemory(services.memory, env), onRedis(services.redis, env), (it) => {
  it.effect(
    "every generic call naming a task or state key is refused, naming the tools to use, and writes nothing",
    () =>
      Effect.gen(function* () {
        const raw = yield* Raw
        for (const [key, family] of [
          [`task:{q${uid()}}:t:1`, "task"],
          ["task:queues", "task"],
          [`state:lock:{L${uid()}}:fence`, "state"],
          [`state:{ns${uid()}}:doc:plan`, "state"]
        ] as const) {
          yield* raw.set(key, "7")
          const calls = yield* everyCall(key, `plain:${uid()}`)
          for (const [name, call] of Object.entries(calls)) {
            const e = yield* failure(call)
            assert.strictEqual(e._tag, "PermissionDenied", `${name} on ${key}`)
            assert.include(e.message, `${family}_`, `${name}: names the ${family} tools`)
            assert.include(e.message, JSON.stringify(key), name)
          }
          assert.strictEqual(yield* raw.get(key), "7", `${key} untouched`)
        }
      })
  )

  it.effect("scan never lists reserved keys, whatever the pattern", () =>
    Effect.gen(function* () {
      const kv = yield* Kv
      const raw = yield* Raw
      const tag = uid()
      yield* raw.set(`task:{${tag}}:t:1`, "x")
      yield* raw.set(`state:{${tag}}:index`, "x")
      yield* raw.set(`mine:${tag}`, "x")
      const seen = new Set<string>()
      for (const match of [undefined, "*", `*${tag}*`, "task:*", "state:*"]) {
        let cursor = "0"
        do {
          const page = yield* kv.scan({
            ...(match === undefined ? {} : { match }),
            ...(cursor === "0" ? {} : { cursor })
          })
          for (const k of page.keys) seen.add(k)
          cursor = page.cursor
        } while (cursor !== "0")
      }
      assert.isTrue(seen.has(`mine:${tag}`))
      for (const k of seen) assert.isFalse(k.startsWith("task:") || k.startsWith("state:"), k)
    })
  )

  it.effect("names that are not valid Unicode are refused: two lone surrogates never reach one key", () =>
    Effect.gen(function* () {
      const kv = yield* Kv
      const h = yield* Hashes
      for (const key of ["\ud800", "a\udfffb", "x\ud83d"]) {
        const calls = yield* everyCall(key, `plain:${uid()}`)
        for (const [name, call] of Object.entries(calls)) {
          const e = yield* failure(call)
          assert.strictEqual(e._tag, "InvalidArgument", `${name} on ${JSON.stringify(key)}`)
          assert.include(e.message, "lone UTF-16 surrogate", name)
        }
      }
      // A surrogate pair is fine: an astral character is valid text.
      const emoji = `e:${uid()}:😀`
      assert.isTrue(yield* kv.set(emoji, "v"))
      assert.strictEqual((yield* kv.get(emoji)).value, "v")
      // Values and members go through the same check.
      const values: ReadonlyArray<Effect.Effect<unknown, { readonly _tag: string; readonly message: string }>> = [
        kv.set(`v:${uid()}`, "bad\ud800"),
        h.hset(`h:${uid()}`, { f: "\udc00" })
      ]
      for (const call of values) {
        assert.strictEqual((yield* failure(call))._tag, "InvalidArgument")
      }
    })
  )

  it.effect("a key over REDIS_MCP_MAX_KEY_BYTES is refused, and messages quote at most 200 characters of it", () =>
    Effect.gen(function* () {
      const kv = yield* Kv
      const h = yield* Hashes
      const long = `k${"é".repeat(MAX_KEY_BYTES / 2)}`
      const e = yield* failure(kv.get(long))
      assert.strictEqual(e._tag, "InvalidArgument")
      assert.include(e.message, "REDIS_MCP_MAX_KEY_BYTES")
      assert.include(e.message, `${Buffer.byteLength(long)} bytes`)
      assert.isBelow(e.message.length, 500)
      // Under the limit but long: a WrongType message still quotes only the start of it.
      const fits = `w:${uid()}:${"x".repeat(MAX_KEY_BYTES - 100)}`
      yield* kv.set(fits, "a string")
      const wrong = yield* failure(h.hget(fits, "f"))
      assert.strictEqual(wrong._tag, "WrongType")
      assert.isBelow(wrong.message.length, 500)
      const notInt = yield* failure(kv.incr(fits))
      assert.isBelow(notInt.message.length, 500)
    })
  )

  it.effect("every ttlSeconds has its maximum (10 years)", () =>
    Effect.gen(function* () {
      const kv = yield* Kv
      const h = yield* Hashes
      const key = `ttl:${uid()}`
      const calls: ReadonlyArray<Effect.Effect<unknown, { readonly _tag: string; readonly message: string }>> = [
        kv.set(key, "v", { ttlSeconds: MAX_TTL_SECONDS + 1 }),
        kv.mset([{ key, value: "v" }], 2 ** 53),
        kv.expire(key, { ttlSeconds: MAX_TTL_SECONDS + 1 }),
        h.hset(key, { f: "v" }, { ttlSeconds: MAX_TTL_SECONDS + 1 })
      ]
      for (const call of calls) {
        const e = yield* failure(call)
        assert.strictEqual(e._tag, "InvalidArgument")
        assert.include(e.message, String(MAX_TTL_SECONDS))
      }
      assert.isTrue(yield* kv.set(key, "v", { ttlSeconds: MAX_TTL_SECONDS }))
      assert.isAbove((yield* kv.keyInfo(key)).ttlMs ?? 0, (MAX_TTL_SECONDS - 60) * 1000)
    })
  )
})
