/**
 * Replies of `command` and `pipeline` are never held whole past the output cap:
 * a 200 MB value, 100 reads of a 5 MiB value, a pop of more than the cap are
 * refused with TooLarge before the reply is read (Redis: the connection reading
 * it is cut; memory: sized before it is encoded), and the process's memory does
 * not grow by the value's size. Replies that fit come back as before.
 */
import { assert, layer } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { RedisClient } from "../../src/layers/RedisClient.ts"
import { Batch } from "../../src/services/Batch.ts"
import { MemoryStore } from "../../src/services/MemoryStore.ts"
import { onMemory, onRedis, runContract } from "./layers.ts"

const MiB = 1024 * 1024

/** Put a value of `bytes` bytes at `key` without it passing through this process's heap where possible. */
class Big extends Context.Service<Big, { readonly put: (key: string, bytes: number) => Effect.Effect<void> }>()(
  "test/BigValues"
) {
  static readonly memory = Layer.effect(
    Big,
    Effect.map(MemoryStore, (store) =>
      Big.of({
        put: (key, bytes) => store.put(key, { type: "string", value: Buffer.alloc(bytes, 120), expiresAt: null })
      })
    )
  )
  // SETRANGE at the last offset makes Redis allocate the whole (zero-filled) value itself.
  static readonly redis = Layer.effect(
    Big,
    Effect.map(RedisClient, (redis) =>
      Big.of({
        put: (key, bytes) => Effect.orDie(Effect.asVoid(redis.run("SETRANGE", (c) => c.setrange(key, bytes - 1, "x"))))
      })
    )
  )
}

const memory = onMemory(Layer.mergeAll(Batch.layerMemory, Big.memory).pipe(Layer.provide(MemoryStore.layer)))
const redis = onRedis(Layer.mergeAll(Batch.layer, Big.redis))

/** Heap and buffers of this process now, in bytes. */
const used = () => {
  const m = process.memoryUsage()
  return m.heapUsed + m.arrayBuffers
}

runContract("Batch replies within the output cap", memory, redis, (it, target) => {
  it.effect("command GET of a 200 MB value is refused with TooLarge, and memory does not grow by it", () =>
    Effect.gen(function* () {
      const batch = yield* Batch
      yield* (yield* Big).put("big200", 200 * MiB)
      // GET is sized first (STRLEN) and never sent; GETRANGE 0 -1 has no size probe: its reply is cut while read.
      for (const [args, says] of [
        [["GET", "big200"], "nothing was sent"],
        [["GETRANGE", "big200", "0", "-1"], "was not read"]
      ] as const) {
        const before = used()
        const refused = yield* Effect.flip(batch.command(args))
        const grown = used() - before
        assert.strictEqual(refused._tag, "TooLarge")
        assert.include(refused.message, says)
        assert.include(refused.message, "GETRANGE key start end")
        assert.isBelow(grown, 32 * MiB, `${args[0]} grew by ${grown} bytes on ${target.name}`)
      }
      // The value is still there, readable in parts.
      const part = yield* batch.command(["GETRANGE", "big200", "0", "9"])
      assert.strictEqual(String(part.result).length, 10)
      yield* batch.command(["DEL", "big200"])
    })
  )

  it.effect("a pipeline of 100 GETs of a 5 MiB value is refused with TooLarge, memory bounded", () =>
    Effect.gen(function* () {
      const batch = yield* Batch
      yield* (yield* Big).put("big5", 5 * MiB)
      for (const atomic of [false, true]) {
        for (const [read, says] of [
          [["GET", "big5"], "nothing was sent"],
          [["GETRANGE", "big5", "0", "-1"], "add up to more than"]
        ] as const) {
          const before = used()
          const refused = yield* Effect.flip(
            batch.pipeline(
              Array.from({ length: 100 }, () => read),
              { atomic }
            )
          )
          const grown = used() - before
          assert.strictEqual(refused._tag, "TooLarge")
          assert.include(refused.message, says)
          assert.isBelow(grown, 32 * MiB, `${read[0]} grew by ${grown} bytes (atomic: ${atomic}) on ${target.name}`)
        }
      }
    })
  )

  it.effect("replies that fit come back whole, on the metered path too", () =>
    Effect.gen(function* () {
      const batch = yield* Batch
      yield* (yield* Big).put("fits", 600 * 1024)
      const got = yield* batch.command(["GET", "fits"])
      assert.strictEqual(String(got.result).length, 600 * 1024)
      yield* batch.command(["RPUSH", "list", "a", "b", "c"])
      const out = yield* batch.pipeline([
        ["LRANGE", "list", "0", "-1"],
        ["STRLEN", "fits"],
        ["GET", "fits"]
      ])
      assert.deepStrictEqual(out.results[0], { ok: true, result: ["a", "b", "c"], encoding: "utf8" })
      assert.deepStrictEqual(out.results[1], { ok: true, result: 600 * 1024, encoding: "utf8" })
      yield* batch.command(["DEL", "fits", "list"])
    })
  )

  it.effect("SET … GET of a value over the cap is refused before anything changes", () =>
    Effect.gen(function* () {
      const batch = yield* Batch
      yield* (yield* Big).put("old", 2 * MiB)
      const refused = yield* Effect.flip(batch.command(["SET", "old", "new", "GET"]))
      assert.strictEqual(refused._tag, "TooLarge")
      assert.include(refused.message, "nothing changed")
      assert.strictEqual((yield* batch.command(["STRLEN", "old"])).result, 2 * MiB)
      yield* batch.command(["DEL", "old"])
    })
  )

  it.effect("a write whose reply is over the cap still ran; the error says so and how to ask for less", () =>
    Effect.gen(function* () {
      const batch = yield* Batch
      const half = "y".repeat(512 * 1024)
      yield* batch.command(["RPUSH", "pops", half, half, half, "tail"])
      const refused = yield* Effect.flip(batch.command(["LPOP", "pops", "3"]))
      assert.strictEqual(refused._tag, "TooLarge")
      assert.include(refused.message, "only the reply was dropped")
      assert.include(refused.message, "smaller COUNT")
      assert.deepStrictEqual((yield* batch.command(["LRANGE", "pops", "0", "-1"])).result, ["tail"])
      yield* batch.command(["DEL", "pops"])
    })
  )
})

