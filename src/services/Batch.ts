/**
 * Raw commands: one (`command`, with a dry run) or many in one round trip
 * (`pipeline`, optionally atomic with MULTI/EXEC). Every command passes the
 * CommandPolicy before anything is sent; replies are binary-safe (UTF-8, or
 * base64 when any string in the reply is not valid UTF-8).
 */
import { isUtf8 } from "node:buffer"
import { Context, Effect, Layer, type Schema } from "effect"
import { type AppError, InvalidArgument, PermissionDenied, ReadOnlyMode, type RedisError } from "../Errors.ts"
import { ServerConfig } from "../layers/Config.ts"
import { RedisClient, type RedisLike } from "../layers/RedisClient.ts"
import { toRedisError } from "../layers/RedisErrors.ts"
import { CommandPolicy, type PolicyError, type Verdict } from "./CommandPolicy.ts"
import { runMemoryCommand } from "./MemoryCommands.ts"
import { MemoryStore } from "./MemoryStore.ts"
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
  ) => Effect.Effect<CommandOutcome, PolicyError | RedisError>
  /** Run commands in one round trip, atomically (MULTI/EXEC) with `atomic`; per-command results and errors. */
  readonly pipeline: (
    commands: ReadonlyArray<ReadonlyArray<string>>,
    options?: { readonly atomic?: boolean }
  ) => Effect.Effect<PipelineOutcome, PolicyError | RedisError>
}

/** Convert a raw reply (Buffers, numbers, nil, arrays, errors in arrays) to JSON. */
export const encodeReply = (reply: unknown): EncodedReply => {
  let utf8 = true
  const scan = (r: unknown): void => {
    if (Buffer.isBuffer(r)) utf8 &&= isUtf8(r)
    else if (Array.isArray(r)) r.forEach(scan)
  }
  scan(reply)
  const encoding: Encoding = utf8 ? "utf8" : "base64"
  const convert = (r: unknown): JsonReply => {
    if (r === null || r === undefined) return null
    if (Buffer.isBuffer(r)) return r.toString(encoding)
    if (typeof r === "string") return utf8 ? r : Buffer.from(r, "utf8").toString("base64")
    if (typeof r === "number") return Number.isFinite(r) ? r : String(r)
    if (typeof r === "bigint") return r.toString()
    if (Array.isArray(r)) return r.map(convert)
    if (r instanceof Error) return { error: r.message }
    return String(r)
  }
  return { result: convert(reply), encoding }
}

const errorInfo = (e: AppError): ErrorInfo => ({ tag: e._tag, message: e.message })

/** The same refusal, its message prefixed with where in the pipeline it was. */
const at = (e: PolicyError, index: number, command: string): PolicyError => {
  const message = `Command #${index} (${command}) in the pipeline was refused, so nothing was sent: ${e.message}`
  switch (e._tag) {
    case "InvalidArgument":
      return new InvalidArgument({ message })
    case "PermissionDenied":
      return new PermissionDenied({ message })
    case "ReadOnlyMode":
      return new ReadOnlyMode({ message })
  }
}

/** How one backing runs checked commands. */
interface Backend {
  readonly run: (
    args: ReadonlyArray<string>,
    idempotent: boolean
  ) => Effect.Effect<unknown, RedisError | InvalidArgument>
  readonly runAll: (
    commands: ReadonlyArray<ReadonlyArray<string>>,
    atomic: boolean,
    idempotent: boolean
  ) => Effect.Effect<ReadonlyArray<PipelineEntry>, RedisError | InvalidArgument>
}

/**
 * On a Cluster, keys of one command or one pipeline in different hash slots: refused by
 * ioredis before sending (pipelines) or by Redis (CROSSSLOT), so nothing ran. Say how to fix it.
 */
const crossSlot =
  (what: string) =>
  <A>(self: Effect.Effect<A, RedisError>): Effect.Effect<A, RedisError | InvalidArgument> =>
    Effect.catchTag(self, "RedisCommandError", (e) =>
      Effect.fail(
        /should belong to the same slot|CROSSSLOT/.test(e.message)
          ? new InvalidArgument({
              message: `On a Redis Cluster ${what} must keep all its keys in one hash slot, and these keys are in different slots; nothing was run. Give keys used together a common hash tag (the part in braces decides the slot, e.g. "{cart:42}:items" and "{cart:42}:total"), or split the call by key.`
            })
          : e
      )
    )

