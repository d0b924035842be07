/**
 * Building a RedisClient from environment-style settings (parsed exactly as the
 * server parses its environment) and reading the metric series it records, for
 * the connection layer's integration tests.
 */
import { ConfigProvider, Duration, Effect, Layer, Metric, Schedule } from "effect"
import type { RedisError } from "../../src/Errors.ts"
import { RedisConfig, redisSettingsConfig, ServerConfig, serverSettingsConfig } from "../../src/layers/Config.ts"
import { RedisClient, type RedisClientShape } from "../../src/layers/RedisClient.ts"
import { RedisTestServer, redisResource } from "../support/effect.ts"
import { requireRedis } from "../support/env.ts"
import type { RedisHandle, StartRedisOptions } from "../support/standalone.ts"

export const TIMEOUT_MS = 1000
/** Fast reconnects and a short command timeout, so faults resolve quickly. */
export const FAULT_ENV = {
  REDIS_COMMAND_TIMEOUT_MS: String(TIMEOUT_MS),
  REDIS_CONNECT_TIMEOUT_MS: "1000",
  REDIS_RETRY_BASE_MS: "50",
  REDIS_RETRY_MAX_MS: "300"
}

/** Settings parsed from `env` exactly as the server parses its environment (fresh layers, no memoization). */
export const configFor = (env: Record<string, string>) => {
  const provider = ConfigProvider.fromEnvRecord(env)
  return Layer.mergeAll(
    Layer.effect(RedisConfig, redisSettingsConfig.parse(provider)),
    Layer.effect(ServerConfig, serverSettingsConfig.parse(provider))
  )
}

export const clientLayer = (env: Record<string, string>) =>
  Layer.effect(RedisClient, RedisClient.make).pipe(Layer.provide(configFor(env)))

/** A redis-server for the block plus a RedisClient on it (FAULT_ENV, then `env`). */
export const onServer = (options: StartRedisOptions = {}, env: Record<string, string> = {}) =>
  Layer.unwrap(
    Effect.gen(function* () {
      requireRedis()
      const handle = yield* redisResource(options)
      return Layer.mergeAll(
        Layer.succeed(RedisTestServer, handle),
        clientLayer({ ...FAULT_ENV, ...env, REDIS_URL: handle.url })
      )
    })
  )

/** Run `f` with a client built from `env`, released afterwards. */
export const withClient = <A, E, R>(
  env: Record<string, string>,
  f: (redis: RedisClientShape) => Effect.Effect<A, E, R>
) => Effect.scoped(Effect.flatMap(RedisClient, f).pipe(Effect.provide(clientLayer(env))))

/**
 * `withClient` with a metric registry of its own: the client records into it, and
 * `series`/`counter`/`gauge` read it inside `f`, untouched by any other client.
 */
export const withMeteredClient = <A, E, R>(
  env: Record<string, string>,
  f: (redis: RedisClientShape) => Effect.Effect<A, E, R>
) => withClient(env, f).pipe(Effect.provideService(Metric.MetricRegistry, new Map()))

/**
 * A redis-server of its own (released with the caller's scope) and a metered client on
 * it, built from FAULT_ENV and `env`, ready before `f` runs.
 */
export const withServerAndClient = <A, E, R>(
  env: Record<string, string>,
  f: (redis: RedisClientShape, handle: RedisHandle) => Effect.Effect<A, E, R>
) =>
  Effect.gen(function* () {
    const handle = yield* redisResource()
    return yield* withMeteredClient({ ...FAULT_ENV, ...env, REDIS_URL: handle.url }, (redis) =>
      Effect.andThen(redis.awaitReady(10_000), f(redis, handle))
    )
  })

/** The state of the series `name` (with exactly `attributes`), undefined while it does not exist. */
export const series = (name: string, attributes: Record<string, string> = {}) =>
  Effect.map(Metric.snapshot, (all) => {
    const wanted = JSON.stringify(Object.entries(attributes).sort())
    return all.find((m) => m.id === name && JSON.stringify(Object.entries(m.attributes ?? {}).sort()) === wanted)?.state
  })

/** A counter's count (0 while it does not exist). */
export const counter = (name: string) =>
  Effect.map(series(name), (s) => (s as Metric.CounterState<number> | undefined)?.count ?? 0)

/** A gauge's value, undefined while it was never set. */
export const gauge = (name: string) =>
  Effect.map(series(name), (s) => (s as Metric.GaugeState<number> | undefined)?.value)

/** Observations in one command's `redis_mcp_redis_command_duration_seconds` series. */
export const commandCount = (command: string) =>
  Effect.map(
    series("redis_mcp_redis_command_duration_seconds", { command }),
    (s) => (s as Metric.HistogramState | undefined)?.count ?? 0
  )

/** Poll `probe` every 20 ms (at most `times` times) until it returns true. */
export const until = <E, R>(what: string, probe: Effect.Effect<boolean, E, R>, times = 500) =>
  probe.pipe(
    Effect.flatMap((ok) => (ok ? Effect.void : Effect.fail(`not yet: ${what}`))),
    Effect.retry(Schedule.spaced(Duration.millis(20)).pipe(Schedule.upTo({ times }))),
    Effect.orDie
  )

/** Fail loudly when a call hangs past `ms` instead of answering. */
export const noHang = <A, E, R>(effect: Effect.Effect<A, E, R>, ms: number) =>
  effect.pipe(Effect.timeoutOrElse({ duration: Duration.millis(ms), orElse: () => Effect.die("the call hung") }))

/** The error of a call that must fail (the test fails when it succeeds or hangs past `ms`). */
export const failure = <A>(effect: Effect.Effect<A, RedisError>, ms: number) => noHang(Effect.flip(effect), ms)

/** The tag of a call's failure within the fault budget (fails the test when it succeeds). */
export const failureTag = <A>(effect: Effect.Effect<A, RedisError>) =>
  failure(effect, TIMEOUT_MS + 1500).pipe(Effect.map((e) => e._tag))

export const uniqueKey = (name: string) => `it:${Math.random().toString(36).slice(2)}:${name}`

/** SETs `v<i>` to every key at once, then GETs them all at once: the values read, in the keys' order. */
export const concurrentRoundTrip = (redis: RedisClientShape, keys: ReadonlyArray<string>) =>
  Effect.all(
    keys.map((key, i) => redis.run("SET", (c) => c.set(key, `v${i}`))),
    { concurrency: "unbounded" }
  ).pipe(
    Effect.andThen(
      Effect.all(
        keys.map((key) => redis.run("GET", (c) => c.get(key), { idempotent: true })),
        { concurrency: "unbounded" }
      )
    )
  )
