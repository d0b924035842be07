import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer } from "effect"
import { Kv, layerMemory, MemoryStore, RedisConfig, ServerConfig, State, Tasks } from "../../src/index.ts"

const config = Layer.mergeAll(RedisConfig.layer, ServerConfig.layer).pipe(
  Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnvRecord({})))
)

describe("embedding the services without MCP", () => {
  it.effect("a Kv memory layer works as the user guide shows", () =>
    Effect.gen(function* () {
      const kv = yield* Kv
      yield* kv.set("greeting", "hello", { ttlSeconds: 60 })
      const got = yield* kv.get("greeting")
      assert.strictEqual(got.found, true)
      assert.strictEqual(got.value, "hello")
    }).pipe(Effect.provide(Kv.layerMemory.pipe(Layer.provide(MemoryStore.layer), Layer.provideMerge(config))))
  )

  it.effect("the whole memory stack provides every service", () =>
    Effect.gen(function* () {
      yield* Kv
      yield* State
      yield* Tasks
    }).pipe(Effect.provide(layerMemory.pipe(Layer.provideMerge(config))))
  )
})
