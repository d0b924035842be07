/**
 * The task queue for MCP clients beyond tools: a `task-worker` prompt that
 * teaches an agent the claim → heartbeat → complete/fail loop, and a resource
 * `tasks://{queue}` with the queue's counts and newest tasks (`resources/list`
 * lists the known queues). Offered only when the `task` toolset is on.
 */
import type { Prompt, Resource, ResourceTemplate } from "@modelcontextprotocol/sdk/types.js"
import { Effect, Option } from "effect"
import { InvalidArgument } from "../Errors.ts"
import { ServerConfig } from "../layers/Config.ts"
import { Tasks } from "../services/Tasks.ts"
import { Defaults, QUEUE_PATTERN } from "../services/tasks/TaskModel.ts"
import type { ServerExtension } from "./Resources.ts"

/** Queues listed by resources/list, and tasks shown per queue resource. */
const LISTED_QUEUES = 100
const NEWEST_TASKS = 20

export const TASKS_TEMPLATE: ResourceTemplate = {
  uriTemplate: "tasks://{queue}",
  name: "task-queue",
  title: "Task queue",
  description: `A task queue's counts per status and its ${NEWEST_TASKS} newest tasks (without payloads), as JSON.`,
  mimeType: "application/json"
}

export const TASK_WORKER_PROMPT: Prompt = {
  name: "task-worker",
  title: "Work through a task queue",
  description:
    "Instructions for an agent to act as a worker on a task queue: claim a task, keep its lease alive, then complete or fail it, and repeat.",
  arguments: [
    { name: "queue", description: "The queue to work on.", required: true },
    { name: "worker", description: "The name to claim under (default: agent).", required: false }
  ]
}

export const taskUri = (queue: string) => `tasks://${queue}`

/** The queue a `tasks://` URI names, undefined for any other URI. */
export const parseTaskUri = (uri: string): string | undefined => {
  if (!uri.startsWith("tasks://")) return undefined
  return decodeURIComponent(uri.slice("tasks://".length).replace(/\/$/, ""))
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

export const taskResources: ServerExtension<Tasks> = Effect.gen(function* () {
  const config = yield* Effect.serviceOption(ServerConfig)
  if (Option.isSome(config) && !config.value.toolsets.includes("task")) return {}
  const tasks = yield* Tasks
  return {
    resources: {
      templates: [TASKS_TEMPLATE],
      list: tasks.queues(LISTED_QUEUES).pipe(
        Effect.map((queues) =>
          queues.map(
            (queue): Resource => ({
              uri: taskUri(queue),
              name: `tasks:${queue}`,
              title: `Task queue ${queue}`,
              mimeType: "application/json"
            })
          )
        ),
        Effect.orElseSucceed((): ReadonlyArray<Resource> => [])
      ),
      read: (uri) => {
        const queue = parseTaskUri(uri)
        if (queue === undefined) return Effect.succeed(undefined)
        if (!QUEUE_PATTERN.test(queue)) {
          return Effect.fail(
            new InvalidArgument({ message: `"${queue}" is not a queue name (1-100 of A-Z a-z 0-9 _ . : -).` })
          )
        }
        return Effect.all({ stats: tasks.stats(queue), newest: tasks.newest(queue, NEWEST_TASKS) }).pipe(
          Effect.map(({ stats, newest }) => ({
            contents: [
              {
                uri,
                mimeType: "application/json",
                text: JSON.stringify({ queue, counts: stats.counts, total: stats.total, newest })
              }
            ]
          }))
        )
      }
    },
    prompts: {
      prompts: [TASK_WORKER_PROMPT],
      get: (_name, args) => {
        const queue = args.queue ?? ""
        if (!QUEUE_PATTERN.test(queue)) {
          return Effect.fail(
            new InvalidArgument({
              message: 'The task-worker prompt needs a "queue" argument: 1-100 characters of A-Z a-z 0-9 _ . : -.'
            })
          )
        }
        const worker = args.worker || "agent"
        return Effect.succeed({
          description: `Work through the task queue "${queue}" as "${worker}".`,
          messages: [
            { role: "user" as const, content: { type: "text" as const, text: workerPromptText(queue, worker) } }
          ]
        })
      }
    }
  }
})
