/**
 * The rules of the task queue shared by both layers: input validation (run
 * before Redis is touched), payload encoding and size limits, the retry delay,
 * lease tokens, and the errors a transition ends in, with messages that tell a
 * model what to do.
 */
import { Effect, type Schema } from "effect"
import { DependencyFailed, InvalidArgument, LeaseExpired, NotFound, orVoid, quote, TooLarge } from "../../Errors.ts"
import { illFormed, isWellFormed } from "../KeyNames.ts"
import {
  Bounds,
  type ClaimInput,
  type CompleteInput,
  type CreateTaskInput,
  Defaults,
  type FailInput,
  type HeartbeatInput,
  ID_PATTERN,
  type ListInput,
  QUEUE_PATTERN,
  STATUSES,
  type TaskRef,
  TOKEN_PATTERN
} from "./TaskModel.ts"

// The checks run synchronously and say what is wrong (undefined: nothing); the Effect forms wrap
// them. Every task call runs a few of them, so no fiber steps or generators per check.
type Problem = InvalidArgument | undefined

const invalid = (message: string) => new InvalidArgument({ message })

const queueProblem = (queue: string): Problem =>
  QUEUE_PATTERN.test(queue)
    ? undefined
    : invalid(
        `Queue name "${queue.slice(0, 120)}" is invalid: use 1 to 100 characters from A-Z a-z 0-9 _ . : - (starting with a letter or digit).`
      )

const taskIdProblem = (taskId: string, what = "taskId"): Problem =>
  ID_PATTERN.test(taskId)
    ? undefined
    : invalid(
        `${what} "${taskId.slice(0, 80)}" is not a task id. Pass the taskId that task_create or task_claim returned.`
      )

const tokenProblem = (token: string): Problem =>
  TOKEN_PATTERN.test(token)
    ? undefined
    : invalid("leaseToken is malformed. Pass the leaseToken exactly as task_claim returned it.")

const intProblem = (name: string, value: number | undefined, min: number, max: number): Problem =>
  value === undefined || (Number.isInteger(value) && value >= min && value <= max)
    ? undefined
    : invalid(`${name} must be a whole number from ${min} to ${max}, got ${value}.`)

const textProblem = (what: string, text: string): Problem =>
  isWellFormed(text) ? undefined : invalid(illFormed(what, text))

export const validateQueue = (queue: string): Effect.Effect<void, InvalidArgument> => orVoid(queueProblem(queue))

export const validateTaskId = (taskId: string, what = "taskId"): Effect.Effect<void, InvalidArgument> =>
  orVoid(taskIdProblem(taskId, what))

export const validateToken = (token: string): Effect.Effect<void, InvalidArgument> => orVoid(tokenProblem(token))

/** JSON text of a value, or why not: InvalidArgument when it is no JSON value, TooLarge over `limit` bytes. */
export const jsonText = (what: string, value: Schema.Json, limit: number): string | TooLarge | InvalidArgument => {
  let text: string | undefined
  try {
    text = JSON.stringify(value)
  } catch {
    text = undefined
  }
  if (text === undefined) return invalid(`${what} must be a JSON value.`)
  // A UTF-16 unit is at most 3 UTF-8 bytes: only a long text needs counting.
  const size = text.length * 3 <= limit ? 0 : Buffer.byteLength(text)
  return size > limit
    ? new TooLarge({
        message: `The ${what} is ${size} bytes of JSON, over the ${limit}-byte limit (REDIS_MCP_MAX_VALUE_BYTES). Store large data under a key (set) and put the key name in the ${what}.`,
        size,
        limit
      })
    : text
}

/** JSON text of a value, refused with TooLarge over `limit` bytes. */
export const encodeJson = (
  what: string,
  value: Schema.Json,
  limit: number
): Effect.Effect<string, TooLarge | InvalidArgument> => {
  const text = jsonText(what, value, limit)
  return typeof text === "string" ? Effect.succeed(text) : Effect.fail(text)
}

