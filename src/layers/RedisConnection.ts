/**
 * The shared Redis connection and its supervisor: one ioredis client acquired in
 * the scope and quit on release, (re)connected by the retry `Schedule`, with the
 * health state, the wait-for-a-young-reconnect gate every call passes, slot
 * routing on a Cluster, and separate connections (`RedisDedicated`: blocking reads, pub/sub).
 */
import { Clock, Duration, Effect, Metric, Ref, Schedule, type Scope } from "effect"
import { Cluster, type Redis } from "ioredis"
import { type RedisError, RedisUnavailable } from "../Errors.ts"
import { monitorCluster } from "./ClusterMonitor.ts"
import { connectedAddress, nodeServing, type PrimaryNode, primariesOf, singlePrimary } from "./ClusterRouting.ts"
import { RedisConfig, type RedisSettings, ServerConfig } from "./Config.ts"
import * as Metrics from "./Metrics.ts"
import { describeTarget, makeClient, type RedisLike } from "./RedisConnect.ts"
import { makeDedicated } from "./RedisDedicated.ts"
import { backoff } from "./RetrySchedule.ts"

/**
 * The connection's state as seen by `health`, `/healthz` and metrics. `connecting`:
 * not ready once since start, whether the first attempt is under way or every attempt
 * so far failed (`lastError` says why); `reconnecting`: was ready, then lost.
 */
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

/**
 * Calls that may wait for a reconnect at the same time; past it they fail at once
 * with RedisUnavailable, so an outage never builds an unbounded queue.
 */
export const MAX_WAITING_CALLS = 512

const errorMessage = (e: unknown) => (e instanceof Error ? e.message : String(e))

/** The supervised connection, as the call layer (`RedisCalls`) and `RedisClient` use it. */
export interface Connection {
  readonly settings: RedisSettings
  readonly keyPrefix: string
  readonly target: string
  /** The command timeout (ms): every call's deadline, retries included. */
  readonly timeoutMs: number
  readonly client: RedisLike
  readonly cluster: Cluster | undefined
  /** Bumped at each (re)connect: a late error from an old connection must not drop the new one. */
  readonly generation: () => number
  readonly state: Ref.Ref<Health>
  readonly recordError: (message: string) => Effect.Effect<void>
  /**
   * Drop the shared connection so that the supervisor connects again, and wait (briefly)
   * until it is really closed: a call made right after then waits for the reconnect
   * instead of meeting the closing socket.
   */
  readonly dropConnection: Effect.Effect<void>
  /** Count a failover (a new primary, or a demoted one) in the metrics and the log. */
  readonly failoverSeen: (what: string) => Effect.Effect<void>
  readonly notReady: (command: string) => RedisUnavailable
  /** Ask a Cluster for its slot map again (no-op elsewhere). */
  readonly refreshSlots: () => void
  readonly awaitConnection: (command: string, waitMs: number) => Effect.Effect<void, RedisUnavailable>
  readonly awaitReady: (timeoutMs: number) => Effect.Effect<void, RedisUnavailable>
  /** The node connection serving `slot` (on a Cluster), or the one client. */
  readonly primaryFor: (slot: number) => Effect.Effect<Redis, RedisError>
  readonly primaries: Effect.Effect<ReadonlyArray<PrimaryNode>, RedisError>
  readonly dedicated: Effect.Effect<Redis, RedisError, Scope.Scope>
  readonly dedicatedFor: (key: string) => Effect.Effect<Redis, RedisError, Scope.Scope>
}

