/**
 * The connection layer's own cost per call: `redis.run` on a function that
 * returns an already resolved promise (nothing goes to Redis), so what is timed
 * is the layer alone: deadline, timer, metrics, latency window. Also one real
 * GET through the layer beside the same GET on a raw ioredis client, for scale.
 * Run with `npx node bench/redis-run.ts [fixed|adaptive]` (starts its own redis-server).
 */
import { ConfigProvider, Effect, Layer, References } from "effect"
import { Redis } from "ioredis"
import { RedisConfig, redisSettingsConfig, ServerConfig, serverSettingsConfig } from "../src/layers/Config.ts"
import { RedisClient } from "../src/layers/RedisClient.ts"

const N = Number(process.env.BENCH_RUN_N ?? 200_000)
const ROUNDS = 7

const configFor = (env: Record<string, string>) => {
  const provider = ConfigProvider.fromEnvRecord({ REDIS_MCP_LOG_LEVEL: "warn", ...env })
  return Layer.mergeAll(
    Layer.effect(RedisConfig, redisSettingsConfig.parse(provider)),
    Layer.effect(ServerConfig, serverSettingsConfig.parse(provider))
  )
}

/**
 * Median over ROUNDS of the mean CPU µs (user + system) per iteration of `n` sequential
 * runs: CPU time, not wall time, so other processes on a shared machine count less.
 */
const perCall = (n: number, once: Effect.Effect<unknown, unknown>) =>
  Effect.gen(function* () {
    const rounds: Array<number> = []
    for (let r = 0; r < ROUNDS; r++) {
      const t0 = process.cpuUsage()
      for (let i = 0; i < n; i++) yield* once
      const used = process.cpuUsage(t0)
      rounds.push((used.user + used.system) / n)
    }
    rounds.sort((a, b) => a - b)
    return rounds[Math.floor(ROUNDS / 2)]!
  })

export const benchRun = (url: string, env: Record<string, string> = {}) =>
  Effect.gen(function* () {
    const redis = yield* RedisClient
    yield* redis.awaitReady(10_000)
    const resolved = Promise.resolve("v")
    const layerOnly = yield* perCall(
      N,
      redis.run("GET", () => resolved)
    )
    const bare = yield* perCall(
      N,
      Effect.promise(() => resolved)
    )
    yield* redis.run("SET", (c) => c.set("bench:run", "v"))
    const get = yield* perCall(
      Math.ceil(N / 20),
      redis.run("GET", (c) => c.get("bench:run"), { idempotent: true })
    )
    const inFlight16 = yield* perCall(
      1,
      Effect.forEach(
        Array.from({ length: Math.ceil(N / 20) }, (_, i) => i),
        () => redis.run("GET", (c) => c.get("bench:run"), { idempotent: true }),
        { concurrency: 16, discard: true }
      )
    )
    const raw = new Redis(url)
    const rawGet = yield* perCall(
      Math.ceil(N / 20),
      Effect.promise(() => raw.get("bench:run"))
    )
    raw.disconnect()
    return { layerOnly, bare, get, rawGet, get16: inFlight16 / Math.ceil(N / 20) }
  }).pipe(
    Effect.provide(
      Layer.effect(RedisClient, RedisClient.make).pipe(Layer.provide(configFor({ ...env, REDIS_URL: url })))
    ),
    Effect.provideService(References.MinimumLogLevel, "Warn")
  )

if (import.meta.main) {
  const { startRedis } = await import("../test/support/standalone.ts")
  const { stopAll } = await import("../test/support/registry.ts")
  const server = await startRedis()
  try {
    const modes = process.argv[2] === undefined ? ["fixed", "adaptive"] : [process.argv[2]]
    for (const mode of modes) {
      const r = await Effect.runPromise(benchRun(server.url, { REDIS_COMMAND_TIMEOUT_MODE: mode }))
      process.stdout.write(
        `${mode.padEnd(8)} redis.run on a resolved promise: ${r.layerOnly.toFixed(2)} µs/call ` +
          `(Effect.promise alone: ${r.bare.toFixed(2)} µs); GET through the layer ${r.get.toFixed(1)} µs ` +
          `(16 in flight: ${r.get16.toFixed(1)} µs), raw ioredis GET ${r.rawGet.toFixed(1)} µs (CPU time)\n`
      )
    }
  } finally {
    await server.stop()
    await stopAll()
  }
}
