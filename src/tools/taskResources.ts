/**
 * The task queue for MCP clients beyond tools: a `task-worker` prompt that
 * teaches an agent the claim → heartbeat → complete/fail loop, and a resource
 * `tasks://{queue}` with the queue's counts and newest tasks (`resources/list`
 * lists the known queues). Registered only when the `task` toolset is on.
 *
 * Other features serve resources and prompts too: each handler answers for its
 * own URIs and names and hands anything else to the handler registered before it.
 */
import type { Server } from "@modelcontextprotocol/sdk/server/index.js"
import {
  ErrorCode,
  GetPromptRequestSchema,
  type GetPromptResult,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  McpError,
  type Prompt,
  ReadResourceRequestSchema,
  type Resource,
  type ResourceTemplate
} from "@modelcontextprotocol/sdk/types.js"
import { Effect, Option, Result } from "effect"
import { ServerConfig } from "../layers/Config.ts"
import { Tasks } from "../services/Tasks.ts"
import { Defaults, QUEUE_PATTERN } from "../services/tasks/TaskModel.ts"
import type { ServerExtension } from "./McpServer.ts"

/** MCP's "resource not found" error code. */
const RESOURCE_NOT_FOUND = -32002
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

type RawHandler = (request: unknown, extra: unknown) => Promise<Record<string, unknown>>

/** The handler another extension registered for `method` before this one, if any. */
const previousHandler = (server: Server, method: string): RawHandler | undefined =>
  (server as unknown as { readonly _requestHandlers?: Map<string, RawHandler> })._requestHandlers?.get(method)

const toMcpError = (error: { readonly _tag: string; readonly message: string }) =>
  new McpError(
    error._tag === "InvalidArgument"
      ? ErrorCode.InvalidParams
      : error._tag === "NotFound"
        ? RESOURCE_NOT_FOUND
        : ErrorCode.InternalError,
    error.message
  )

export const taskResources: ServerExtension<Tasks> = (server, run) =>
  Effect.gen(function* () {
    const config = yield* Effect.serviceOption(ServerConfig)
    if (Option.isSome(config) && !config.value.toolsets.includes("task")) return
    const tasks = yield* Tasks
    server.registerCapabilities({ resources: {}, prompts: { listChanged: false } })
    const previous = {
      list: previousHandler(server, "resources/list"),
      templates: previousHandler(server, "resources/templates/list"),
      read: previousHandler(server, "resources/read"),
      prompts: previousHandler(server, "prompts/list"),
      prompt: previousHandler(server, "prompts/get")
    }

    server.setRequestHandler(ListResourcesRequestSchema, async (request, extra) => {
      const theirs = previous.list ? await previous.list(request, extra) : undefined
      const mine = await run(
        tasks.queues(LISTED_QUEUES).pipe(Effect.orElseSucceed((): ReadonlyArray<string> => [])),
        extra.signal
      )
      const resources: Array<Resource> = mine.map((queue) => ({
        uri: taskUri(queue),
        name: `tasks:${queue}`,
        title: `Task queue ${queue}`,
        mimeType: "application/json"
      }))
      return { ...theirs, resources: [...((theirs?.resources as Array<Resource> | undefined) ?? []), ...resources] }
    })

    server.setRequestHandler(ListResourceTemplatesRequestSchema, async (request, extra) => {
      const theirs = previous.templates ? await previous.templates(request, extra) : undefined
      const templates = (theirs?.resourceTemplates as Array<ResourceTemplate> | undefined) ?? []
      return { ...theirs, resourceTemplates: [...templates, TASKS_TEMPLATE] }
    })

    server.setRequestHandler(ReadResourceRequestSchema, async (request, extra) => {
      const { uri } = request.params
      const queue = parseTaskUri(uri)
      if (queue === undefined) {
        if (previous.read) return previous.read(request, extra)
        throw new McpError(RESOURCE_NOT_FOUND, `Resource not found: ${uri}. Task queues look like tasks://{queue}.`)
      }
      if (!QUEUE_PATTERN.test(queue)) {
        throw new McpError(ErrorCode.InvalidParams, `"${queue}" is not a queue name (1-100 of A-Z a-z 0-9 _ . : -).`)
      }
      const result = await run(
        Effect.result(Effect.all({ stats: tasks.stats(queue), newest: tasks.newest(queue, NEWEST_TASKS) })),
        extra.signal
      )
      if (Result.isFailure(result)) throw toMcpError(result.failure)
      const { stats, newest } = result.success
      return {
        contents: [
          {
            uri,
            mimeType: "application/json",
            text: JSON.stringify({ queue, counts: stats.counts, total: stats.total, newest })
          }
        ]
      }
    })

    server.setRequestHandler(ListPromptsRequestSchema, async (request, extra) => {
      const theirs = previous.prompts ? await previous.prompts(request, extra) : undefined
      const prompts = (theirs?.prompts as Array<Prompt> | undefined) ?? []
      return { ...theirs, prompts: [...prompts, TASK_WORKER_PROMPT] }
    })

    server.setRequestHandler(GetPromptRequestSchema, async (request, extra): Promise<GetPromptResult> => {
      if (request.params.name !== TASK_WORKER_PROMPT.name) {
        if (previous.prompt) return (await previous.prompt(request, extra)) as GetPromptResult
        throw new McpError(
          ErrorCode.InvalidParams,
          `Unknown prompt: ${request.params.name}. prompts/list shows the prompts.`
        )
      }
      const queue = request.params.arguments?.queue ?? ""
      if (!QUEUE_PATTERN.test(queue)) {
        throw new McpError(
          ErrorCode.InvalidParams,
          'The task-worker prompt needs a "queue" argument: 1-100 characters of A-Z a-z 0-9 _ . : -.'
        )
      }
      const worker = request.params.arguments?.worker || "agent"
      return {
        description: `Work through the task queue "${queue}" as "${worker}".`,
        messages: [{ role: "user", content: { type: "text", text: workerPromptText(queue, worker) } }]
      }
    })
  })