export const checkText = (
  what: string,
  text: string,
  limit: number
): Effect.Effect<void, TooLarge | InvalidArgument> => {
  if (!isWellFormed(text)) return Effect.fail(new InvalidArgument({ message: illFormed(what, text) }))
  const size = Buffer.byteLength(text)
  return size > limit
    ? Effect.fail(
        new TooLarge({
          message: `The ${what} is ${size} bytes, over the ${limit}-byte limit (REDIS_MCP_MAX_VALUE_BYTES). Send a shorter ${what}.`,
          size,
          limit
        })
      )
    : Effect.void
}

/** A create request, validated and normalised (defaults applied, payload encoded, dependsOn deduplicated). */
export interface NormalisedCreate {
  readonly queue: string
  readonly payload: string
  readonly priority: number
  readonly delayMs: number
  readonly maxAttempts: number
  readonly backoffMs: number
  readonly idempotencyKey: string | undefined
  readonly dependsOn: ReadonlyArray<string>
}

const createProblem = (input: CreateTaskInput, dependsOn: ReadonlyArray<string>): Problem => {
  const problem =
    queueProblem(input.queue) ??
    intProblem("priority", input.priority, 1, Bounds.maxPriority) ??
    intProblem("delaySeconds", input.delaySeconds, 0, Bounds.maxDelaySeconds) ??
    intProblem("maxAttempts", input.maxAttempts, 1, Bounds.maxAttempts) ??
    intProblem("backoffSeconds", input.backoffSeconds, 0, Bounds.maxBackoffSeconds)
  if (problem !== undefined) return problem
  const key = input.idempotencyKey
  if (key !== undefined) {
    if (key.length === 0 || key.length > 256) return invalid("idempotencyKey must be 1 to 256 characters.")
    const bad = textProblem("idempotencyKey", key)
    if (bad !== undefined) return bad
  }
  if (dependsOn.length > Bounds.maxDependsOn) {
    return invalid(`dependsOn lists ${dependsOn.length} tasks; at most ${Bounds.maxDependsOn} are allowed.`)
  }
  for (const dep of dependsOn) {
    const bad = taskIdProblem(dep, "dependsOn entry")
    if (bad !== undefined) return bad
  }
  return undefined
}

/** A create's arguments checked and with their defaults, or why they are refused (synchronously). */
export const createArgs = (
  input: CreateTaskInput,
  maxValueBytes: number
): NormalisedCreate | InvalidArgument | TooLarge => {
  const dependsOn = input.dependsOn === undefined ? [] : [...new Set(input.dependsOn)]
  const problem = createProblem(input, dependsOn)
  if (problem !== undefined) return problem
  const payload = jsonText("payload", input.payload, maxValueBytes)
  if (typeof payload !== "string") return payload
  return {
    queue: input.queue,
    payload,
    priority: input.priority ?? Defaults.priority,
    delayMs: (input.delaySeconds ?? 0) * 1000,
    maxAttempts: input.maxAttempts ?? Defaults.maxAttempts,
    backoffMs: (input.backoffSeconds ?? Defaults.backoffSeconds) * 1000,
    idempotencyKey: input.idempotencyKey,
    dependsOn
  }
}

export const normaliseCreate = (
  input: CreateTaskInput,
  maxValueBytes: number
): Effect.Effect<NormalisedCreate, InvalidArgument | TooLarge> => {
  const args = createArgs(input, maxValueBytes)
  return args instanceof InvalidArgument || args instanceof TooLarge ? Effect.fail(args) : Effect.succeed(args)
}

export const claimProblem = (input: ClaimInput): Problem => {
  const problem = queueProblem(input.queue)
  if (problem !== undefined) return problem
  if (input.worker.length === 0 || input.worker.length > 200) {
    return invalid("worker must be 1 to 200 characters naming who claims (e.g. an agent id).")
  }
  return (
    textProblem("worker", input.worker) ??
    intProblem("leaseSeconds", input.leaseSeconds, 1, Bounds.maxLeaseSeconds) ??
    intProblem("count", input.count, 1, Bounds.maxCount)
  )
}

export const validateClaim = (input: ClaimInput): Effect.Effect<void, InvalidArgument> => orVoid(claimProblem(input))

export const leaseProblem = (input: HeartbeatInput | CompleteInput | FailInput): Problem =>
  queueProblem(input.queue) ??
  taskIdProblem(input.taskId) ??
  tokenProblem(input.leaseToken) ??
  ("leaseSeconds" in input ? intProblem("leaseSeconds", input.leaseSeconds, 1, Bounds.maxLeaseSeconds) : undefined)

