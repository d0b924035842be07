/**
 * The `task` toolset: a lease-based work queue agents use to hand work to each
 * other. Handlers only pass their input to the Tasks service.
 */
import { Effect, Schema } from "effect"
import { Tasks } from "../services/Tasks.ts"
import * as QueueDepth from "../services/tasks/QueueDepth.ts"
import {
  Bounds,
  ClaimedTask,
  Defaults,
  ID_PATTERN,
  QUEUE_PATTERN,
  QueueStats,
  STATUSES,
  TaskInfo,
  TaskStatusSchema,
  TaskSummary,
  TOKEN_PATTERN
} from "../services/tasks/TaskModel.ts"
import * as TaskSweep from "../services/tasks/TaskSweep.ts"
import * as Feature from "./Feature.ts"
import * as Quick from "./quick.ts"
import { JsonValue, Text } from "./schemas.ts"
import * as Tool from "./Tool.ts"
import { taskQueue, taskWorker } from "./taskResources.ts"

const intIn = (min: number, max: number) =>
  Schema.Int.check(Schema.isGreaterThanOrEqualTo(min), Schema.isLessThanOrEqualTo(max))

const Queue = Schema.String.check(Schema.isPattern(QUEUE_PATTERN)).annotate({
  description:
    'Queue name: 1-100 characters of A-Z a-z 0-9 _ . : - (e.g. "research"). Created on first use; tasks only see tasks of the same queue.'
})
const TaskId = Schema.String.check(Schema.isPattern(ID_PATTERN)).annotate({
  description: 'The taskId that task_create or task_claim returned (e.g. "t12").'
})
const LeaseToken = Schema.String.check(Schema.isPattern(TOKEN_PATTERN)).annotate({
  description: "The leaseToken task_claim returned with this task. Proves the claim is still yours."
})
const LeaseSeconds = intIn(1, Bounds.maxLeaseSeconds).annotate({
  description: `How long the claim stays yours without a heartbeat, in seconds (default ${Defaults.leaseSeconds}). When it runs out the task goes back to the queue and your token stops working.`
})

// The lease cycle's calls skip the schema decode when their arguments plainly pass it (quick.ts), and
// send their output as the JSON both stores already build it (in each output schema's order).
const quickQueue = Quick.matching(QUEUE_PATTERN)
const quickTaskId = Quick.matching(ID_PATTERN)
const quickToken = Quick.matching(TOKEN_PATTERN)
const quickLease = Quick.intIn(1, Bounds.maxLeaseSeconds)

export const taskCreate = Tool.make({
  name: "task_create",
  title: "Create a task",
  description:
    "Put a unit of work on a queue for an agent to claim with task_claim. Use it to hand work to other agents or to yourself later. " +
    "Lower priority numbers are claimed first (1..10, default 5; FIFO within a priority). delaySeconds holds it back; " +
    "dependsOn lists taskIds of the same queue that must complete first (it stays blocked until then, and fails with DependencyFailed if one fails or is cancelled). " +
    "A failed attempt is retried after backoffSeconds (doubling each time) until maxAttempts, then the task is failed (dead letter). " +
    "Pass an idempotencyKey to make retries of this call safe: the same key returns the existing task with created:false. " +
    "The payload is any JSON up to the server's value size limit; put large data in a key and reference it.",
  toolset: "task",
  input: Schema.Struct({
    queue: Queue,
    payload: JsonValue.annotate({
      description: "What to do: any JSON (object recommended), given to the worker that claims it."
    }),
    priority: Schema.optionalKey(
      intIn(1, Bounds.maxPriority).annotate({ description: "1 (claimed first) to 10 (last). Default 5." })
    ),
    delaySeconds: Schema.optionalKey(
      intIn(0, Bounds.maxDelaySeconds).annotate({
        description: "Do not hand it out before this many seconds from now."
      })
    ),
    maxAttempts: Schema.optionalKey(
      intIn(1, Bounds.maxAttempts).annotate({
        description: `Claims allowed before it is failed for good (default ${Defaults.maxAttempts}). Expired leases count.`
      })
    ),
    backoffSeconds: Schema.optionalKey(
      intIn(0, Bounds.maxBackoffSeconds).annotate({
        description: `Delay before a retry after task_fail, doubled per attempt (default ${Defaults.backoffSeconds}; 0 retries at once).`
      })
    ),
    idempotencyKey: Schema.optionalKey(
      Text.check(Schema.isMinLength(1), Schema.isMaxLength(256)).annotate({
        description: "Deduplicates creation: a second create with this key in this queue returns the first task."
      })
    ),
    dependsOn: Schema.optionalKey(
      Schema.Array(TaskId)
        .check(Schema.isMaxLength(Bounds.maxDependsOn))
        .annotate({ description: "taskIds in the same queue that must complete before this task can be claimed." })
    )
  }),
  output: Schema.Struct({
    taskId: Schema.String,
    created: Schema.Boolean.annotate({ description: "false when the idempotencyKey named an existing task." }),
    status: TaskStatusSchema
  }),
  hints: Tool.hints.write,
  touches: Tool.touches.queue,
  handler: (input) => Effect.flatMap(Tasks, (t) => t.create(input)),
  quickInput: Quick.struct(
    { queue: quickQueue, payload: Quick.json },
    {
      priority: Quick.intIn(1, Bounds.maxPriority),
      delaySeconds: Quick.intIn(0, Bounds.maxDelaySeconds),
      maxAttempts: Quick.intIn(1, Bounds.maxAttempts),
      backoffSeconds: Quick.intIn(0, Bounds.maxBackoffSeconds),
      idempotencyKey: Quick.text(1, 256),
      dependsOn: Quick.arrayOf(quickTaskId, Bounds.maxDependsOn)
    }
  ),
  outputIsJson: true
})

