/**
 * Effect-friendly wrappers: scoped resources and layers that start a topology
 * on acquisition and tear it down when the scope closes. Start-up failures are
 * defects (tests should fail loudly, not handle them).
 *
 *   layer(RedisTestServer.layer({ aof: true }))("suite", (it) => {
 *     it.effect("...", () => Effect.gen(function* () {
 *       const redis = yield* RedisTestServer
 *       ...
 *     }))
 *   })
 */
import { Context, Effect, Layer } from "effect"
import { type RedisCluster, type StartClusterOptions, startCluster } from "./cluster.ts"
import { type SentinelSet, type SentinelSetOptions, startSentinelSet } from "./sentinel.ts"
import { type RedisHandle, type StartRedisOptions, startRedis } from "./standalone.ts"

/** Standalone server, disposed (SIGKILL + rm -rf) when the scope closes. */
export const redisResource = (options: StartRedisOptions = {}) =>
  Effect.acquireRelease(
    Effect.promise(() => startRedis(options)),
    (handle) => Effect.promise(() => handle.dispose())
  )

/** Sentinel set, stopped when the scope closes. */
export const sentinelResource = (options: SentinelSetOptions = {}) =>
  Effect.acquireRelease(
    Effect.promise(() => startSentinelSet(options)),
    (set) => Effect.promise(() => set.stop())
  )

/** Cluster, stopped when the scope closes. */
export const clusterResource = (options: StartClusterOptions = {}) =>
  Effect.acquireRelease(
    Effect.promise(() => startCluster(options)),
    (cluster) => Effect.promise(() => cluster.stop())
  )

/** Service giving tests access to a standalone server started by its layer. */
export class RedisTestServer extends Context.Service<RedisTestServer, RedisHandle>()("test/support/RedisTestServer") {
  static readonly layer = (options: StartRedisOptions = {}) => Layer.effect(RedisTestServer, redisResource(options))
}

/** Service giving tests access to a sentinel set started by its layer. */
export class RedisTestSentinel extends Context.Service<RedisTestSentinel, SentinelSet>()(
  "test/support/RedisTestSentinel"
) {
  static readonly layer = (options: SentinelSetOptions = {}) =>
    Layer.effect(RedisTestSentinel, sentinelResource(options))
}

/** Service giving tests access to a cluster started by its layer. */
export class RedisTestCluster extends Context.Service<RedisTestCluster, RedisCluster>()(
  "test/support/RedisTestCluster"
) {
  static readonly layer = (options: StartClusterOptions = {}) =>
    Layer.effect(RedisTestCluster, clusterResource(options))
}
