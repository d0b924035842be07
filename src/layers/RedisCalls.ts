/**
 * One call on the supervised connection: the command timeout as a deadline that
 * covers waiting and retries, each send bounded by the command's (adaptive)
 * timeout, typed errors, retry for idempotent calls only, what a failure says
 * about the connection (Sentinel demotion, Cluster slot moves), and every reply's
 * latency recorded (`RedisLatency`).
 */
import { createHash } from "node:crypto"
import { type Clock, Duration, Effect, Ref, Schedule } from "effect"
import type { Redis } from "ioredis"
import { RedisBusy, type RedisError, RedisUnavailable } from "../Errors.ts"
import type { RedisLike } from "./RedisConnect.ts"
import type { Connection, Health } from "./RedisConnection.ts"
import type { CommandStats, Latencies, LatencyTracker } from "./RedisLatency.ts"
import { makeSend } from "./RedisSend.ts"
import { commandRetry } from "./RetrySchedule.ts"

export interface RunOptions {
  /** Safe to send twice: retried on retryable errors (connection lost, LOADING, READONLY…). */
  readonly idempotent?: boolean
  /**
   * This call's own budget (ms) instead of the command's adaptive timeout, for a call known
   * to take long (a script with a large budget); at most the command timeout (the cap).
   */
  readonly timeoutMs?: number
}

export interface ScriptOptions {
  /** Replies as Buffers (binary-safe values) instead of UTF-8 strings. @default false */
  readonly buffers?: boolean
  /**
   * The script only reads: on a Cluster that reads from replicas (`scaleReads`), it
   * is sent as EVALSHA_RO (Redis 7), which replicas serve. @default false
   */
  readonly readOnly?: boolean
}

/** A Lua script, sent by EVALSHA with fallback to EVAL. */
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
  readonly script: (name: string, lua: string, options?: ScriptOptions) => ScriptRunner
  readonly health: Effect.Effect<Health>
  readonly latencies: Effect.Effect<Latencies>
}

/** The connection a try goes on: the shared client itself, or one found first (a Cluster primary by slot). */
type Conn<C> = { readonly ready: C } | { readonly find: Effect.Effect<C, RedisError> }

const onConn = <C, A>(conn: Conn<C>, use: (c: C) => Effect.Effect<A, RedisError>): Effect.Effect<A, RedisError> =>
  "ready" in conn ? use(conn.ready) : Effect.flatMap(conn.find, use)

/** What a failed first try becomes (an idempotent call's retry decision). */
type OrElse<A> = (error: RedisError) => Effect.Effect<A, RedisError>

const withOrElse = <A>(effect: Effect.Effect<A, RedisError>, orElse: OrElse<A> | undefined) =>
  orElse === undefined ? effect : Effect.catch(effect, orElse)

