/**
 * In memory, the raw `command` tool and the collection services share one keyspace:
 * a non-ASCII field or member written by one reads back the same through the other.
 */
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer } from "effect"
import { RedisConfig, ServerConfig } from "../../src/layers/Config.ts"
import { Batch } from "../../src/services/Batch.ts"
import { Hashes } from "../../src/services/Hashes.ts"
import { Sets } from "../../src/services/Sets.ts"
import { layerMemory } from "../../src/services/Stack.ts"

const services = layerMemory.pipe(
  Layer.provideMerge(
    Layer.mergeAll(RedisConfig.layer, ServerConfig.layer).pipe(
      Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnvRecord({ REDIS_MCP_TOOLSETS: "all" })))
    )
  )
)

describe("in-memory keyspace shared by command and the collection services", () => {
  it.effect("a hash field written by HSET reads back through hgetall, and the other way round", () =>
    Effect.gen(function* () {
      const batch = yield* Batch
      const hashes = yield* Hashes
      yield* batch.command(["HSET", "h", "café", "crème"])
      const page = yield* hashes.hgetall("h")
      assert.deepStrictEqual(
        page.items.map((i) => [i.field, i.value]),
        [["café", "crème"]]
      )
      yield* hashes.hset("h", { naïve: "ü" })
      const got = yield* batch.command(["HGET", "h", "naïve"])
      assert.strictEqual(got.result, "ü")
    }).pipe(Effect.provide(services))
  )

  it.effect("a set member written by sadd is seen by SISMEMBER and SMEMBERS", () =>
    Effect.gen(function* () {
      const batch = yield* Batch
      const sets = yield* Sets
      yield* sets.sadd("s", ["日本"])
      assert.strictEqual((yield* batch.command(["SISMEMBER", "s", "日本"])).result, 1)
      assert.deepStrictEqual((yield* batch.command(["SMEMBERS", "s"])).result, ["日本"])
    }).pipe(Effect.provide(services))
  )
})
