/**
 * The Redis connection as an Effect service: one ioredis client acquired in the
 * layer's scope and quit on release, (re)connected by an Effect `Schedule`, with a
 * timeout on every command, typed errors, retry for idempotent commands only, and
 * a health model. Works the same on a standalone server, behind Sentinel (follows
 * failovers) and on a Cluster (per-node calls for SCAN, DBSIZE, INFO…).
 *
 * The connection and its supervisor live in `RedisConnection.ts`, the execution of
 * one call in `RedisCalls.ts`; this module is the service and its public types.
 */

import { Context, Effect, Layer, type Scope } from "effect"
import type { Cluster, Redis } from "ioredis"
import type { RedisError, RedisUnavailable } from "../Errors.ts"
import type { PrimaryNode } from "./ClusterRouting.ts"
import type { RedisSettings } from "./Config.ts"
import { makeCalls, type RunOptions, type ScriptOptions, type ScriptRunner } from "./RedisCalls.ts"
import type { RedisLike } from "./RedisConnect.ts"
import { type Health, makeConnection } from "./RedisConnection.ts"
import { type Latencies, LatencyTracker } from "./RedisLatency.ts"

export type { PrimaryNode } from "./ClusterRouting.ts"
export type { RunOptions, ScriptOptions, ScriptRunner } from "./RedisCalls.ts"
export type { RedisLike } from "./RedisConnect.ts"
export { type Health, MAX_WAITING_CALLS, memoryHealth } from "./RedisConnection.ts"
export type { CommandLatency, Latencies } from "./RedisLatency.ts"

export interface RedisClientShape {
  /** Run one call on the client, with timeout, error mapping and (if idempotent) retry. */
  readonly run: <A>(
    command: string,
    f: (client: RedisLike) => Promise<A>,
    options?: RunOptions
  ) => Effect.Effect<A, RedisError>
  /** Register a Lua script once; the returned runner calls it by SHA (with Buffer replies when `buffers`). */
  readonly script: (name: string, lua: string, options?: ScriptOptions) => ScriptRunner
  /** Current health, refreshed with a PING when connected. */
  readonly health: Effect.Effect<Health>
  /**
   * Per command over the last minute: replies, p50, p99, max, and the timeout the next
   * call gets (adaptive or fixed), from the histograms every reply is recorded in.
   */
  readonly latencies: Effect.Effect<Latencies>
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

export class RedisClient extends Context.Service<RedisClient, RedisClientShape>()("effect-redis-mcp/RedisClient") {
  static readonly make = Effect.gen(function* () {
    const connection = yield* makeConnection
    const { settings } = connection
    // Replies are recorded in the MetricRegistry of the context the client is built in.
    const tracker = new LatencyTracker(
      { mode: settings.commandTimeoutMode, capMs: settings.commandTimeoutMs, floorMs: settings.commandTimeoutMinMs },
      yield* Effect.context<never>()
    )
    const { run, runOnPrimary, script, health, latencies } = makeCalls(connection, tracker)
    return RedisClient.of({
      run,
      script,
      health,
      latencies,
      dedicated: connection.dedicated,
      dedicatedFor: connection.dedicatedFor,
      primaries: connection.primaries,
      runOnPrimary,
      awaitReady: connection.awaitReady,
      settings: connection.settings,
      keyPrefix: connection.keyPrefix,
      unsafeClient: connection.client
    })
  })

  /** The Redis client from `RedisConfig` and `ServerConfig`. */
  static readonly layer = Layer.effect(RedisClient, RedisClient.make)
}

export type { Cluster, Redis }