export const validateLease = (
  input: HeartbeatInput | CompleteInput | FailInput
): Effect.Effect<void, InvalidArgument> => orVoid(leaseProblem(input))

export const validateRef = (input: TaskRef): Effect.Effect<void, InvalidArgument> =>
  orVoid(queueProblem(input.queue) ?? taskIdProblem(input.taskId))

const listProblem = (input: ListInput): Problem => {
  const problem = queueProblem(input.queue)
  if (problem !== undefined) return problem
  if (!(STATUSES as ReadonlyArray<string>).includes(input.status)) {
    return invalid(`status must be one of ${STATUSES.join(", ")}.`)
  }
  const limit = intProblem("limit", input.limit, 1, 1000)
  if (limit !== undefined) return limit
  if (input.cursor !== undefined && !/^\d{1,9}$/.test(input.cursor)) {
    return invalid("cursor is not one this tool returned. Omit it to start from the beginning.")
  }
  return undefined
}

export const validateList = (input: ListInput): Effect.Effect<void, InvalidArgument> => orVoid(listProblem(input))

/** The retry delay after `attempts` failed attempts: backoff doubling per attempt, capped. */
export const retryDelayMs = (backoffMs: number, attempts: number): number =>
  backoffMs <= 0 ? 0 : Math.min(backoffMs * 2 ** Math.max(0, attempts - 1), Bounds.maxRetryDelayMs)

/** Opaque lease token material: 16 random base-36 characters. */
export const tokenFrom = (a: number, b: number): string => {
  const part = (r: number) =>
    Math.floor(r * 36 ** 8)
      .toString(36)
      .padStart(8, "0")
  return `${part(a)}${part(b)}`
}

// ---------------------------------------------------------------------------
// Errors of transitions

export const notFound = (queue: string, taskId: string) =>
  new NotFound({
    message: `Task ${taskId} does not exist in queue ${quote(queue)} (never created there, or removed after the retention period). Check the queue and taskId; task_list shows the queue's tasks.`
  })

export const dependencyMissing = (queue: string, taskId: string) =>
  new NotFound({
    message: `dependsOn names task ${taskId}, which does not exist in queue ${quote(queue)}. Dependencies must be tasks of the same queue; create them first and pass the taskIds task_create returned.`
  })

export const dependencyFailed = (taskId: string, status: string) =>
  new DependencyFailed({
    message: `dependsOn names task ${taskId}, which is ${status}, so the new task could never run. Nothing was created; create the dependency again (or drop it from dependsOn).`
  })

/** Why a lease was refused: the task is no longer active, another claim holds it, or it just expired. */
export type LeaseRefusal =
  | { readonly reason: "state"; readonly status: string }
  | { readonly reason: "token" }
  | { readonly reason: "expired"; readonly expiredAt: number; readonly status: string }

const stop = "Stop working on it (do not complete it) and claim another task."

export const leaseExpired = (taskId: string, refusal: LeaseRefusal) => {
  switch (refusal.reason) {
    case "state":
      return new LeaseExpired({
        message:
          refusal.status === "cancelled"
            ? `Task ${taskId} was cancelled, so its lease is void. ${stop}`
            : `Task ${taskId} is ${refusal.status}, not active under your lease (the lease expired and the task was reclaimed, or it was already finished). ${stop}`
      })
    case "token":
      return new LeaseExpired({
        message: `The leaseToken does not match the current claim of task ${taskId}: it belongs to an older claim or to another task. ${stop}`
      })
    case "expired":
      return new LeaseExpired({
        message: `Your lease on task ${taskId} expired at ${new Date(refusal.expiredAt).toISOString()} and the task is now ${refusal.status} (the attempt was counted). ${stop} Heartbeat well before leaseSeconds run out, or claim with a longer leaseSeconds.`
      })
  }
}

/** An error text cut to 200 characters, for summaries. */
export const summaryError = (error: string | undefined): string | undefined =>
  error === undefined ? undefined : error.length > 200 ? `${error.slice(0, 197)}...` : error
