/**
 * What a `get` costs Redis (issue 12): a value that fits the output cap is one
 * GETRANGE (as cheap as a GET), never the bounded-read script; a missing key is that
 * GETRANGE and an EXISTS; a value bigger than the cap, an empty value and an offset
 * past the end take the script, which reads the size and the part atomically.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import { RedisClient } from "../../src/layers/RedisClient.ts"
import { Kv } from "../../src/services/Kv.ts"
import { onRedis } from "../contract/layers.ts"

const CAP = 4096
/** What one value may take of a CAP-byte result (ValueRange's valueBudget). */
const BUDGET = CAP - 256

/** Calls per command name since the last reset, read from INFO commandstats. */
const commandCalls = Effect.gen(function* () {
  const redis = yield* RedisClient
  const info = yield* Effect.orDie(redis.run("INFO", (c) => c.info("commandstats")))
  const calls = new Map<string, number>()
  for (const [, name, n] of info.matchAll(/cmdstat_(\w+):calls=(\d+)/g)) calls.set(name!, Number(n))
  return calls
})

const resetStats = Effect.gen(function* () {
  const redis = yield* RedisClient
  yield* Effect.orDie(redis.run("CONFIG", (c) => c.config("RESETSTAT")))
})

/** The commands (other than the INFO/CONFIG around it) Redis ran for `effect`. */
const commandsOf = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    yield* resetStats
    const result = yield* effect
    const calls = yield* commandCalls
    calls.delete("info")
    calls.delete("config|resetstat")
    calls.delete("config")
    return { result, commands: Object.fromEntries(calls) }
  })

describe("get's read path on Redis", () => {
  layer(onRedis(Kv.layer, { REDIS_MCP_MAX_OUTPUT_BYTES: String(CAP) }), { timeout: 60_000, excludeTestServices: true })(
    (it) => {
      it.effect("a value that fits is one GETRANGE, no script", () =>
        Effect.gen(function* () {
          const kv = yield* Kv
          for (const size of [1, 100, BUDGET - 2]) {
            yield* kv.set(`fits:${size}`, "v".repeat(size))
            const { result, commands } = yield* commandsOf(kv.get(`fits:${size}`))
            assert.deepStrictEqual(commands, { getrange: 1 })
            assert.strictEqual(result.value, "v".repeat(size))
            assert.isFalse(result.truncated)
            assert.strictEqual(result.length, size)
          }
          yield* kv.set("fits:offset", "abcdef")
          const { result, commands } = yield* commandsOf(kv.get("fits:offset", { offset: 2 }))
          assert.deepStrictEqual(commands, { getrange: 1 })
          assert.deepStrictEqual([result.value, result.length, result.truncated], ["cdef", 6, false])
        })
      )

      it.effect("a missing key is a GETRANGE and an EXISTS, no script", () =>
        Effect.gen(function* () {
          const kv = yield* Kv
          for (const options of [{}, { offset: 5 }, { length: 1 }]) {
            const { result, commands } = yield* commandsOf(kv.get("missing", options))
            assert.deepStrictEqual(commands, { getrange: 1, exists: 1 }, JSON.stringify(options))
            assert.deepStrictEqual([result.found, result.value, result.length], [false, null, 0])
          }
        })
      )

      it.effect("a value bigger than the cap, an empty value and an offset past the end take the script", () =>
        Effect.gen(function* () {
          const kv = yield* Kv
          yield* kv.set("big", "b".repeat(BUDGET * 3))
          yield* kv.set("empty", "")
          const cases = [
            { read: kv.get("big"), length: BUDGET * 3, found: true, truncated: true, exists: 0 },
            { read: kv.get("empty"), length: 0, found: true, truncated: false, exists: 1 },
            {
              read: kv.get("big", { offset: BUDGET * 5 }),
              length: BUDGET * 3,
              found: true,
              truncated: false,
              exists: 1
            }
          ]
          for (const c of cases) {
            const { result, commands } = yield* commandsOf(c.read)
            // The script's own STRLEN (and GETRANGE or EXISTS) are counted too; EVAL the first time (NOSCRIPT).
            assert.strictEqual((commands["evalsha"] ?? 0) + (commands["eval"] ?? 0), 1, JSON.stringify(commands))
            assert.strictEqual(commands["strlen"], 1)
            // An empty GETRANGE reply asks EXISTS first; the script asks it again only for an empty value.
            const scriptExists = result.length === 0 ? 1 : 0
            assert.strictEqual(commands["exists"] ?? 0, c.exists + scriptExists, JSON.stringify(commands))
            assert.deepStrictEqual([result.found, result.length, result.truncated], [c.found, c.length, c.truncated])
          }
        })
      )
    }
  )
})
