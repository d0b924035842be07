/**
 * The task queue in process memory, on Effect's Clock: the transitions of
 * MemoryQueue (the Lua prelude's, method for method), each operation applied in
 * one synchronous step so it is atomic. Every operation on a queue first runs
 * the housekeeping a claim runs in Redis; the sweep (`sweepDue`) runs it on
 * queues with something due, so subscribers hear of expired leases and due tasks.
 */
import { Clock, Effect, PubSub, Random, Stream } from "effect"
import { ServerConfig } from "../../layers/Config.ts"
import * as ChangeChannel from "../ChangeChannel.ts"
import { DueQueues } from "./DueQueues.ts"
import { info, MemoryQueue, type Refusal, summary } from "./MemoryQueue.ts"
import {
  Bounds,
  type CancelResult,
  type CompleteResult,
  Defaults,
  type FailResult,
  type QueueCounts,
  STATUSES,
  type TaskEvent,
  type TasksShape,
  TERMINAL
} from "./TaskModel.ts"
import {
  checkText,
  dependencyFailed,
  dependencyMissing,
  encodeJson,
  leaseExpired,
  normaliseCreate,
  notFound,
  tokenFrom,
  validateClaim,
  validateLease,
  validateList,
  validateQueue,
  validateRef
} from "./TaskRules.ts"