export const taskClaim = Tool.make({
  name: "task_claim",
  title: "Claim tasks",
  description:
    "Take the next ready task(s) from a queue to work on (highest priority first, FIFO within a priority). Returns at once; an empty list means nothing is ready, so try again later. " +
    "Each task comes with a leaseToken: the task is yours until leaseExpiresAt. Call task_heartbeat before then if the work takes longer, " +
    "then task_complete (or task_fail). If the lease runs out the task goes back to the queue for someone else and the attempt counts. " +
    "Delivery is at least once: make the work safe to repeat.",
  toolset: "task",
  input: Schema.Struct({
    queue: Queue,
    worker: Text.check(Schema.isMinLength(1), Schema.isMaxLength(200)).annotate({
      description: "Who is claiming (your agent name); shown in task_get and task_list."
    }),
    leaseSeconds: Schema.optionalKey(LeaseSeconds),
    count: Schema.optionalKey(
      intIn(1, Bounds.maxCount).annotate({
        description: "How many tasks to claim at most (default 1). Each gets its own lease."
      })
    )
  }),
  output: Schema.Struct({ tasks: Schema.Array(ClaimedTask) }),
  hints: Tool.hints.write,
  touches: Tool.touches.queue,
  handler: (input) => Effect.flatMap(Tasks, (t) => t.claim(input)),
  quickInput: Quick.struct(
    { queue: quickQueue, worker: Quick.text(1, 200) },
    { leaseSeconds: quickLease, count: Quick.intIn(1, Bounds.maxCount) }
  ),
  outputIsJson: true
})

export const taskHeartbeat = Tool.make({
  name: "task_heartbeat",
  title: "Extend a task lease",
  description:
    "Keep a claimed task yours while you work on it: extends the lease to leaseSeconds from now (default: the claim's leaseSeconds). " +
    "Call it well before leaseExpiresAt. Fails with LeaseExpired if the lease already ran out, the task was cancelled, or another claim holds it: then stop working on it.",
  toolset: "task",
  input: Schema.Struct({
    queue: Queue,
    taskId: TaskId,
    leaseToken: LeaseToken,
    leaseSeconds: Schema.optionalKey(LeaseSeconds)
  }),
  output: Schema.Struct({
    leaseExpiresAt: Schema.Finite.annotate({ description: "The new end of the lease, epoch ms." })
  }),
  hints: Tool.hints.idempotentWrite,
  touches: Tool.touches.queue,
  handler: (input) => Effect.flatMap(Tasks, (t) => t.heartbeat(input)),
  quickInput: Quick.struct(
    { queue: quickQueue, taskId: quickTaskId, leaseToken: quickToken },
    { leaseSeconds: quickLease }
  ),
  outputIsJson: true
})

export const taskComplete = Tool.make({
  name: "task_complete",
  title: "Complete a task",
  description:
    "Mark a task you claimed as done, with an optional JSON result others can read with task_get. Tasks that depend on it become claimable when all their dependencies completed. " +
    "Fails with LeaseExpired if your lease ran out or the task was cancelled or reclaimed (your work was not recorded; do not retry). Repeating the call with the same token is safe.",
  toolset: "task",
  input: Schema.Struct({
    queue: Queue,
    taskId: TaskId,
    leaseToken: LeaseToken,
    result: Schema.optionalKey(
      JsonValue.annotate({ description: "What the work produced (JSON, up to the value size limit)." })
    )
  }),
  output: Schema.Struct({
    status: Schema.Literals(["completed"]),
    finishedAt: Schema.Finite.annotate({ description: "Epoch ms." }),
    unblocked: Schema.Array(Schema.String).annotate({
      description: "taskIds whose last dependency this was: they are now waiting (or delayed)."
    })
  }),
  hints: Tool.hints.idempotentWrite,
  touches: Tool.touches.queue,
  handler: (input) => Effect.flatMap(Tasks, (t) => t.complete(input)),
  quickInput: Quick.struct({ queue: quickQueue, taskId: quickTaskId, leaseToken: quickToken }, { result: Quick.json }),
  outputIsJson: true
})

