/**
 * Pub/sub for request/response clients: `subscribe` opens a subscription with
 * its own buffer (on Redis, its own connection), `read` drains it (optionally
 * waiting a bounded time for the first message), `unsubscribe` closes it.
 * Subscriptions are capped in number, their buffers in messages and in bytes,
 * each and all together (PubSubBuffers.ts); they expire when not read for a
 * while (a sweep fiber on the layer's Clock), and are all closed with the layer.
 * Channels live under the server's key prefix, like keys. A subscription belongs
 * to the caller that opened it (the `Caller` reference): to anyone else its id
 * does not exist.
 */
import { randomUUID } from "node:crypto"
import { Clock, Context, Duration, Effect, Exit, Layer, Metric, Schedule, Scope } from "effect"
import {
  InvalidArgument,
  type LimitExceeded,
  NotFound,
  PermissionDenied,
  type RedisError,
  RedisUnavailable,
  Timeout,
  TooLarge
} from "../Errors.ts"
import { type Limits, type PubSubSettings, ServerConfig } from "../layers/Config.ts"
import { pubsubSubscriptions } from "../layers/Metrics.ts"
import { RedisClient } from "../layers/RedisClient.ts"
import { toRedisError } from "../layers/RedisErrors.ts"
import { Caller } from "./Access.ts"
import { INTERNAL_CHANNELS } from "./CommandLists.ts"
import { compileGlob, escapeGlob, type Glob } from "./Glob.ts"
import { type Incoming, type Mailbox, Mailboxes } from "./PubSubBuffers.ts"
import { checkSize, type Encoding } from "./Values.ts"

export interface Message {
  readonly channel: string
  /** UTF-8 text, or base64 when the bytes are not valid UTF-8 (see `encoding`). */
  readonly message: string
  readonly encoding: Encoding
  /** The pattern that matched, for pattern subscriptions. */
  readonly pattern?: string
  /** When this server received it (epoch ms). */
  readonly receivedAt: number
  /** The message was cut to fit the output cap; `length` is its full size in bytes. */
  readonly truncated?: boolean
  readonly length?: number
}

export interface Subscription {
  readonly subscriptionId: string
  readonly channels: ReadonlyArray<string>
  readonly patterns: ReadonlyArray<string>
  /** Closed after this long without a read. */
  readonly idleTimeoutMs: number
}

export interface ReadResult {
  readonly messages: ReadonlyArray<Message>
  /** Messages lost since the last read because the buffer was full (oldest first) or one was too big to keep. */
  readonly dropped: number
  /** Their bytes (message plus channel name). */
  readonly droppedBytes: number
  /** Messages still buffered (read again to get them). */
  readonly remaining: number
  readonly truncated: boolean
}

export interface PubSubShape {
  /**
   * Publish; the number of subscribers (channel and pattern matches) that received it.
   * The server's own change channels (INTERNAL_CHANNELS) are refused: a message there would forge its events.
   */
  readonly publish: (channel: string, message: Buffer) => Effect.Effect<number, TooLarge | RedisError>
  readonly subscribe: (options: {
    readonly channels?: ReadonlyArray<string>
    readonly patterns?: ReadonlyArray<string>
  }) => Effect.Effect<Subscription, InvalidArgument | TooLarge | LimitExceeded | RedisError>
  /** Take up to `maxCount` buffered messages; with `waitMs`, wait that long at most for the first one. */
  readonly read: (
    subscriptionId: string,
    options?: { readonly maxCount?: number; readonly waitMs?: number }
  ) => Effect.Effect<ReadResult, NotFound | RedisUnavailable>
  /** Close a subscription; false when it was not open (or is another caller's). */
  readonly unsubscribe: (subscriptionId: string) => Effect.Effect<boolean>
  /** How many subscriptions are open. */
  readonly size: Effect.Effect<number>
  /** Bytes the subscriptions hold in all (at most REDIS_MCP_PUBSUB_TOTAL_BYTES). */
  readonly bufferedBytes: Effect.Effect<number>
}

