/**
 * How concurrent calls' commands are written (REDIS_AUTO_PIPELINING), on a real
 * redis-server: with `busy` (the default) the commands sent in one turn while
 * others are in flight reach Redis together (Redis counts its socket reads), and
 * under every mode each call gets its own reply.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { Redis } from "ioredis"
import { requireRedis } from "../support/env.ts"
import { concurrentRoundTrip, uniqueKey, withServerAndClient } from "./redis-env.ts"

const CALLS = 200

/** A connection of the test's own to the same server (not the client under test), closed with the scope. */
const observer = (url: string) =>
  Effect.acquireRelease(
    Effect.sync(() => new Redis(url, { lazyConnect: false })),
    (r) => Effect.sync(() => r.disconnect())
  )

/** The socket reads Redis has made so far (INFO's own included). */
const readsProcessed = (r: Redis) =>
  Effect.promise(() => r.info("stats")).pipe(
    Effect.map((text) => Number(/total_reads_processed:(\d+)/.exec(text)?.[1] ?? Number.NaN))
  )

describe("REDIS_AUTO_PIPELINING", () => {
  requireRedis() // a missing redis-server fails the suite, never skips it

  it.live(
    `busy (the default): ${CALLS} calls sent in one turn reach Redis in a few reads, each with its own reply`,
    () =>
      Effect.scoped(
        withServerAndClient({}, (redis, handle) =>
          Effect.gen(function* () {
            const admin = yield* observer(handle.url)
            const k = uniqueKey("batched")
            const before = yield* readsProcessed(admin)
            const counts = yield* Effect.all(
              Array.from({ length: CALLS }, () => redis.run("INCR", (c) => c.incr(k))),
              { concurrency: "unbounded" }
            )
            const reads = (yield* readsProcessed(admin)) - before - 1
            assert.deepStrictEqual(
              [...counts].sort((a, b) => a - b),
              Array.from({ length: CALLS }, (_, i) => i + 1)
            )
            assert.isAtMost(reads, 10, `${CALLS} commands took ${reads} reads`)
          })
        )
      )
  )

  for (const mode of ["off", "busy", "on"] as const) {
    it.live(`${mode}: concurrent reads and writes each get their own reply`, () =>
      Effect.scoped(
        withServerAndClient({ REDIS_AUTO_PIPELINING: mode }, (redis) =>
          Effect.gen(function* () {
            const keys = Array.from({ length: 50 }, (_, i) => uniqueKey(`${mode}${i}`))
            const values = yield* concurrentRoundTrip(redis, keys)
            assert.deepStrictEqual(
              values,
              keys.map((_, i) => `v${i}`)
            )
          })
        )
      )
    )
  }
})
