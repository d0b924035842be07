/**
 * Memory bounds of big reads through the built server on a real redis-server
 * (issue 9 items 1 and 6), each read on fresh processes. Data of 1 MiB values,
 * the default output cap of 1 MiB: one call may make the server's RSS peak grow
 * by a few times the cap, never by the size of the data, and may cost Redis about
 * one result of replies, never N values; pub/sub buffers hold at most their byte
 * caps (3 × 4 MiB by default). Memory is asserted, never time.
 */
import { afterEach, assert, describe, it } from "@effect/vitest"
import { MAIN } from "../e2e/client.ts"
import { requireRedis } from "../support/env.ts"
import { MiB, peakGrowth } from "../support/memory.ts"
import { SCENARIOS, startTarget, type Target } from "./read-bounds/target.ts"

/** Server peak RSS growth for one read: measured ~11 MiB, 140 MiB to 2 GiB before the fix. */
const SERVER_PEAK = 48 * MiB
/** Bytes Redis may send for one read of a 1 MiB result: measured ~1 MiB, 10 MiB to 1 GiB before. */
const REDIS_SENT = 4 * MiB
/** Redis used_memory_peak growth: mget of 1000 copies took it up by ~1 GiB before. */
const REDIS_PEAK = 64 * MiB
/** What 3 subscriptions may still hold after a GC: 3 × 4 MiB and slack (360 MiB before). */
const BUFFERED = 24 * MiB
/** The pub/sub run's peak: mostly the 120 publishes' own garbage (~130 MiB); 420 MiB before. */
const PUBSUB_PEAK = 256 * MiB

describe("big reads stay within the output cap in memory, on both sides", () => {
  requireRedis()
  let target: Target | undefined
  afterEach(async () => {
    await target?.stop()
    target = undefined
  })

  for (const scenario of SCENARIOS) {
    it(scenario.name, { timeout: 180_000 }, async () => {
      const t = await startTarget(MAIN)
      target = t
      await scenario.load(t)
      await t.call("ping", {})
      const before = await t.redisStats()
      const { result, growth } = await peakGrowth(t.serverPid, () => scenario.run(t))
      const after = await t.redisStats()
      assert.isAtMost(after.usedPeak - before.usedPeak, REDIS_PEAK, "Redis's memory peaked")
      if (result.buffered === undefined) {
        assert.isAtMost(growth, SERVER_PEAK, "the server's RSS peaked")
        assert.isAtMost(after.sent - before.sent, REDIS_SENT, "Redis sent more than one result")
      } else {
        assert.isAtMost(result.buffered, BUFFERED, "the subscriptions hold more than their byte caps")
        assert.isAtMost(growth, PUBSUB_PEAK, "the server's RSS peaked")
      }
      assert.isTrue(result.ok, result.text.slice(0, 300))
      assert.isAtMost(Buffer.byteLength(result.text), MiB)
    })
  }
})