export const taskFail = Tool.make({
  name: "task_fail",
  title: "Fail a task attempt",
  description:
    "Report that a task you claimed could not be done. While attempts remain it is retried after its backoff (status waiting or delayed); " +
    "after maxAttempts, or at once with retry:false (for errors a retry cannot fix), it is failed for good and tasks depending on it fail with DependencyFailed. " +
    "Fails with LeaseExpired if the claim is no longer yours.",
  toolset: "task",
  input: Schema.Struct({
    queue: Queue,
    taskId: TaskId,
    leaseToken: LeaseToken,
    error: Text.check(Schema.isMinLength(1)).annotate({
      description: "What went wrong, for whoever inspects the task (task_get shows it)."
    }),
    retry: Schema.optionalKey(
      Schema.Boolean.annotate({ description: "false: fail for good now, no retry. Default true." })
    )
  }),
  output: Schema.Struct({
    status: Schema.Literals(["waiting", "delayed", "failed"]).annotate({
      description: "waiting: retried now; delayed: retried at runAt; failed: dead letter, no more attempts."
    }),
    runAt: Schema.optionalKey(
      Schema.Finite.annotate({ description: "delayed: when the retry becomes claimable, epoch ms." })
    )
  }),
  hints: Tool.hints.write,
  touches: Tool.touches.queue,
  handler: (input) => Effect.flatMap(Tasks, (t) => t.fail(input)),
  quickInput: Quick.struct(
    { queue: quickQueue, taskId: quickTaskId, leaseToken: quickToken, error: Quick.text(1, Number.POSITIVE_INFINITY) },
    { retry: Quick.boolean }
  ),
  outputIsJson: true
})

export const taskGet = Tool.make({
  name: "task_get",
  title: "Get a task",
  description:
    "Read one task: status, payload, attempts, the result (completed) or last error, dependencies and timestamps (epoch ms). " +
    "Use it to wait for work you handed out (poll until completed or failed). Fails with NotFound for an unknown id or one removed after the retention period.",
  toolset: "task",
  input: Schema.Struct({ queue: Queue, taskId: TaskId }),
  output: TaskInfo,
  hints: Tool.hints.read,
  touches: Tool.touches.queue,
  handler: (input) => Effect.flatMap(Tasks, (t) => t.get(input))
})

export const taskList = Tool.make({
  name: "task_list",
  title: "List tasks",
  description:
    "List a queue's tasks of one status, without payloads (task_get has them): waiting in claim order, delayed by due time, active by lease end, blocked by creation, " +
    "completed/failed/cancelled newest first. Pages with cursor: pass back the cursor of a truncated answer.",
  toolset: "task",
  input: Schema.Struct({
    queue: Queue,
    status: Schema.Literals(STATUSES).annotate({ description: "Which tasks to list." }),
    cursor: Schema.optionalKey(Schema.String.annotate({ description: "From a previous truncated answer." })),
    limit: Schema.optionalKey(
      intIn(1, 1000).annotate({ description: `Tasks per page (default ${Defaults.listLimit}).` })
    )
  }),
  output: Schema.Struct({
    tasks: Schema.Array(TaskSummary),
    truncated: Schema.Boolean.annotate({ description: "true when more tasks follow: call again with cursor." }),
    cursor: Schema.optionalKey(Schema.String)
  }),
  hints: Tool.hints.read,
  touches: Tool.touches.queue,
  handler: (input) => Effect.flatMap(Tasks, (t) => t.list(input))
})

export const taskCancel = Tool.make({
  name: "task_cancel",
  title: "Cancel a task",
  description:
    "Cancel a task that is waiting, delayed, blocked or active. An active task's holder is refused (LeaseExpired) at its next heartbeat or completion. " +
    "Tasks depending on it fail with DependencyFailed. A finished task is left as it is (cancelled:false).",
  toolset: "task",
  input: Schema.Struct({ queue: Queue, taskId: TaskId }),
  output: Schema.Struct({
    cancelled: Schema.Boolean.annotate({ description: "false when the task had already finished." }),
    previousStatus: TaskStatusSchema,
    status: TaskStatusSchema
  }),
  hints: Tool.hints.overwrite,
  touches: Tool.touches.queue,
  handler: (input) => Effect.flatMap(Tasks, (t) => t.cancel(input))
})

export const queueStats = Tool.make({
  name: "queue_stats",
  title: "Queue statistics",
  description:
    "Count a queue's tasks per status (waiting, delayed, blocked, active, completed, failed, cancelled). Finished tasks are counted until the retention period removes them.",
  toolset: "task",
  input: Schema.Struct({ queue: Queue }),
  output: QueueStats,
  hints: Tool.hints.read,
  touches: Tool.touches.queue,
  handler: ({ queue }) => Effect.flatMap(Tasks, (t) => t.stats(queue))
})

export const taskTools = [
  taskCreate,
  taskClaim,
  taskHeartbeat,
  taskComplete,
  taskFail,
  taskGet,
  taskList,
  taskCancel,
  queueStats
]

export const taskFeature = Feature.make({
  name: "task",
  default: true,
  tools: taskTools,
  resources: [taskQueue],
  prompts: [taskWorker],
  // Leases that expire with nobody claiming, and finished tasks past retention, are cleaned up in the background.
  background: TaskSweep.layer,
  // redis_mcp_task_queue_depth: queue_stats of the queues used recently, in bounded rounds.
  metrics: QueueDepth.layer
})