const make = (policy: CommandPolicy["Service"], backend: Backend, maxCommands: number): BatchShape => ({
  command: Effect.fn("Batch.command")(function* (args, options) {
    const v: Verdict = yield* policy.describe(args)
    const base = { command: v.command, flags: v.flags, readOnly: v.readOnly, allowed: v.refusal === undefined }
    if (options?.dryRun === true) {
      return v.refusal === undefined
        ? { ...base, executed: false }
        : { ...base, executed: false, refusal: errorInfo(v.refusal) }
    }
    if (v.refusal !== undefined) return yield* Effect.fail(v.refusal)
    const reply = yield* backend.run(args, v.readOnly)
    return { ...base, executed: true, ...encodeReply(reply) }
  }),
  pipeline: Effect.fn("Batch.pipeline")(function* (commands, options) {
    if (commands.length === 0 || commands.length > maxCommands) {
      return yield* new InvalidArgument({
        message: `A pipeline holds 1 to ${maxCommands} commands (REDIS_MCP_PIPELINE_MAX_COMMANDS); got ${commands.length}. Split it into several calls.`
      })
    }
    const verdicts = yield* Effect.forEach(commands, (args, i) =>
      Effect.flatMap(policy.describe(args), (v) =>
        v.refusal === undefined ? Effect.succeed(v) : Effect.fail(at(v.refusal, i, v.command))
      )
    )
    const atomic = options?.atomic === true
    const results = yield* backend.runAll(
      commands,
      atomic,
      verdicts.every((v) => v.readOnly)
    )
    return { atomic, results }
  })
})

export class Batch extends Context.Service<Batch, BatchShape>()("effect-redis-mcp/Batch") {
  /** On Redis: an ioredis pipeline (MULTI/EXEC when atomic), binary-safe (`callBuffer`). */
  static readonly layer = Layer.effect(
    Batch,
    Effect.gen(function* () {
      const redis = yield* RedisClient
      const policy = yield* CommandPolicy
      const { commands: settings } = yield* ServerConfig
      const timeoutMs = redis.settings.commandTimeoutMs
      // The connection speaks RESP3 in ioredis's "legacy" mapping: lower-case names get its reply transformers
      // back to RESP2 shapes (ZRANGE WITHSCORES flat, XREAD pairs). HGETALL's transformer makes an object, not
      // a RESP2 shape, so HGETALL goes upper case (transformers are looked up by exact name).
      const nameOf = (args: ReadonlyArray<string>) => {
        const name = args[0]!.toLowerCase()
        return name === "hgetall" ? "HGETALL" : name
      }
      // Always an explicit pipeline: ioredis 6 auto-pipelining drops the name of a plain `callBuffer`.
      const send = (c: RedisLike, commands: ReadonlyArray<ReadonlyArray<string>>, atomic: boolean) => {
        const p = atomic ? c.multi() : c.pipeline()
        for (const args of commands) p.callBuffer(nameOf(args), ...args.slice(1))
        return p.exec()
      }
      return make(
        policy,
        {
          run: (args, idempotent) =>
            redis
              .run(
                args[0]!.toUpperCase(),
                (c) =>
                  send(c, [args], false).then((replies) => {
                    const [err, reply] = replies?.[0] ?? [new Error("ERR no reply"), null]
                    if (err) throw err
                    return reply
                  }),
                { idempotent }
              )
              .pipe(crossSlot("one command")),
          runAll: (commands, atomic, idempotent) =>
            redis
              .run(
                atomic ? "MULTI/EXEC" : "PIPELINE",
                (c) =>
                  send(c, commands, atomic).then(
                    (replies) => ({ replies, aborted: undefined }),
                    (e: Error & { previousErrors?: Array<Error> }) => {
                      if (!e.message.startsWith("EXECABORT")) throw e
                      return { replies: null, aborted: e }
                    }
                  ),
                { idempotent }
              )
              .pipe(
                Effect.map(({ replies, aborted }): ReadonlyArray<PipelineEntry> => {
                  if (replies === null) {
                    const why = (aborted?.previousErrors ?? []).map((e) => e.message).join("; ")
                    const error = {
                      tag: "RedisCommandError",
                      message: `Not executed: Redis discarded the whole transaction (EXECABORT${why === "" ? "" : `: ${why}`}). Fix the rejected command and send the pipeline again.`
                    }
                    return commands.map(() => ({ ok: false, error }))
                  }
                  return replies.map(([err, reply], i) =>
                    err
                      ? { ok: false, error: errorInfo(toRedisError(err, commands[i]![0]!.toUpperCase(), timeoutMs)) }
                      : { ok: true, ...encodeReply(reply) }
                  )
                }),
                crossSlot(atomic ? "an atomic pipeline" : "a pipeline")
              )
        },
        settings.pipelineMaxCommands
      )
    })
  ).pipe(Layer.provide(CommandPolicy.layer))

  /** On the in-memory keyspace: the commands MemoryCommands supports, one after another. */
  static readonly layerMemory = Layer.effect(
    Batch,
    Effect.gen(function* () {
      const store = yield* MemoryStore
      const policy = yield* CommandPolicy
      const { commands: settings } = yield* ServerConfig
      return make(
        policy,
        {
          run: (args) => runMemoryCommand(store, args),
          runAll: (commands) =>
            Effect.forEach(commands, (args) =>
              runMemoryCommand(store, args).pipe(
                Effect.match({
                  onFailure: (e): PipelineEntry => ({ ok: false, error: errorInfo(e) }),
                  onSuccess: (reply): PipelineEntry => ({ ok: true, ...encodeReply(reply) })
                })
              )
            )
        },
        settings.pipelineMaxCommands
      )
    })
  ).pipe(Layer.provide(CommandPolicy.layerMemory))
}
