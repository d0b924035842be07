/**
 * Layers for contract suites: the same suite runs on a service's memory layer and
 * on its Redis layer against a real redis-server started for the suite.
 */
import { describe, layer, type Vitest } from "@effect/vitest"
import { ConfigProvider, Context, Duration, Effect, Layer, References } from "effect"
import { TestClock } from "effect/testing"
import type { Redis } from "ioredis"
import { RedisConfig, ServerConfig } from "../../src/layers/Config.ts"
import { RedisClient } from "../../src/layers/RedisClient.ts"
import { requireRedis } from "../support/env.ts"
import { type StartRedisOptions, startRedis } from "../support/standalone.ts"

/** Settings as they would come from the environment. */
export const configLayer = (env: Record<string, string> = {}) =>
  Layer.mergeAll(RedisConfig.layer, ServerConfig.layer).pipe(
    Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnvRecord(env)))
  )

/** A redis-server for the lifetime of the layer (stopped and removed with it). */
export const redisServer = (options: StartRedisOptions = {}) =>
  Effect.acquireRelease(
    Effect.promise(() => {
      requireRedis()
      return startRedis(options)
    }),
    (handle) => Effect.promise(() => handle.stop())
  )

/** RedisClient (plus config) connected to a fresh redis-server, waiting until it is ready. */
export const redisClientLayer = (env: Record<string, string> = {}, options: StartRedisOptions = {}) =>
  Layer.unwrap(
    Effect.map(redisServer(options), (handle) =>
      RedisClient.layer.pipe(
        Layer.tap((ctx) => Context.get(ctx, RedisClient).awaitReady(10_000).pipe(Effect.orDie)),
        Layer.provideMerge(configLayer({ REDIS_COMMAND_TIMEOUT_MS: "2000", ...env, REDIS_URL: handle.url })),
        // Connection logs (connected, reconnecting) are noise in test output; warnings still show.
        Layer.provide(Layer.succeed(References.MinimumLogLevel, "Warn"))
      )
    )
  )

/**
 * A service's Redis layer on a fresh redis-server: `layer` needs RedisClient
 * (and may need the configs), which this provides and keeps visible.
 */
export const onRedis = <A, E, R>(layer: Layer.Layer<A, E, R>, env: Record<string, string> = {}) =>
  layer.pipe(Layer.provideMerge(redisClientLayer(env)))

/** A service's memory layer with default settings. */
export const onMemory = <A, E, R>(layer: Layer.Layer<A, E, R>, env: Record<string, string> = {}) =>
  layer.pipe(Layer.provideMerge(configLayer(env)))

/** Where a contract suite runs, and how it lets time pass there. */
export interface Target {
  readonly name: "memory" | "redis"
  /** Let `ms` pass: TestClock on memory, a real wait on Redis (its clock is its own). */
  readonly advance: (ms: number) => Effect.Effect<void>
}

/**
 * Run one contract suite on a service's memory layer and on its Redis layer
 * (against a fresh redis-server). The body is written once.
 */
export const runContract = <A, E1, E2>(
  title: string,
  memory: Layer.Layer<A, E1>,
  redis: Layer.Layer<A, E2>,
  body: (it: Vitest.MethodsNonLive<A>, target: Target) => void
) =>
  describe(title, () => {
    layer(memory, { timeout: 60_000 })("memory", (it) =>
      body(it, { name: "memory", advance: (ms) => TestClock.adjust(Duration.millis(ms)) })
    )
    layer(redis, { timeout: 60_000, excludeTestServices: true })("redis", (it) =>
      body(it, { name: "redis", advance: (ms) => Effect.sleep(Duration.millis(ms)) })
    )
  })

/**
 * What Redis sent its clients so far (INFO stats `total_net_output_bytes`); always
 * 0 on memory. With `sentFor`, a test can assert that a read was answered with no
 * more than one result's worth of data: bounded before it was fetched.
 */
export class Traffic extends Context.Service<Traffic, { readonly sent: Effect.Effect<number> }>()("test/Traffic") {
  static readonly memory = Layer.succeed(Traffic, { sent: Effect.succeed(0) })

  static readonly redis = Layer.effect(
    Traffic,
    Effect.map(RedisClient, (redis) => ({
      sent: Effect.promise(() => (redis.unsafeClient as Redis).info("stats")).pipe(
        Effect.map((info) => Number(/total_net_output_bytes:(\d+)/.exec(info)?.[1] ?? 0))
      )
    }))
  )
}

/** Run `effect`; also say how many bytes Redis sent meanwhile (one INFO reply's size taken off; 0 on memory). */
export const sentFor = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const traffic = yield* Traffic
    const a = yield* traffic.sent
    const b = yield* traffic.sent
    const result = yield* effect
    const c = yield* traffic.sent
    return { result, bytes: Math.max(0, c - b - (b - a)) }
  })
