/**
 * What the connection layer learns from replies (`RedisLatency.ts`), without
 * Redis, under the TestClock: the adaptive timeout rule (cap until enough
 * replies, 10 × p99 between floor and cap, late replies lift every command,
 * the window forgets), fixed mode, bounded labels, the metric series and the
 * `latencies` read model.
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Metric } from "effect"
import { TestClock } from "effect/testing"
import * as Metrics from "../../src/layers/Metrics.ts"
import {
  ADAPTIVE,
  commandLabel,
  LatencyTracker,
  MAX_COMMANDS,
  type TimeoutSettings
} from "../../src/layers/RedisLatency.ts"

const adaptive: TimeoutSettings = { mode: "adaptive", capMs: 5000, floorMs: 100 }

/** A tracker recording into a registry of its own; `f` gets it and the TestClock's time. */
const withTracker = <A, E>(settings: TimeoutSettings, f: (t: LatencyTracker) => Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    const tracker = new LatencyTracker(settings, yield* Effect.context<never>())
    return yield* f(tracker)
  }).pipe(Effect.provideService(Metric.MetricRegistry, new Map()))

/** `n` replies of `ms` each for `command`, at the current TestClock time. */
const replies = (t: LatencyTracker, command: string, n: number, ms: number) =>
  Effect.flatMap(Clock.currentTimeMillis, (now) =>
    Effect.sync(() => {
      const stats = t.handle(command)
      for (let i = 0; i < n; i++) t.reply(stats, now, ms)
    })
  )

const timeoutOf = (t: LatencyTracker, command: string) =>
  Effect.map(Clock.currentTimeMillis, (now) => t.timeoutFor(t.handle(command), now))

describe("commandLabel", () => {
  it("lower-cases names, names scripts evalsha:<script>, keeps labels short and plain", () => {
    assert.strictEqual(commandLabel("GET"), "get")
    assert.strictEqual(commandLabel("CLUSTER NODES"), "cluster nodes")
    assert.strictEqual(commandLabel("script task_claim"), "evalsha:task_claim")
    assert.strictEqual(commandLabel("MULTI/EXEC"), "multi/exec")
    assert.strictEqual(commandLabel('X"Y\n{z}'), "x_y _z_")
    assert.strictEqual(commandLabel("A".repeat(500)).length, 64)
    assert.strictEqual(commandLabel("  "), "other")
  })
})

describe("adaptive timeouts", () => {
  it.effect("a command keeps the cap until it has enough replies, then gets 10 × p99 above the floor", () =>
    withTracker(adaptive, (t) =>
      Effect.gen(function* () {
        assert.strictEqual(yield* timeoutOf(t, "GET"), 5000, "never seen: the cap")
        yield* replies(t, "GET", ADAPTIVE.minSamples - 1, 0.5)
        assert.strictEqual(yield* timeoutOf(t, "GET"), 5000, "too few replies: the cap")
        yield* replies(t, "GET", ADAPTIVE.recomputeEvery, 0.5)
        assert.strictEqual(yield* timeoutOf(t, "GET"), 100, "fast replies: the floor")
        yield* replies(t, "HGETALL", 200, 40)
        const hgetall = yield* timeoutOf(t, "HGETALL")
        assert.isAtLeast(hgetall, 400, "10 × a 40 ms p99")
        assert.isAtMost(hgetall, 400 * 2 ** 0.25)
        assert.strictEqual(yield* timeoutOf(t, "GET"), 100, "each command its own p99")
        yield* replies(t, "SCAN", 100, 900)
        assert.strictEqual(yield* timeoutOf(t, "SCAN"), 5000, "never above the cap")
      })
    )
  )

  it.effect("a Redis that gets uniformly slower: one late reply lifts every command's timeout above it", () =>
    withTracker(adaptive, (t) =>
      Effect.gen(function* () {
        yield* replies(t, "GET", 100, 0.3)
        yield* replies(t, "SET", 100, 0.4)
        assert.strictEqual(yield* timeoutOf(t, "GET"), 100)
        const now = yield* Clock.currentTimeMillis
        const get = t.handle("GET")
        t.timedOut(get, 100)
        t.lateReply(get, now, 250)
        assert.strictEqual(yield* timeoutOf(t, "GET"), 2500, "10 × the late reply")
        assert.strictEqual(yield* timeoutOf(t, "SET"), 2500, "the whole connection was slow, not one command")
        yield* TestClock.adjust("61 seconds")
        yield* replies(t, "GET", 100, 0.3)
        assert.strictEqual(yield* timeoutOf(t, "GET"), 100, "a minute later the window has forgotten it")
      })
    )
  )

  it.effect("a Redis that stops answering sends no reply: the timeout stays short", () =>
    withTracker(adaptive, (t) =>
      Effect.gen(function* () {
        yield* replies(t, "GET", 100, 0.3)
        const get = t.handle("GET")
        for (let i = 0; i < 50; i++) t.timedOut(get, 100)
        assert.strictEqual(yield* timeoutOf(t, "GET"), 100)
      })
    )
  )

  it.effect("the floor is never above the cap", () =>
    withTracker({ mode: "adaptive", capMs: 300, floorMs: 1000 }, (t) =>
      Effect.gen(function* () {
        yield* replies(t, "GET", 100, 0.3)
        assert.strictEqual(yield* timeoutOf(t, "GET"), 300)
        assert.strictEqual(t.report(yield* Clock.currentTimeMillis).timeoutFloorMs, 300)
      })
    )
  )

  it.effect("fixed mode: always the cap, while latencies are still recorded", () =>
    withTracker({ ...adaptive, mode: "fixed" }, (t) =>
      Effect.gen(function* () {
        yield* replies(t, "GET", 100, 0.3)
        assert.strictEqual(yield* timeoutOf(t, "GET"), 5000)
        const report = t.report(yield* Clock.currentTimeMillis)
        assert.strictEqual(report.mode, "fixed")
        assert.strictEqual(report.commands[0]!.count, 100)
      })
    )
  )
})

