/**
 * Raw commands: one (`command`, with a dry run) or many in one round trip
 * (`pipeline`, optionally atomic with MULTI/EXEC). Every command passes the
 * CommandPolicy before anything is sent (deny list, read-only mode, the key
 * prefix); the replies of one call are read within a byte budget (the output
 * cap plus a margin) and refused with TooLarge past it, never read whole first;
 * replies are binary-safe (UTF-8, or base64 when any string is not valid UTF-8).
 */
import { isUtf8 } from "node:buffer"
import { Context, Effect, Layer, Option, type Schema } from "effect"
import { type AppError, InvalidArgument, PermissionDenied, ReadOnlyMode, type RedisError, TooLarge } from "../Errors.ts"
import { ServerConfig, type ServerSettings } from "../layers/Config.ts"
import { RedisClient } from "../layers/RedisClient.ts"
import type { Backend } from "./batch/Backend.ts"
import { memoryBackend } from "./batch/MemoryBackend.ts"
import { makeMeteredConnections } from "./batch/MeteredConnections.ts"
import { redisBackend } from "./batch/RedisBackend.ts"
import { CommandPolicy, type PolicyError, type Verdict } from "./CommandPolicy.ts"
import { MemoryStore } from "./MemoryStore.ts"
import { sizeProbes, smallReply, tooLargeHint } from "./ReplySize.ts"
import type { Encoding } from "./Values.ts"

/** A reply as JSON: strings, integers, null, nested arrays; `{error}` for an error inside an array. */
export type JsonReply = typeof Schema.Json.Type

export interface EncodedReply {
  readonly result: JsonReply
  /** How every string in `result` is written: all UTF-8, or all base64 when any was not valid UTF-8. */
  readonly encoding: Encoding
}

export interface ErrorInfo {
  readonly tag: string
  readonly message: string
}

export interface CommandOutcome {
  readonly command: string
  readonly flags: ReadonlyArray<string>
  readonly readOnly: boolean
  readonly allowed: boolean
  readonly refusal?: ErrorInfo
  readonly executed: boolean
  readonly result?: JsonReply
  readonly encoding?: Encoding
}

export type PipelineEntry = ({ readonly ok: true } & EncodedReply) | { readonly ok: false; readonly error: ErrorInfo }

export interface PipelineOutcome {
  readonly atomic: boolean
  readonly results: ReadonlyArray<PipelineEntry>
}

export interface BatchShape {
  /** Run one command (`[name, ...args]`); with `dryRun`, only say what would run and whether the policy allows it. */
  readonly command: (
    args: ReadonlyArray<string>,
    options?: { readonly dryRun?: boolean }
  ) => Effect.Effect<CommandOutcome, PolicyError | RedisError | TooLarge>
  /** Run commands in one round trip, atomically (MULTI/EXEC) with `atomic`; per-command results and errors. */
  readonly pipeline: (
    commands: ReadonlyArray<ReadonlyArray<string>>,
    options?: { readonly atomic?: boolean }
  ) => Effect.Effect<PipelineOutcome, PolicyError | RedisError | TooLarge>
}

/** Whether every Buffer in a reply is valid UTF-8. */
const allUtf8 = (r: unknown): boolean => {
  if (Buffer.isBuffer(r)) return isUtf8(r)
  if (Array.isArray(r)) {
    for (const item of r) if (!allUtf8(item)) return false
  }
  return true
}

const convert = (r: unknown, encoding: Encoding): JsonReply => {
  if (r === null || r === undefined) return null
  if (Buffer.isBuffer(r)) return r.toString(encoding)
  if (typeof r === "string") return encoding === "utf8" ? r : Buffer.from(r, "utf8").toString("base64")
  if (typeof r === "number") return Number.isFinite(r) ? r : String(r)
  if (typeof r === "bigint") return r.toString()
  if (Array.isArray(r)) return r.map((item) => convert(item, encoding))
  if (r instanceof Error) return { error: r.message }
  return String(r)
}

