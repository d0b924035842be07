/**
 * The task queue beyond tools: a `task-worker` prompt that teaches an agent the
 * claim → heartbeat → complete/fail loop, and a resource `tasks://{queue}` with
 * the queue's counts and newest tasks (`resources/list` lists the known queues),
 * subscribable: it changes whenever a task in the queue changes state.
 */
import { Effect, Stream } from "effect"
import { InvalidArgument } from "../Errors.ts"
import { Tasks } from "../services/Tasks.ts"
import { Defaults, QUEUE_PATTERN } from "../services/tasks/TaskModel.ts"
import type { PromptDef, ResourceChange, ResourceDef, ResourceEntry } from "./Feature.ts"

/** Queues listed by resources/list, and tasks shown per queue resource. */
const LISTED_QUEUES = 100
const NEWEST_TASKS = 20
const QUEUE_RULE = "1-100 characters of A-Z a-z 0-9 _ . : -"

export const taskUri = (queue: string) => `tasks://${queue}`

const notAQueue = (what: string) =>
  new InvalidArgument({ message: `${what} is not a queue name (${QUEUE_RULE}). Use tasks://{queue}.` })

/** The queue a `tasks://` URI names; undefined for any other URI; InvalidArgument when it names no valid queue. */
export const parseTaskUri = (uri: string): Effect.Effect<string | undefined, InvalidArgument> => {
  if (!uri.startsWith("tasks://")) return Effect.undefined
  const raw = uri.slice("tasks://".length).replace(/\/$/, "")
  let queue: string
  try {
    queue = decodeURIComponent(raw)
  } catch {
    return Effect.fail(notAQueue(`"${raw.slice(0, 200)}" is not valid percent-encoding, so it`))
  }
  return QUEUE_PATTERN.test(queue) ? Effect.succeed(queue) : Effect.fail(notAQueue(`"${queue.slice(0, 200)}"`))
}

export const taskQueue: ResourceDef<Tasks> = {
  template: {
    uriTemplate: "tasks://{queue}",
    name: "task-queue",
    title: "Task queue",
    description: `A task queue's counts per status and its ${NEWEST_TASKS} newest tasks (without payloads), as JSON. Subscribe to be told when a task in it changes state.`,
    mimeType: "application/json"
  },
  list: Effect.flatMap(Tasks, (tasks) => tasks.queues(LISTED_QUEUES)).pipe(
    Effect.map((queues) =>
      queues.map(
        (queue): ResourceEntry => ({
          uri: taskUri(queue),
          name: `tasks:${queue}`,
          title: `Task queue ${queue}`,
          mimeType: "application/json"
        })
      )
    ),
    Effect.orElseSucceed((): ReadonlyArray<ResourceEntry> => [])
  ),
  canonical: (uri) => Effect.map(parseTaskUri(uri), (queue) => (queue === undefined ? undefined : taskUri(queue))),
  touches: (uri) => Effect.map(parseTaskUri(uri), (queue) => (queue === undefined ? {} : { queues: [queue] })),
  read: (uri) =>
    Effect.gen(function* () {
      const queue = (yield* parseTaskUri(uri)) ?? ""
      const tasks = yield* Tasks
      const { stats, newest } = yield* Effect.all({
        stats: tasks.stats(queue),
        newest: tasks.newest(queue, NEWEST_TASKS)
      })
      const text = JSON.stringify({ queue, counts: stats.counts, total: stats.total, newest })
      return [{ uri, mimeType: "application/json", text }]
    }),
  changes: Stream.unwrap(
    Effect.map(Tasks, (tasks) =>
      Stream.map(
        tasks.changes,
        (event): ResourceChange => (event._tag === "Ready" ? event : { _tag: "Changed", uri: taskUri(event.queue) })
      )
    )
  )
}

export const workerPromptText = (queue: string, worker: string) =>
  [
    `You are a worker on the task queue "${queue}", claiming as "${worker}". Repeat this loop:`,
    "",
    `1. Claim: call task_claim {"queue":"${queue}","worker":"${worker}","leaseSeconds":${Defaults.leaseSeconds}}.`,
    "   - An empty tasks list means nothing is ready: wait a little (or do other work) and claim again; stop when you are told to or the queue stays empty.",
    "   - Each task has taskId, payload (what to do), attempt/maxAttempts and a leaseToken. Keep the leaseToken: every later call needs it.",
    "2. Work on the payload. Delivery is at least once (attempt > 1 means an earlier try did not finish), so make the work safe to repeat.",
    `3. Heartbeat: if the work takes a while, call task_heartbeat {"queue":"${queue}","taskId":…,"leaseToken":…} well before leaseExpiresAt (e.g. at half the lease).`,
    "   If it answers LeaseExpired, the task is no longer yours (lease ran out, or it was cancelled or reclaimed): drop it, do not complete it, go back to 1.",
    `4. Finish with exactly one of:`,
    `   - task_complete {"queue":"${queue}","taskId":…,"leaseToken":…,"result":{…}} with what you produced (keep it small; store big outputs in a key and return the key).`,
    `   - task_fail {"queue":"${queue}","taskId":…,"leaseToken":…,"error":"what went wrong"}: the task is retried later while attempts remain.`,
    '     Add "retry":false when retrying cannot help (bad input), so it fails for good.',
    "5. Go back to 1.",
    "",
    "Errors come back as {error:{tag,message,retryable}}: follow the message. retryable:true (RedisUnavailable, Timeout) means try the same call again shortly.",
    `To hand work to others, call task_create {"queue":"${queue}","payload":{…}} (dependsOn:[taskIds] to run after other tasks). queue_stats shows the queue's progress.`
  ].join("\n")

export const taskWorker: PromptDef = {
  name: "task-worker",
  title: "Work through a task queue",
  description:
    "Instructions for an agent to act as a worker on a task queue: claim a task, keep its lease alive, then complete or fail it, and repeat.",
  arguments: [
    { name: "queue", description: "The queue to work on.", required: true },
    { name: "worker", description: "The name to claim under (default: agent).", required: false }
  ],
  get: (args) => {
    const queue = args.queue ?? ""
    if (!QUEUE_PATTERN.test(queue)) {
      return Effect.fail(
        new InvalidArgument({ message: `The task-worker prompt needs a "queue" argument: ${QUEUE_RULE}.` })
      )
    }
    const worker = args.worker || "agent"
    return Effect.succeed({
      description: `Work through the task queue "${queue}" as "${worker}".`,
      messages: [{ role: "user", content: { type: "text", text: workerPromptText(queue, worker) } }]
    })
  }
}
