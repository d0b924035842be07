/**
 * The retry policy (`RetrySchedule.ts`) under TestClock, and the mapping of what
 * ioredis throws to tagged errors (`RedisErrors.ts`), whose `retryable` drives it.
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Duration, Effect, Fiber, Random, Schedule } from "effect"
import { TestClock } from "effect/testing"
import { RedisBusy, RedisUnavailable, WrongType } from "../../src/Errors.ts"
import type { RetryPolicy } from "../../src/layers/Config.ts"
import { toRedisError } from "../../src/layers/RedisErrors.ts"
import { backoff, commandRetry } from "../../src/layers/RetrySchedule.ts"

const policy: RetryPolicy = { baseMs: 100, maxMs: 1000, factor: 2 }

/** A Random whose every draw is `x`: jitter multiplies a delay by 0.8 + 0.4·x. */
const fixedRandom = (x: number) =>
  Effect.provideService(Random.Random, { nextDoubleUnsafe: () => x, nextIntUnsafe: () => 0 })

/** The first `n` delays (ms) a schedule produces, stepping it by hand. */
const delays = <I>(schedule: Schedule.Schedule<unknown, I>, input: I, n: number) =>
  Effect.gen(function* () {
    const step = yield* Schedule.toStep(schedule)
    const out: Array<number> = []
    let now = 0
    for (let i = 0; i < n; i++) {
      const [, delay] = yield* step(now, input)
      out.push(Duration.toMillis(delay))
      now += Duration.toMillis(delay)
    }
    return out
  })

/**
 * Run `effect` retried by `schedule` on a forked fiber, let the TestClock run far
 * ahead, and return the clock time of every attempt and the final exit.
 */
const attemptTimes = <E>(
  failures: (attempt: number) => E,
  schedule: Schedule.Schedule<unknown, E>,
  succeedOn = Number.POSITIVE_INFINITY
) =>
  Effect.gen(function* () {
    const times: Array<number> = []
    const start = yield* Clock.currentTimeMillis
    const flaky = Effect.gen(function* () {
      times.push((yield* Clock.currentTimeMillis) - start)
      if (times.length >= succeedOn) return times.length
      return yield* Effect.fail(failures(times.length))
    })
    const fiber = yield* flaky.pipe(Effect.retry(schedule), Effect.forkChild)
    yield* TestClock.adjust(Duration.minutes(10))
    const exit = yield* Fiber.await(fiber)
    return { times, exit }
  })

const retryable = () => new RedisUnavailable({ message: "down" })

describe("backoff", () => {
  it.effect("grows exponentially from the base delay by the factor", () =>
    Effect.gen(function* () {
      const ds = yield* delays(backoff({ baseMs: 100, maxMs: 100_000, factor: 2 }), undefined, 6)
      assert.deepStrictEqual(ds, [100, 200, 400, 800, 1600, 3200])
      const ds3 = yield* delays(backoff({ baseMs: 50, maxMs: 100_000, factor: 3 }), undefined, 4)
      assert.deepStrictEqual(ds3, [50, 150, 450, 1350])
    }).pipe(fixedRandom(0.5))
  )

  it.effect("caps every delay at maxMs and never stops", () =>
    Effect.gen(function* () {
      const ds = yield* delays(backoff(policy), undefined, 40)
      assert.deepStrictEqual(ds.slice(0, 6), [100, 200, 400, 800, 1000, 1000])
      assert.isTrue(ds.slice(4).every((d) => d === 1000))
    }).pipe(fixedRandom(0.5))
  )

  it.effect("drives real retries on the clock: attempts at 0, 100, 300, 700, 1500, 2500 ms", () =>
    Effect.gen(function* () {
      const { times } = yield* attemptTimes(retryable, backoff(policy), 6)
      assert.deepStrictEqual(times, [0, 100, 300, 700, 1500, 2500])
    }).pipe(fixedRandom(0.5))
  )

  it.effect("jitter stays within 0.8x and 1.2x of the nominal delay", () =>
    Effect.gen(function* () {
      const nominal = [100, 200, 400, 800, 1000, 1000, 1000, 1000]
      const low = yield* delays(backoff(policy), undefined, nominal.length).pipe(fixedRandom(0))
      assert.deepStrictEqual(
        low,
        nominal.map((d) => d * 0.8)
      )
      const high = yield* delays(backoff(policy), undefined, nominal.length).pipe(fixedRandom(1 - 1e-12))
      high.forEach((d, i) => {
        assert.isAtMost(d, nominal[i]! * 1.2)
        assert.isAbove(d, nominal[i]! * 1.2 - 1e-6)
      })
      // With a real (seeded) generator every delay lands in the band, and they differ.
      const seeded = yield* delays(backoff(policy), undefined, 200).pipe(Random.withSeed("jitter"))
      seeded.forEach((d, i) => {
        const n = nominal[Math.min(i, nominal.length - 1)]!
        assert.isAtLeast(d, n * 0.8)
        assert.isAtMost(d, n * 1.2)
      })
      assert.isAbove(new Set(seeded.slice(10)).size, 100)
    })
  )
})