/** Convert a raw reply (Buffers, numbers, nil, arrays, errors in arrays) to JSON. */
export const encodeReply = (reply: unknown): EncodedReply => {
  const encoding: Encoding = allUtf8(reply) ? "utf8" : "base64"
  return { result: convert(reply, encoding), encoding }
}

const errorInfo = (e: AppError): ErrorInfo => ({ tag: e._tag, message: e.message })

/** The same refusal, its message prefixed with where in the pipeline it was. */
const at = (e: PolicyError, index: number, command: string): PolicyError => {
  const message = `Command #${index} (${command}) in the pipeline was refused, so nothing was sent: ${e.message}`
  switch (e._tag) {
    case "InvalidArgument":
      return new InvalidArgument({ message })
    case "PermissionDenied":
      return new PermissionDenied(e.reason === undefined ? { message } : { message, reason: e.reason })
    case "ReadOnlyMode":
      return new ReadOnlyMode({ message })
  }
}

export interface BatchSettings {
  /** Most commands in one pipeline. */
  readonly maxCommands: number
  /** Bytes of replies (as Redis sends them) one call may read: the output cap plus a margin. */
  readonly budget: number
}

/** Room for the reply's framing and the result's envelope, over the output cap. */
const REPLY_MARGIN = 64 * 1024

/** The settings from the server configuration. */
const settingsOf = ({ commands, limits }: ServerSettings): BatchSettings => ({
  maxCommands: commands.pipelineMaxCommands,
  budget: limits.maxOutputBytes + REPLY_MARGIN
})

const names = (verdicts: ReadonlyArray<Verdict>) => [...new Set(verdicts.map((v) => v.command.split(" ")[0]!))]

/** The replies would not fit: nothing of them was read. Say what to ask instead. */
const overBudget = (verdicts: ReadonlyArray<Verdict>, budget: number): TooLarge => {
  const unbounded = verdicts.filter((v) => !smallReply(v.send))
  const hints = [...new Set(names(unbounded).map(tooLargeHint))].join("; ")
  const ran = verdicts.some((v) => !v.readOnly)
    ? " The commands ran (Redis runs a command before it answers); only the reply was dropped."
    : ""
  const whose =
    verdicts.length === 1
      ? `The reply of ${verdicts[0]!.command} is over ${budget} bytes (the output cap plus a margin), so it was not read.`
      : `The replies of this pipeline add up to more than ${budget} bytes (the output cap plus a margin), so they were not read.`
  return new TooLarge({
    message: `${whose}${ran} Instead, ${hints}.`,
    size: budget + 1,
    limit: budget
  })
}

/**
 * Replies that are stored strings are sized first (STRLEN, HSTRLEN: see ReplySize), so a
 * call whose values add up to more than the budget is refused before it is sent: nothing
 * changed, and Redis never builds the reply.
 */
const preflight = Effect.fnUntraced(function* (backend: Backend, verdicts: ReadonlyArray<Verdict>, budget: number) {
  const probes: Array<{ readonly v: Verdict; readonly args: ReadonlyArray<string> }> = []
  for (const v of verdicts) for (const args of sizeProbes(v.send)) probes.push({ v, args })
  if (probes.length === 0) return
  // The probes only spare Redis a big reply (the budget holds without them): when they cannot run
  // (keys in several Cluster slots, Redis away) the commands go on and fail with their own error.
  const out = yield* Effect.option(
    backend.send(
      probes.map(({ args }) => ({ args, keys: [args[1]!] })),
      { atomic: false, idempotent: true, bounded: true }
    )
  )
  const results = Option.isSome(out) && out.value._tag === "Done" ? out.value.results : []
  // A probe that failed (WRONGTYPE: the command itself will say so) counts for nothing.
  const sizes = results.map((r) => (r.ok ? Number(r.reply) : 0))
  const total = sizes.reduce((n, x) => n + x, 0)
  if (total <= budget) return
  const largest = probes[sizes.indexOf(Math.max(...sizes))]!.v
  return yield* new TooLarge({
    message: `${verdicts.length === 1 ? largest.command : "This pipeline"} would return ${total} bytes of values, over the ${budget}-byte budget of one call, so nothing was sent and nothing changed. Instead, ${tooLargeHint(largest.command)}.`,
    size: total,
    limit: budget
  })
})

