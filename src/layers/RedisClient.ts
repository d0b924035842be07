/**
 * The Redis connection as an Effect service: one ioredis client acquired in the
 * layer's scope and quit on release, (re)connected by an Effect `Schedule`, with a
 * timeout on every command, typed errors, retry for idempotent commands only, and
 * a health model. Works the same on a standalone server, behind Sentinel (follows
 * failovers) and on a Cluster (per-node calls for SCAN, DBSIZE, INFO…).
 */

import { Clock, Context, Duration, Effect, Layer, Ref, Schedule, type Scope } from "effect"
import { Cluster, type Redis } from "ioredis"
import { RedisBusy, type RedisError, RedisUnavailable, Timeout } from "../Errors.ts"
import { addressOf, connectionTo, nodeServing, type PrimaryNode, primariesOf, singlePrimary } from "./ClusterRouting.ts"
import { keySlot } from "./ClusterSlots.ts"
import { RedisConfig, type RedisSettings, ServerConfig } from "./Config.ts"
import { describeTarget, makeClient, type RedisLike } from "./RedisConnect.ts"
import { toRedisError } from "./RedisErrors.ts"
import { backoff, commandRetry } from "./RetrySchedule.ts"

export type { PrimaryNode } from "./ClusterRouting.ts"
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
  /**
   * A separate connection (blocking reads, pub/sub), released with the scope. On a
   * Cluster it goes to one primary: right for pub/sub (PUBLISH reaches every node),
   * wrong for a blocking read of a key on another node: use `dedicatedFor(key)`.
   */
  readonly dedicated: Effect.Effect<Redis, RedisError, Scope.Scope>
  /** A separate connection to the primary serving `key` (the same as `dedicated` outside a Cluster). */
  readonly dedicatedFor: (key: string) => Effect.Effect<Redis, RedisError, Scope.Scope>
  /** Every primary with its slots, from the client's slot map; one entry outside a Cluster. */
  readonly primaries: Effect.Effect<ReadonlyArray<PrimaryNode>, RedisError>
  /**
   * Run one call on the primary serving `slot` (its own connection, no key routing):
   * SCAN, DBSIZE, INFO… per node. Outside a Cluster every slot is the one server.
   */
  readonly runOnPrimary: <A>(
    slot: number,
    command: string,
    f: (node: Redis) => Promise<A>,
    options?: RunOptions
  ) => Effect.Effect<A, RedisError>
  /** Wait until the connection is ready (at most `timeoutMs`); fails with RedisUnavailable after that. */
  readonly awaitReady: (timeoutMs: number) => Effect.Effect<void, RedisUnavailable>
  /** The settings this client was built from. */
  readonly settings: RedisSettings
  /** The key prefix every key is scoped under ("" for none). */
  readonly keyPrefix: string
  /** Escape hatch for libraries that need the ioredis client itself. */
  readonly unsafeClient: RedisLike
}

/**
 * Calls that may wait for a reconnect at the same time; past it they fail at once
 * with RedisUnavailable, so an outage never builds an unbounded queue.
 */
