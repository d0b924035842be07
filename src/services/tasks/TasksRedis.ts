/**
 * The task queue on Redis: every transition is one Lua script on the queue's
 * slot (see lua/), timed by Redis `TIME` so several servers agree, and each
 * state change is published for resource subscribers. `sweepDue` runs the
 * claim's housekeeping on the queues that have something due, so expired leases
 * and due tasks show up in task_get even when nobody claims (driven by the
 * TaskSweep layer); correctness never depends on it.
 */
import { Clock, Effect, Random, Result } from "effect"
import { InvalidArgument, type RedisError, TooLarge } from "../../Errors.ts"
import { ServerConfig } from "../../layers/Config.ts"
import { RedisClient } from "../../layers/RedisClient.ts"
import * as ChangeChannel from "../ChangeChannel.ts"
import { DueQueues, SWEEP_RETRY_MS } from "./DueQueues.ts"
import * as Lua from "./lua/scripts.ts"
import {
  Bounds,
  type CancelResult,
  type ClaimedTask,
  type CompleteResult,
  type CreateTaskResult,
  Defaults,
  type FailResult,
  QUEUE_PATTERN,
  QUEUES_KEY,
  queueBase,
  STATUSES,
  type TaskError,
  type TaskInfo,
  type TaskStatus,
  type TaskSummary,
  type TasksShape,
  TERMINAL,
  taskKey
} from "./TaskModel.ts"
import {
  checkText,
  claimProblem,
  createArgs,
  dependencyFailed,
  dependencyMissing,
  jsonText,
  type LeaseRefusal,
  leaseExpired,
  leaseProblem,
  notFound,
  tokenFrom,
  validateLease,
  validateList,
  validateQueue,
  validateRef
} from "./TaskRules.ts"

/** Scripts that change a queue: the sweep watches the queues they ran on. */
const WRITES: ReadonlySet<string> = new Set(["create", "claim", "complete", "fail", "cancel"])

type Reply = ReadonlyArray<unknown>
const str = (v: unknown): string => (typeof v === "string" ? v : String(v))
const num = (v: unknown): number => Number(v)
const optNum = (v: string | undefined) => (v === undefined || v === "" ? undefined : Number(v))

/** A refusal reply of a lease-checking script, or undefined when the script went ahead. */
const refusal = (queue: string, taskId: string, reply: Reply) => {
  switch (reply[0]) {
    case "notfound":
      return notFound(queue, taskId)
    case "lease": {
      const r: LeaseRefusal =
        reply[1] === "state"
          ? { reason: "state", status: str(reply[2]) }
          : reply[1] === "token"
            ? { reason: "token" }
            : { reason: "expired", status: str(reply[2]), expiredAt: num(reply[3]) }
      return leaseExpired(taskId, r)
    }
    default:
      return undefined
  }
}

const summaryRow = (row: Reply): TaskSummary => {
  const [id, state, priority, attempts, maxAttempts, createdAt, updatedAt, runAt, leaseExpiresAt, worker, error] =
    row.map(str)
  return {
    taskId: id!,
    status: state as TaskStatus,
    priority: num(priority),
    attempts: num(attempts),
    maxAttempts: num(maxAttempts),
    createdAt: num(createdAt),
    updatedAt: num(updatedAt),
    ...(runAt ? { runAt: num(runAt) } : {}),
    ...(leaseExpiresAt ? { leaseExpiresAt: num(leaseExpiresAt) } : {}),
    ...(worker ? { worker } : {}),
    ...(error ? { error } : {})
  }
}

