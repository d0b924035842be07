/**
 * Connections of their own for replies of unknown size, each read under a byte
 * budget: the bytes Redis sends are counted as they arrive and the connection
 * is cut the moment they pass the budget, so at most the budget (plus one socket
 * read) is ever held, whatever the reply. On a standalone server a connection
 * whose call ended well is kept for the next call (a few at most); a cut or
 * failed one is closed. Behind Sentinel (a kept connection would not follow a
 * failover) and on a Cluster (each call goes to the node serving its keys) every
 * call opens its own.
 */
import { Effect, Exit, Scope } from "effect"
import type { Redis } from "ioredis"
import type { RedisError } from "../../Errors.ts"
import type { RedisClientShape } from "../../layers/RedisClient.ts"

/** The call's reply passed the budget: the connection was cut and nothing of it is kept. */
export const OVER = Symbol("over budget")

/** Idle connections kept for the next calls. */
const MAX_IDLE = 4

interface Lease {
  readonly conn: Redis
  readonly scope: Scope.Closeable
}

/**
 * Run `f` on `conn`, counting the bytes Redis sends; past `budget` the connection is cut
 * (what ioredis had buffered goes with it) and the outcome is OVER, whatever `f` gave.
 */
const metered = <A>(conn: Redis, budget: number, f: (c: Redis) => Promise<A>): Promise<A | typeof OVER> => {
  let received = 0
  let over = false
  const onData = (chunk: Buffer) => {
    received += chunk.length
    if (!over && received > budget) {
      over = true
      conn.disconnect()
    }
  }
  conn.stream.on("data", onData)
  const done = () => {
    conn.stream.off("data", onData)
  }
  return f(conn).then(
    (a) => {
      done()
      return over ? OVER : a
    },
    (e: unknown) => {
      done()
      if (over) return OVER
      throw e
    }
  )
}

export interface MeteredConnections {
  /**
   * Run `f` on a connection of its own (to the node serving `key` on a Cluster), within the
   * command timeout, with the replies cut past `budget` (then OVER). An `idempotent` call that
   * lost its connection (a kept one Redis had closed) is tried once more on a new one.
   */
  readonly run: <A>(
    label: string,
    key: string | undefined,
    budget: number,
    f: (conn: Redis) => Promise<A>,
    idempotent: boolean
  ) => Effect.Effect<A | typeof OVER, RedisError>
}

/** The connections of one layer; the idle ones are closed with the layer's scope. */
export const makeMeteredConnections = (
  redis: RedisClientShape
): Effect.Effect<MeteredConnections, never, Scope.Scope> =>
  Effect.gen(function* () {
    const cluster = redis.settings.mode === "cluster"
    const keep = redis.settings.mode === "standalone"
    const idle: Array<Lease> = []
    const close = (lease: Lease) => Scope.close(lease.scope, Exit.void)
    yield* Effect.addFinalizer(() => Effect.forEach(idle.splice(0), close, { discard: true }))

    const open = (key: string | undefined) =>
      Effect.flatMap(Scope.make(), (scope) =>
        (key !== undefined && cluster ? redis.dedicatedFor(key) : redis.dedicated).pipe(
          Scope.provide(scope),
          Effect.map((conn): Lease => ({ conn, scope })),
          Effect.onError(() => Scope.close(scope, Exit.void))
        )
      )

    const take = (key: string | undefined): Effect.Effect<Lease, RedisError> =>
      Effect.suspend(() => {
        const stale: Array<Lease> = []
        let found: Lease | undefined
        while (found === undefined && idle.length > 0) {
          const lease = idle.pop()!
          if (lease.conn.status === "ready") found = lease
          else stale.push(lease)
        }
        return Effect.forEach(stale, close, { discard: true }).pipe(
          Effect.andThen(found === undefined ? open(key) : Effect.succeed(found))
        )
      })

    const give = (lease: Lease, reusable: boolean) =>
      Effect.suspend(() => {
        if (reusable && keep && idle.length < MAX_IDLE && lease.conn.status === "ready") {
          idle.push(lease)
          return Effect.void
        }
        return close(lease)
      })

    return {
      run: (label, key, budget, f, idempotent) =>
        Effect.acquireUseRelease(
          take(key),
          ({ conn }) => redis.run(label, () => metered(conn, budget, f)),
          (lease, exit) => give(lease, Exit.isSuccess(exit) && exit.value !== OVER)
        ).pipe(
          // A lost connection says the kept ones may be gone too (Redis restarted, CLIENT KILL): drop them all.
          Effect.tapError((e) =>
            e._tag === "RedisUnavailable" ? Effect.forEach(idle.splice(0), close, { discard: true }) : Effect.void
          ),
          Effect.retry({ times: 1, while: (e) => idempotent && e._tag === "RedisUnavailable" })
        )
    }
  })