export const makeConnection: Effect.Effect<Connection, never, RedisConfig | ServerConfig | Scope.Scope> = Effect.gen(
  function* () {
    const settings = yield* RedisConfig
    const { keyPrefix } = yield* ServerConfig
    const target = describeTarget(settings)
    const timeoutMs = settings.commandTimeoutMs
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
    const dropConnection = Effect.sync(() => client.disconnect(false)).pipe(
      Effect.andThen(onceEvent("close", () => client.status !== "ready")),
      Effect.timeout(Duration.millis(settings.connectTimeoutMs)),
      Effect.ignore
    )
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

    const failoverSeen = (what: string) =>
      Metric.update(Metrics.redisFailovers, 1).pipe(
        Effect.andThen(Effect.logWarning("redis failover seen", { target, what }))
      )

    const connectOnce = Effect.tryPromise({
      try: () => {
        lastSocketError = undefined
        return connecting()
      },
      catch: (e) => lastSocketError ?? errorMessage(e)
    }).pipe(
      Effect.tapError((message) => recordError(message)),
      // Known down from the first failed attempt on (before it, the gauge is absent: unknown, not down).
      Effect.tapError(() => Metric.update(Metrics.redisConnected, 0)),
      Effect.tapError((message) => Effect.logWarning("redis connect failed", { target, error: message }))
    )

    /** Sentinel: the primary's address at the last connect; a different one at the next is a failover. */
    let primaryAddress: string | undefined
    const notePrimary = Effect.suspend(() => {
      if (settings.mode !== "sentinel") return Effect.void
      const address = connectedAddress(client as Redis)
      const before = primaryAddress
      primaryAddress = address
      return before === undefined || before === address
        ? Effect.void
        : failoverSeen(`the sentinels named a new primary: ${address} (was ${before})`)
    })

    const supervise = Effect.gen(function* () {
      let first = true
      while (true) {
        yield* connectOnce.pipe(Effect.retry(backoff(settings.retry)))
        const now = yield* Clock.currentTimeMillis
        const downFor = downSince === null ? 0 : now - downSince
        generation++
        downSince = null
        yield* Ref.update(state, (h) => ({ ...h, state: "ready" as const, connectedSince: now }))
        yield* Metric.update(Metrics.redisConnected, 1)
        if (first) yield* Effect.logInfo("redis connected", { target })
        else yield* Effect.logInfo("redis reconnected", { target, downMs: downFor })
        yield* notePrimary
        first = false
        yield* waitForEnd
        downSince = yield* Clock.currentTimeMillis
        yield* Ref.update(state, (h) => ({
          ...h,
          state: "reconnecting" as const,
          connectedSince: null,
          reconnects: h.reconnects + 1
        }))
        yield* Metric.update(Metrics.redisConnected, 0)
        yield* Metric.update(Metrics.redisReconnects, 1)
        if (cluster !== undefined) yield* Metric.update(Metrics.clusterSlotsCovered, 0)
        yield* recordError("connection closed")
        yield* Effect.logWarning("redis connection lost; reconnecting", { target })
      }
    })
    if (cluster !== undefined) {
      yield* Effect.forkScoped(monitorCluster(cluster, settings.slotsRefreshTimeoutMs, failoverSeen))
    }
    yield* Effect.forkScoped(supervise)

    const notReady = (command: string) =>
      new RedisUnavailable({
        message: `${command} could not reach Redis at ${target} (not connected: ${client.status}). Redis may be restarting or unreachable; retry in a few seconds and check the \`health\` tool.`
      })

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

    const slotMap: Effect.Effect<ReadonlyArray<PrimaryNode>, RedisError> = Effect.suspend(() =>
      client.status !== "ready"
        ? Effect.fail(notReady("CLUSTER SLOTS"))
        : Effect.succeed(cluster === undefined ? singlePrimary(client as Redis) : primariesOf(cluster))
    )
    const primaries = awaitConnection("CLUSTER SLOTS", timeoutMs).pipe(Effect.andThen(slotMap))

    const { dedicated, dedicatedFor } = makeDedicated({
      settings,
      keyPrefix,
      timeoutMs,
      client,
      cluster,
      awaitConnection,
      primaryFor,
      notReady
    })

    const awaitReady = (waitMs: number) =>
      Effect.suspend(() => (client.status === "ready" ? Effect.void : Effect.fail(notReady("CONNECT")))).pipe(
        Effect.retry(Schedule.spaced(Duration.millis(20)).pipe(Schedule.upTo({ duration: Duration.millis(waitMs) })))
      )

    return {
      settings,
      keyPrefix,
      target,
      timeoutMs,
      client,
      cluster,
      generation: () => generation,
      state,
      recordError,
      failoverSeen,
      dropConnection,
      notReady,
      refreshSlots,
      awaitConnection,
      awaitReady,
      primaryFor,
      primaries,
      dedicated,
      dedicatedFor
    } satisfies Connection
  }
)