const taskInfo = (queue: string, taskId: string, h: Record<string, string>): TaskInfo => {
  const runAt = optNum(h.runAt)
  const leaseExpiresAt = optNum(h.leaseExpiresAt)
  const claimedAt = optNum(h.claimedAt)
  const finishedAt = optNum(h.finishedAt)
  const pending = optNum(h.pending)
  return {
    taskId,
    queue,
    status: h.state as TaskStatus,
    priority: Number(h.priority),
    payload: JSON.parse(h.payload ?? "null"),
    attempts: Number(h.attempts),
    maxAttempts: Number(h.maxAttempts),
    backoffSeconds: Number(h.backoffMs) / 1000,
    createdAt: Number(h.createdAt),
    updatedAt: Number(h.updatedAt),
    ...(runAt !== undefined ? { runAt } : {}),
    ...(leaseExpiresAt !== undefined ? { leaseExpiresAt } : {}),
    ...(claimedAt !== undefined ? { claimedAt } : {}),
    ...(h.worker !== undefined ? { worker: h.worker } : {}),
    ...(finishedAt !== undefined ? { finishedAt } : {}),
    ...(h.result !== undefined ? { result: JSON.parse(h.result) } : {}),
    ...(h.error !== undefined ? { error: h.error } : {}),
    ...(h.deps !== undefined && h.deps !== "" ? { dependsOn: h.deps.split(",") } : {}),
    ...(pending !== undefined ? { pendingDependencies: pending } : {}),
    ...(h.idem !== undefined ? { idempotencyKey: h.idem } : {})
  }
}

