/**
 * Connections of their own, next to the shared one: for blocking reads (to the
 * node serving the key on a Cluster) and for subscriptions. Each is opened within
 * the command timeout and, when its scope closes, closed and waited for.
 */
import { Duration, Effect, type Scope } from "effect"
import type { Cluster, Redis } from "ioredis"
import type { RedisError, RedisUnavailable } from "../Errors.ts"
import { addressOf, connectionTo } from "./ClusterRouting.ts"
import { keySlot } from "./ClusterSlots.ts"
import type { RedisSettings } from "./Config.ts"
import type { RedisLike } from "./RedisConnect.ts"
import { toRedisError } from "./RedisErrors.ts"
import { guardStreamErrors } from "./StreamErrors.ts"

/** The longest the release of a dedicated connection waits for its socket to close. */
const CLOSE_WAIT_MS = 2500

export interface DedicatedDeps {
  readonly settings: RedisSettings
  readonly keyPrefix: string
  readonly timeoutMs: number
  readonly client: RedisLike
  readonly cluster: Cluster | undefined
  readonly awaitConnection: (command: string, waitMs: number) => Effect.Effect<void, RedisUnavailable>
  readonly primaryFor: (slot: number) => Effect.Effect<Redis, RedisError>
  readonly notReady: (command: string) => RedisUnavailable
}

/**
 * Close a connection of its own and wait until the socket is closed, which Redis does once
 * it has dropped the client: after release, its subscriptions are gone (a PUBLISH counts no
 * receiver there) and a blocking command it ran is over. ioredis destroys a socket that does
 * not close within 2 s; the wait is bounded besides.
 */
const closed = (conn: Redis) =>
  Effect.callback<void>((resume) => {
    if (conn.status === "end") {
      resume(Effect.void)
      return
    }
    const done = () => resume(Effect.void)
    conn.once("end", done)
    conn.disconnect()
    return Effect.sync(() => {
      conn.off("end", done)
    })
  }).pipe(Effect.timeout(Duration.millis(CLOSE_WAIT_MS)), Effect.ignore)

export const makeDedicated = (deps: DedicatedDeps) => {
  const { settings, keyPrefix, timeoutMs, client, cluster, awaitConnection, primaryFor, notReady } = deps

  /** Open a connection of its own, failing within the command timeout. */
  const open = (make: () => Redis) =>
    Effect.acquireRelease(
      Effect.suspend(() => {
        const conn = guardStreamErrors(make())
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
      closed
    )

  /** A connection of its own, with the key prefix, to the node at `address` (Cluster). */
  const toNode = (address: string) => open(() => connectionTo(settings, keyPrefix, address))

  // The failover detector is for the shared connection: each dedicated one would open its own sentinel links.
  const duplicate = () =>
    open(() => (client as Redis).duplicate({ lazyConnect: true, failoverDetector: false, commandTimeout: timeoutMs }))

  /** A separate connection to the primary serving `key` (a duplicate of the client outside a Cluster). */
  const dedicatedFor = (key: string): Effect.Effect<Redis, RedisError, Scope.Scope> =>
    awaitConnection("CONNECT", timeoutMs).pipe(
      Effect.andThen(
        cluster === undefined
          ? duplicate()
          : Effect.flatMap(primaryFor(keySlot(keyPrefix + key)), (node) => toNode(addressOf(node)))
      )
    )

  /** A separate connection; on a Cluster to one ready primary. */
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

  return { dedicated, dedicatedFor }
}
