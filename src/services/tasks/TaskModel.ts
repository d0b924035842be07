/**
 * The task queue's shared vocabulary: statuses, defaults and limits, the shapes
 * both layers return (as Schemas, so the tools reuse them), the service's
 * inputs and shape, and the Redis key layout. Validation and errors are in
 * TaskRules.ts.
 */
import type { Effect, Stream } from "effect"
import { Schema } from "effect"
import type { DependencyFailed, InvalidArgument, LeaseExpired, NotFound, RedisError, TooLarge } from "../../Errors.ts"
import { JsonValue } from "../Values.ts"

export const STATUSES = ["waiting", "delayed", "blocked", "active", "completed", "failed", "cancelled"] as const
export type TaskStatus = (typeof STATUSES)[number]
export const TERMINAL: ReadonlyArray<TaskStatus> = ["completed", "failed", "cancelled"]

/** Defaults and bounds of the task arguments. */
export const Defaults = {
  priority: 5,
  maxAttempts: 3,
  backoffSeconds: 5,
  leaseSeconds: 300,
  count: 1,
  listLimit: 50
} as const

export const Bounds = {
  maxPriority: 10,
  maxAttempts: 100,
  maxDelaySeconds: 365 * 24 * 3600,
  maxBackoffSeconds: 24 * 3600,
  maxLeaseSeconds: 24 * 3600,
  maxCount: 100,
  maxDependsOn: 100,
  /** A retry never waits longer than this, however many doublings. */
  maxRetryDelayMs: 24 * 3600 * 1000,
  /** Due delayed tasks, expired leases and old finished tasks handled per maintenance pass. */
  maintenanceBatch: 100,
  /** Output bytes kept free for the envelope when a claim of several tasks is budgeted. */
  claimEnvelopeBytes: 64 * 1024
} as const

export const QUEUE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/u
export const ID_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/u
export const TOKEN_PATTERN = /^[A-Za-z0-9._-]{1,128}$/u

// ---------------------------------------------------------------------------
// Output shapes

const epochMs = (description: string) => Schema.Finite.annotate({ description })

export const TaskStatusSchema = Schema.Literals(STATUSES).annotate({
  description:
    "waiting (ready to claim), delayed (claimable at runAt), blocked (waits for dependsOn), active (claimed, under lease), completed, failed (dead letter), cancelled."
})

export const TaskInfo = Schema.Struct({
  taskId: Schema.String,
  queue: Schema.String,
  status: TaskStatusSchema,
  priority: Schema.Int.annotate({ description: "1 is claimed first, 10 last." }),
  payload: JsonValue.annotate({ description: "The JSON the task was created with." }),
  attempts: Schema.Int.annotate({ description: "How many times the task has been claimed so far." }),
  maxAttempts: Schema.Int,
  backoffSeconds: Schema.Finite.annotate({
    description: "Base retry delay; doubles with each failed attempt."
  }),
  createdAt: epochMs("Epoch ms."),
  updatedAt: epochMs("Epoch ms of the last change."),
  runAt: Schema.optionalKey(epochMs("delayed (or blocked with a delay): when it becomes claimable, epoch ms.")),
  leaseExpiresAt: Schema.optionalKey(epochMs("active: when the current lease runs out, epoch ms.")),
  claimedAt: Schema.optionalKey(epochMs("When it was last claimed, epoch ms.")),
  worker: Schema.optionalKey(Schema.String.annotate({ description: "The worker that claimed it last." })),
  finishedAt: Schema.optionalKey(epochMs("completed, failed or cancelled: when, epoch ms.")),
  result: Schema.optionalKey(JsonValue.annotate({ description: "completed: the result the worker reported." })),
  error: Schema.optionalKey(
    Schema.String.annotate({ description: "The last failure (task_fail error, lease expiry, DependencyFailed)." })
  ),
  dependsOn: Schema.optionalKey(Schema.Array(Schema.String)),
  pendingDependencies: Schema.optionalKey(
    Schema.Int.annotate({ description: "blocked: how many dependsOn tasks have not completed yet." })
  ),
  idempotencyKey: Schema.optionalKey(Schema.String)
})
export type TaskInfo = typeof TaskInfo.Type

