/**
 * The Tasks sweep and change stream, on the memory layer (TestClock) and on
 * Redis, each on a fresh instance: a sweep round visits only queues with work
 * due, at most its limit, and forgets idle queues, so its cost does not grow
 * with every queue ever used (counted in rounds and, on Redis, in scripts run);
 * every task state change is published for its queue.
 */
import { randomUUID } from "node:crypto"
import { assert } from "@effect/vitest"
import { Effect, Fiber, Option, Queue, Stream } from "effect"
import { RedisClient } from "../../src/layers/RedisClient.ts"
import { type TaskEvent, Tasks } from "../../src/services/Tasks.ts"
import { onMemory, onRedis, runContract } from "./layers.ts"

const env = { REDIS_MCP_KEY_PREFIX: "csweep:" }
const LIMIT = 100
const IDLE_QUEUES = 5000

/** Scripts Redis has run so far (EVALSHA and EVAL), or undefined on the memory layer. */
const scriptsRun = Effect.gen(function* () {
  const redis = yield* Effect.serviceOption(RedisClient)
  if (Option.isNone(redis)) return undefined
  const info = yield* redis.value.run("INFO", (c) => c.info("commandstats"), { idempotent: true }).pipe(Effect.orDie)
  const calls = (name: string) => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(info)?.[1] ?? 0)
  return calls("evalsha") + calls("eval")
})

runContract("Tasks sweep", onMemory(Tasks.layerMemory, env), onRedis(Tasks.layer, env), (it, target) => {
  it.effect(`${IDLE_QUEUES} idle queues: each round visits at most ${LIMIT}, each queue once, then none`, () =>
    Effect.gen(function* () {
      const tasks = yield* Tasks
      const run = randomUUID().slice(0, 8)
      yield* Effect.forEach(
        Array.from({ length: IDLE_QUEUES }, (_, i) => `idle-${run}-${i}`),
        (queue) => tasks.create({ queue, payload: {} }),
        { concurrency: 50, discard: true }
      )
      const visits: Array<number> = []
      for (let round = 0; round < 2 * (IDLE_QUEUES / LIMIT); round++) {
        const before = yield* scriptsRun
        const { visited } = yield* tasks.sweepDue(LIMIT)
        const after = yield* scriptsRun
        assert.isAtMost(visited, LIMIT)
        // On Redis a round costs one script per queue visited, nothing more.
        if (before !== undefined && after !== undefined) assert.strictEqual(after - before, visited)
        if (visited === 0) break
        visits.push(visited)
      }
      // A waiting task needs no housekeeping: each queue was visited once, then forgotten.
      assert.strictEqual(
        visits.reduce((a, b) => a + b, 0),
        IDLE_QUEUES
      )
      const idle = yield* tasks.sweepDue(LIMIT)
      assert.deepStrictEqual(idle, { visited: 0, tracked: 0 })
    })
  )

  it.effect("a queue with a delayed task is visited when it is due, then forgotten", () =>
    Effect.gen(function* () {
      const tasks = yield* Tasks
      const queue = `delayed-${randomUUID().slice(0, 8)}`
      const { taskId } = yield* tasks.create({ queue, payload: {}, delaySeconds: 1 })
      assert.strictEqual((yield* tasks.sweepDue(LIMIT)).visited, 1)
      // Not due yet: the round has nothing to do, but the queue is still watched.
      assert.deepStrictEqual(yield* tasks.sweepDue(LIMIT), { visited: 0, tracked: 1 })
      yield* target.advance(1100)
      assert.deepStrictEqual(yield* tasks.sweepDue(LIMIT), { visited: 1, tracked: 0 })
      assert.strictEqual((yield* tasks.get({ queue, taskId })).status, "waiting")
    })
  )

  it.effect("every task state change is published for its queue; an expired lease through the sweep too", () =>
    Effect.gen(function* () {
      const tasks = yield* Tasks
      const queue = `changes-${randomUUID().slice(0, 8)}`
      const events = yield* Queue.unbounded<TaskEvent>()
      const listener = yield* Stream.runForEach(tasks.changes, (e) => Queue.offer(events, e)).pipe(Effect.forkChild)
      assert.deepStrictEqual(yield* Queue.take(events), { _tag: "Ready" })
      const next = Queue.take(events)

      const { taskId } = yield* tasks.create({ queue, payload: {} })
      assert.deepStrictEqual(yield* next, { _tag: "Changed", queue })
      yield* tasks.claim({ queue, worker: "w", leaseSeconds: 1 })
      assert.deepStrictEqual(yield* next, { _tag: "Changed", queue })
      yield* target.advance(1100)
      yield* tasks.sweepDue(LIMIT)
      assert.deepStrictEqual(yield* next, { _tag: "Changed", queue })
      const back = yield* tasks.get({ queue, taskId })
      assert.strictEqual(back.status, "waiting")
      assert.strictEqual(back.attempts, 1)
      yield* tasks.cancel({ queue, taskId })
      assert.deepStrictEqual(yield* next, { _tag: "Changed", queue })
      yield* Fiber.interrupt(listener)
    })
  )
})