describe("commandRetry", () => {
  it.effect("retries a retryable error and succeeds", () =>
    Effect.gen(function* () {
      const { times, exit } = yield* attemptTimes(retryable, commandRetry(policy, 5000), 3)
      assert.isTrue(exit._tag === "Success")
      assert.deepStrictEqual(times, [0, 100, 300])
    }).pipe(fixedRandom(0.5))
  )

  it.effect("stops at the first non-retryable error", () =>
    Effect.gen(function* () {
      const { times, exit } = yield* attemptTimes(
        (n) =>
          n < 2 ? new RedisBusy({ message: "loading", reason: "LOADING" }) : new WrongType({ message: "wrong type" }),
        commandRetry<RedisBusy | WrongType>(policy, 60_000)
      )
      assert.strictEqual(times.length, 2)
      assert.isTrue(exit._tag === "Failure")
      if (exit._tag === "Failure") assert.include(String(exit.cause), "WrongType")
    }).pipe(fixedRandom(0.5))
  )

  it.effect("stops after `times` retries", () =>
    Effect.gen(function* () {
      const { times, exit } = yield* attemptTimes(retryable, commandRetry(policy, 600_000, 3))
      assert.strictEqual(times.length, 4)
      assert.isTrue(exit._tag === "Failure")
    }).pipe(fixedRandom(0.5))
  )

  it.effect("never sleeps past its time budget", () =>
    Effect.gen(function* () {
      // Delays 100, 200, 400, 800…: with a 1000 ms budget the retry at 700 ms is the last
      // one that fits (700 + 800 would overrun it).
      const { times, exit } = yield* attemptTimes(retryable, commandRetry(policy, 1000, 100))
      assert.deepStrictEqual(times, [0, 100, 300, 700])
      assert.isTrue(exit._tag === "Failure")
      if (exit._tag === "Failure") assert.include(String(exit.cause), "RedisUnavailable")
    }).pipe(fixedRandom(0.5))
  )

  it.effect("the budget holds with the widest jitter too", () =>
    Effect.gen(function* () {
      for (const x of [0, 0.5, 1 - 1e-12]) {
        const { times } = yield* attemptTimes(retryable, commandRetry(policy, 1000, 100)).pipe(fixedRandom(x))
        assert.isAtMost(times.at(-1)!, 1000)
      }
    })
  )
})

describe("toRedisError", () => {
  const map = (message: string) => toRedisError(new Error(message), "GET", 1234)

  it("maps Redis error replies to tagged errors", () => {
    const cases: ReadonlyArray<readonly [string, string, boolean]> = [
      ["WRONGTYPE Operation against a key holding the wrong kind of value", "WrongType", false],
      ["NOPERM User app has no permissions to run the 'set' command", "PermissionDenied", false],
      ["NOAUTH Authentication required.", "PermissionDenied", false],
      ["WRONGPASS invalid username-password pair or user is disabled.", "PermissionDenied", false],
      [
        "ERR The user executing the script can't run this command or subcommand script: 2a0f…, on @user_script:1.",
        "PermissionDenied",
        false
      ],
      ["OOM command not allowed when used memory > 'maxmemory'.", "OutOfMemory", false],
      ["ERR unknown command 'FOO'", "RedisCommandError", false],
      ["ERR value is not an integer or out of range", "RedisCommandError", false]
    ]
    for (const [message, tag, isRetryable] of cases) {
      const e = map(message)
      assert.strictEqual(e._tag, tag, message)
      assert.strictEqual(e.retryable, isRetryable, message)
      assert.include(e.message, "GET", message)
    }
  })

  it("maps a transaction refused as a whole by the reason it names", () => {
    const denied = map("EXECABORT Transaction discarded because of: NOPERM this user has no permissions to run 'multi'")
    assert.strictEqual(denied._tag, "PermissionDenied")
    assert.include(denied.message, "NOPERM")
    assert.strictEqual(
      map("EXECABORT Transaction discarded because of: OOM command not allowed when used memory > 'maxmemory'.")._tag,
      "OutOfMemory"
    )
    assert.strictEqual(map("EXECABORT Transaction discarded because of previous errors.")._tag, "RedisCommandError")
  })

  it("maps transient states to RedisBusy with the reason, retryable", () => {
    for (const reason of ["LOADING", "BUSY", "READONLY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN"] as const) {
      const e = map(`${reason} something happened`)
      assert.strictEqual(e._tag, "RedisBusy", reason)
      assert.isTrue(e.retryable, reason)
      if (e._tag === "RedisBusy") assert.strictEqual(e.reason, reason)
    }
  })

  it("maps lost connections to RedisUnavailable, retryable", () => {
    for (const message of [
      "Connection is closed.",
      "Stream isn't writeable and enableOfflineQueue options is false",
      "connect ECONNREFUSED 127.0.0.1:6390",
      "read ECONNRESET",
      "Reached the max retries per request limit (which is 0).",
      "None of startup nodes is available",
      "All sentinels are unreachable."
    ]) {
      const e = map(message)
      assert.strictEqual(e._tag, "RedisUnavailable", message)
      assert.isTrue(e.retryable, message)
      assert.include(e.message, "health", message)
    }
  })

  it("maps a command timeout to Timeout carrying the timeout", () => {
    const e = map("Command timed out")
    assert.strictEqual(e._tag, "Timeout")
    assert.isTrue(e.retryable)
    if (e._tag === "Timeout") assert.strictEqual(e.timeoutMs, 1234)
    assert.include(e.message, "1234 ms")
  })

  it("maps anything else to RedisCommandError, not retryable", () => {
    for (const cause of [new Error("something odd"), "a string", 42, undefined]) {
      const e = toRedisError(cause, "SET", 1000)
      assert.strictEqual(e._tag, "RedisCommandError")
      assert.isFalse(e.retryable)
      assert.include(e.message, "SET failed")
    }
  })
})