export const makeRedis = Effect.gen(function* () {
  const redis = yield* RedisClient
  const settings = yield* ServerConfig
  const keepMs = settings.taskRetentionSeconds * 1000
  const { maxValueBytes, maxOutputBytes, maxItems } = settings.limits

  const scripts = {
    create: redis.script("task_create", Lua.CREATE),
    claim: redis.script("task_claim", Lua.CLAIM),
    heartbeat: redis.script("task_heartbeat", Lua.HEARTBEAT),
    complete: redis.script("task_complete", Lua.COMPLETE),
    fail: redis.script("task_fail", Lua.FAIL),
    cancel: redis.script("task_cancel", Lua.CANCEL),
    sweep: redis.script("task_sweep", Lua.SWEEP),
    stats: redis.script("task_stats", Lua.STATS),
    list: redis.script("task_list", Lua.LIST),
    newest: redis.script("task_newest", Lua.NEWEST)
  }
  const run = (
    script: keyof typeof scripts,
    queue: string,
    args: ReadonlyArray<string | number>,
    idempotent = false
  ): Effect.Effect<Reply, RedisError> => {
    const call = scripts[script]([queueBase(queue)], [keepMs, ...args], { idempotent }) as Effect.Effect<
      Reply,
      RedisError
    >
    if (!WRITES.has(script)) return call
    // The sweep learns the queue was written to, as of the reply (one clock read, no Effect of its own).
    return Effect.clockWith((clock) =>
      Effect.map(call, (reply) => {
        touchAt(queue, clock.currentTimeMillisUnsafe())
        return reply
      })
    )
  }

  // Queues this process has registered in QUEUES_KEY (one SADD per queue per process).
  const registered = new Set<string>()
  const register = (queue: string) =>
    registered.has(queue)
      ? Effect.void
      : redis
          .run("SADD", (c) => c.sadd(QUEUES_KEY, queue), { idempotent: true })
          .pipe(Effect.tap(() => Effect.sync(() => registered.add(queue))))

  /** `count` lease tokens from the fiber's Random, in one step. */
  const newTokens = (count: number) =>
    Effect.withFiber((fiber) => {
      const random = fiber.getRef(Random.Random)
      return Effect.succeed(
        Array.from({ length: count }, () => tokenFrom(random.nextDoubleUnsafe(), random.nextDoubleUnsafe()))
      )
    })

  const sweepOne = (queue: string) => run("sweep", queue, [Bounds.maintenanceBatch], true)

  // The queues the background sweep watches: every queue this process writes to, and once, paged over the
  // first rounds, every queue registered in Redis (its leases may have been left behind by a server that died).
  const due = new DueQueues()
  let seedCursor: string | undefined = "0"
  // Queues used while the seeding pages run: already watched (or visited and forgotten), not to be learnt again.
  let usedWhileSeeding: Set<string> | undefined = new Set()
  const seedPage = Effect.gen(function* () {
    if (seedCursor === undefined) return
    const [next, names] = yield* redis.run("SSCAN", (c) => c.sscan(QUEUES_KEY, seedCursor!, "COUNT", 200), {
      idempotent: true
    })
    const now = yield* Clock.currentTimeMillis
    for (const queue of names) if (!usedWhileSeeding?.has(queue)) due.learn(queue, now)
    seedCursor = next === "0" ? undefined : next
    if (seedCursor === undefined) usedWhileSeeding = undefined
  })
  const visit = (queue: string) =>
    Effect.gen(function* () {
      const reply = yield* Effect.result(sweepOne(queue))
      const now = yield* Clock.currentTimeMillis
      if (Result.isFailure(reply)) return due.schedule(queue, now + SWEEP_RETRY_MS)
      const wait = num(reply.success[2])
      due.schedule(queue, wait < 0 ? undefined : now + wait)
    })
  const sweepDue = (limit: number) =>
    Effect.gen(function* () {
      yield* Effect.ignore(seedPage)
      const queues = due.take(yield* Clock.currentTimeMillis, limit)
      for (const queue of queues) yield* visit(queue)
      return { visited: queues.length, tracked: due.size }
    })
  const touchAt = (queue: string, now: number) => {
    usedWhileSeeding?.add(queue)
    due.touch(queue, now)
  }

  const changesChannel = `${redis.keyPrefix}task:changes`
  const changes = ChangeChannel.listen(redis, changesChannel, (queue) =>
    QUEUE_PATTERN.test(queue) ? ({ _tag: "Changed", queue } as const) : undefined
  )
  const watchChanges = (onChange: (queue: string) => void) =>
    ChangeChannel.watch(redis, changesChannel, (queue) => (QUEUE_PATTERN.test(queue) ? queue : undefined), onChange)

  // The calls of a task's life (create, claim, heartbeat, complete, fail, get) are untraced: Effect.fn
  // captured a stack trace and opened a span per call (the tool call has its span when tracing is on).
  const shape: TasksShape = {
    // create, claim and complete (the lease cycle's hot calls) check their input synchronously and
    // go to Redis in one step: no generator, no Effect per check.
    create: (input) => {
      const c = createArgs(input, maxValueBytes)
      if (c instanceof InvalidArgument || c instanceof TooLarge) return Effect.fail(c)
      const sent = run(
        "create",
        c.queue,
        [c.payload, c.priority, c.delayMs, c.maxAttempts, c.backoffMs, c.idempotencyKey ?? "", ...c.dependsOn],
        c.idempotencyKey !== undefined
      )
      return Effect.flatMap(sent, (reply): Effect.Effect<CreateTaskResult, TaskError> => {
        switch (reply[0]) {
          case "notfound":
            return Effect.fail(dependencyMissing(c.queue, str(reply[1])))
          case "depfailed":
            return Effect.fail(dependencyFailed(str(reply[1]), str(reply[2])))
        }
        const out = { taskId: str(reply[1]), created: reply[0] === "created", status: str(reply[2]) as TaskStatus }
        // The task exists now: a failed registration must not make the caller retry (and duplicate) it.
        return registered.has(c.queue) ? Effect.succeed(out) : Effect.as(Effect.ignore(register(c.queue)), out)
      })
    },

    claim: (input) => {
      const problem = claimProblem(input)
      if (problem !== undefined) return Effect.fail(problem)
      const count = input.count ?? Defaults.count
      const leaseMs = (input.leaseSeconds ?? Defaults.leaseSeconds) * 1000
      const budget = Math.max(0, maxOutputBytes - Bounds.claimEnvelopeBytes)
      return Effect.flatMap(newTokens(count), (tokens) =>
        Effect.map(run("claim", input.queue, [input.worker, leaseMs, count, budget, ...tokens]), (reply) => {
          const tasks = reply.slice(1).map((row): ClaimedTask => {
            const [taskId, leaseToken, payload, attempt, maxAttempts, leaseExpiresAt] = row as Reply
            return {
              taskId: str(taskId),
              leaseToken: str(leaseToken),
              payload: JSON.parse(str(payload)),
              attempt: num(attempt),
              maxAttempts: num(maxAttempts),
              leaseExpiresAt: num(leaseExpiresAt)
            }
          })
          return { tasks }
        })
      )
    },

    heartbeat: Effect.fnUntraced(function* (input) {
      yield* validateLease(input)
      const leaseMs = input.leaseSeconds === undefined ? "" : input.leaseSeconds * 1000
      const reply = yield* run("heartbeat", input.queue, [input.taskId, input.leaseToken, leaseMs])
      const refused = refusal(input.queue, input.taskId, reply)
      if (refused !== undefined) return yield* refused
      return { leaseExpiresAt: num(reply[1]) }
    }),

    complete: (input) => {
      const problem = leaseProblem(input)
      if (problem !== undefined) return Effect.fail(problem)
      const result = input.result === undefined ? "" : jsonText("result", input.result, maxValueBytes)
      if (typeof result !== "string") return Effect.fail(result)
      return Effect.flatMap(
        run("complete", input.queue, [input.taskId, input.leaseToken, result]),
        (reply): Effect.Effect<CompleteResult, TaskError> => {
          const refused = refusal(input.queue, input.taskId, reply)
          if (refused !== undefined) return Effect.fail(refused)
          return Effect.succeed({
            status: "completed",
            finishedAt: num(reply[1]),
            unblocked: (reply[2] as Reply).map(str)
          })
        }
      )
    },

    fail: Effect.fnUntraced(function* (input) {
      yield* validateLease(input)
      yield* checkText("error", input.error, maxValueBytes)
      const reply = yield* run("fail", input.queue, [
        input.taskId,
        input.leaseToken,
        input.error,
        input.retry === false ? "0" : "1"
      ])
      const refused = refusal(input.queue, input.taskId, reply)
      if (refused !== undefined) return yield* refused
      const status = str(reply[1]) as FailResult["status"]
      const out: FailResult = status === "delayed" ? { status, runAt: num(reply[2]) } : { status }
      return out
    }),

    get: Effect.fnUntraced(function* (input) {
      yield* validateRef(input)
      const h = yield* redis.run("HGETALL", (c) => c.hgetall(taskKey(input.queue, input.taskId)), {
        idempotent: true
      })
      if (h.state === undefined) return yield* notFound(input.queue, input.taskId)
      return taskInfo(input.queue, input.taskId, h)
    }),

    list: Effect.fn("Tasks.list")(function* (input) {
      yield* validateList(input)
      const limit = Math.min(input.limit ?? Defaults.listLimit, maxItems)
      const start = input.cursor === undefined ? 0 : Number(input.cursor)
      const descending = TERMINAL.includes(input.status) ? "1" : "0"
      const reply = yield* run("list", input.queue, [input.status, start, limit, descending], true)
      const total = num(reply[0])
      const next = start + num(reply[1])
      const tasks = reply.slice(2).map((row) => summaryRow(row as Reply))
      return next < total ? { tasks, truncated: true, cursor: String(next) } : { tasks, truncated: false }
    }),

    cancel: Effect.fn("Tasks.cancel")(function* (input) {
      yield* validateRef(input)
      const reply = yield* run("cancel", input.queue, [input.taskId])
      if (reply[0] === "notfound") return yield* notFound(input.queue, input.taskId)
      const previousStatus = str(reply[2]) as TaskStatus
      const out: CancelResult =
        num(reply[1]) === 1
          ? { cancelled: true, previousStatus, status: "cancelled" }
          : { cancelled: false, previousStatus, status: previousStatus }
      return out
    }),

    stats: Effect.fn("Tasks.stats")(function* (queue) {
      yield* validateQueue(queue)
      const reply = yield* run("stats", queue, [], true)
      const counts = Object.fromEntries(STATUSES.map((s, i) => [s, num(reply[i])])) as Record<TaskStatus, number>
      return { queue, counts, total: STATUSES.reduce((n, s) => n + counts[s], 0) }
    }),

    newest: Effect.fn("Tasks.newest")(function* (queue, limit) {
      yield* validateQueue(queue)
      const reply = yield* run("newest", queue, [limit], true)
      return reply.map((row) => summaryRow(row as Reply))
    }),

    queues: (limit) =>
      Effect.gen(function* () {
        const out = new Set<string>()
        let cursor = "0"
        do {
          const [next, names] = yield* redis.run("SSCAN", (c) => c.sscan(QUEUES_KEY, cursor, "COUNT", 200), {
            idempotent: true
          })
          cursor = next
          for (const n of names) out.add(n)
        } while (cursor !== "0" && out.size < limit)
        return [...out].sort().slice(0, limit)
      }),

    sweep: (queue): Effect.Effect<void, TaskError> =>
      Effect.asVoid(Effect.andThen(validateQueue(queue), sweepOne(queue))),

    sweepDue,
    changes,
    watchChanges
  }
  return shape
})
