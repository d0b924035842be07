/**
 * Per-principal limits: the call past the maximum in flight is refused at once with
 * LimitExceeded (nothing of it runs); finishing, failing or being interrupted gives the slot
 * back; principals do not share slots; subscriptions likewise, released once.
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber } from "effect"
import { make } from "../../src/mcp/auth/PrincipalLimits.ts"

describe("PrincipalLimits", () => {
  it.effect("calls: at most the maximum in flight per principal", () =>
    Effect.gen(function* () {
      const limits = make({ maxConcurrentCalls: 2, maxSubscriptions: 1 })
      const gate = yield* Deferred.make<void>()
      const started = [yield* Deferred.make<void>(), yield* Deferred.make<void>()] as const
      const hold = (i: 0 | 1) =>
        limits.call("alice", Deferred.succeed(started[i], undefined).pipe(Effect.andThen(Deferred.await(gate))))
      const held = yield* Effect.forkChild(Effect.all([hold(0), hold(1)], { concurrency: "unbounded" }))
      yield* Deferred.await(started[0])
      yield* Deferred.await(started[1])
      assert.deepStrictEqual(yield* limits.usage("alice"), { calls: 2, subscriptions: 0 })
      let ran = false
      const error = yield* Effect.flip(
        limits.call(
          "alice",
          Effect.sync(() => (ran = true))
        )
      )
      assert.strictEqual(error._tag, "LimitExceeded")
      assert.strictEqual(error.limit, "calls")
      assert.strictEqual(error.max, 2)
      assert.isTrue(error.retryable)
      assert.include(error.message, "alice already has 2 calls in flight")
      assert.isFalse(ran, "the refused call did not run")
      assert.strictEqual(yield* limits.call("bob", Effect.succeed("ok")), "ok", "another principal is not affected")
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(held)
      assert.deepStrictEqual(yield* limits.usage("alice"), { calls: 0, subscriptions: 0 })
      assert.strictEqual(yield* limits.call("alice", Effect.succeed(1)), 1)
    })
  )

  it.effect("a failed or interrupted call gives its slot back", () =>
    Effect.gen(function* () {
      const limits = make({ maxConcurrentCalls: 1, maxSubscriptions: 1 })
      yield* Effect.flip(limits.call("p", Effect.fail("boom")))
      const started = yield* Deferred.make<void>()
      const fiber = yield* Effect.forkChild(
        limits.call("p", Deferred.succeed(started, undefined).pipe(Effect.andThen(Effect.never)))
      )
      yield* Deferred.await(started)
      assert.strictEqual((yield* limits.usage("p")).calls, 1)
      yield* Fiber.interrupt(fiber)
      assert.strictEqual((yield* limits.usage("p")).calls, 0)
      assert.strictEqual(yield* limits.call("p", Effect.succeed("again")), "again")
    })
  )

  it.effect("subscriptions: counted until released; releasing twice counts once", () =>
    Effect.gen(function* () {
      const limits = make({ maxConcurrentCalls: 1, maxSubscriptions: 2 })
      const first = yield* limits.acquireSubscription("p")
      yield* limits.acquireSubscription("p")
      const error = yield* Effect.flip(limits.acquireSubscription("p"))
      assert.strictEqual(error.limit, "subscriptions")
      assert.include(error.message, "unsubscribe")
      yield* limits.acquireSubscription("q")
      yield* first
      yield* first
      assert.deepStrictEqual(yield* limits.usage("p"), { calls: 0, subscriptions: 1 })
      yield* limits.acquireSubscription("p")
      assert.isTrue((yield* Effect.exit(limits.acquireSubscription("p")))._tag === "Failure")
    })
  )
})
