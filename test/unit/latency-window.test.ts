/**
 * The rolling latency histogram behind adaptive timeouts and `latencies`
 * (`LatencyWindow.ts`), driven by the TestClock: bucket bounds, quantiles within
 * the bucket resolution, slots aging out as time passes, fixed memory.
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect } from "effect"
import { TestClock } from "effect/testing"
import { BUCKETS, bucketOf, LatencyWindow, upperBound } from "../../src/layers/LatencyWindow.ts"

/** A window of 60 s in 6 slots, as the connection layer uses. */
const minute = () => new LatencyWindow({ windowMs: 60_000, slots: 6 })

/** Observe each latency at the TestClock's current time. */
const observeAll = (w: LatencyWindow, latencies: ReadonlyArray<number>) =>
  Effect.flatMap(Clock.currentTimeMillis, (now) =>
    Effect.sync(() => {
      for (const ms of latencies) w.observe(now, ms)
    })
  )

/** The window as of the TestClock's current time. */
const at = (w: LatencyWindow) =>
  Effect.flatMap(Clock.currentTimeMillis, (now) =>
    Effect.sync(() => {
      w.advance(now)
      return { count: w.count, p50: w.quantile(0.5), p99: w.quantile(0.99), max: w.max }
    })
  )

describe("latency buckets", () => {
  it("each latency lands in the first bucket whose upper bound holds it, bounds growing by 2^(1/4)", () => {
    for (const ms of [0.001, 0.0156, 0.02, 0.1, 0.25, 1, 1.5, 7, 100, 999, 5000, 60_000]) {
      const i = bucketOf(ms)
      assert.isAtLeast(upperBound(i), ms, `${ms} fits bucket ${i}`)
      if (i > 0) assert.isBelow(upperBound(i - 1), ms, `${ms} does not fit bucket ${i - 1}`)
    }
    for (let i = 1; i < BUCKETS; i++) assert.closeTo(upperBound(i) / upperBound(i - 1), 2 ** 0.25, 1e-9)
    assert.strictEqual(bucketOf(1), bucketOf(upperBound(bucketOf(1))), "a bound belongs to its own bucket")
    assert.strictEqual(bucketOf(0), 0)
    assert.strictEqual(bucketOf(10 ** 9), BUCKETS - 1, "anything slower than the last bound goes in the last bucket")
  })
})

describe("LatencyWindow", () => {
  it.effect("an empty window has no quantiles and a max of 0", () =>
    Effect.gen(function* () {
      const w = minute()
      const s = yield* at(w)
      assert.deepStrictEqual(s, { count: 0, p50: undefined, p99: undefined, max: 0 })
    })
  )

  it.effect(
    "quantiles are the holding bucket's upper bound: within 19 % above the exact value, never above the max",
    () =>
      Effect.gen(function* () {
        const w = minute()
        // 1..1000 ms: p50 = 500, p99 = 990, max 1000.
        yield* observeAll(
          w,
          Array.from({ length: 1000 }, (_, i) => i + 1)
        )
        const s = yield* at(w)
        assert.strictEqual(s.count, 1000)
        assert.strictEqual(s.max, 1000)
        assert.isAtLeast(s.p50!, 500)
        assert.isAtMost(s.p50!, 500 * 2 ** 0.25)
        assert.isAtLeast(s.p99!, 990)
        assert.isAtMost(s.p99!, 1000, "capped by the slowest observation")
      })
  )

  it.effect("p99 follows the slowest 1 %: 99 fast replies and 1 slow one leave it fast, 2 slow ones move it", () =>
    Effect.gen(function* () {
      const w = minute()
      yield* observeAll(w, [...Array.from({ length: 99 }, () => 0.2), 400])
      assert.isAtMost((yield* at(w)).p99!, 0.25)
      yield* observeAll(w, [400])
      assert.strictEqual((yield* at(w)).p99, 400)
    })
  )

  it.effect("observations leave one slot at a time as the clock moves, and all at once after a whole window", () =>
    Effect.gen(function* () {
      const w = minute()
      yield* observeAll(w, [5, 5, 5]) // slot 0, at t = 0
      yield* TestClock.adjust("10 seconds")
      yield* observeAll(w, [50, 50]) // slot 1
      yield* TestClock.adjust("49 seconds") // t = 59 s: both slots still inside the minute
      assert.strictEqual((yield* at(w)).count, 5)
      assert.strictEqual((yield* at(w)).max, 50)
      yield* TestClock.adjust("1 second") // t = 60 s: the first slot ages out
      let s = yield* at(w)
      assert.strictEqual(s.count, 2)
      assert.strictEqual(s.p50, 50)
      yield* TestClock.adjust("10 seconds") // t = 70 s: the second one too
      s = yield* at(w)
      assert.deepStrictEqual(s, { count: 0, p50: undefined, p99: undefined, max: 0 })

      yield* observeAll(w, [1, 2, 3])
      yield* TestClock.adjust("1 hour")
      assert.strictEqual((yield* at(w)).count, 0, "a long quiet time clears the whole window")
      yield* observeAll(w, [7])
      s = yield* at(w)
      assert.strictEqual(s.count, 1)
      assert.strictEqual(s.max, 7)
    })
  )

  it.effect("rotations count the slot changes (what cached timeouts watch)", () =>
    Effect.gen(function* () {
      const w = minute()
      yield* observeAll(w, [1])
      const before = w.rotations
      yield* TestClock.adjust("5 seconds")
      yield* at(w)
      assert.strictEqual(w.rotations, before, "same slot")
      yield* TestClock.adjust("5 seconds")
      yield* at(w)
      assert.strictEqual(w.rotations, before + 1)
    })
  )

  it("only the last minute counts: a million observations over ten minutes leave the last 50 to 60 s of them", () => {
    const w = minute()
    const every = 0.6 // ms between observations: 600 s in all
    for (let i = 0; i < 1_000_000; i++) w.observe(i * every, 1 + (i % 100))
    assert.isAtLeast(w.count, Math.floor(50_000 / every))
    assert.isAtMost(w.count, Math.ceil(60_000 / every))
    assert.strictEqual(w.max, 100)
    assert.isAtLeast(w.quantile(0.5)!, 50)
  })
})
