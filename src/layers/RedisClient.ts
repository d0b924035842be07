/**
 * The Redis connection as an Effect service: one ioredis client acquired in the
 * layer's scope and quit on release, (re)connected by an Effect `Schedule`, with a
 * timeout on every command, typed errors, retry for idempotent commands only, and
 * a health model.
 */

import { Clock, Context, Duration, Effect, Layer, Ref, Schedule, type Scope } from "effect"
import type { Cluster, Redis } from "ioredis"
import { RedisBusy, type RedisError, RedisUnavailable, Timeout } from "../Errors.ts"
import { RedisConfig, type RedisSettings, ServerConfig } from "./Config.ts"
import { describeTarget, makeClient, type RedisLike } from "./RedisConnect.ts"
import { toRedisError } from "./RedisErrors.ts"
import { backoff, commandRetry } from "./RetrySchedule.ts"

export type { RedisLike } from "./RedisConnect.ts"

/** The connection's state as seen by `health`, `/healthz` and metrics. */
export interface Health {
  readonly mode: RedisSettings["mode"]
  readonly target: string
  readonly state: "connecting" | "ready" | "reconnecting" | "closed" | "memory"
  readonly lastError: string | null
  readonly lastErrorAt: number | null
  readonly reconnects: number
  readonly connectedSince: number | null
  readonly latencyMs: number | null
}

export interface RunOptions {
  /** Safe to send twice: retried on retryable errors (connection lost, LOADING, READONLY…). */
  readonly idempotent?: boolean
}

/** A Lua script, sent by EVALSHA with fallback to EVAL (ioredis `defineCommand`). */
export type ScriptRunner = (
  keys: ReadonlyArray<string>,
  args: ReadonlyArray<string | number | Buffer>,
  options?: RunOptions
) => Effect.Effect<unknown, RedisError>

export interface RedisClientShape {
  /** Run one call on the client, with timeout, error mapping and (if idempotent) retry. */
  readonly run: <A>(
    command: string,
    f: (client: RedisLike) => Promise<A>,
    options?: RunOptions
  ) => Effect.Effect<A, RedisError>
  /** Register a Lua script once; the returned runner calls it by SHA. */
  readonly script: (name: string, lua: string) => ScriptRunner
  /** Current health, refreshed with a PING when connected. */
  readonly health: Effect.Effect<Health>
  /** A separate connection (blocking reads, pub/sub), released with the scope. */
  readonly dedicated: Effect.Effect<Redis, RedisError, Scope.Scope>
  /** Wait until the connection is ready (at most `timeoutMs`); fails with RedisUnavailable after that. */
  readonly awaitReady: (timeoutMs: number) => Effect.Effect<void, RedisUnavailable>
  /** The settings this client was built from. */
  readonly settings: RedisSettings
  /** The key prefix every key is scoped under ("" for none). */
  readonly keyPrefix: string
  /** Escape hatch for libraries that need the ioredis client itself. */
  readonly unsafeClient: RedisLike
}

const errorMessage = (e: unknown) => (e instanceof Error ? e.message : String(e))

