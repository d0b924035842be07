/**
 * Raw commands on Redis. Commands whose replies are small by construction go on
 * the shared connection. Any other reply could be of any size (GET of a 200 MB
 * value, LRANGE 0 -1, HGETALL…), and ioredis reads a reply whole before handing
 * it over: those go on a metered connection of their own (MeteredConnections),
 * cut the moment the reply passes the budget. Commands are sent as built here,
 * with no key prefix from ioredis: the policy already put it in front of every key.
 */
import { Effect } from "effect"
import { Command } from "ioredis"
import { InvalidArgument, RedisCommandError, type RedisError } from "../../Errors.ts"
import { keySlot } from "../../layers/ClusterSlots.ts"
import type { RedisClientShape, RedisLike } from "../../layers/RedisClient.ts"
import { toRedisError } from "../../layers/RedisErrors.ts"
import type { Backend, Outcome, Prepared, Sent } from "./Backend.ts"
import { type MeteredConnections, OVER } from "./MeteredConnections.ts"
import { type RawPipeline, release } from "./RawPipeline.ts"

const crossSlotMessage = (what: string) =>
  `On a Redis Cluster ${what} must keep all its keys in one hash slot, and these keys are in different slots; nothing was run. Give keys used together a common hash tag (the part in braces decides the slot, e.g. "{cart:42}:items" and "{cart:42}:total"), or split the call by key.`

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
          ? new InvalidArgument({ message: crossSlotMessage(what) })
          : e
      )
    )

// The connection speaks RESP3 in ioredis's "legacy" mapping: lower-case names get its reply transformers
// back to RESP2 shapes (ZRANGE WITHSCORES flat, XREAD pairs). HGETALL's transformer makes an object, not
// a RESP2 shape, so HGETALL goes upper case (transformers are looked up by exact name).
const nameOf = (args: ReadonlyArray<string>) => {
  const name = args[0]!.toLowerCase()
  return name === "hgetall" ? "HGETALL" : name
}

type Replies =
  | { readonly replies: Array<[Error | null, unknown]>; readonly aborted: undefined }
  | {
      readonly replies: null
      readonly aborted: Error & { previousErrors?: Array<Error> }
    }

/** Send as one explicit pipeline (ioredis auto-pipelining drops the name of a plain call), MULTI/EXEC when atomic. */
const sendOn = (c: RedisLike, commands: ReadonlyArray<Prepared>, atomic: boolean): Promise<Replies> => {
  const p = (atomic ? c.multi() : c.pipeline()) as unknown as RawPipeline
  for (const { args } of commands) p.sendCommand(new Command(nameOf(args), args.slice(1), { replyEncoding: null }))
  return p.exec().then(
    (replies) => {
      release(p)
      // The connection closed under the whole call, or was found closed before anything was written (a kept
      // connection Redis dropped, its close not yet seen): nothing came back, fail it as a whole (a read is tried again).
      const lost = replies?.[0]?.[0]
      if (
        lost &&
        /Connection is closed|Stream isn't writeable/i.test(lost.message) &&
        replies!.every(([e]) => e !== null)
      )
        throw lost
      return { replies: replies ?? [], aborted: undefined }
    },
    (e: Error & { previousErrors?: Array<Error> }) => {
      release(p)
      if (!e.message.startsWith("EXECABORT")) throw e
      return { replies: null, aborted: e }
    }
  )
}

export const redisBackend = (redis: RedisClientShape, metered: MeteredConnections, budget: number): Backend => {
  const timeoutMs = redis.settings.commandTimeoutMs
  const cluster = redis.settings.mode === "cluster"
  const prefix = redis.keyPrefix

  const settle = (commands: ReadonlyArray<Prepared>, r: Replies): ReadonlyArray<Sent> => {
    if (r.replies === null) {
      const why = (r.aborted.previousErrors ?? []).map((e) => e.message).join("; ")
      const message = `Not executed: Redis discarded the whole transaction (EXECABORT${why === "" ? "" : `: ${why}`}). Fix the rejected command and send the pipeline again.`
      return commands.map(() => ({ ok: false, error: new RedisCommandError({ message }) }))
    }
    return r.replies.map(([err, reply], i) =>
      err
        ? { ok: false, error: toRedisError(err, commands[i]!.args[0]!.toUpperCase(), timeoutMs) }
        : { ok: true, reply }
    )
  }

  const label = (commands: ReadonlyArray<Prepared>, atomic: boolean) =>
    atomic ? "MULTI/EXEC" : commands.length === 1 ? commands[0]!.args[0]!.toUpperCase() : "PIPELINE"
  const what = (commands: ReadonlyArray<Prepared>, atomic: boolean) =>
    commands.length === 1 && !atomic ? "one command" : atomic ? "an atomic pipeline" : "a pipeline"

  /** The shared connection: for replies that are small whatever the data. */
  const shared = (commands: ReadonlyArray<Prepared>, atomic: boolean, idempotent: boolean) =>
    redis
      .run(label(commands, atomic), (c) => sendOn(c, commands, atomic), { idempotent })
      .pipe(
        Effect.map((r): Outcome => ({ _tag: "Done", results: settle(commands, r) })),
        crossSlot(what(commands, atomic))
      )

  /** A connection of its own (to the node serving the keys on a Cluster), cut past the budget. */
  const alone = (commands: ReadonlyArray<Prepared>, atomic: boolean, idempotent: boolean) =>
    Effect.gen(function* () {
      const keys = commands.flatMap((c) => c.keys)
      if (cluster && new Set(keys.map(keySlot)).size > 1) {
        return yield* new InvalidArgument({ message: crossSlotMessage(what(commands, atomic)) })
      }
      const key = keys.length > 0 ? keys[0]!.slice(prefix.length) : undefined
      const r = yield* metered
        .run(label(commands, atomic), key, budget, (c) => sendOn(c, commands, atomic), idempotent)
        .pipe(crossSlot(what(commands, atomic)))
      return r === OVER ? ({ _tag: "Over" } as const) : ({ _tag: "Done", results: settle(commands, r) } as const)
    })

  return {
    send: (commands, { atomic, idempotent, bounded }) =>
      bounded ? shared(commands, atomic, idempotent) : alone(commands, atomic, idempotent)
  }
}