export const makeCalls = (connection: Connection, tracker: LatencyTracker): Calls => {
  const { settings, target, timeoutMs, client, cluster, state } = connection
  const { sendOnce, timedOut } = makeSend(tracker, timeoutMs, client, settings.autoPipelining)
  const { awaitConnection, generation, recordError, refreshSlots, failoverSeen, dropConnection } = connection
  /** The retry policy of idempotent calls, built once; each failing call adds its own deadline. */
  const retryPolicy = commandRetry<RedisError>(settings.retry, timeoutMs)
  /** The generation a READONLY reply was last counted as a failover for (standalone). */
  let readonlyCounted = -1

  /**
   * What a failure says about the connection. READONLY or MASTERDOWN behind Sentinel:
   * this node is no longer the primary, so drop the connection and let the supervisor
   * ask the sentinels again. READONLY on a standalone URL: the node was demoted (a
   * managed failover), counted once per connection. On a Cluster, a lost node,
   * CLUSTERDOWN, TRYAGAIN or a moved slot: refresh the slot map so the next try goes
   * to the new owner.
   */
  const afterFailure = (e: RedisError, seenGeneration: number) =>
    Effect.suspend(() => {
      const demoted = e instanceof RedisBusy && (e.reason === "READONLY" || e.reason === "MASTERDOWN")
      if (settings.mode === "sentinel" && demoted && seenGeneration === generation() && client.status === "ready") {
        return Effect.logWarning("redis primary was demoted; reconnecting through the sentinels", {
          target,
          error: e.message
        }).pipe(Effect.andThen(dropConnection))
      }
      if (settings.mode === "standalone" && e instanceof RedisBusy && e.reason === "READONLY") {
        if (readonlyCounted === seenGeneration) return Effect.void
        readonlyCounted = seenGeneration
        return failoverSeen("the server answered READONLY: it is a replica now")
      }
      if (cluster !== undefined && (e instanceof RedisUnavailable || e instanceof RedisBusy)) {
        return Effect.sync(refreshSlots)
      }
      return Effect.void
    })

  /**
   * Send at `startMs` (the Clock's time), with `left` ms until the call's deadline. A failure
   * goes to `afterFailure`, then to `orElse` when given (the retry decision, in the same step).
   */
  const send = <C, A>(
    clock: Clock.Clock,
    stats: CommandStats,
    command: string,
    c: C,
    f: (c: C) => Promise<A>,
    replyMs: number,
    adaptive: boolean,
    startMs: number,
    left: number,
    seenGeneration: number,
    orElse?: OrElse<A>
  ): Effect.Effect<A, RedisError> => {
    const ms = Math.max(1, Math.round(Math.min(replyMs, left)))
    const call = sendOnce(clock, stats, startMs, command, c, f, ms, adaptive && replyMs <= left)
    return Effect.catch(call, (e) =>
      Effect.andThen(afterFailure(e, seenGeneration), () => (orElse === undefined ? Effect.fail(e) : orElse(e)))
    )
  }

  /**
   * One try before `deadline`: wait for a young reconnect if the client is not
   * ready (nothing is sent while waiting), then send, bounded by the command's own
   * timeout `replyMs` and by what is left. Past the deadline it fails with the
   * previous try's error (or a Timeout).
   */
  const attempt = <C, A>(
    clock: Clock.Clock,
    stats: CommandStats,
    command: string,
    conn: Conn<C>,
    f: (c: C) => Promise<A>,
    deadline: number,
    replyMs: number,
    adaptive: boolean,
    lastError: RedisError | undefined,
    orElse?: OrElse<A>,
    now = clock.currentTimeMillisUnsafe()
  ): Effect.Effect<A, RedisError> => {
    const left = deadline - now
    if (left <= 0) {
      return withOrElse(lastError === undefined ? timedOut(command, timeoutMs) : Effect.fail(lastError), orElse)
    }
    if (client.status === "ready") {
      const seen = generation()
      // The common case, the shared client ready: straight to the send, one step for any failure.
      if ("ready" in conn) return send(clock, stats, command, conn.ready, f, replyMs, adaptive, now, left, seen, orElse)
      return withOrElse(
        Effect.flatMap(conn.find, (c) => send(clock, stats, command, c, f, replyMs, adaptive, now, left, seen)),
        orElse
      )
    }
    const afterWait = awaitConnection(command, left).pipe(
      Effect.andThen(
        Effect.suspend(() => {
          const seen = generation()
          const later = clock.currentTimeMillisUnsafe()
          return onConn(conn, (c) =>
            send(clock, stats, command, c, f, replyMs, adaptive, later, deadline - later, seen)
          )
        })
      )
    )
    return withOrElse(afterWait, orElse)
  }

  /**
   * One call within the command timeout (the cap). Every call may wait for a young
   * reconnect before it is sent; each send is bounded by the command's timeout
   * (adaptive, or the call's own `timeoutMs`). Only an idempotent call is sent again,
   * after a retryable failure other than a Timeout (a Redis that stopped answering is
   * not asked again: the call fails fast), with backoff from the one retry policy,
   * never past the deadline. A READONLY reply therefore means: reconnect, then one
   * more try for an idempotent call, a retryable RedisBusy for any other (it did not
   * run: nothing is written twice). The retry machinery is only set up once a first
   * try has failed with a retryable error.
   */
  const execute = <C, A>(
    stats: CommandStats,
    command: string,
    conn: Conn<C>,
    f: (c: C) => Promise<A>,
    options?: RunOptions
  ): Effect.Effect<A, RedisError> =>
    Effect.clockWith((clock) => {
      const now = clock.currentTimeMillisUnsafe()
      const own = options?.timeoutMs
      const replyMs = own === undefined ? tracker.timeoutFor(stats, now) : Math.min(timeoutMs, Math.max(1, own))
      const adaptive = own === undefined && replyMs < timeoutMs
      const deadline = now + timeoutMs
      const orElse: OrElse<A> | undefined =
        options?.idempotent === true
          ? (error) =>
              error.retryable && error._tag !== "Timeout"
                ? retry(clock, stats, command, conn, f, deadline, replyMs, adaptive, error)
                : Effect.fail(error)
          : undefined
      return attempt(clock, stats, command, conn, f, deadline, replyMs, adaptive, undefined, orElse, now)
    })

  /** The tries after a retryable first failure, on the retry policy, never past the deadline. */
  const retry = <C, A>(
    clock: Clock.Clock,
    stats: CommandStats,
    command: string,
    conn: Conn<C>,
    f: (c: C) => Promise<A>,
    deadline: number,
    replyMs: number,
    adaptive: boolean,
    firstError: RedisError
  ): Effect.Effect<A, RedisError> => {
    let lastError: RedisError | undefined
    // The first failure is replayed as the schedule's first input, exactly as if `Effect.retry` had seen it.
    const again = Effect.suspend(() => {
      if (lastError === undefined) {
        lastError = firstError
        return Effect.fail(firstError)
      }
      return attempt(clock, stats, command, conn, f, deadline, replyMs, adaptive, lastError).pipe(
        Effect.tapError((e) =>
          Effect.sync(() => {
            lastError = e
          })
        )
      )
    })
    return Effect.retry(
      again,
      retryPolicy.pipe(
        Schedule.while(
          ({ input, now, duration }) => input._tag !== "Timeout" && now + Duration.toMillis(duration) < deadline
        )
      )
    )
  }

  const wholeClient: Conn<RedisLike> = { ready: client }

  const run = <A>(command: string, f: (c: RedisLike) => Promise<A>, options?: RunOptions) =>
    execute(tracker.handle(command), command, wholeClient, f, options)

  const runOnPrimary = <A>(slot: number, command: string, f: (node: Redis) => Promise<A>, options?: RunOptions) =>
    execute(tracker.handle(command), command, { find: connection.primaryFor(slot) }, f, options)

  /**
   * EVALSHA (EVALSHA_RO for a read-only script on a Cluster that reads from replicas, which
   * replicas serve and which is routed like any read-only command), loading the script with
   * EVAL (EVAL_RO) when the node lacks it. Not ioredis's `defineCommand`: every pipeline
   * ioredis makes (each auto-pipelined batch) copies every defined script onto itself,
   * some 5 µs per batch with our 30 scripts.
   */
  const script = (name: string, lua: string, scriptOptions?: ScriptOptions): ScriptRunner => {
    const readOnly = scriptOptions?.readOnly === true && cluster !== undefined && settings.scaleReads !== "master"
    const sha = createHash("sha1").update(lua).digest("hex")
    const [evalsha, evalScript] = readOnly ? ["evalsha_ro", "eval_ro"] : ["evalsha", "eval"]
    const suffix = scriptOptions?.buffers === true ? "Buffer" : ""
    const command = `script ${name}`
    const stats = tracker.handle(command)
    // Cluster auto-pipelining groups a call by the slot of its first argument, which for a
    // script is its SHA: scripts for different slots would share one pipeline. Sent on their
    // own, ioredis routes them by their first key (a node connection still opening holds
    // them in its offline queue: see `enableOfflineQueue` in `clusterOptions`).
    // The connections (a standalone client's socket; a Cluster as a whole) the script was sent on.
    const loadedOn = new WeakSet<object>()
    const ignored = cluster?.options.autoPipeliningIgnoredCommands
    if (ignored !== undefined && !ignored.includes(evalsha)) ignored.push(evalsha, evalScript)
    return (keys, args, options) =>
      execute(
        stats,
        command,
        wholeClient,
        (c) => {
          const client = c as unknown as Record<string, (...a: Array<unknown>) => Promise<unknown>>
          const evalOnce = () => client[`${evalScript}${suffix}`]!(lua, keys.length, ...keys, ...args)
          // As ioredis does: the first time on a connection, EVAL (which also loads the script).
          const connection = (c as { stream?: object }).stream ?? c
          if (!loadedOn.has(connection)) {
            loadedOn.add(connection)
            return evalOnce()
          }
          return client[`${evalsha}${suffix}`]!(sha, keys.length, ...keys, ...args).catch((e: unknown) =>
            e instanceof Error && e.message.includes("NOSCRIPT") ? evalOnce() : Promise.reject(e)
          )
        },
        options
      )
  }

  const ping = tracker.handle("PING")
  const health = Effect.clockWith((clock) =>
    Effect.gen(function* () {
      // Not connected: the supervisor's last connect error (refused, TLS, WRONGPASS…) says why; keep it.
      if (client.status !== "ready") return yield* Ref.get(state)
      const start = clock.currentTimeMillisUnsafe()
      const pinged = yield* Effect.result(execute(ping, "PING", wholeClient, (c) => c.ping()))
      const end = clock.currentTimeMillisUnsafe()
      if (pinged._tag === "Success") yield* Ref.update(state, (h) => ({ ...h, latencyMs: end - start }))
      else yield* recordError(pinged.failure.message)
      return yield* Ref.get(state)
    })
  )

  const latencies = Effect.clockWith((clock) => Effect.sync(() => tracker.report(clock.currentTimeMillisUnsafe())))

  return { run, runOnPrimary, script, health, latencies }
}