const make = (policy: CommandPolicy["Service"], backend: Backend, settings: BatchSettings): BatchShape => {
  /** Send the allowed commands; their replies within the budget, or TooLarge. */
  const send = Effect.fnUntraced(function* (verdicts: ReadonlyArray<Verdict>, atomic: boolean) {
    yield* preflight(backend, verdicts, settings.budget)
    const out = yield* backend.send(
      verdicts.map((v) => ({ args: v.send, keys: v.keys })),
      {
        atomic,
        idempotent: verdicts.every((v) => v.readOnly),
        bounded: verdicts.every((v) => smallReply(v.send))
      }
    )
    if (out._tag === "Over") return yield* overBudget(verdicts, settings.budget)
    return out.results
  })

  return {
    command: Effect.fn("Batch.command")(function* (args, options) {
      const v: Verdict = yield* policy.describe(args)
      const base = { command: v.command, flags: v.flags, readOnly: v.readOnly, allowed: v.refusal === undefined }
      if (options?.dryRun === true) {
        return v.refusal === undefined
          ? { ...base, executed: false }
          : { ...base, executed: false, refusal: errorInfo(v.refusal) }
      }
      if (v.refusal !== undefined) return yield* Effect.fail(v.refusal)
      const [sent] = yield* send([v], false)
      if (!sent!.ok) return yield* Effect.fail(sent!.error)
      return { ...base, executed: true, ...encodeReply(sent!.reply) }
    }),
    pipeline: Effect.fn("Batch.pipeline")(function* (commands, options) {
      if (commands.length === 0 || commands.length > settings.maxCommands) {
        return yield* new InvalidArgument({
          message: `A pipeline holds 1 to ${settings.maxCommands} commands (REDIS_MCP_PIPELINE_MAX_COMMANDS); got ${commands.length}. Split it into several calls.`
        })
      }
      const verdicts = yield* policy.describeAll(commands)
      const last = verdicts[verdicts.length - 1]!
      if (last.refusal !== undefined) return yield* at(last.refusal, verdicts.length - 1, last.command)
      const atomic = options?.atomic === true
      const sent = yield* send(verdicts, atomic)
      const results = sent.map((r): PipelineEntry => {
        if (!r.ok) return { ok: false, error: errorInfo(r.error) }
        const encoding: Encoding = allUtf8(r.reply) ? "utf8" : "base64"
        return { ok: true, result: convert(r.reply, encoding), encoding }
      })
      return { atomic, results }
    })
  }
}

export class Batch extends Context.Service<Batch, BatchShape>()("effect-redis-mcp/Batch") {
  /**
   * On Redis: one ioredis pipeline (MULTI/EXEC when atomic), binary-safe; small replies on the
   * shared connection, the others on a connection of their own cut past the budget.
   */
  static readonly layer = Layer.effect(
    Batch,
    Effect.gen(function* () {
      const redis = yield* RedisClient
      const policy = yield* CommandPolicy
      const settings = settingsOf(yield* ServerConfig)
      const metered = yield* makeMeteredConnections(redis)
      return make(policy, redisBackend(redis, metered, settings.budget), settings)
    })
  ).pipe(Layer.provide(CommandPolicy.layer))

  /** On the in-memory keyspace: the commands MemoryCommands supports, one after another. */
  static readonly layerMemory = Layer.effect(
    Batch,
    Effect.gen(function* () {
      const store = yield* MemoryStore
      const policy = yield* CommandPolicy
      const settings = settingsOf(yield* ServerConfig)
      return make(policy, memoryBackend(store, settings.budget), settings)
    })
  ).pipe(Layer.provide(CommandPolicy.layerMemory))
}