export const makeMemory = Effect.gen(function* () {
  const settings = yield* ServerConfig
  const keepMs = settings.taskRetentionSeconds * 1000
  const { maxValueBytes, maxOutputBytes } = settings.limits
  const queues = new Map<string, MemoryQueue>()

  const events = yield* PubSub.unbounded<TaskEvent>()
  // Queues with housekeeping due, for the background sweep (which here only matters to resource subscribers).
  const due = new DueQueues()

  /**
   * Run `f` on the queue as of now: due tasks promoted, expired leases reclaimed, old tasks gone. A change
   * of any task's state is published and makes the queue due for the sweep.
   */
  const atNow = <A>(name: string, f: (q: MemoryQueue, now: number) => A, create = false) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      let q = queues.get(name)
      if (q === undefined) {
        // Only task_create makes a queue exist; reading an unknown queue leaves no trace.
        q = new MemoryQueue()
        if (create) queues.set(name, q)
      }
      const before = q.version
      q.maintain(now, keepMs)
      const out = f(q, now)
      if (q.version === before || !queues.has(name)) return Effect.succeed(out)
      due.touch(name, now)
      return Effect.as(PubSub.publish(events, { _tag: "Changed", queue: name }), out)
    })

  const sweepDue = (limit: number) =>
    Effect.gen(function* () {
      const taken = due.take(yield* Clock.currentTimeMillis, limit)
      for (const queue of taken) {
        const next = yield* atNow(queue, (q) => q.nextDue(keepMs))
        due.schedule(queue, next)
      }
      return { visited: taken.length, tracked: due.size }
    })

  const changes: Stream.Stream<TaskEvent> = Stream.unwrap(
    Effect.map(PubSub.subscribe(events), (subscription) =>
      Stream.concat(Stream.make<[TaskEvent]>({ _tag: "Ready" }), Stream.fromSubscription(subscription))
    )
  )

  const refuse = (queue: string, taskId: string, r: Refusal) =>
    Effect.fail(r._tag === "notfound" ? notFound(queue, taskId) : leaseExpired(taskId, r))

  const newToken = Effect.map(Effect.all([Random.next, Random.next]), ([a, b]) => tokenFrom(a, b))

  const shape: TasksShape = {
    create: Effect.fn("Tasks.create")(function* (input) {
      const c = yield* normaliseCreate(input, maxValueBytes)
      const outcome = yield* atNow(c.queue, (q, now) => q.create(c, now), true)
      switch (outcome._tag) {
        case "notfound":
          return yield* dependencyMissing(c.queue, outcome.dep)
        case "depfailed":
          return yield* dependencyFailed(outcome.dep, outcome.status)
        case "ok":
          return { taskId: outcome.taskId, created: outcome.created, status: outcome.status }
      }
    }),

    claim: Effect.fn("Tasks.claim")(function* (input) {
      yield* validateClaim(input)
      const count = input.count ?? Defaults.count
      const leaseMs = (input.leaseSeconds ?? Defaults.leaseSeconds) * 1000
      const tokens = yield* Effect.all(Array.from({ length: count }, () => newToken))
      const budget = Math.max(0, maxOutputBytes - Bounds.claimEnvelopeBytes)
      const tasks = yield* atNow(input.queue, (q, now) =>
        q.claim({ count, worker: input.worker, leaseMs, tokens, budget }, now)
      )
      return { tasks }
    }),

    heartbeat: Effect.fn("Tasks.heartbeat")(function* (input) {
      yield* validateLease(input)
      const outcome = yield* atNow(input.queue, (q, now) => {
        const t = q.tasks.get(input.taskId)
        const refused = q.checkLease(t, input.leaseToken, now)
        if (refused !== undefined || t === undefined) return refused ?? { _tag: "notfound" as const }
        const leaseMs = input.leaseSeconds !== undefined ? input.leaseSeconds * 1000 : (t.leaseMs ?? 0)
        t.leaseMs = leaseMs
        t.leaseExpiresAt = now + leaseMs
        t.updatedAt = now
        q.index.active.add(t.id, t.leaseExpiresAt)
        return { _tag: "ok" as const, leaseExpiresAt: t.leaseExpiresAt }
      })
      if (outcome._tag !== "ok") return yield* refuse(input.queue, input.taskId, outcome)
      return { leaseExpiresAt: outcome.leaseExpiresAt }
    }),

    complete: Effect.fn("Tasks.complete")(function* (input) {
      yield* validateLease(input)
      const result = input.result === undefined ? undefined : yield* encodeJson("result", input.result, maxValueBytes)
      const outcome = yield* atNow(input.queue, (q, now): CompleteResult | Refusal => {
        const t = q.tasks.get(input.taskId)
        if (t?.state === "completed" && t.token === input.leaseToken) {
          return { status: "completed", finishedAt: t.finishedAt ?? now, unblocked: [] }
        }
        const refused = q.checkLease(t, input.leaseToken, now)
        if (refused !== undefined || t === undefined) return refused ?? { _tag: "notfound" }
        q.index.active.remove(t.id)
        t.error = undefined
        if (result !== undefined) t.result = result
        q.finish(t, "completed", now)
        return { status: "completed", finishedAt: now, unblocked: q.releaseDependents(t.id, now) }
      })
      if ("_tag" in outcome) return yield* refuse(input.queue, input.taskId, outcome)
      return outcome
    }),

    fail: Effect.fn("Tasks.fail")(function* (input) {
      yield* validateLease(input)
      yield* checkText("error", input.error, maxValueBytes)
      const outcome = yield* atNow(input.queue, (q, now): FailResult | Refusal => {
        const t = q.tasks.get(input.taskId)
        const refused = q.checkLease(t, input.leaseToken, now)
        if (refused !== undefined || t === undefined) return refused ?? { _tag: "notfound" }
        return q.retryOrFail(t, now, input.error, input.retry !== false, true)
      })
      if ("_tag" in outcome) return yield* refuse(input.queue, input.taskId, outcome)
      return outcome
    }),

    get: Effect.fn("Tasks.get")(function* (input) {
      yield* validateRef(input)
      const t = yield* atNow(input.queue, (q) => q.tasks.get(input.taskId))
      if (t === undefined) return yield* notFound(input.queue, input.taskId)
      return info(input.queue, t)
    }),

    list: Effect.fn("Tasks.list")(function* (input) {
      yield* validateList(input)
      const limit = Math.min(input.limit ?? Defaults.listLimit, settings.limits.maxItems)
      const start = input.cursor === undefined ? 0 : Number(input.cursor)
      return yield* atNow(input.queue, (q) => {
        const index = q.index[input.status]
        const ids = index.range(start, limit, TERMINAL.includes(input.status))
        const tasks = ids.flatMap((id) => {
          const t = q.tasks.get(id)
          return t === undefined ? [] : [summary(t)]
        })
        const next = start + ids.length
        return next < index.size ? { tasks, truncated: true, cursor: String(next) } : { tasks, truncated: false }
      })
    }),

    cancel: Effect.fn("Tasks.cancel")(function* (input) {
      yield* validateRef(input)
      const outcome = yield* atNow(input.queue, (q, now): CancelResult | undefined => {
        const t = q.tasks.get(input.taskId)
        if (t === undefined) return undefined
        const previous = t.state
        if (previous === "completed" || previous === "failed" || previous === "cancelled") {
          return { cancelled: false, previousStatus: previous, status: previous }
        }
        q.index[previous].remove(t.id)
        t.token = undefined
        q.finish(t, "cancelled", now)
        q.failDependents(t.id, "was cancelled", now)
        return { cancelled: true, previousStatus: previous, status: "cancelled" }
      })
      if (outcome === undefined) return yield* notFound(input.queue, input.taskId)
      return outcome
    }),

    stats: Effect.fn("Tasks.stats")(function* (queue) {
      yield* validateQueue(queue)
      return yield* atNow(queue, (q) => {
        const counts = Object.fromEntries(STATUSES.map((s) => [s, q.index[s].size])) as unknown as QueueCounts
        return { queue, counts, total: STATUSES.reduce((n, s) => n + counts[s], 0) }
      })
    }),

    newest: Effect.fn("Tasks.newest")(function* (queue, limit) {
      yield* validateQueue(queue)
      return yield* atNow(queue, (q) => [...q.tasks.values()].slice(-limit).reverse().map(summary))
    }),

    queues: (limit) => Effect.sync(() => [...queues.keys()].sort().slice(0, limit)),

    sweep: (queue) =>
      Effect.asVoid(
        Effect.andThen(
          validateQueue(queue),
          atNow(queue, () => undefined)
        )
      ),

    sweepDue,
    changes,
    watchChanges: (onChange) => ChangeChannel.watchStream(changes, (change) => onChange(change.queue))
  }
  return shape
})