layer(redis, { timeout: 60_000, excludeTestServices: true })("Batch metered connections on Redis", (it) => {
  it.effect("are kept for the next calls, and a cut one is closed: Redis's client count stays bounded", () =>
    Effect.gen(function* () {
      const batch = yield* Batch
      const client = yield* RedisClient
      const clients = Effect.orDie(
        client
          .run("INFO", (c) => c.info("clients"))
          .pipe(Effect.map((info) => Number(/connected_clients:(\d+)/.exec(info)?.[1])))
      )
      yield* (yield* Big).put("cut", 2 * MiB)
      yield* batch.command(["RPUSH", "reuse", "a", "b"])
      const before = yield* clients
      for (let i = 0; i < 30; i++) {
        assert.deepStrictEqual((yield* batch.command(["LRANGE", "reuse", "0", "-1"])).result, ["a", "b"])
        if (i % 6 === 0)
          assert.strictEqual((yield* Effect.flip(batch.command(["GETRANGE", "cut", "0", "-1"])))._tag, "TooLarge")
      }
      yield* Effect.all(
        Array.from({ length: 8 }, () => batch.command(["LRANGE", "reuse", "0", "-1"])),
        { concurrency: "unbounded" }
      )
      // At most the kept connections (4) besides the ones there before; the cut ones are gone
      // (Redis notices a closed socket on its next event loop turn: ask until it has).
      let extra = (yield* clients) - before
      for (let i = 0; i < 40 && extra > 4; i++)
        extra = (yield* Effect.andThen(Effect.sleep("50 millis"), clients)) - before
      assert.isAtMost(extra, 4)
    })
  )

  it.effect("a kept connection that Redis closed is replaced: the next read still answers", () =>
    Effect.gen(function* () {
      const batch = yield* Batch
      const client = yield* RedisClient
      yield* batch.command(["RPUSH", "again", "x"])
      assert.deepStrictEqual((yield* batch.command(["LRANGE", "again", "0", "-1"])).result, ["x"])
      // Every other client is dropped by Redis: the kept metered connections and the shared one.
      yield* Effect.orDie(
        Effect.scoped(
          Effect.flatMap(client.dedicated, (c) => Effect.promise(() => c.call("CLIENT", "KILL", "SKIPME", "yes")))
        )
      )
      for (let i = 0; i < 3; i++) {
        assert.deepStrictEqual((yield* batch.command(["LRANGE", "again", "0", "-1"])).result, ["x"])
      }
    })
  )
})
