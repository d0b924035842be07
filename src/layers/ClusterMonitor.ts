/**
 * What each Cluster slot map refresh says, for the metrics: how many slots a
 * primary that answers serves (`redis_mcp_cluster_slots_covered`), and which
 * primaries lost all their slots to another node since the last refresh (a
 * failover, counted in `redis_mcp_redis_failovers_total`). ioredis refreshes the
 * map every REDIS_CLUSTER_SLOTS_REFRESH_INTERVAL_MS and after routing errors; the
 * owners of the map are PINGed at each refresh, each bounded by the refresh timeout.
 */
import { Duration, Effect, Metric, type Scope } from "effect"
import type { Cluster } from "ioredis"
import { addressOf } from "./ClusterRouting.ts"
import { SLOT_COUNT } from "./ClusterSlots.ts"
import * as Metrics from "./Metrics.ts"

/** The primary serving each slot in the client's map (undefined where none does). */
const ownersOf = (cluster: Cluster): Array<string | undefined> => {
  const owners = new Array<string | undefined>(SLOT_COUNT)
  for (let slot = 0; slot < SLOT_COUNT; slot++) owners[slot] = cluster.slots[slot]?.[0]
  return owners
}

/** Primaries of `before` that serve no slot in `after`: their slots went elsewhere. */
export const replacedPrimaries = (
  before: ReadonlyArray<string | undefined>,
  after: ReadonlyArray<string | undefined>
): Array<string> => {
  const now = new Set(after)
  const gone = new Set<string>()
  for (const owner of before) if (owner !== undefined && !now.has(owner)) gone.add(owner)
  return [...gone]
}

/**
 * Follows the refreshes of `cluster` until the scope closes. `failoverSeen` is
 * told about each replaced primary.
 */
export const monitorCluster = (
  cluster: Cluster,
  probeTimeoutMs: number,
  failoverSeen: (what: string) => Effect.Effect<void>
): Effect.Effect<void, never, Scope.Scope> =>
  Effect.gen(function* () {
    let refreshed = false
    let wake: (() => void) | undefined
    const onRefresh = () => {
      refreshed = true
      wake?.()
    }
    yield* Effect.acquireRelease(
      Effect.sync(() => cluster.on("refresh", onRefresh)),
      () => Effect.sync(() => cluster.off("refresh", onRefresh))
    )
    const nextRefresh = Effect.callback<void>((resume) => {
      if (refreshed) {
        resume(Effect.void)
        return
      }
      wake = () => {
        wake = undefined
        resume(Effect.void)
      }
      return Effect.sync(() => {
        wake = undefined
      })
    })

    const answers = (owner: string) =>
      Effect.suspend(() => {
        const node = cluster.nodes("master").find((n) => addressOf(n) === owner)
        if (node === undefined || node.status === "end" || node.status === "close") return Effect.succeed(false)
        return Effect.tryPromise(() => node.ping()).pipe(
          Effect.timeout(Duration.millis(probeTimeoutMs)),
          Effect.as(true),
          Effect.orElseSucceed(() => false)
        )
      })

    let previous: ReadonlyArray<string | undefined> | undefined
    const assess = Effect.gen(function* () {
      const owners = ownersOf(cluster)
      const distinct = [...new Set(owners)].filter((o): o is string => o !== undefined)
      const up = new Set<string>()
      yield* Effect.forEach(
        distinct,
        (owner) =>
          Effect.map(answers(owner), (ok) => {
            if (ok) up.add(owner)
          }),
        { concurrency: "unbounded", discard: true }
      )
      let covered = 0
      for (const owner of owners) if (owner !== undefined && up.has(owner)) covered++
      yield* Metric.update(Metrics.clusterSlotsCovered, covered)
      if (previous !== undefined) {
        for (const gone of replacedPrimaries(previous, owners)) {
          yield* failoverSeen(`the cluster primary ${gone} no longer serves any slot: its slots have a new primary`)
        }
      }
      previous = owners
    })

    while (true) {
      yield* nextRefresh
      refreshed = false
      yield* assess
    }
  })