/** One subscription's state, shared by both backings. */
interface Sub {
  readonly id: string
  readonly channels: ReadonlyArray<string>
  readonly patterns: ReadonlyArray<string>
  readonly box: Mailbox
  readonly waiters: Set<() => void>
  readonly scope: Scope.Closeable
  /** The principal that opened it; undefined: the process (no authenticated caller). */
  readonly owner: string | undefined
  lastReadAt: number
  readers: number
  /** Why the subscription stopped receiving (its connection was lost). */
  lost: string | undefined
  closed: boolean
}

/** Hooks a backing gives to the registry. */
interface Backing {
  /**
   * Start delivering to `sub` (in `sub`'s scope: released on unsubscribe, expiry or layer close);
   * `lost` says the subscription stopped receiving for good.
   */
  readonly open: (
    sub: Sub,
    hooks: { readonly deliver: (raw: Incoming) => void; readonly lost: (reason: string) => void }
  ) => Effect.Effect<void, RedisError, Scope.Scope>
  readonly publish: (channel: string, message: Buffer) => Effect.Effect<number, RedisError>
}

const makeRegistry = Effect.fnUntraced(function* (
  settings: PubSubSettings,
  { maxOutputBytes, maxValueBytes, maxItems }: Limits,
  backing: Backing
) {
  const clock = yield* Clock.Clock
  const subs = new Map<string, Sub>()
  const boxes = new Mailboxes(settings)
  let opening = 0
  // redis_mcp_pubsub_subscriptions follows the open subscriptions.
  const counted = Effect.suspend(() => Metric.update(pubsubSubscriptions, subs.size))
  const wake = (sub: Sub) => {
    for (const w of [...sub.waiters]) w()
  }

  const close = (sub: Sub) =>
    Effect.suspend(() => {
      if (sub.closed) return Effect.void
      sub.closed = true
      subs.delete(sub.id)
      boxes.close(sub.box)
      wake(sub)
      return Effect.andThen(counted, Scope.close(sub.scope, Exit.void))
    })

  const deliver = (sub: Sub) => (incoming: Incoming) => {
    if (sub.closed) return
    boxes.put(sub.box, incoming, clock.currentTimeMillisUnsafe())
    wake(sub)
  }

  const subscribe: PubSubShape["subscribe"] = Effect.fn("PubSub.subscribe")(function* (options) {
    const channels = [...new Set(options.channels ?? [])]
    const patterns = [...new Set(options.patterns ?? [])]
    if (channels.length + patterns.length === 0) {
      return yield* new InvalidArgument({
        message: 'Name at least one channel or pattern, e.g. {"channels": ["news"]} or {"patterns": ["news.*"]}.'
      })
    }
    if (subs.size + opening >= settings.maxSubscriptions) {
      return yield* new TooLarge({
        message: `This server already has ${settings.maxSubscriptions} open subscriptions (REDIS_MCP_PUBSUB_MAX_SUBSCRIPTIONS). Unsubscribe the ones you no longer read, or subscribe once to several channels, then try again.`,
        size: subs.size + opening,
        limit: settings.maxSubscriptions
      })
    }
    const caller = yield* Caller
    // The caller's own maximum, counted until the subscription closes however it closes.
    const release = caller === undefined ? Effect.void : yield* caller.acquireSubscription
    opening++
    const scope = yield* Scope.make()
    yield* Scope.addFinalizer(scope, release)
    const sub: Sub = {
      id: `sub_${randomUUID()}`,
      channels,
      patterns,
      box: boxes.open(),
      waiters: new Set(),
      scope,
      owner: caller?.principal,
      lastReadAt: yield* Clock.currentTimeMillis,
      readers: 0,
      lost: undefined,
      closed: false
    }
    const lost = (reason: string) => {
      sub.lost = reason
      wake(sub)
    }
    yield* backing.open(sub, { deliver: deliver(sub), lost }).pipe(
      Scope.provide(scope),
      Effect.onExit((exit) =>
        Exit.isSuccess(exit)
          ? Effect.void
          : Effect.andThen(
              Effect.sync(() => boxes.close(sub.box)),
              Scope.close(scope, exit)
            )
      ),
      Effect.ensuring(Effect.sync(() => opening--))
    )
    subs.set(sub.id, sub)
    yield* counted
    return { subscriptionId: sub.id, channels, patterns, idleTimeoutMs: settings.idleMs }
  })

  const notFound = (id: string) =>
    new NotFound({
      message: `No open subscription ${id}: it was unsubscribed, expired after ${settings.idleMs} ms without a read, or the server restarted. Call subscribe again.`
    })

  /** The open subscription `id` when the current caller owns it. */
  const owned = (id: string) =>
    Effect.map(Caller, (caller) => {
      const sub = subs.get(id)
      return sub !== undefined && sub.owner === caller?.principal ? sub : undefined
    })

  const read: PubSubShape["read"] = Effect.fn("PubSub.read")(function* (id, options) {
    const sub = yield* owned(id)
    if (sub === undefined) return yield* notFound(id)
    const waitMs = options?.waitMs ?? 0
    sub.readers++
    yield* Effect.gen(function* () {
      if (sub.box.messages.length > 0 || waitMs <= 0 || sub.lost !== undefined) return
      yield* Effect.callback<void>((resume) => {
        const waiter = () => resume(Effect.void)
        sub.waiters.add(waiter)
        return Effect.sync(() => sub.waiters.delete(waiter))
      }).pipe(Effect.timeoutOption(Duration.millis(waitMs)))
    }).pipe(
      Effect.ensuring(
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Effect.sync(() => {
            sub.readers--
            sub.lastReadAt = now
          })
        )
      )
    )
    if (sub.closed) return yield* notFound(id)
    const messages = boxes.take(sub.box, Math.min(options?.maxCount ?? 100, maxItems), maxOutputBytes - 1024)
    const { dropped, droppedBytes } = boxes.losses(sub.box)
    if (messages.length === 0 && sub.lost !== undefined) {
      yield* close(sub)
      return yield* new RedisUnavailable({
        message: `Subscription ${id} stopped receiving: ${sub.lost}. Messages published since then were missed; call subscribe again.`
      })
    }
    const remaining = sub.box.messages.length
    return { messages, dropped, droppedBytes, remaining, truncated: remaining > 0 }
  })

  const sweep = Effect.flatMap(Clock.currentTimeMillis, (now) =>
    Effect.forEach(
      [...subs.values()].filter((s) => s.readers === 0 && now - s.lastReadAt >= settings.idleMs),
      close,
      { discard: true }
    )
  )
  const every = Duration.millis(Math.min(Math.max(Math.floor(settings.idleMs / 4), 50), 30_000))
  yield* Effect.forkScoped(Effect.repeat(sweep, Schedule.spaced(every)))
  yield* Effect.addFinalizer(() => Effect.forEach([...subs.values()], close, { discard: true }))

  return PubSub.of({
    publish: Effect.fn("PubSub.publish")(function* (channel, message) {
      if (INTERNAL_CHANNELS.includes(channel)) {
        return yield* new PermissionDenied({
          message: `${channel} is the channel this server sends its own change events on; publishing to it would forge them, so it is refused. Publish on another channel.`
        })
      }
      yield* checkSize("message", message.length, maxValueBytes)
      return yield* backing.publish(channel, message)
    }),
    subscribe,
    read,
    unsubscribe: Effect.fn("PubSub.unsubscribe")(function* (id) {
      const sub = yield* owned(id)
      if (sub === undefined) return false
      yield* close(sub)
      return true
    }),
    size: Effect.sync(() => subs.size),
    bufferedBytes: Effect.sync(() => boxes.held)
  })
})

