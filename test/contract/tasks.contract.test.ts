/**
 * The Tasks contract, run on the in-memory layer (TestClock) and on Redis (real
 * time, leases and delays of about 1 s, with a key prefix), with the background
 * sweep a server runs. A second, short
 * suite checks retention with REDIS_MCP_TASK_RETENTION_SECONDS=1.
 */
import { randomUUID } from "node:crypto"
import { assert } from "@effect/vitest"
import { Effect, Layer, Ref, Schema } from "effect"
import { Tasks } from "../../src/services/Tasks.ts"
import * as TaskSweep from "../../src/services/tasks/TaskSweep.ts"
import * as TaskTools from "../../src/tools/task.ts"
import { onMemory, onRedis, runContract } from "./layers.ts"

const env = { REDIS_MCP_MAX_VALUE_BYTES: "4096", REDIS_MCP_KEY_PREFIX: "ctask:" }
const queue = () => `q-${randomUUID().slice(0, 12)}`

/** Tasks with the background sweep running, as a server with the task toolset composes them. */
const swept = <E, R>(tasks: Layer.Layer<Tasks, E, R>) => TaskSweep.layer.pipe(Layer.provideMerge(tasks))

runContract(
  "Tasks contract",
  onMemory(swept(Tasks.layerMemory), env),
  onRedis(swept(Tasks.layer), env),
  (it, target) => {
    it.effect("create makes a waiting task with the defaults; get returns it in full", () =>
      Effect.gen(function* () {
        const tasks = yield* Tasks
        const q = queue()
        const payload = { job: "summarise", urls: ["a", "b"], n: 1.5, ok: true, none: null, s: "é✓" }
        const made = yield* tasks.create({ queue: q, payload })
        assert.deepStrictEqual(made, { taskId: made.taskId, created: true, status: "waiting" })
        const t = yield* tasks.get({ queue: q, taskId: made.taskId })
        assert.strictEqual(t.status, "waiting")
        assert.deepStrictEqual(t.payload, payload)
        assert.strictEqual(t.queue, q)
        assert.strictEqual(t.priority, 5)
        assert.strictEqual(t.attempts, 0)
        assert.strictEqual(t.maxAttempts, 3)
        assert.strictEqual(t.backoffSeconds, 5)
        assert.strictEqual(t.createdAt, t.updatedAt)
        assert.isUndefined(t.result)
        assert.isUndefined(t.leaseExpiresAt)
      })
    )

    it.effect("the lease cycle's tools hand back their output's own JSON encoding (outputIsJson)", () =>
      Effect.gen(function* () {
        const q = queue()
        const seen: Array<[{ readonly output: Schema.Top }, unknown]> = []
        const call = <A>(tool: { readonly output: Schema.Top }, output: Effect.Effect<A, unknown, Tasks>) =>
          Effect.tap(output, (o) => Effect.sync(() => seen.push([tool, o])))
        const payload = { job: "x", list: [1, "é", null, true, { deep: [] }] }
        const dep = (yield* call(TaskTools.taskCreate, TaskTools.taskCreate.handler({ queue: q, payload: 1 }))) as {
          taskId: string
        }
        const blocked = (yield* call(
          TaskTools.taskCreate,
          TaskTools.taskCreate.handler({ queue: q, payload, dependsOn: [dep.taskId] })
        )) as { taskId: string }
        const keyed = (yield* call(
          TaskTools.taskCreate,
          TaskTools.taskCreate.handler({ queue: q, payload, idempotencyKey: "k" })
        )) as { taskId: string }
        yield* call(TaskTools.taskCreate, TaskTools.taskCreate.handler({ queue: q, payload, idempotencyKey: "k" }))
        // The task on dep is blocked and the second "k" is the first again: two to claim, dep first.
        const claimed = (yield* call(
          TaskTools.taskClaim,
          TaskTools.taskClaim.handler({ queue: q, worker: "w", count: 3 })
        )) as { tasks: Array<{ taskId: string; leaseToken: string }> }
        const [first, second] = claimed.tasks
        yield* call(
          TaskTools.taskHeartbeat,
          TaskTools.taskHeartbeat.handler({ queue: q, taskId: first!.taskId, leaseToken: first!.leaseToken })
        )
        yield* call(
          TaskTools.taskComplete,
          TaskTools.taskComplete.handler({
            queue: q,
            taskId: first!.taskId,
            leaseToken: first!.leaseToken,
            result: { ok: 1 }
          })
        )
        yield* call(
          TaskTools.taskFail,
          TaskTools.taskFail.handler({ queue: q, taskId: second!.taskId, leaseToken: second!.leaseToken, error: "e" })
        )
        // Completing dep released the task waiting on it.
        const released = (yield* call(TaskTools.taskClaim, TaskTools.taskClaim.handler({ queue: q, worker: "w" }))) as {
          tasks: Array<{ payload: unknown }>
        }
        assert.deepStrictEqual(
          released.tasks.map((t) => t.payload),
          [payload]
        )
        for (const [tool, output] of seen) {
          assert.isTrue((tool as { outputIsJson?: true }).outputIsJson)
          const encoded = Schema.encodeUnknownSync(Schema.toCodecJson(tool.output as Schema.Codec<unknown, unknown>))(
            output
          )
          assert.strictEqual(JSON.stringify(output), JSON.stringify(encoded), JSON.stringify(output))
        }
        assert.deepStrictEqual(
          claimed.tasks.map((t) => t.taskId),
          [dep.taskId, keyed.taskId]
        )
        assert.strictEqual(claimed.tasks.length, 2)
        assert.deepInclude(seen[6]![1] as object, { status: "completed", unblocked: [blocked.taskId] })
      })
    )

    it.effect("claim hands out a task once with a lease token; an empty queue gives an empty list", () =>
      Effect.gen(function* () {
        const tasks = yield* Tasks
        const q = queue()
        assert.deepStrictEqual(yield* tasks.claim({ queue: q, worker: "w1" }), { tasks: [] })
        const { taskId } = yield* tasks.create({ queue: q, payload: { n: 1 } })
        const { tasks: claimed } = yield* tasks.claim({ queue: q, worker: "w1", leaseSeconds: 30 })
        assert.strictEqual(claimed.length, 1)
        const c = claimed[0]!
        assert.strictEqual(c.taskId, taskId)
        assert.deepStrictEqual(c.payload, { n: 1 })
        assert.strictEqual(c.attempt, 1)
        assert.strictEqual(c.maxAttempts, 3)
        assert.isAbove(c.leaseToken.length, 8)
        const t = yield* tasks.get({ queue: q, taskId })
        assert.strictEqual(t.status, "active")
        assert.strictEqual(t.worker, "w1")
        assert.strictEqual(t.attempts, 1)
        assert.strictEqual(t.leaseExpiresAt, c.leaseExpiresAt)
        assert.strictEqual(c.leaseExpiresAt - t.claimedAt!, 30_000)
        assert.deepStrictEqual(yield* tasks.claim({ queue: q, worker: "w2" }), { tasks: [] })
      })
    )

    it.effect("priorities order claims: 1 first, FIFO within a priority; count claims several", () =>
      Effect.gen(function* () {
        const tasks = yield* Tasks
        const q = queue()
        const ids: Record<string, string> = {}
        for (const [name, priority] of [
          ["a", 5],
          ["b", 1],
          ["c", 10],
          ["d", 1],
          ["e", 5],
          ["f", 2]
        ] as const) {
          ids[name] = (yield* tasks.create({ queue: q, payload: name, priority })).taskId
        }
        const first = yield* tasks.claim({ queue: q, worker: "w", count: 4 })
        assert.deepStrictEqual(
          first.tasks.map((t) => t.payload),
          ["b", "d", "f", "a"]
        )
        const listed = yield* tasks.list({ queue: q, status: "waiting" })
        assert.deepStrictEqual(
          listed.tasks.map((t) => t.taskId),
          [ids.e, ids.c]
        )
        const rest = yield* tasks.claim({ queue: q, worker: "w", count: 10 })
        assert.deepStrictEqual(
          rest.tasks.map((t) => t.payload),
          ["e", "c"]
        )
        assert.strictEqual(new Set([...first.tasks, ...rest.tasks].map((t) => t.leaseToken)).size, 6)
      })
    )

    it.effect("a delayed task is not claimable before it is due, and is once due", () =>
      Effect.gen(function* () {
        const tasks = yield* Tasks
        const q = queue()
        const { taskId, status } = yield* tasks.create({ queue: q, payload: "later", delaySeconds: 1 })
        assert.strictEqual(status, "delayed")
        const t = yield* tasks.get({ queue: q, taskId })
        assert.strictEqual(t.runAt, t.createdAt + 1000)
        assert.deepStrictEqual((yield* tasks.claim({ queue: q, worker: "w" })).tasks, [])
        yield* target.advance(1100)
        const { tasks: claimed } = yield* tasks.claim({ queue: q, worker: "w" })
        assert.deepStrictEqual(
          claimed.map((c) => c.taskId),
          [taskId]
        )
      })
    )

    it.effect("complete stores the result; repeating it with the same token answers the same", () =>
      Effect.gen(function* () {
        const tasks = yield* Tasks
        const q = queue()
        const { taskId } = yield* tasks.create({ queue: q, payload: {} })
        const [c] = (yield* tasks.claim({ queue: q, worker: "w" })).tasks
        const done = yield* tasks.complete({ queue: q, taskId, leaseToken: c!.leaseToken, result: { answer: 42 } })
        assert.strictEqual(done.status, "completed")
        assert.deepStrictEqual(done.unblocked, [])
        const t = yield* tasks.get({ queue: q, taskId })
        assert.strictEqual(t.status, "completed")
        assert.deepStrictEqual(t.result, { answer: 42 })
        assert.strictEqual(t.finishedAt, done.finishedAt)
        assert.isUndefined(t.leaseExpiresAt)
        const again = yield* tasks.complete({ queue: q, taskId, leaseToken: c!.leaseToken, result: { answer: 0 } })
        assert.strictEqual(again.finishedAt, done.finishedAt)
        assert.deepStrictEqual((yield* tasks.get({ queue: q, taskId })).result, { answer: 42 })
        const hb = yield* Effect.flip(tasks.heartbeat({ queue: q, taskId, leaseToken: c!.leaseToken }))
        assert.strictEqual(hb._tag, "LeaseExpired")
        const late = yield* Effect.flip(tasks.fail({ queue: q, taskId, leaseToken: c!.leaseToken, error: "x" }))
        assert.strictEqual(late._tag, "LeaseExpired")
      })
    )

    it.effect("fail retries until maxAttempts, then the task is failed (dead letter) with its error", () =>
      Effect.gen(function* () {
        const tasks = yield* Tasks
        const q = queue()
        const { taskId } = yield* tasks.create({ queue: q, payload: {}, maxAttempts: 2, backoffSeconds: 0 })
        const [c1] = (yield* tasks.claim({ queue: q, worker: "w" })).tasks
        assert.deepStrictEqual(yield* tasks.fail({ queue: q, taskId, leaseToken: c1!.leaseToken, error: "boom 1" }), {
          status: "waiting"
        })
        const mid = yield* tasks.get({ queue: q, taskId })
        assert.strictEqual(mid.status, "waiting")
        assert.strictEqual(mid.error, "boom 1")
        const [c2] = (yield* tasks.claim({ queue: q, worker: "w" })).tasks
        assert.strictEqual(c2!.attempt, 2)
        assert.notStrictEqual(c2!.leaseToken, c1!.leaseToken)
        assert.deepStrictEqual(yield* tasks.fail({ queue: q, taskId, leaseToken: c2!.leaseToken, error: "boom 2" }), {
          status: "failed"
        })
        const t = yield* tasks.get({ queue: q, taskId })
        assert.strictEqual(t.status, "failed")
        assert.strictEqual(t.attempts, 2)
        assert.strictEqual(t.error, "boom 2")
        assert.isNumber(t.finishedAt)
        assert.deepStrictEqual((yield* tasks.claim({ queue: q, worker: "w" })).tasks, [])
        assert.strictEqual((yield* tasks.stats(q)).counts.failed, 1)
      })
    )

    it.effect("a task completed after a failed attempt keeps its result and drops the attempt's error", () =>
      Effect.gen(function* () {
        const tasks = yield* Tasks
        const q = queue()
        const { taskId } = yield* tasks.create({ queue: q, payload: {}, maxAttempts: 2, backoffSeconds: 0 })
        const [c1] = (yield* tasks.claim({ queue: q, worker: "w" })).tasks
        yield* tasks.fail({ queue: q, taskId, leaseToken: c1!.leaseToken, error: "boom 1" })
        const [c2] = (yield* tasks.claim({ queue: q, worker: "w" })).tasks
        assert.strictEqual(c2!.attempt, 2)
        yield* tasks.complete({ queue: q, taskId, leaseToken: c2!.leaseToken, result: { n: 2 } })
        const t = yield* tasks.get({ queue: q, taskId })
        assert.strictEqual(t.status, "completed")
        assert.strictEqual(t.attempts, 2)
        assert.deepStrictEqual(t.result, { n: 2 })
        assert.isUndefined(t.error)
        assert.isUndefined(t.leaseExpiresAt)
      })
    )

    it.effect("fail waits out the backoff (delayed until runAt); retry: false fails at once", () =>
      Effect.gen(function* () {
        const tasks = yield* Tasks
        const q = queue()
        const { taskId } = yield* tasks.create({ queue: q, payload: {}, backoffSeconds: 1 })
        const [c1] = (yield* tasks.claim({ queue: q, worker: "w" })).tasks
        const failed = yield* tasks.fail({ queue: q, taskId, leaseToken: c1!.leaseToken, error: "flaky" })
        assert.strictEqual(failed.status, "delayed")
        const t = yield* tasks.get({ queue: q, taskId })
        assert.strictEqual(t.status, "delayed")
        assert.strictEqual(t.runAt, failed.runAt)
        assert.strictEqual(failed.runAt! - t.updatedAt, 1000)
        assert.deepStrictEqual((yield* tasks.claim({ queue: q, worker: "w" })).tasks, [])
        yield* target.advance(1100)
        const [c2] = (yield* tasks.claim({ queue: q, worker: "w" })).tasks
        assert.strictEqual(c2?.taskId, taskId)
        assert.strictEqual(c2?.attempt, 2)
        const final = yield* tasks.fail({
          queue: q,
          taskId,
          leaseToken: c2!.leaseToken,
          error: "bad input",
          retry: false
        })
        assert.deepStrictEqual(final, { status: "failed" })
        assert.strictEqual((yield* tasks.get({ queue: q, taskId })).status, "failed")
      })
    )

    it.effect("an expired lease makes the task claimable again (attempt counted); the stale token is refused", () =>
      Effect.gen(function* () {
        const tasks = yield* Tasks
        const q = queue()
        const { taskId } = yield* tasks.create({ queue: q, payload: "work" })
        const [first] = (yield* tasks.claim({ queue: q, worker: "slow", leaseSeconds: 1 })).tasks
        yield* target.advance(1100)
        const [second] = (yield* tasks.claim({ queue: q, worker: "fast", leaseSeconds: 30 })).tasks
        assert.strictEqual(second?.taskId, taskId)
        assert.strictEqual(second?.attempt, 2)
        assert.notStrictEqual(second?.leaseToken, first?.leaseToken)
        // The first worker comes back late: its completion must not overwrite the newer claim.
        const late = yield* Effect.flip(
          tasks.complete({ queue: q, taskId, leaseToken: first!.leaseToken, result: "stale" })
        )
        assert.strictEqual(late._tag, "LeaseExpired")
        const hb = yield* Effect.flip(tasks.heartbeat({ queue: q, taskId, leaseToken: first!.leaseToken }))
        assert.strictEqual(hb._tag, "LeaseExpired")
        const t = yield* tasks.get({ queue: q, taskId })
        assert.strictEqual(t.status, "active")
        assert.strictEqual(t.worker, "fast")
        yield* tasks.complete({ queue: q, taskId, leaseToken: second!.leaseToken, result: "fresh" })
        assert.deepStrictEqual((yield* tasks.get({ queue: q, taskId })).result, "fresh")
      })
    )

    it.effect("an expired lease is detected within leaseSeconds + 5 s without any claim", () =>
      Effect.gen(function* () {
        const tasks = yield* Tasks
        const q = queue()
        const { taskId } = yield* tasks.create({ queue: q, payload: {} })
        yield* tasks.claim({ queue: q, worker: "gone", leaseSeconds: 1 })
        let status = "active"
        for (let waited = 0; status === "active" && waited <= 6000; waited += 250) {
          yield* target.advance(250)
          status = (yield* tasks.get({ queue: q, taskId })).status
        }
        const t = yield* tasks.get({ queue: q, taskId })
        assert.strictEqual(t.status, "waiting")
        assert.strictEqual(t.attempts, 1)
        assert.include(t.error ?? "", "lease expired")
        assert.isUndefined(t.leaseExpiresAt)
      })
    )

    it.effect("the last attempt's expired lease fails the task", () =>
      Effect.gen(function* () {
        const tasks = yield* Tasks
        const q = queue()
        const { taskId } = yield* tasks.create({ queue: q, payload: {}, maxAttempts: 1 })
        const [c] = (yield* tasks.claim({ queue: q, worker: "w", leaseSeconds: 1 })).tasks
        yield* target.advance(1100)
        const refused = yield* Effect.flip(tasks.heartbeat({ queue: q, taskId, leaseToken: c!.leaseToken }))
        assert.strictEqual(refused._tag, "LeaseExpired")
        assert.include(refused.message, "expired")
        const t = yield* tasks.get({ queue: q, taskId })
        assert.strictEqual(t.status, "failed")
        assert.include(t.error ?? "", "lease expired")
      })
    )

    it.effect("each claim's lease is its own; heartbeat extends only that claim", () =>
      Effect.gen(function* () {
        const tasks = yield* Tasks
        const q = queue()
        const a = (yield* tasks.create({ queue: q, payload: "a" })).taskId
        const b = (yield* tasks.create({ queue: q, payload: "b" })).taskId
        const c = (yield* tasks.create({ queue: q, payload: "c" })).taskId
        const [ca] = (yield* tasks.claim({ queue: q, worker: "w1", leaseSeconds: 1 })).tasks
        const [cb] = (yield* tasks.claim({ queue: q, worker: "w2", leaseSeconds: 30 })).tasks
        const [cc] = (yield* tasks.claim({ queue: q, worker: "w3", leaseSeconds: 1 })).tasks
        assert.deepStrictEqual([ca?.taskId, cb?.taskId, cc?.taskId], [a, b, c])
        yield* target.advance(600)
        const renewed = yield* tasks.heartbeat({ queue: q, taskId: c, leaseToken: cc!.leaseToken, leaseSeconds: 2 })
        assert.strictEqual(renewed.leaseExpiresAt, (yield* tasks.get({ queue: q, taskId: c })).leaseExpiresAt)
        yield* target.advance(600)
        assert.strictEqual((yield* tasks.get({ queue: q, taskId: b })).status, "active")
        // a expired (1 s), c was renewed, b has 30 s.
        const [again] = (yield* tasks.claim({ queue: q, worker: "w4", leaseSeconds: 30 })).tasks
        assert.strictEqual(again?.taskId, a)
        yield* tasks.complete({ queue: q, taskId: b, leaseToken: cb!.leaseToken })
        yield* tasks.complete({ queue: q, taskId: c, leaseToken: cc!.leaseToken })
        assert.strictEqual((yield* tasks.get({ queue: q, taskId: c })).status, "completed")
      })
    )

    it.effect("a foreign or made-up lease token is refused with LeaseExpired", () =>
      Effect.gen(function* () {
        const tasks = yield* Tasks
        const q = queue()
        yield* tasks.create({ queue: q, payload: 1 })
        yield* tasks.create({ queue: q, payload: 2 })
        const [x, y] = (yield* tasks.claim({ queue: q, worker: "w", count: 2 })).tasks
        const foreign = yield* Effect.flip(tasks.complete({ queue: q, taskId: x!.taskId, leaseToken: y!.leaseToken }))
        assert.strictEqual(foreign._tag, "LeaseExpired")
        assert.include(foreign.message, "does not match")
        const madeUp = yield* Effect.flip(tasks.heartbeat({ queue: q, taskId: y!.taskId, leaseToken: "nope.1" }))
        assert.strictEqual(madeUp._tag, "LeaseExpired")
        const missing = yield* Effect.flip(tasks.complete({ queue: q, taskId: "t999999", leaseToken: x!.leaseToken }))
        assert.strictEqual(missing._tag, "NotFound")
        assert.strictEqual((yield* tasks.get({ queue: q, taskId: x!.taskId })).status, "active")
      })
    )

    it.effect("an idempotencyKey returns the existing task with created: false", () =>
      Effect.gen(function* () {
        const tasks = yield* Tasks
        const q = queue()
        const first = yield* tasks.create({ queue: q, payload: { v: 1 }, idempotencyKey: "order-17" })
        const second = yield* tasks.create({ queue: q, payload: { v: 2 }, idempotencyKey: "order-17" })
        assert.deepStrictEqual(second, { taskId: first.taskId, created: false, status: "waiting" })
        assert.deepStrictEqual((yield* tasks.get({ queue: q, taskId: first.taskId })).payload, { v: 1 })
        assert.strictEqual((yield* tasks.get({ queue: q, taskId: first.taskId })).idempotencyKey, "order-17")
        const other = yield* tasks.create({ queue: queue(), payload: {}, idempotencyKey: "order-17" })
        assert.isTrue(other.created)
        assert.strictEqual((yield* tasks.stats(q)).total, 1)
      })
    )

    it.effect("dependencies: blocked until every dependency completed, then released exactly once", () =>
      Effect.gen(function* () {
        const tasks = yield* Tasks
        const q = queue()
        const a = (yield* tasks.create({ queue: q, payload: "a" })).taskId
        const b = (yield* tasks.create({ queue: q, payload: "b" })).taskId
        const c = yield* tasks.create({ queue: q, payload: "c", dependsOn: [a, b, a], priority: 1 })
        assert.strictEqual(c.status, "blocked")
        const blocked = yield* tasks.get({ queue: q, taskId: c.taskId })
        assert.deepStrictEqual(blocked.dependsOn, [a, b])
        assert.strictEqual(blocked.pendingDependencies, 2)
        const claimed = (yield* tasks.claim({ queue: q, worker: "w", count: 10 })).tasks
        assert.deepStrictEqual(
          claimed.map((t) => t.taskId),
          [a, b]
        )
        const doneA = yield* tasks.complete({ queue: q, taskId: a, leaseToken: claimed[0]!.leaseToken })
        assert.deepStrictEqual(doneA.unblocked, [])
        assert.strictEqual((yield* tasks.get({ queue: q, taskId: c.taskId })).pendingDependencies, 1)
        const doneB = yield* tasks.complete({ queue: q, taskId: b, leaseToken: claimed[1]!.leaseToken })
        assert.deepStrictEqual(doneB.unblocked, [c.taskId])
        const again = yield* tasks.complete({ queue: q, taskId: b, leaseToken: claimed[1]!.leaseToken })
        assert.deepStrictEqual(again.unblocked, [])
        const released = yield* tasks.get({ queue: q, taskId: c.taskId })
        assert.strictEqual(released.status, "waiting")
        assert.isUndefined(released.pendingDependencies)
        const next = (yield* tasks.claim({ queue: q, worker: "w", count: 10 })).tasks
        assert.deepStrictEqual(
          next.map((t) => t.taskId),
          [c.taskId]
        )
        const after = yield* tasks.create({ queue: q, payload: "d", dependsOn: [a] })
        assert.strictEqual(after.status, "waiting")
        const stats = yield* tasks.stats(q)
        assert.deepStrictEqual(stats.counts, {
          waiting: 1,
          delayed: 0,
          blocked: 0,
          active: 1,
          completed: 2,
          failed: 0,
          cancelled: 0
        })
      })
    )

    it.effect("a diamond of dependencies releases its join once; a delay still applies after release", () =>
      Effect.gen(function* () {
        const tasks = yield* Tasks
        const q = queue()
        const root = (yield* tasks.create({ queue: q, payload: "root" })).taskId
        const left = (yield* tasks.create({ queue: q, payload: "l", dependsOn: [root] })).taskId
        const right = (yield* tasks.create({ queue: q, payload: "r", dependsOn: [root] })).taskId
        const join = (yield* tasks.create({ queue: q, payload: "j", dependsOn: [left, right] })).taskId
        const later = (yield* tasks.create({ queue: q, payload: "later", dependsOn: [root], delaySeconds: 30 })).taskId
        const released = yield* Ref.make<Array<string>>([])
        const work = Effect.gen(function* () {
          const { tasks: got } = yield* tasks.claim({ queue: q, worker: "w", count: 10 })
          for (const t of got) {
            const done = yield* tasks.complete({ queue: q, taskId: t.taskId, leaseToken: t.leaseToken })
            yield* Ref.update(released, (r) => [...r, ...done.unblocked])
          }
          return got.length
        })
        assert.strictEqual(yield* work, 1)
        assert.strictEqual(yield* work, 2)
        assert.strictEqual(yield* work, 1)
        assert.strictEqual(yield* work, 0)
        assert.deepStrictEqual(yield* Ref.get(released), [left, right, later, join])
        const delayed = yield* tasks.get({ queue: q, taskId: later })
        assert.strictEqual(delayed.status, "delayed")
        assert.strictEqual(delayed.runAt, delayed.createdAt + 30_000)
        assert.strictEqual((yield* tasks.get({ queue: q, taskId: join })).status, "completed")
      })
    )

    it.effect("a failed dependency fails its dependents (transitively) with DependencyFailed", () =>
      Effect.gen(function* () {
        const tasks = yield* Tasks
        const q = queue()
        const a = (yield* tasks.create({ queue: q, payload: "a" })).taskId
        const ok = (yield* tasks.create({ queue: q, payload: "ok" })).taskId
        const b = (yield* tasks.create({ queue: q, payload: "b", dependsOn: [a, ok] })).taskId
        const c = (yield* tasks.create({ queue: q, payload: "c", dependsOn: [b] })).taskId
        const [ca] = (yield* tasks.claim({ queue: q, worker: "w" })).tasks
        yield* tasks.fail({ queue: q, taskId: a, leaseToken: ca!.leaseToken, error: "no", retry: false })
        const tb = yield* tasks.get({ queue: q, taskId: b })
        assert.strictEqual(tb.status, "failed")
        assert.include(tb.error ?? "", `DependencyFailed: task ${a}`)
        assert.strictEqual(tb.attempts, 0)
        const tc = yield* tasks.get({ queue: q, taskId: c })
        assert.strictEqual(tc.status, "failed")
        assert.include(tc.error ?? "", `task ${b}`)
        // The other dependency completing later changes nothing.
        const [cok] = (yield* tasks.claim({ queue: q, worker: "w" })).tasks
        assert.strictEqual(cok?.taskId, ok)
        assert.deepStrictEqual(
          (yield* tasks.complete({ queue: q, taskId: ok, leaseToken: cok!.leaseToken })).unblocked,
          []
        )
        const refused = yield* Effect.flip(tasks.create({ queue: q, payload: "d", dependsOn: [a] }))
        assert.strictEqual(refused._tag, "DependencyFailed")
        const missing = yield* Effect.flip(tasks.create({ queue: q, payload: "e", dependsOn: ["t424242"] }))
        assert.strictEqual(missing._tag, "NotFound")
        assert.strictEqual((yield* tasks.stats(q)).counts.failed, 3)
      })
    )

    it.effect("cancel: waiting, blocked and active tasks; the holder is refused; finished tasks stay", () =>
      Effect.gen(function* () {
        const tasks = yield* Tasks
        const q = queue()
        const active = (yield* tasks.create({ queue: q, payload: "active", priority: 1 })).taskId
        const waiting = (yield* tasks.create({ queue: q, payload: "waiting" })).taskId
        const blocked = (yield* tasks.create({ queue: q, payload: "blocked", dependsOn: [waiting] })).taskId
        const [held] = (yield* tasks.claim({ queue: q, worker: "w" })).tasks
        assert.strictEqual(held?.taskId, active)
        assert.deepStrictEqual(yield* tasks.cancel({ queue: q, taskId: active }), {
          cancelled: true,
          previousStatus: "active",
          status: "cancelled"
        })
        const hb = yield* Effect.flip(tasks.heartbeat({ queue: q, taskId: active, leaseToken: held!.leaseToken }))
        assert.strictEqual(hb._tag, "LeaseExpired")
        assert.include(hb.message, "cancelled")
        const done = yield* Effect.flip(tasks.complete({ queue: q, taskId: active, leaseToken: held!.leaseToken }))
        assert.strictEqual(done._tag, "LeaseExpired")
        assert.strictEqual((yield* tasks.cancel({ queue: q, taskId: waiting })).cancelled, true)
        const dependent = yield* tasks.get({ queue: q, taskId: blocked })
        assert.strictEqual(dependent.status, "failed")
        assert.include(dependent.error ?? "", "was cancelled")
        assert.deepStrictEqual(yield* tasks.cancel({ queue: q, taskId: active }), {
          cancelled: false,
          previousStatus: "cancelled",
          status: "cancelled"
        })
        const delayed = (yield* tasks.create({ queue: q, payload: "d", delaySeconds: 60 })).taskId
        assert.strictEqual((yield* tasks.cancel({ queue: q, taskId: delayed })).previousStatus, "delayed")
        assert.deepStrictEqual((yield* tasks.claim({ queue: q, worker: "w" })).tasks, [])
        const unknown = yield* Effect.flip(tasks.cancel({ queue: q, taskId: "t999" }))
        assert.strictEqual(unknown._tag, "NotFound")
        assert.deepStrictEqual((yield* tasks.stats(q)).counts, {
          waiting: 0,
          delayed: 0,
          blocked: 0,
          active: 0,
          completed: 0,
          failed: 1,
          cancelled: 3
        })
      })
    )

    it.effect("list pages through one status in serving order; stats count every status", () =>
      Effect.gen(function* () {
        const tasks = yield* Tasks
        const q = queue()
        const ids: Array<string> = []
        for (let i = 0; i < 7; i++) ids.push((yield* tasks.create({ queue: q, payload: i })).taskId)
        const page1 = yield* tasks.list({ queue: q, status: "waiting", limit: 3 })
        assert.isTrue(page1.truncated)
        assert.deepStrictEqual(
          page1.tasks.map((t) => t.taskId),
          ids.slice(0, 3)
        )
        const page2 = yield* tasks.list({ queue: q, status: "waiting", limit: 3, cursor: page1.cursor! })
        const page3 = yield* tasks.list({ queue: q, status: "waiting", limit: 3, cursor: page2.cursor! })
        assert.deepStrictEqual(
          [...page2.tasks, ...page3.tasks].map((t) => t.taskId),
          ids.slice(3)
        )
        assert.isFalse(page3.truncated)
        assert.isUndefined(page3.cursor)
        const claimed = (yield* tasks.claim({ queue: q, worker: "lister", count: 3 })).tasks
        for (const c of claimed) yield* tasks.complete({ queue: q, taskId: c.taskId, leaseToken: c.leaseToken })
        const completed = yield* tasks.list({ queue: q, status: "completed" })
        assert.sameMembers(
          completed.tasks.map((t) => t.taskId),
          ids.slice(0, 3)
        )
        assert.isTrue(completed.tasks.every((t) => t.status === "completed" && t.worker === "lister"))
        assert.deepStrictEqual(yield* tasks.list({ queue: q, status: "blocked" }), { tasks: [], truncated: false })
        const stats = yield* tasks.stats(q)
        assert.strictEqual(stats.counts.waiting, 4)
        assert.strictEqual(stats.counts.completed, 3)
        assert.strictEqual(stats.total, 7)
        const newest = yield* tasks.newest(q, 2)
        assert.deepStrictEqual(
          newest.map((t) => t.taskId),
          [ids[6], ids[5]]
        )
        assert.include(yield* tasks.queues(10_000), q)
      })
    )

    it.effect("inputs are validated before the store: queue names, ids, sizes", () =>
      Effect.gen(function* () {
        const tasks = yield* Tasks
        const bad = yield* Effect.flip(tasks.create({ queue: "no spaces{}", payload: {} }))
        assert.strictEqual(bad._tag, "InvalidArgument")
        const big = yield* Effect.flip(tasks.create({ queue: queue(), payload: { text: "x".repeat(5000) } }))
        assert.strictEqual(big._tag, "TooLarge")
        const q = queue()
        const { taskId } = yield* tasks.create({ queue: q, payload: {} })
        const [c] = (yield* tasks.claim({ queue: q, worker: "w" })).tasks
        const bigResult = yield* Effect.flip(
          tasks.complete({ queue: q, taskId, leaseToken: c!.leaseToken, result: "y".repeat(5000) })
        )
        assert.strictEqual(bigResult._tag, "TooLarge")
        const badId = yield* Effect.flip(tasks.get({ queue: q, taskId: "../etc" }))
        assert.strictEqual(badId._tag, "InvalidArgument")
        const badPriority = yield* Effect.flip(tasks.create({ queue: q, payload: {}, priority: 11 }))
        assert.strictEqual(badPriority._tag, "InvalidArgument")
        const badDep = yield* Effect.flip(tasks.create({ queue: q, payload: {}, dependsOn: ["a b"] }))
        assert.strictEqual(badDep._tag, "InvalidArgument")
        const missing = yield* Effect.flip(tasks.get({ queue: q, taskId: "t404" }))
        assert.strictEqual(missing._tag, "NotFound")
        // Text stored in Redis must be valid Unicode: "\ud800" and "\udbff" would both become U+FFFD.
        const loneKey = yield* Effect.flip(tasks.create({ queue: q, payload: {}, idempotencyKey: "k\ud800" }))
        assert.strictEqual(loneKey._tag, "InvalidArgument")
        const loneWorker = yield* Effect.flip(tasks.claim({ queue: q, worker: "w\udbff" }))
        assert.strictEqual(loneWorker._tag, "InvalidArgument")
        const loneError = yield* Effect.flip(
          tasks.fail({ queue: q, taskId, leaseToken: c!.leaseToken, error: "\udc00" })
        )
        assert.strictEqual(loneError._tag, "InvalidArgument")
        assert.strictEqual((yield* tasks.get({ queue: q, taskId })).status, "active")
      })
    )

    it.effect("50 concurrent claimers on 500 tasks complete each task exactly once", () =>
      Effect.gen(function* () {
        const tasks = yield* Tasks
        const q = queue()
        const ids = yield* Effect.forEach(
          Array.from({ length: 500 }, (_, i) => i),
          (i) => Effect.map(tasks.create({ queue: q, payload: { i }, priority: 1 + (i % 10) }), (r) => r.taskId),
          { concurrency: 25 }
        )
        const completions = yield* Ref.make<Array<string>>([])
        const worker = (name: string) =>
          Effect.gen(function* () {
            while (true) {
              const { tasks: got } = yield* tasks.claim({ queue: q, worker: name, leaseSeconds: 120, count: 2 })
              if (got.length === 0) return
              for (const t of got) {
                yield* tasks.complete({ queue: q, taskId: t.taskId, leaseToken: t.leaseToken, result: name })
                yield* Ref.update(completions, (c) => [...c, t.taskId])
              }
            }
          })
        yield* Effect.forEach(
          Array.from({ length: 50 }, (_, i) => `w${i}`),
          worker,
          { concurrency: 50, discard: true }
        )
        const done = yield* Ref.get(completions)
        assert.strictEqual(done.length, 500)
        assert.strictEqual(new Set(done).size, 500)
        assert.sameMembers(done, ids)
        const stats = yield* tasks.stats(q)
        assert.strictEqual(stats.counts.completed, 500)
        assert.strictEqual(stats.total, 500)
      })
    )
  }
)