export const TaskSummary = Schema.Struct({
  taskId: Schema.String,
  status: TaskStatusSchema,
  priority: Schema.Int,
  attempts: Schema.Int,
  maxAttempts: Schema.Int,
  createdAt: epochMs("Epoch ms."),
  updatedAt: epochMs("Epoch ms."),
  runAt: Schema.optionalKey(epochMs("delayed: when it becomes claimable.")),
  leaseExpiresAt: Schema.optionalKey(epochMs("active: when the lease runs out.")),
  worker: Schema.optionalKey(Schema.String),
  error: Schema.optionalKey(Schema.String.annotate({ description: "The last failure, cut to 200 characters." }))
})
export type TaskSummary = typeof TaskSummary.Type

export const ClaimedTask = Schema.Struct({
  taskId: Schema.String,
  leaseToken: Schema.String.annotate({
    description: "Proof of this claim: pass it to task_heartbeat, task_complete and task_fail."
  }),
  payload: JsonValue.annotate({ description: "The JSON the task was created with." }),
  attempt: Schema.Int.annotate({ description: "1 on the first claim, 2 on the first retry, and so on." }),
  maxAttempts: Schema.Int,
  leaseExpiresAt: epochMs("When this lease runs out unless renewed with task_heartbeat, epoch ms.")
})
export type ClaimedTask = typeof ClaimedTask.Type

export const QueueCounts = Schema.Struct({
  waiting: Schema.Int,
  delayed: Schema.Int,
  blocked: Schema.Int,
  active: Schema.Int,
  completed: Schema.Int,
  failed: Schema.Int,
  cancelled: Schema.Int
})
export type QueueCounts = typeof QueueCounts.Type

export const QueueStats = Schema.Struct({
  queue: Schema.String,
  counts: QueueCounts,
  total: Schema.Int
})
export type QueueStats = typeof QueueStats.Type

// ---------------------------------------------------------------------------
// Service inputs and results

export interface CreateTaskInput {
  readonly queue: string
  readonly payload: Schema.Json
  readonly priority?: number
  readonly delaySeconds?: number
  readonly maxAttempts?: number
  readonly backoffSeconds?: number
  readonly idempotencyKey?: string
  readonly dependsOn?: ReadonlyArray<string>
}
export interface CreateTaskResult {
  readonly taskId: string
  readonly created: boolean
  readonly status: TaskStatus
}
export interface ClaimInput {
  readonly queue: string
  readonly worker: string
  readonly leaseSeconds?: number
  readonly count?: number
}
export interface ClaimResult {
  readonly tasks: ReadonlyArray<ClaimedTask>
}
export interface TaskRef {
  readonly queue: string
  readonly taskId: string
}
export interface HeartbeatInput extends TaskRef {
  readonly leaseToken: string
  readonly leaseSeconds?: number
}
export interface CompleteInput extends TaskRef {
  readonly leaseToken: string
  readonly result?: Schema.Json
}
export interface CompleteResult {
  readonly status: "completed"
  readonly finishedAt: number
  /** Dependents that this completion released (now waiting or delayed). */
  readonly unblocked: ReadonlyArray<string>
}
export interface FailInput extends TaskRef {
  readonly leaseToken: string
  readonly error: string
  readonly retry?: boolean
}
export interface FailResult {
  readonly status: "waiting" | "delayed" | "failed"
  readonly runAt?: number
}
export interface ListInput {
  readonly queue: string
  readonly status: TaskStatus
  readonly cursor?: string
  readonly limit?: number
}
export interface ListResult {
  readonly tasks: ReadonlyArray<TaskSummary>
  readonly truncated: boolean
  readonly cursor?: string
}
export interface CancelResult {
  readonly cancelled: boolean
  /** The status before the call (cancelled: true) or the unchanged status. */
  readonly previousStatus: TaskStatus
  readonly status: TaskStatus
}