describe("metrics and the latencies read model", () => {
  it.effect("each reply and timeout is one observation of the command's series; timeouts are counted", () =>
    withTracker(adaptive, (t) =>
      Effect.gen(function* () {
        yield* replies(t, "GET", 3, 0.2)
        yield* replies(t, "script task_claim", 2, 1)
        const get = t.handle("GET")
        t.timedOut(get, 100)
        t.noReply(get, 3)
        t.lateReply(get, 0, 300) // already observed as a timeout: not again
        const series = yield* Metric.value(Metrics.redisCommandSeries("get"))
        assert.strictEqual(series.count, 5)
        assert.strictEqual((yield* Metric.value(Metrics.redisCommandSeries("evalsha:task_claim"))).count, 2)
        assert.strictEqual((yield* Metric.value(Metrics.redisTimeouts)).count, 1)
      })
    )
  )

  it.effect("latencies: per command, replies, p50, p99, max and the next timeout, sorted by command", () =>
    withTracker(adaptive, (t) =>
      Effect.gen(function* () {
        yield* replies(t, "SET", 50, 2)
        yield* replies(t, "GET", 90, 1)
        yield* replies(t, "GET", 10, 8)
        const get = t.handle("GET")
        t.timedOut(get, 100)
        const report = t.report(yield* Clock.currentTimeMillis)
        assert.strictEqual(report.mode, "adaptive")
        assert.strictEqual(report.windowMs, 60_000)
        assert.strictEqual(report.timeoutCapMs, 5000)
        assert.isNull(report.lateReplyMaxMs)
        assert.deepStrictEqual(
          report.commands.map((c) => c.command),
          ["get", "set"]
        )
        const g = report.commands[0]!
        assert.strictEqual(g.count, 100)
        assert.strictEqual(g.p50Ms, 1)
        assert.strictEqual(g.p99Ms, 8)
        assert.strictEqual(g.maxMs, 8)
        assert.strictEqual(g.timeoutMs, 100)
        assert.strictEqual(g.timeouts, 1)
        const s = report.commands[1]!
        assert.deepStrictEqual([s.count, s.p50Ms, s.maxMs, s.timeouts], [50, 2, 2, 0])
        yield* TestClock.adjust("2 minutes")
        const later = t.report(yield* Clock.currentTimeMillis).commands[0]!
        assert.deepStrictEqual([later.count, later.p50Ms, later.p99Ms, later.maxMs], [0, null, null, null])
        assert.strictEqual(later.timeoutMs, 5000, "no recent replies: back to the cap")
        assert.strictEqual(later.timeouts, 1, "timeouts count since start")
      })
    )
  )

  it.effect("labels stay bounded: past the limit new commands share `other`", () =>
    withTracker(adaptive, (t) =>
      Effect.gen(function* () {
        for (let i = 0; i < MAX_COMMANDS + 50; i++) yield* replies(t, `CMD${i}`, 1, 1)
        const report = t.report(yield* Clock.currentTimeMillis)
        assert.strictEqual(report.commands.length, MAX_COMMANDS + 1)
        assert.strictEqual(report.commands.find((c) => c.command === "other")?.count, 50)
        assert.strictEqual(t.handle("CMD0").label, "cmd0", "commands seen before the limit keep their label")
      })
    )
  )
})