runContract(
  "Tasks retention",
  onMemory(Tasks.layerMemory, { REDIS_MCP_TASK_RETENTION_SECONDS: "1" }),
  onRedis(Tasks.layer, { REDIS_MCP_TASK_RETENTION_SECONDS: "1" }),
  (it, target) => {
    it.effect("finished tasks are removed after the retention period, freeing their idempotency key", () =>
      Effect.gen(function* () {
        const tasks = yield* Tasks
        const q = queue()
        const { taskId } = yield* tasks.create({ queue: q, payload: {}, idempotencyKey: "k" })
        const cancelled = (yield* tasks.create({ queue: q, payload: {} })).taskId
        const [c] = (yield* tasks.claim({ queue: q, worker: "w" })).tasks
        yield* tasks.complete({ queue: q, taskId, leaseToken: c!.leaseToken })
        yield* tasks.cancel({ queue: q, taskId: cancelled })
        assert.strictEqual((yield* tasks.get({ queue: q, taskId })).status, "completed")
        yield* target.advance(1100)
        yield* tasks.sweep(q)
        assert.strictEqual((yield* Effect.flip(tasks.get({ queue: q, taskId })))._tag, "NotFound")
        assert.strictEqual((yield* Effect.flip(tasks.get({ queue: q, taskId: cancelled })))._tag, "NotFound")
        assert.strictEqual((yield* tasks.stats(q)).total, 0)
        const again = yield* tasks.create({ queue: q, payload: {}, idempotencyKey: "k" })
        assert.isTrue(again.created)
        assert.notStrictEqual(again.taskId, taskId)
      })
    )
  }
)
