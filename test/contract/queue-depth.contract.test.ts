/**
 * `redis_mcp_task_queue_depth` from the queue-depth sampler, on the memory layer
 * (TestClock) and on Redis, each test with a registry of its own: the gauge follows
 * task creation, claims and completions of the queues whose tasks change; a queue idle
 * with nothing unfinished leaves the gauge while one with a backlog stays; and however
 * many queues are used, at most `maxQueues` are on it (the most recently changed).
 */
import { randomUUID } from "node:crypto"
import { assert } from "@effect/vitest"
import { Effect, Metric } from "effect"
import { Tasks } from "../../src/services/Tasks.ts"
import * as QueueDepth from "../../src/services/tasks/QueueDepth.ts"
import { onMemory, onRedis, runContract, type Target } from "./layers.ts"

const env = { REDIS_MCP_KEY_PREFIX: "cdepth:" }
const INTERVAL_MS = 200
const settings = { intervalMs: INTERVAL_MS, batch: 10, maxQueues: 4, idleMs: 2000 }

type Depths = Record<string, Record<string, number>>

/** The gauge as it is now: queue → status → tasks. */
const depths = Effect.map(Metric.snapshot, (snapshots) => {
  const out: Depths = {}
  for (const s of snapshots) {
    if (s.id !== "redis_mcp_task_queue_depth" || s.type !== "Gauge") continue
    const { queue, status } = s.attributes as Record<string, string>
    out[queue!] = { ...out[queue!], [status!]: Number(s.state.value) }
  }
  return out
})

/** Lets rounds run (TestClock on memory, real time on Redis) until `ok` holds of the gauge; fails after 100 rounds. */
const until = (target: Target, ok: (d: Depths) => boolean, what: string) =>
  Effect.gen(function* () {
    for (let i = 0; i < 100; i++) {
      const d = yield* depths
      if (ok(d)) return d
      yield* target.advance(INTERVAL_MS)
    }
    return assert.fail(`${what}: the gauge is ${JSON.stringify(yield* depths)}`)
  })

const isolated = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.scoped(effect).pipe(Effect.provideService(Metric.MetricRegistry, new Map()))

const name = (what: string) => `${what}-${randomUUID().slice(0, 8)}`

runContract("Task queue depth", onMemory(Tasks.layerMemory, env), onRedis(Tasks.layer, env), (it, target) => {
  it.effect("follows creation, claims and completions, every status of the queue", () =>
    isolated(
      Effect.gen(function* () {
        const tasks = yield* Tasks
        yield* (yield* QueueDepth.run(tasks, settings)).listening
        const queue = name("follow")
        for (let i = 0; i < 3; i++) yield* tasks.create({ queue, payload: { i } })
        const created = yield* until(target, (d) => d[queue]?.waiting === 3, "3 waiting")
        assert.deepStrictEqual(created[queue], {
          waiting: 3,
          delayed: 0,
          blocked: 0,
          active: 0,
          completed: 0,
          failed: 0,
          cancelled: 0
        })
        const { tasks: claimed } = yield* tasks.claim({ queue, worker: "w", count: 2 })
        assert.strictEqual(claimed.length, 2)
        yield* until(target, (d) => d[queue]?.waiting === 1 && d[queue]?.active === 2, "1 waiting, 2 active")
        const first = claimed[0]!
        yield* tasks.complete({ queue, taskId: first.taskId, leaseToken: first.leaseToken, result: {} })
        const done = yield* until(target, (d) => d[queue]?.completed === 1, "1 completed")
        assert.strictEqual(done[queue]?.active, 1)
        assert.strictEqual(done[queue]?.waiting, 1)
      })
    )
  )

  it.effect("an idle queue with nothing unfinished leaves the gauge; one with a backlog stays", () =>
    isolated(
      Effect.gen(function* () {
        const tasks = yield* Tasks
        yield* (yield* QueueDepth.run(tasks, settings)).listening
        const finished = name("finished")
        const backlog = name("backlog")
        yield* tasks.create({ queue: finished, payload: {} })
        yield* tasks.create({ queue: backlog, payload: {} })
        const [task] = (yield* tasks.claim({ queue: finished, worker: "w" })).tasks
        yield* tasks.complete({ queue: finished, taskId: task!.taskId, leaseToken: task!.leaseToken, result: {} })
        yield* until(target, (d) => d[finished]?.completed === 1 && d[backlog]?.waiting === 1, "both counted")
        // Nothing changes for longer than idleMs: the finished queue goes, all its series with it.
        const after = yield* until(target, (d) => d[finished] === undefined, "the finished queue gone")
        assert.strictEqual(after[backlog]?.waiting, 1, "the backlog stays on the gauge")
        // Used again, it is back.
        yield* tasks.create({ queue: finished, payload: {} })
        yield* until(target, (d) => d[finished]?.waiting === 1 && d[finished]?.completed === 1, "back")
      })
    )
  )

  it.effect(`at most ${settings.maxQueues} queues are on the gauge: the ones that changed last`, () =>
    isolated(
      Effect.gen(function* () {
        const tasks = yield* Tasks
        yield* (yield* QueueDepth.run(tasks, settings)).listening
        const queues = Array.from({ length: 3 * settings.maxQueues }, (_, i) => name(`many${i}`))
        for (const queue of queues) {
          yield* tasks.create({ queue, payload: {} })
          // Each change is seen before the next: the order of the changes is known.
          yield* until(target, (d) => d[queue]?.waiting === 1, queue)
          assert.isAtMost(Object.keys(yield* depths).length, settings.maxQueues)
        }
        assert.sameMembers(Object.keys(yield* depths), queues.slice(-settings.maxQueues))
        assert.strictEqual(Object.values(yield* depths).flatMap((d) => Object.keys(d)).length, 7 * settings.maxQueues)
      })
    )
  )
})
