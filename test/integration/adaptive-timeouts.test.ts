/**
 * Adaptive command timeouts on a real redis-server (floor 100 ms, cap 10 s): after
 * fast calls, a Redis that stops answering (CLIENT PAUSE, DEBUG SLEEP) fails a call
 * with the short adaptive timeout, well before the cap, and is not asked again; a
 * Redis that answers every command slowly lifts the timeouts above its latency, so
 * its calls are not cut off; a call with its own budget keeps it; fixed mode waits
 * out the same pause. Each test has a client of its own (late replies are remembered
 * for a minute).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type { RedisClientShape } from "../../src/layers/RedisClient.ts"
import { requireRedis } from "../support/env.ts"
import type { RedisHandle } from "../support/standalone.ts"
import { FAULT_ENV, failure, uniqueKey as key, until, withServerAndClient } from "./redis-env.ts"

const CAP_MS = 10_000
const FLOOR_MS = 100
const ADAPTIVE_ENV = {
  ...FAULT_ENV,
  REDIS_COMMAND_TIMEOUT_MS: String(CAP_MS),
  REDIS_COMMAND_TIMEOUT_MIN_MS: String(FLOOR_MS),
  REDIS_COMMAND_TIMEOUT_MODE: "adaptive"
}

/** The timeout the next call of `command` gets. */
const timeoutOf = (redis: RedisClientShape, command: string) =>
  Effect.map(redis.latencies, (l) => l.commands.find((c) => c.command === command)?.timeoutMs ?? CAP_MS)

/** 200 fast GETs and SETs: enough replies in the window for an adaptive timeout. */
const warmUp = (redis: RedisClientShape, k: string) =>
  Effect.gen(function* () {
    for (let i = 0; i < 200; i++) {
      yield* redis.run("SET", (c) => c.set(k, String(i)))
      yield* redis.run("GET", (c) => c.get(k), { idempotent: true })
    }
  })

const onRedis = <A, E>(f: (redis: RedisClientShape, handle: RedisHandle) => Effect.Effect<A, E>, env = {}) =>
  withServerAndClient({ ...ADAPTIVE_ENV, ...env }, f)

describe("adaptive command timeouts", () => {
  requireRedis() // a missing redis-server fails the suite, never skips it
  it.live("CLIENT PAUSE shorter than the cap: the call fails Timeout at its adaptive timeout, sent once", () =>
    onRedis((redis, handle) =>
      Effect.gen(function* () {
        const k = key("paused")
        yield* warmUp(redis, k)
        const adaptive = yield* timeoutOf(redis, "get")
        assert.isAtLeast(adaptive, FLOOR_MS)
        assert.isBelow(adaptive, 1000, "fast replies give a timeout far below the 10 s cap")
        yield* Effect.promise(() => handle.pause(2000))
        let sends = 0
        const error = yield* failure(
          redis.run(
            "GET",
            (c) => {
              sends++
              return c.get(k)
            },
            { idempotent: true }
          ),
          CAP_MS
        )
        assert.strictEqual(error._tag, "Timeout")
        assert.strictEqual((error as { timeoutMs: number }).timeoutMs, adaptive, "waited the adaptive timeout")
        assert.include(error.message, "adaptive")
        assert.strictEqual(sends, 1, "a Redis that stopped answering is not asked again within the call")
      })
    )
  )

  it.live("DEBUG SLEEP: the same, for a write", () =>
    onRedis((redis, handle) =>
      Effect.gen(function* () {
        const k = key("slept")
        yield* warmUp(redis, k)
        const adaptive = yield* timeoutOf(redis, "set")
        assert.isBelow(adaptive, 1000)
        yield* Effect.promise(() => handle.debugSleep(2))
        const error = yield* failure(
          redis.run("SET", (c) => c.set(k, "during")),
          CAP_MS
        )
        assert.strictEqual(error._tag, "Timeout")
        assert.strictEqual((error as { timeoutMs: number }).timeoutMs, adaptive)
      })
    )
  )

  it.live("a Redis that answers every command slowly: after one late reply no call is cut off", () =>
    onRedis((redis, handle) =>
      Effect.gen(function* () {
        const k = key("slow")
        yield* warmUp(redis, k)
        const before = yield* timeoutOf(redis, "get")
        assert.isBelow(before, 400, "the warm-up gives a timeout below the slowdown")
        // Every command from here on waits behind a 0.5 s DEBUG SLEEP sent just before it.
        const slowly = <A>(call: Effect.Effect<A, unknown>) =>
          Effect.promise(() => handle.debugSleep(0.5)).pipe(Effect.andThen(call))
        const first = yield* slowly(
          failure(
            redis.run("GET", (c) => c.get(k), { idempotent: true }),
            CAP_MS
          )
        )
        assert.strictEqual(first._tag, "Timeout", "the first slow call still meets the old timeout")
        yield* until(
          "the late reply of the first call",
          Effect.map(redis.latencies, (l) => l.lateReplyMaxMs !== null)
        )
        const late = (yield* redis.latencies).lateReplyMaxMs!
        assert.isAbove(late, before)
        for (const command of ["get", "set"]) {
          assert.isAtLeast(yield* timeoutOf(redis, command), Math.min(CAP_MS, 10 * late), `${command} lifted`)
        }
        for (let i = 0; i < 5; i++) {
          assert.strictEqual(yield* slowly(redis.run("SET", (c) => c.set(k, `slow${i}`))), "OK")
          assert.strictEqual(yield* slowly(redis.run("GET", (c) => c.get(k), { idempotent: true })), `slow${i}`)
        }
        const get = (yield* redis.latencies).commands.find((c) => c.command === "get")!
        assert.strictEqual(get.timeouts, 1, "only the first call was cut off")
        assert.isAbove(get.maxMs!, before)
      })
    )
  )

  it.live("a call with its own budget keeps it through a pause longer than the adaptive timeout", () =>
    onRedis((redis, handle) =>
      Effect.gen(function* () {
        const k = key("budget")
        yield* warmUp(redis, k)
        assert.isBelow(yield* timeoutOf(redis, "get"), 1000)
        yield* Effect.promise(() => handle.pause(1500))
        assert.strictEqual(yield* redis.run("GET", (c) => c.get(k), { idempotent: true, timeoutMs: 5000 }), "199")
      })
    )
  )

  it.live("fixed mode: the same pause is waited out and the call succeeds", () =>
    onRedis(
      (redis, handle) =>
        Effect.gen(function* () {
          const k = key("fixed")
          yield* warmUp(redis, k)
          assert.strictEqual(yield* timeoutOf(redis, "get"), CAP_MS)
          yield* Effect.promise(() => handle.pause(1500))
          assert.strictEqual(yield* redis.run("GET", (c) => c.get(k), { idempotent: true }), "199")
        }),
      { REDIS_COMMAND_TIMEOUT_MODE: "fixed" }
    )
  )
})
