/**
 * One call on the supervised connection: the command timeout as a deadline that
 * covers waiting and retries, typed errors, retry for idempotent calls only, and
 * what a failure says about the connection (Sentinel demotion, Cluster slot moves).
 */
import { Clock, Context, Duration, Effect, Ref, Schedule } from "effect"
import type { Redis } from "ioredis"
import { RedisBusy, type RedisError, RedisUnavailable, Timeout } from "../Errors.ts"
import type { RedisLike } from "./RedisConnect.ts"
import type { Connection, Health } from "./RedisConnection.ts"
import { toRedisError } from "./RedisErrors.ts"
import { commandRetry } from "./RetrySchedule.ts"

/** The Clock of a fiber that was given none: its sleep is a plain setTimeout. */
const liveClock = Context.get(Context.empty(), Clock.Clock)
/** The longest single setTimeout; a longer wait goes through the Clock's own sleep. */
const MAX_TIMER_MS = 2 ** 31 - 1

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

export interface Calls {
  readonly run: <A>(
    command: string,
    f: (client: RedisLike) => Promise<A>,
    options?: RunOptions
  ) => Effect.Effect<A, RedisError>
  readonly runOnPrimary: <A>(
    slot: number,
    command: string,
    f: (node: Redis) => Promise<A>,
    options?: RunOptions
  ) => Effect.Effect<A, RedisError>
  readonly script: (name: string, lua: string) => ScriptRunner
  readonly health: Effect.Effect<Health>
}

