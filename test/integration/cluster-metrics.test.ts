/**
 * Cluster series on a real 3 primaries + 3 replicas Redis Cluster, from the
 * client's slot map refreshes: `redis_mcp_cluster_slots_covered` is 16384 on a
 * healthy cluster, drops by the killed primary's slots as soon as a refresh finds
 * it down (while the cluster still names it the owner: before any failover), and
 * is whole again once its replica took over, which `redis_mcp_redis_failovers_total`
 * counts once.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { clusterResource } from "../support/effect.ts"
import { requireRedis } from "../support/env.ts"
import { counter, gauge, until, withMeteredClient } from "./redis-env.ts"

const COVERED = "redis_mcp_cluster_slots_covered"
const FAILOVERS = "redis_mcp_redis_failovers_total"

describe("Cluster metrics", () => {
  requireRedis() // a missing redis-server fails the suite, never skips it
  it.live(
    "slots covered: all on a healthy cluster, fewer once a killed primary is seen down, all again after failover",
    () =>
      Effect.gen(function* () {
        const cluster = yield* clusterResource({ primaries: 3, replicasPerPrimary: 1 })
        const env = {
          REDIS_CLUSTER_NODES: cluster.seeds.map((s) => `${s.host}:${s.port}`).join(","),
          REDIS_COMMAND_TIMEOUT_MS: "3000",
          REDIS_CONNECT_TIMEOUT_MS: "1000",
          REDIS_RETRY_BASE_MS: "50",
          REDIS_RETRY_MAX_MS: "300",
          REDIS_CLUSTER_SLOTS_REFRESH_INTERVAL_MS: "200",
          REDIS_CLUSTER_SLOTS_REFRESH_TIMEOUT_MS: "500"
        }
        yield* withMeteredClient(env, (redis) =>
          Effect.gen(function* () {
            yield* redis.awaitReady(10_000)
            yield* until(
              "every slot covered",
              Effect.map(gauge(COVERED), (v) => v === 16384)
            )
            assert.strictEqual(yield* counter(FAILOVERS), 0)

            const victim = (yield* Effect.promise(() => cluster.primaries()))[0]!
            const victimSlots = victim.slots.reduce((n, [from, to]) => n + to - from + 1, 0)
            assert.isAbove(victimSlots, 0)
            yield* Effect.promise(() => cluster.killNode(victim.port))
            yield* until(
              "a refresh that finds the killed primary down",
              Effect.map(gauge(COVERED), (v) => v !== undefined && v < 16384)
            )
            assert.strictEqual(yield* gauge(COVERED), 16384 - victimSlots)
            // Seen before the cluster failed over: the survivors still name the killed node the owner.
            const view = yield* Effect.promise(() => cluster.clusterNodes())
            const owner = view.find((n) => n.port === victim.port)
            assert.isDefined(owner)
            assert.isAbove(owner!.slots.length, 0, "no failover yet")
            assert.strictEqual(yield* counter(FAILOVERS), 0)

            yield* Effect.promise(() => cluster.waitForFailover(victim.port, 60_000))
            yield* until(
              "every slot covered again",
              Effect.map(gauge(COVERED), (v) => v === 16384)
            )
            yield* until(
              "the failover counted",
              Effect.map(counter(FAILOVERS), (n) => n >= 1)
            )
            assert.strictEqual(yield* counter(FAILOVERS), 1)
            assert.strictEqual((yield* redis.health).state, "ready")
          })
        )
      }),
    180_000
  )
})