export const MAX_WAITING_CALLS = 512

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
    const cluster = client instanceof Cluster ? client : undefined
    // ioredis emits "error" on every failed attempt; without a listener Node would crash. The event
    // carries the cause (ECONNREFUSED, a TLS or WRONGPASS error) that connect() reports only as "Connection is closed".
    let lastSocketError: string | undefined
    client.on("error", (e: unknown) => {
      lastSocketError = errorMessage(e)
    })
    // Cluster node errors (a node died, a slot refresh failed) do not close the cluster; keep them for `health`.
    client.on("node error", (e: unknown) => {
      lastSocketError = errorMessage(e)
    })

    /** Bumped at each (re)connect: a late error from an old connection must not drop the new one. */
    let generation = 0
    /** When the connection was last lost (the start counts); null while it is up. */
    let downSince: number | null = yield* Clock.currentTimeMillis
    let waiting = 0

    const recordError = (message: string) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Ref.update(state, (h) => ({ ...h, lastError: message, lastErrorAt: now }))
      )

    /** Resolves on `event`, or at once when `done()` already holds. */
    const onceEvent = (event: string, done: () => boolean) =>
      Effect.callback<void>((resume) => {
        if (done()) {
          resume(Effect.void)
          return
        }
        const on = () => resume(Effect.void)
        client.once(event, on)
        return Effect.sync(() => {
          client.off(event, on)
        })
      })

    const waitForEnd = onceEvent("end", () => client.status === "end")
    const whenReady = onceEvent("ready", () => client.status === "ready")

    /** connect() where the client can start one; otherwise the outcome of the connect already under way. */
    const connecting = (): Promise<void> => {
      switch (client.status) {
        case "ready":
          return Promise.resolve()
        case "end":
        case "wait":
          return client.connect()
        default:
          return new Promise<void>((resolve, reject) => {
            const ok = () => {
              client.off("end", ko)
              resolve()
            }
            const ko = () => {
              client.off("ready", ok)
              reject(new Error("Connection is closed."))
            }
            client.once("ready", ok)
            client.once("end", ko)
          })
      }
    }

    const connectOnce = Effect.tryPromise({
      try: () => {
        lastSocketError = undefined
        return connecting()
      },
      catch: (e) => lastSocketError ?? errorMessage(e)
    }).pipe(
      Effect.tapError((message) => recordError(message)),
      Effect.tapError((message) => Effect.logWarning("redis connect failed", { target, error: message }))
    )

    const supervise = Effect.gen(function* () {
      let first = true
      while (true) {
        yield* connectOnce.pipe(Effect.retry(backoff(settings.retry)))
        const now = yield* Clock.currentTimeMillis
        const downFor = downSince === null ? 0 : now - downSince
        generation++
        downSince = null
        yield* Ref.update(state, (h) => ({ ...h, state: "ready" as const, connectedSince: now }))
        if (first) yield* Effect.logInfo("redis connected", { target })
        else yield* Effect.logInfo("redis reconnected", { target, downMs: downFor })
        first = false
        yield* waitForEnd
        downSince = yield* Clock.currentTimeMillis
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

    const timedOut = (command: string) =>
      Effect.fail(
        new Timeout({
          message: `${command} did not answer within ${timeoutMs} ms. Redis may be overloaded or paused; retry later and check the \`health\` tool.`,
          timeoutMs
        })
      )

    /**
     * Before anything is sent, a call may wait for the connection: only while the
     * outage is younger than the command timeout (a failover, a restart, a READONLY
     * reconnect), at most `waitMs`, and at most MAX_WAITING_CALLS calls at once.
     * Nothing was sent yet, so this is safe for writes too; a long outage fails fast.
     */
    const awaitConnection = (command: string, waitMs: number): Effect.Effect<void, RedisUnavailable> =>
      Effect.suspend(() => {
        if (client.status === "ready") return Effect.void
        return Effect.flatMap(Clock.currentTimeMillis, (now) => {
          const young = downSince === null || now - downSince < timeoutMs
          if (!young || waitMs <= 0 || waiting >= MAX_WAITING_CALLS) return Effect.fail(notReady(command))
          waiting++
          return whenReady.pipe(
            Effect.timeoutOrElse({ duration: Duration.millis(waitMs), orElse: () => Effect.fail(notReady(command)) }),
            Effect.ensuring(
              Effect.sync(() => {
                waiting--
              })
            )
          )
        })
      })

    const refreshSlots = () => {
      cluster?.refreshSlotsCache()
    }

    /**
     * What a failure says about the connection. READONLY or MASTERDOWN behind Sentinel:
     * this node is no longer the primary, so drop the connection and let the supervisor
     * ask the sentinels again. On a Cluster, a lost node, CLUSTERDOWN, TRYAGAIN or a
     * moved slot: refresh the slot map so the next try goes to the new owner.
     */
    const afterFailure = (e: RedisError, seenGeneration: number) =>
      Effect.suspend(() => {
        const demoted = e instanceof RedisBusy && (e.reason === "READONLY" || e.reason === "MASTERDOWN")
        if (settings.mode === "sentinel" && demoted && seenGeneration === generation && client.status === "ready") {
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

    const send = <C, A>(command: string, c: C, f: (c: C) => Promise<A>, waitMs: number, seenGeneration: number) =>
      Effect.tryPromise({ try: () => f(c), catch: (e) => toRedisError(e, command, timeoutMs) }).pipe(
        Effect.timeoutOrElse({ duration: Duration.millis(Math.max(1, waitMs)), orElse: () => timedOut(command) }),
        Effect.tapError((e) => afterFailure(e, seenGeneration))
      )

    /**
     * One call within the command timeout. Every call may wait for a young reconnect
     * before it is sent; only an idempotent one is sent again after a retryable
     * failure (backoff from the one retry policy, never past the deadline). A
     * READONLY reply therefore means: reconnect, then one more try for an idempotent
     * call, a retryable RedisBusy for any other (it did not run: nothing is written twice).
     */
    const execute = <C, A>(
      command: string,
      connection: Effect.Effect<C, RedisError>,
      f: (c: C) => Promise<A>,
      options?: RunOptions
    ): Effect.Effect<A, RedisError> =>
      Effect.gen(function* () {
        const deadline = (yield* Clock.currentTimeMillis) + timeoutMs
        let lastError: RedisError | undefined
        const once = Effect.gen(function* () {
          const left = deadline - (yield* Clock.currentTimeMillis)
          if (left <= 0) return yield* lastError === undefined ? timedOut(command) : Effect.fail(lastError)
          yield* awaitConnection(command, left)
          const seen = generation
          const c = yield* connection
          return yield* send(command, c, f, deadline - (yield* Clock.currentTimeMillis), seen)
        }).pipe(
          Effect.tapError((e) =>
            Effect.sync(() => {
              lastError = e
            })
          )
        )
        if (options?.idempotent !== true) return yield* once
        return yield* once.pipe(
          Effect.retry(
            commandRetry<RedisError>(settings.retry, timeoutMs).pipe(
              Schedule.while(({ now, duration }) => now + Duration.toMillis(duration) < deadline)
            )
          )
        )
      })

    const wholeClient = Effect.succeed(client)

    const run = <A>(
      command: string,
      f: (c: RedisLike) => Promise<A>,
      options?: RunOptions
    ): Effect.Effect<A, RedisError> => execute(command, wholeClient, f, options)

    /** The node connection serving `slot` (on a Cluster), or the one client. */
    const primaryFor = (slot: number): Effect.Effect<Redis, RedisError> =>
      Effect.suspend(() => {
        if (cluster === undefined) return Effect.succeed(client as Redis)
        const node = nodeServing(cluster, slot)
        if (node !== undefined) return Effect.succeed(node)
        refreshSlots()
        return Effect.fail(
          new RedisUnavailable({
            message: `No reachable primary serves slot ${slot} right now (failover or resharding under way); retry in a few seconds and check the \`topology\` tool.`
          })
        )
      })

    const runOnPrimary = <A>(
      slot: number,
      command: string,
      f: (node: Redis) => Promise<A>,
      options?: RunOptions
    ): Effect.Effect<A, RedisError> => execute(command, primaryFor(slot), f, options)

    const slotMap: Effect.Effect<ReadonlyArray<PrimaryNode>, RedisError> = Effect.suspend(() =>
      client.status !== "ready"
        ? Effect.fail(notReady("CLUSTER SLOTS"))
        : Effect.succeed(cluster === undefined ? singlePrimary(client as Redis) : primariesOf(cluster))
    )
    const primaries = awaitConnection("CLUSTER SLOTS", timeoutMs).pipe(Effect.andThen(slotMap))

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

    const health = Effect.gen(function* () {
      // Not connected: the supervisor's last connect error (refused, TLS, WRONGPASS…) says why; keep it.
      if (client.status !== "ready") return yield* Ref.get(state)
      const start = yield* Clock.currentTimeMillis
      const pinged = yield* Effect.result(execute("PING", wholeClient, (c) => c.ping()))
      const end = yield* Clock.currentTimeMillis
      if (pinged._tag === "Success") yield* Ref.update(state, (h) => ({ ...h, latencyMs: end - start }))
      else yield* recordError(pinged.failure.message)
      return yield* Ref.get(state)
    })

    /** Open a connection of its own, failing within the command timeout. */
    const open = (make: () => Redis) =>
      Effect.acquireRelease(
        Effect.suspend(() => {
          const conn = make()
          conn.on("error", () => undefined)
          return Effect.tryPromise({
            try: () => conn.connect().then(() => conn),
            catch: (e) => toRedisError(e, "CONNECT", timeoutMs)
          }).pipe(
            Effect.timeoutOrElse({
              duration: Duration.millis(timeoutMs),
              orElse: () => Effect.sync(() => conn.disconnect()).pipe(Effect.andThen(Effect.fail(notReady("CONNECT"))))
            }),
            Effect.tapError(() => Effect.sync(() => conn.disconnect()))
          )
        }),
        (conn) => Effect.sync(() => conn.disconnect())
      )

    /** A connection of its own, with the key prefix, to the node at `address` (Cluster). */
    const toNode = (address: string) => open(() => connectionTo(settings, keyPrefix, address))

    // The failover detector is for the shared connection: each dedicated one would open its own sentinel links.
    const duplicate = () => open(() => (client as Redis).duplicate({ lazyConnect: true, failoverDetector: false }))

    const dedicatedFor = (key: string): Effect.Effect<Redis, RedisError, Scope.Scope> =>
      awaitConnection("CONNECT", timeoutMs).pipe(
        Effect.andThen(
          cluster === undefined
            ? duplicate()
            : Effect.flatMap(primaryFor(keySlot(keyPrefix + key)), (node) => toNode(addressOf(node)))
        )
      )

    const dedicated: Effect.Effect<Redis, RedisError, Scope.Scope> = awaitConnection("CONNECT", timeoutMs).pipe(
      Effect.andThen(
        cluster === undefined
          ? duplicate()
          : Effect.suspend(() => {
              const masters = cluster.nodes("master")
              const node = masters.find((n) => n.status === "ready") ?? masters[0]
              return node === undefined ? Effect.fail(notReady("CONNECT")) : toNode(addressOf(node))
            })
      )
    )

    const awaitReady = (waitMs: number) =>
      Effect.suspend(() => (client.status === "ready" ? Effect.void : Effect.fail(notReady("CONNECT")))).pipe(
        Effect.retry(Schedule.spaced(Duration.millis(20)).pipe(Schedule.upTo({ duration: Duration.millis(waitMs) })))
      )

    return RedisClient.of({
      run,
      script,
      health,
      dedicated,
      dedicatedFor,
      primaries,
      runOnPrimary,
      awaitReady,
      settings,
      keyPrefix,
      unsafeClient: client
    })
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