export class RedisClient extends Context.Service<RedisClient, RedisClientShape>()("effect-redis-mcp/RedisClient") {
  static readonly make = Effect.gen(function* () {
    const settings = yield* RedisConfig
    const { keyPrefix } = yield* ServerConfig
    const target = describeTarget(settings)
    const state = yield* Ref.make<Health>({
      mode: settings.mode,
      target,
      state: "connecting",
      lastError: null,
      lastErrorAt: null,
      reconnects: 0,
      connectedSince: null,
      latencyMs: null
    })
    const client = yield* Effect.acquireRelease(
      Effect.sync(() => makeClient(settings, keyPrefix)),
      (c) =>
        Effect.promise(() => c.quit().catch(() => undefined)).pipe(
          Effect.timeout(Duration.seconds(2)),
          Effect.ignore,
          Effect.andThen(Effect.sync(() => c.disconnect()))
        )
    )
    // ioredis emits "error" on every failed attempt; without a listener Node would crash.
    client.on("error", () => undefined)

    const recordError = (message: string) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Ref.update(state, (h) => ({ ...h, lastError: message, lastErrorAt: now }))
      )

    const waitForEnd = Effect.callback<void>((resume) => {
      const onEnd = () => resume(Effect.void)
      client.once("end", onEnd)
      if (client.status === "end") onEnd()
      return Effect.sync(() => {
        client.off("end", onEnd)
      })
    })

    const connectOnce = Effect.tryPromise({
      try: () => (client.status === "end" || client.status === "wait" ? client.connect() : Promise.resolve()),
      catch: (e) => errorMessage(e)
    }).pipe(
      Effect.tapError((message) => recordError(message)),
      Effect.tapError((message) => Effect.logWarning("redis connect failed", { target, error: message }))
    )

    const supervise = Effect.gen(function* () {
      let first = true
      while (true) {
        yield* connectOnce.pipe(Effect.retry(backoff(settings.retry)))
        const now = yield* Clock.currentTimeMillis
        yield* Ref.update(state, (h) => ({ ...h, state: "ready" as const, connectedSince: now }))
        yield* Effect.logInfo(first ? "redis connected" : "redis reconnected", { target })
        first = false
        yield* waitForEnd
        yield* Ref.update(state, (h) => ({
          ...h,
          state: "reconnecting" as const,
          connectedSince: null,
          reconnects: h.reconnects + 1
        }))
        yield* recordError("connection closed")
        yield* Effect.logWarning("redis connection lost; reconnecting", { target })
      }
    })
    yield* Effect.forkScoped(supervise)

    const timeoutMs = settings.commandTimeoutMs
    const notReady = (command: string) =>
      new RedisUnavailable({
        message: `${command} could not reach Redis at ${target} (not connected: ${client.status}). Redis may be restarting or unreachable; retry in a few seconds and check the \`health\` tool.`
      })

    const attempt = <A>(command: string, f: (c: RedisLike) => Promise<A>): Effect.Effect<A, RedisError> =>
      Effect.suspend(() => {
        if (client.status !== "ready") return Effect.fail(notReady(command))
        return Effect.tryPromise({ try: () => f(client), catch: (e) => toRedisError(e, command, timeoutMs) }).pipe(
          Effect.timeoutOrElse({
            duration: Duration.millis(timeoutMs),
            orElse: () =>
              Effect.fail(
                new Timeout({
                  message: `${command} did not answer within ${timeoutMs} ms. Redis may be overloaded or paused; retry later and check the \`health\` tool.`,
                  timeoutMs
                })
              )
          }),
          Effect.tapError((e) =>
            e instanceof RedisBusy && e.reason === "READONLY"
              ? // A replica answered: the primary moved. Drop the connection so the supervisor reconnects to the new one.
                Effect.sync(() => client.disconnect(false))
              : Effect.void
          )
        )
      })

    const run = <A>(
      command: string,
      f: (c: RedisLike) => Promise<A>,
      options?: RunOptions
    ): Effect.Effect<A, RedisError> =>
      options?.idempotent === true
        ? attempt(command, f).pipe(Effect.retry(commandRetry<RedisError>(settings.retry, timeoutMs)))
        : attempt(command, f)

    const script = (name: string, lua: string): ScriptRunner => {
      const commandName = `mcp_${name}`
      client.defineCommand(commandName, { lua })
      return (keys, args, options) =>
        run(
          `script ${name}`,
          (c) =>
            (c as unknown as Record<string, (...a: Array<unknown>) => Promise<unknown>>)[commandName]!(
              keys.length,
              ...keys,
              ...args
            ),
          options
        )
    }

    const health = Effect.gen(function* () {
      const start = yield* Clock.currentTimeMillis
      const pinged = yield* Effect.result(attempt("PING", (c) => c.ping()))
      const end = yield* Clock.currentTimeMillis
      if (pinged._tag === "Success") yield* Ref.update(state, (h) => ({ ...h, latencyMs: end - start }))
      else yield* recordError(pinged.failure.message)
      return yield* Ref.get(state)
    })

    const dedicated = Effect.acquireRelease(
      Effect.suspend(() => {
        if (settings.mode === "cluster") {
          return Effect.fail(
            new RedisUnavailable({ message: "Dedicated connections are not available in cluster mode yet." })
          )
        }
        const dup = (client as Redis).duplicate({ lazyConnect: true })
        dup.on("error", () => undefined)
        return Effect.tryPromise({
          try: () => dup.connect().then(() => dup),
          catch: (e) => toRedisError(e, "CONNECT", timeoutMs)
        }).pipe(
          Effect.timeoutOrElse({
            duration: Duration.millis(timeoutMs),
            orElse: () => Effect.sync(() => dup.disconnect()).pipe(Effect.andThen(Effect.fail(notReady("CONNECT"))))
          })
        )
      }),
      (dup) => Effect.sync(() => dup.disconnect())
    )

    const awaitReady = (waitMs: number) =>
      Effect.suspend(() => (client.status === "ready" ? Effect.void : Effect.fail(notReady("CONNECT")))).pipe(
        Effect.retry(Schedule.spaced(Duration.millis(20)).pipe(Schedule.upTo({ duration: Duration.millis(waitMs) })))
      )

    return RedisClient.of({ run, script, health, dedicated, awaitReady, settings, keyPrefix, unsafeClient: client })
  })

  /** The Redis client from `RedisConfig` and `ServerConfig`. */
  static readonly layer = Layer.effect(RedisClient, RedisClient.make)
}

/** The health of a server running on the in-memory layers. */
export const memoryHealth: Health = {
  mode: "memory",
  target: "in-memory",
  state: "memory",
  lastError: null,
  lastErrorAt: null,
  reconnects: 0,
  connectedSince: null,
  latencyMs: 0
}

export type { Cluster, Redis }
