/**
 * Waiting for stream entries on Redis without holding up other calls. A wait
 * runs `XREAD BLOCK … COUNT 1` on a dedicated connection of its own (on a
 * Cluster, to the node that owns the streams' slot), at most
 * `MAX_BLOCKING_CONNECTIONS` at once, each with its own timeout of the wait plus
 * a margin. When all are in use, or a Cluster moved the slot under the wait, it
 * polls instead. The entry a wake-up reads (at most one per stream) only says
 * that something arrived: the caller then reads what fits its result.
 */
import { Clock, Data, Duration, Effect, Option, Semaphore } from "effect"
import { InvalidArgument, quote, type RedisError, Timeout } from "../../Errors.ts"
import { keySlot } from "../../layers/ClusterSlots.ts"
import type { RedisClientShape } from "../../layers/RedisClient.ts"
import { toRedisError } from "../../layers/RedisErrors.ts"
import type { StreamLimits } from "./StreamArgs.ts"

/** Blocking waits in flight at once, each on its own connection. */
export const MAX_BLOCKING_CONNECTIONS = 8
const POLL_INTERVAL_MS = 50

/** A node connection answered MOVED/ASK: the slot moved since the slot map was read; the wait polls instead. */
class Redirected extends Data.TaggedError("Redirected")<{}> {}
const redirectedReply = (e: unknown) => e instanceof Error && /^(MOVED|ASK) /.test(e.message)

/** Streams read by one XREAD on a Cluster: all in one slot, or InvalidArgument naming hash tags. */
export const checkSameSlot = (keys: ReadonlyArray<string>, prefix: string): Effect.Effect<void, InvalidArgument> => {
  const first = keys[0]
  if (first === undefined) return Effect.void
  const slot = keySlot(prefix + first)
  const other = keys.find((k) => keySlot(prefix + k) !== slot)
  if (other === undefined) return Effect.void
  return Effect.fail(
    new InvalidArgument({
      message: `On a Redis Cluster one xread can only read streams that share a hash slot, and ${quote(first)} and ${quote(other)} are in different slots. Read them in separate xread calls, or name streams that are read together with a common hash tag (the part in braces decides the slot), e.g. "{orders}:eu" and "{orders}:us".`
    })
  )
}

export type Arg = string | number | Buffer

/**
 * Send a command with Buffer replies through its named `<command>Buffer` method: ioredis's
 * `callBuffer` loses the command name when auto-pipelining is on (it only re-adds it for `call`).
 */
export const send = (client: object, command: string, args: ReadonlyArray<Arg>): Promise<unknown> =>
  (client as Record<string, (...a: Array<Arg>) => Promise<unknown>>)[`${command.toLowerCase()}Buffer`]!(...args)

/**
 * `wait(keys, after, blockMs)`: true as soon as an entry follows `after[i]` in one
 * of `keys` (sharing a slot), false when `blockMs` passed without one.
 */
export const makeWaiter = (redis: RedisClientShape, limits: StreamLimits, slots: Semaphore.Semaphore) => {
  const xread = (keys: ReadonlyArray<string>, after: ReadonlyArray<string>, blockMs: number): ReadonlyArray<Arg> => [
    "COUNT",
    1,
    ...(blockMs > 0 ? ["BLOCK", blockMs] : []),
    "STREAMS",
    ...keys,
    ...after
  ]

  const poll = (keys: ReadonlyArray<string>, after: ReadonlyArray<string>, blockMs: number) =>
    Effect.gen(function* () {
      const deadline = (yield* Clock.currentTimeMillis) + blockMs
      while (true) {
        const reply = yield* redis.run("XREAD", (c) => send(c, "XREAD", xread(keys, after, 0)), { idempotent: true })
        const left = deadline - (yield* Clock.currentTimeMillis)
        if (reply !== null || left <= 0) return reply !== null
        yield* Effect.sleep(Duration.millis(Math.min(POLL_INTERVAL_MS, left)))
      }
    })

  return (
    keys: ReadonlyArray<string>,
    after: ReadonlyArray<string>,
    blockMs: number
  ): Effect.Effect<boolean, RedisError> => {
    const timeoutMs = blockMs + limits.blockMarginMs
    const onDedicated = Effect.scoped(
      Effect.gen(function* () {
        const conn = yield* redis.dedicatedFor(keys[0]!)
        const reply = yield* Effect.tryPromise({
          try: () => send(conn, "XREAD", xread(keys, after, blockMs)),
          catch: (e): RedisError | Redirected =>
            redirectedReply(e) ? new Redirected() : toRedisError(e, "XREAD", timeoutMs)
        }).pipe(
          Effect.timeoutOrElse({
            duration: Duration.millis(timeoutMs),
            orElse: () =>
              Effect.fail(
                new Timeout({
                  message: `A read waited ${blockMs} ms for new entries and got no answer within ${timeoutMs} ms. Redis may be overloaded; retry with a smaller blockMs and check the \`health\` tool.`,
                  timeoutMs
                })
              )
          })
        )
        return reply !== null
      })
    )
    const polling = poll(keys, after, blockMs)
    return Semaphore.withPermitsIfAvailable(
      slots,
      1
    )(onDedicated).pipe(
      Effect.flatMap((done) => (Option.isSome(done) ? Effect.succeed(done.value) : polling)),
      // Nothing was read on the node that no longer owns the slot; the shared client follows the redirect.
      Effect.catchTag("Redirected", () => polling)
    )
  }
}