/** Everything a task operation can fail with. */
export type TaskError = RedisError | InvalidArgument | NotFound | TooLarge | LeaseExpired | DependencyFailed

/** The Redis key layout of one queue (all keys share the `{queue}` hash tag: one Cluster slot). */
export const queueBase = (queue: string) => `task:{${queue}}`
export const taskKey = (queue: string, taskId: string) => `${queueBase(queue)}:t:${taskId}`
/** The set of queue names ever used (for resources/list and the sweep); outside any queue's slot. */
export const QUEUES_KEY = "task:queues"

/**
 * What a change listener sees: `Ready` once listening (again after a lost
 * connection came back, when changes may have been missed), then the queue of
 * every task that changed state.
 */
export type TaskEvent = { readonly _tag: "Ready" } | { readonly _tag: "Changed"; readonly queue: string }

/** What one round of the background sweep did. */
export interface SweepRound {
  /** Queues it ran housekeeping on (at most the round's limit). */
  readonly visited: number
  /** Queues it still watches; one with nothing left to do is forgotten. */
  readonly tracked: number
}

/** What the Tasks service offers; both layers implement it with the same semantics. */
export interface TasksShape {
  /** Enqueue a task (or return the one an idempotencyKey already names). */
  readonly create: (input: CreateTaskInput) => Effect.Effect<CreateTaskResult, TaskError>
  /** Claim up to `count` ready tasks under a fresh lease each; empty when none is ready. Never waits. */
  readonly claim: (input: ClaimInput) => Effect.Effect<ClaimResult, TaskError>
  /** Extend a live lease. */
  readonly heartbeat: (input: HeartbeatInput) => Effect.Effect<{ readonly leaseExpiresAt: number }, TaskError>
  /** Finish a claimed task, releasing its dependents. Repeating it with the same token answers the same. */
  readonly complete: (input: CompleteInput) => Effect.Effect<CompleteResult, TaskError>
  /** Report a failed attempt: retried after backoff while attempts remain (and retry is not false), else failed. */
  readonly fail: (input: FailInput) => Effect.Effect<FailResult, TaskError>
  /** One task in full. */
  readonly get: (input: TaskRef) => Effect.Effect<TaskInfo, TaskError>
  /** Tasks of one status, in the order that status is served (finished ones newest first). */
  readonly list: (input: ListInput) => Effect.Effect<ListResult, TaskError>
  /** Cancel a task that has not finished; its holder's next heartbeat or completion is refused. */
  readonly cancel: (input: TaskRef) => Effect.Effect<CancelResult, TaskError>
  /** Counts per status. */
  readonly stats: (queue: string) => Effect.Effect<QueueStats, TaskError>
  /** The most recently created tasks, newest first. */
  readonly newest: (queue: string, limit: number) => Effect.Effect<ReadonlyArray<TaskSummary>, TaskError>
  /** Names of queues that have been used (at most `limit`). */
  readonly queues: (limit: number) => Effect.Effect<ReadonlyArray<string>, RedisError>
  /** Run the housekeeping a claim runs (due delayed tasks, expired leases, retention) right now. */
  readonly sweep: (queue: string) => Effect.Effect<void, TaskError>
  /**
   * One bounded round of background housekeeping: at most `limit` queues whose next
   * due task, lease expiry or retention cut has come, among the queues this process
   * used (and, at start, those registered in Redis). A queue with nothing left to do
   * is forgotten until it is used again. Never fails: errors delay the queue.
   */
  readonly sweepDue: (limit: number) => Effect.Effect<SweepRound>
  /** Task state changes made through any server on the same store; runs until interrupted. */
  readonly changes: Stream.Stream<TaskEvent>
  /**
   * The same changes for a consumer that only notes them: each changed queue is handed to
   * `onChange` as it arrives (synchronously: keep it quick), and the stream has only the Ready
   * events. On Redis a change then costs no stream element and no fiber wake-up.
   */
  readonly watchChanges: (onChange: (queue: string) => void) => Stream.Stream<{ readonly _tag: "Ready" }>
}
