/**
 * The Redis series the connection layer records, on a real redis-server, each
 * client recording into a registry of its own: one observation per command sent
 * (labelled by lower-case command, scripts by name), `connected` following the
 * connection, `reconnects_total` on a lost connection, `timeouts_total` on a
 * command past its timeout, and the `latencies` read model from the same replies.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { requireRedis } from "../support/env.ts"
import { freePort } from "../support/ports.ts"
import {
  commandCount,
  counter,
  FAULT_ENV,
  failure,
  gauge,
  uniqueKey as key,
  series,
  until,
  withMeteredClient,
  withServerAndClient
} from "./redis-env.ts"

const CONNECTED = "redis_mcp_redis_connected"
const RECONNECTS = "redis_mcp_redis_reconnects_total"
const TIMEOUTS = "redis_mcp_redis_timeouts_total"

describe("Redis metrics from the connection layer", () => {
  requireRedis() // a missing redis-server fails the suite, never skips it
  it.live("each command sent is one observation of its command's series; connected is 1 once ready", () =>
    withServerAndClient({}, (redis) =>
      Effect.gen(function* () {
        assert.strictEqual(yield* gauge(CONNECTED), 1)
        const echo = redis.script("echo_key", "return KEYS[1]")
        const before = {
          get: yield* commandCount("get"),
          set: yield* commandCount("set"),
          script: yield* commandCount("evalsha:echo_key")
        }
        const k = key("counted")
        for (let i = 0; i < 3; i++) yield* redis.run("SET", (c) => c.set(k, String(i)))
        for (let i = 0; i < 5; i++) yield* redis.run("GET", (c) => c.get(k), { idempotent: true })
        assert.strictEqual(yield* echo([k], []), k)
        const wrong = yield* failure(
          redis.run("LPUSH", (c) => c.lpush(k, "x")),
          3000
        )
        assert.strictEqual(wrong._tag, "WrongType")
        assert.strictEqual((yield* commandCount("set")) - before.set, 3)
        assert.strictEqual((yield* commandCount("get")) - before.get, 5)
        assert.strictEqual((yield* commandCount("evalsha:echo_key")) - before.script, 1)
        assert.strictEqual(yield* commandCount("lpush"), 1, "an error reply is a reply too")
        assert.isUndefined(yield* series("redis_mcp_redis_command_duration_seconds", { command: "GET" }))

        const latencies = yield* redis.latencies
        const get = latencies.commands.find((c) => c.command === "get")!
        assert.strictEqual(get.count, 5)
        assert.isAbove(get.p50Ms!, 0)
        assert.isAtLeast(get.p99Ms!, get.p50Ms!)
        assert.isAtLeast(get.maxMs!, get.p99Ms!)
        assert.strictEqual(get.timeouts, 0)
        assert.strictEqual(latencies.mode, "adaptive")
        assert.strictEqual(get.timeoutMs, 1000, "too few replies for an adaptive timeout: the command timeout")
        assert.strictEqual(yield* counter(TIMEOUTS), 0)
      })
    )
  )

  it.live("Redis killed: connected goes to 0 and reconnects_total up; back to 1 after a restart", () =>
    withServerAndClient({}, (redis, handle) =>
      Effect.gen(function* () {
        assert.strictEqual(yield* gauge(CONNECTED), 1)
        assert.strictEqual(yield* counter(RECONNECTS), 0)
        yield* Effect.promise(() => handle.kill())
        yield* until(
          "connected is 0",
          Effect.map(gauge(CONNECTED), (v) => v === 0)
        )
        assert.strictEqual(yield* counter(RECONNECTS), 1)
        assert.strictEqual((yield* redis.health).state, "reconnecting")
        yield* Effect.promise(() => handle.restart())
        yield* until(
          "connected is 1 again",
          Effect.map(gauge(CONNECTED), (v) => v === 1)
        )
        assert.strictEqual(yield* counter(RECONNECTS), 1)
      })
    )
  )

  it.live("Redis never reached: connected is 0 (not absent) once the first attempt failed, no reconnect counted", () =>
    Effect.gen(function* () {
      const port = yield* Effect.promise(() => freePort())
      yield* withMeteredClient({ ...FAULT_ENV, REDIS_URL: `redis://127.0.0.1:${port}` }, (redis) =>
        Effect.gen(function* () {
          yield* until(
            "a failed connect attempt",
            Effect.map(redis.health, (h) => h.lastError !== null)
          )
          yield* until(
            "connected is 0",
            Effect.map(gauge(CONNECTED), (v) => v === 0)
          )
          const health = yield* redis.health
          assert.strictEqual(health.state, "connecting", "never reached: connecting, not reconnecting")
          assert.strictEqual(health.reconnects, 0)
          assert.strictEqual(yield* counter(RECONNECTS), 0)
        })
      )
    })
  )

  it.live("a DEBUG SLEEP past the command timeout: timeouts_total moves by one, the call is observed once", () =>
    withServerAndClient({ REDIS_COMMAND_TIMEOUT_MODE: "fixed" }, (redis, handle) =>
      Effect.gen(function* () {
        yield* redis.run("PING", (c) => c.ping())
        assert.strictEqual(yield* counter(TIMEOUTS), 0)
        yield* Effect.promise(() => handle.debugSleep(2))
        const error = yield* failure(
          redis.run("GET", (c) => c.get(key("slept")), { idempotent: true }),
          4000
        )
        assert.strictEqual(error._tag, "Timeout")
        assert.strictEqual((error as { timeoutMs: number }).timeoutMs, 1000, "fixed mode: the command timeout")
        assert.strictEqual(yield* counter(TIMEOUTS), 1)
        assert.strictEqual(yield* commandCount("get"), 1)
        const get = (yield* redis.latencies).commands.find((c) => c.command === "get")!
        assert.strictEqual(get.timeouts, 1)
        // The reply comes when the sleep ends: measured for the window, not counted again.
        yield* until(
          "the late reply",
          Effect.map(redis.latencies, (l) => l.lateReplyMaxMs !== null)
        )
        assert.strictEqual(yield* commandCount("get"), 1)
        assert.strictEqual(yield* counter(TIMEOUTS), 1)
      })
    )
  )

  it.live("health's PING is recorded like any command", () =>
    withServerAndClient({}, (redis) =>
      Effect.gen(function* () {
        yield* redis.health
        yield* redis.health
        assert.strictEqual(yield* commandCount("ping"), 2)
      })
    )
  )
})
