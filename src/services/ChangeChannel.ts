/**
 * Change notifications over Redis pub/sub: a listener on one channel, on its
 * own connection, that says `Ready` once subscribed (and again after a lost
 * connection came back, when changes may have been missed), then each message
 * it can parse. It runs until interrupted, resubscribing with backoff.
 *
 * `listen` puts each message on the stream. `watch` hands each one to a plain
 * function as it arrives and puts only the Ready events on the stream: a
 * consumer that only notes what changed (the queue-depth sampler) then costs no
 * stream element, fiber wake-up or Effect per message.
 */
import { Duration, Effect, Queue, Stream } from "effect"
import type { Redis } from "ioredis"
import { type RedisError, RedisUnavailable } from "../Errors.ts"
import type { RedisClientShape } from "../layers/RedisClient.ts"
import { backoff } from "../layers/RetrySchedule.ts"

export type Ready = { readonly _tag: "Ready" }
export type ChannelEvent<A> = Ready | A

const READY: Ready = { _tag: "Ready" }

/**
 * One subscription: Ready once subscribed, then each parsed message (to `deliver` when given,
 * else on the stream), failing when the connection ends.
 */
const subscribeOnce = <A>(
  redis: RedisClientShape,
  channel: string,
  parse: (message: string) => A | undefined,
  deliver: ((message: A) => void) | undefined
) =>
  Stream.callback<ChannelEvent<A>, RedisError>((queue) =>
    Effect.gen(function* () {
      const conn: Redis = yield* redis.dedicated
      const send = deliver ?? ((message: A) => Queue.offerUnsafe(queue, message))
      conn.on("message", (ch: string, raw: string) => {
        if (ch !== channel) return
        const parsed = parse(raw)
        if (parsed !== undefined) send(parsed)
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
      yield* Queue.offer(queue, READY)
      yield* ended
      return yield* new RedisUnavailable({ message: `The subscription to ${channel} lost its connection.` })
    })
  )

/** Every change on `channel` (prefixed by the caller), for as long as the stream runs. */
export const listen = <A>(
  redis: RedisClientShape,
  channel: string,
  parse: (message: string) => A | undefined
): Stream.Stream<ChannelEvent<A>> => resubscribing(redis, channel, subscribeOnce(redis, channel, parse, undefined))

/**
 * The same subscription with each change handed to `onChange` as it arrives (synchronously, on the
 * connection's read: keep it quick and let it not throw); the stream has only the Ready events.
 */
export const watch = <A>(
  redis: RedisClientShape,
  channel: string,
  parse: (message: string) => A | undefined,
  onChange: (message: A) => void
): Stream.Stream<Ready> =>
  resubscribing(redis, channel, subscribeOnce(redis, channel, parse, onChange)) as Stream.Stream<Ready>

/** A stream of changes as `watch` delivers them: each change to `onChange`, the Ready events on the stream. */
export const watchStream = <A extends { readonly _tag: string }>(
  changes: Stream.Stream<ChannelEvent<A>>,
  onChange: (change: A) => void
): Stream.Stream<Ready> =>
  changes.pipe(
    Stream.tap((event) => Effect.sync(() => (event._tag === "Ready" ? undefined : onChange(event as A)))),
    Stream.filter((event): event is Ready => event._tag === "Ready")
  )

const resubscribing = <A>(
  redis: RedisClientShape,
  channel: string,
  subscription: Stream.Stream<ChannelEvent<A>, RedisError>
): Stream.Stream<ChannelEvent<A>> =>
  subscription.pipe(
    Stream.tapError((e) =>
      Effect.logWarning("change listener lost its connection; resubscribing", { channel, error: e.message })
    ),
    // The schedule never ends, so no error is left for the stream to fail with.
    Stream.retry(backoff(redis.settings.retry)),
    Stream.orDie
  )
