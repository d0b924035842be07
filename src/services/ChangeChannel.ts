/**
 * Change notifications over Redis pub/sub: a listener on one channel, on its
 * own connection, that says `Ready` once subscribed (and again after a lost
 * connection came back, when changes may have been missed), then each message
 * it can parse. It runs until interrupted, resubscribing with backoff.
 */
import { Duration, Effect, Queue, Stream } from "effect"
import type { Redis } from "ioredis"
import { type RedisError, RedisUnavailable } from "../Errors.ts"
import type { RedisClientShape } from "../layers/RedisClient.ts"
import { backoff } from "../layers/RetrySchedule.ts"

export type ChannelEvent<A> = { readonly _tag: "Ready" } | A

/** One subscription: Ready once subscribed, then each parsed message, failing when the connection ends. */
const subscribeOnce = <A>(redis: RedisClientShape, channel: string, parse: (message: string) => A | undefined) =>
  Stream.callback<ChannelEvent<A>, RedisError>((queue) =>
    Effect.gen(function* () {
      const conn: Redis = yield* redis.dedicated
      conn.on("message", (ch: string, raw: string) => {
        if (ch !== channel) return
        const parsed = parse(raw)
        if (parsed !== undefined) Queue.offerUnsafe(queue, parsed)
      })
      const ended = Effect.callback<void>((resume) => {
        const done = () => resume(Effect.void)
        conn.once("end", done)
        conn.once("close", done)
        return Effect.sync(() => {
          conn.off("end", done)
          conn.off("close", done)
        })
      })
      yield* Effect.tryPromise({
        try: () => conn.subscribe(channel),
        catch: (e) =>
          new RedisUnavailable({ message: `SUBSCRIBE failed: ${e instanceof Error ? e.message : String(e)}` })
      }).pipe(
        Effect.timeoutOrElse({
          duration: Duration.millis(redis.settings.commandTimeoutMs),
          orElse: () => Effect.fail(new RedisUnavailable({ message: "SUBSCRIBE did not answer in time." }))
        })
      )
      yield* Queue.offer(queue, { _tag: "Ready" } as const)
      yield* ended
      return yield* new RedisUnavailable({ message: `The subscription to ${channel} lost its connection.` })
    })
  )

/** Every change on `channel` (prefixed by the caller), for as long as the stream runs. */
export const listen = <A>(
  redis: RedisClientShape,
  channel: string,
  parse: (message: string) => A | undefined
): Stream.Stream<ChannelEvent<A>> =>
  subscribeOnce(redis, channel, parse).pipe(
    Stream.tapError((e) =>
      Effect.logWarning("change listener lost its connection; resubscribing", { channel, error: e.message })
    ),
    // The schedule never ends, so no error is left for the stream to fail with.
    Stream.retry(backoff(redis.settings.retry)),
    Stream.orDie
  )