export class PubSub extends Context.Service<PubSub, PubSubShape>()("effect-redis-mcp/PubSub") {
  /** Each subscription on its own connection (`redis.dedicated`), closed with the subscription. */
  static readonly layer = Layer.effect(
    PubSub,
    Effect.gen(function* () {
      const redis = yield* RedisClient
      const { pubsub, limits } = yield* ServerConfig
      const prefix = redis.keyPrefix
      const timeoutMs = redis.settings.commandTimeoutMs
      const scoped = (channel: string) => `${prefix}${channel}`
      const scopedPattern = (pattern: string) => `${escapeGlob(prefix)}${pattern}`
      const unscoped = (channel: Buffer) =>
        channel.subarray(channel.indexOf(prefix) === 0 ? Buffer.byteLength(prefix) : 0).toString("utf8")
      const onConnection = <A>(command: string, f: () => Promise<A>) =>
        Effect.tryPromise({ try: f, catch: (e) => toRedisError(e, command, timeoutMs) }).pipe(
          Effect.timeoutOrElse({
            duration: Duration.millis(timeoutMs),
            orElse: () =>
              Effect.fail(
                new Timeout({ message: `${command} did not answer within ${timeoutMs} ms. Retry later.`, timeoutMs })
              )
          })
        )
      return yield* makeRegistry(pubsub, limits, {
        publish: (channel, message) => redis.run("PUBLISH", (c) => c.publish(scoped(channel), message)),
        open: (sub, { deliver, lost }) =>
          Effect.gen(function* () {
            const conn = yield* redis.dedicated
            const patterns = new Map(sub.patterns.map((p) => [scopedPattern(p), p]))
            const onMessage = (channel: Buffer, message: Buffer) => deliver({ channel: unscoped(channel), message })
            const onPMessage = (pattern: Buffer | string, channel: Buffer, message: Buffer) =>
              deliver({
                channel: unscoped(channel),
                pattern: patterns.get(String(pattern)) ?? String(pattern),
                message
              })
            const onEnd = () => lost("its Redis connection closed")
            conn.on("messageBuffer", onMessage)
            conn.on("pmessageBuffer", onPMessage)
            conn.on("end", onEnd)
            yield* Effect.addFinalizer(() =>
              Effect.sync(() => {
                conn.off("messageBuffer", onMessage)
                conn.off("pmessageBuffer", onPMessage)
                conn.off("end", onEnd)
              })
            )
            if (sub.channels.length > 0) {
              yield* onConnection("SUBSCRIBE", () => conn.subscribe(...sub.channels.map(scoped)))
            }
            if (sub.patterns.length > 0) yield* onConnection("PSUBSCRIBE", () => conn.psubscribe(...patterns.keys()))
          })
      })
    })
  )

  /** An in-process bus with the same semantics (channel and glob-pattern subscribers). */
  static readonly layerMemory = Layer.effect(
    PubSub,
    Effect.gen(function* () {
      const { pubsub, limits } = yield* ServerConfig
      const bus = new Map<Sub, { deliver: (raw: Incoming) => void; patterns: Array<[string, Glob]> }>()
      return yield* makeRegistry(pubsub, limits, {
        publish: (channel, message) =>
          Effect.sync(() => {
            let receivers = 0
            for (const [sub, { deliver, patterns }] of bus) {
              if (sub.channels.includes(channel)) {
                deliver({ channel, message })
                receivers++
              }
              for (const [pattern, glob] of patterns) {
                if (!glob.test(channel)) continue
                deliver({ channel, pattern, message })
                receivers++
              }
            }
            return receivers
          }),
        open: (sub, { deliver }) =>
          Effect.acquireRelease(
            Effect.sync(() => bus.set(sub, { deliver, patterns: sub.patterns.map((p) => [p, compileGlob(p)]) })),
            () => Effect.sync(() => bus.delete(sub))
          )
      })
    })
  )
}