export const makeCalls = (connection: Connection): Calls => {
  const { settings, target, timeoutMs, client, cluster, state } = connection
  const { awaitConnection, generation, recordError, refreshSlots } = connection
  /** The retry policy of idempotent calls, built once; each failing call adds its own deadline. */
  const retryPolicy = commandRetry<RedisError>(settings.retry, timeoutMs)

  const timedOut = (command: string) =>
    Effect.fail(
      new Timeout({
        message: `${command} did not answer within ${timeoutMs} ms. Redis may be overloaded or paused; retry later and check the \`health\` tool.`,
        timeoutMs
      })
    )

  /**
   * What a failure says about the connection. READONLY or MASTERDOWN behind Sentinel:
   * this node is no longer the primary, so drop the connection and let the supervisor
   * ask the sentinels again. On a Cluster, a lost node, CLUSTERDOWN, TRYAGAIN or a
   * moved slot: refresh the slot map so the next try goes to the new owner.
   */
  const afterFailure = (e: RedisError, seenGeneration: number) =>
    Effect.suspend(() => {
      const demoted = e instanceof RedisBusy && (e.reason === "READONLY" || e.reason === "MASTERDOWN")
      if (settings.mode === "sentinel" && demoted && seenGeneration === generation() && client.status === "ready") {
        return Effect.logWarning("redis primary was demoted; reconnecting through the sentinels", {
          target,
          error: e.message
        }).pipe(Effect.andThen(Effect.sync(() => client.disconnect(false))))
      }
      if (cluster !== undefined && (e instanceof RedisUnavailable || e instanceof RedisBusy)) {
        return Effect.sync(refreshSlots)
      }
      return Effect.void
    })

  const failed = (e: unknown, command: string) => Effect.suspend(() => Effect.fail(toRedisError(e, command, timeoutMs)))

  /**
   * The call raced against a timer in one callback: what `Effect.timeoutOrElse` does on
   * the live Clock (whose sleep is this same setTimeout), without forking two fibers per call.
   */
  const timedCall = <C, A>(command: string, c: C, f: (c: C) => Promise<A>, ms: number) =>
    Effect.callback<A, RedisError>((resume) => {
      const timer = setTimeout(() => resume(timedOut(command)), ms)
      const settle = (effect: Effect.Effect<A, RedisError>) => {
        clearTimeout(timer)
        resume(effect)
      }
      try {
        f(c).then(
          (a) => settle(Effect.succeed(a)),
          (e) => settle(failed(e, command))
        )
      } catch (e) {
        settle(failed(e, command))
      }
      return Effect.sync(() => clearTimeout(timer))
    })

  const send = <C, A>(
    clock: Clock.Clock,
    command: string,
    c: C,
    f: (c: C) => Promise<A>,
    waitMs: number,
    seenGeneration: number
  ) => {
    const ms = Math.max(1, waitMs)
    const call =
      clock === liveClock && ms <= MAX_TIMER_MS
        ? timedCall(command, c, f, ms)
        : Effect.tryPromise({ try: () => f(c), catch: (e) => toRedisError(e, command, timeoutMs) }).pipe(
            Effect.timeoutOrElse({ duration: Duration.millis(ms), orElse: () => timedOut(command) })
          )
    return Effect.tapError(call, (e) => afterFailure(e, seenGeneration))
  }

  /**
   * One try before `deadline`: wait for a young reconnect if the client is not
   * ready (nothing is sent while waiting), then send with what is left. Past the
   * deadline it fails with the previous try's error (or a Timeout).
   */
  const attempt = <C, A>(
    clock: Clock.Clock,
    command: string,
    conn: Effect.Effect<C, RedisError>,
    f: (c: C) => Promise<A>,
    deadline: number,
    lastError: RedisError | undefined
  ): Effect.Effect<A, RedisError> => {
    const left = deadline - clock.currentTimeMillisUnsafe()
    if (left <= 0) return lastError === undefined ? timedOut(command) : Effect.fail(lastError)
    if (client.status === "ready") {
      const seen = generation()
      return Effect.flatMap(conn, (c) => send(clock, command, c, f, left, seen))
    }
    return awaitConnection(command, left).pipe(
      Effect.andThen(
        Effect.suspend(() => {
          const seen = generation()
          return Effect.flatMap(conn, (c) =>
            send(clock, command, c, f, deadline - clock.currentTimeMillisUnsafe(), seen)
          )
        })
      )
    )
  }

  /**
   * One call within the command timeout. Every call may wait for a young reconnect
   * before it is sent; only an idempotent one is sent again after a retryable
   * failure (backoff from the one retry policy, never past the deadline). A
   * READONLY reply therefore means: reconnect, then one more try for an idempotent
   * call, a retryable RedisBusy for any other (it did not run: nothing is written twice).
   * The retry machinery is only set up once a first try has failed with a retryable error.
   */
  const execute = <C, A>(
    command: string,
    conn: Effect.Effect<C, RedisError>,
    f: (c: C) => Promise<A>,
    options?: RunOptions
  ): Effect.Effect<A, RedisError> =>
    Effect.clockWith((clock) => {
      const deadline = clock.currentTimeMillisUnsafe() + timeoutMs
      const first = attempt(clock, command, conn, f, deadline, undefined)
      if (options?.idempotent !== true) return first
      return Effect.catch(first, (error) =>
        error.retryable ? retry(clock, command, conn, f, deadline, error) : Effect.fail(error)
      )
    })

  /** The tries after a retryable first failure, on the retry policy, never past the deadline. */
  const retry = <C, A>(
    clock: Clock.Clock,
    command: string,
    conn: Effect.Effect<C, RedisError>,
    f: (c: C) => Promise<A>,
    deadline: number,
    firstError: RedisError
  ): Effect.Effect<A, RedisError> => {
    let lastError: RedisError | undefined
    // The first failure is replayed as the schedule's first input, exactly as if `Effect.retry` had seen it.
    const again = Effect.suspend(() => {
      if (lastError === undefined) {
        lastError = firstError
        return Effect.fail(firstError)
      }
      return attempt(clock, command, conn, f, deadline, lastError).pipe(
        Effect.tapError((e) =>
          Effect.sync(() => {
            lastError = e
          })
        )
      )
    })
    return Effect.retry(
      again,
      retryPolicy.pipe(Schedule.while(({ now, duration }) => now + Duration.toMillis(duration) < deadline))
    )
  }

  const wholeClient = Effect.succeed(client)

  const run = <A>(command: string, f: (c: RedisLike) => Promise<A>, options?: RunOptions) =>
    execute(command, wholeClient, f, options)

  const runOnPrimary = <A>(slot: number, command: string, f: (node: Redis) => Promise<A>, options?: RunOptions) =>
    execute(command, connection.primaryFor(slot), f, options)

  const script = (name: string, lua: string): ScriptRunner => {
    const commandName = `mcp_${name}`
    client.defineCommand(commandName, { lua })
    // Cluster auto-pipelining groups a call by the slot of its first argument, which for a
    // script is the key count: scripts for different slots would share one pipeline. Sent on
    // their own, ioredis routes them by their first key (a node connection still opening holds
    // them in its offline queue: see `enableOfflineQueue` in `clusterOptions`).
    cluster?.options.autoPipeliningIgnoredCommands?.push(commandName)
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

  const health = Effect.clockWith((clock) =>
    Effect.gen(function* () {
      // Not connected: the supervisor's last connect error (refused, TLS, WRONGPASS…) says why; keep it.
      if (client.status !== "ready") return yield* Ref.get(state)
      const start = clock.currentTimeMillisUnsafe()
      const pinged = yield* Effect.result(execute("PING", wholeClient, (c) => c.ping()))
      const end = clock.currentTimeMillisUnsafe()
      if (pinged._tag === "Success") yield* Ref.update(state, (h) => ({ ...h, latencyMs: end - start }))
      else yield* recordError(pinged.failure.message)
      return yield* Ref.get(state)
    })
  )

  return { run, runOnPrimary, script, health }
}
