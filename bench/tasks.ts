/**
 * Task queue throughput: sequential create → claim → complete cycles per second,
 * directly on the Tasks service (no MCP, no stdio), on the in-memory layer and
 * on Redis. `npm run bench` calls `benchTasks(url)`; run alone with
 * `npx node bench/tasks.ts` (starts its own redis-server).
 */
import { ConfigProvider, Effect, Layer, References } from "effect"
import { RedisConfig, redisSettingsConfig, ServerConfig, serverSettingsConfig } from "../src/layers/Config.ts"
import { RedisClient } from "../src/layers/RedisClient.ts"
import { Tasks } from "../src/services/Tasks.ts"
import { printTable, type Row } from "./measure.ts"

const N = Number(process.env.BENCH_TASK_N ?? process.env.BENCH_N ?? 2000)

const configFor = (env: Record<string, string>) => {
  const provider = ConfigProvider.fromEnvRecord({ REDIS_MCP_LOG_LEVEL: "warn", ...env })
  return Layer.mergeAll(
    Layer.effect(RedisConfig, redisSettingsConfig.parse(provider)),
    Layer.effect(ServerConfig, serverSettingsConfig.parse(provider))
  )
}

/** One queue, N sequential cycles (after a warm-up), each timed. */
const cycles = (name: string, n: number) =>
  Effect.gen(function* () {
    const tasks = yield* Tasks
    const queue = `bench-${process.pid}-${Date.now()}`
    const cycle = Effect.gen(function* () {
      const { taskId } = yield* tasks.create({ queue, payload: { job: "bench", n: 1 } })
      const { tasks: claimed } = yield* tasks.claim({ queue, worker: "bench", leaseSeconds: 60 })
      const t = claimed[0]
      if (t === undefined || t.taskId !== taskId) return yield* Effect.die(new Error("claimed the wrong task"))
      yield* tasks.complete({ queue, taskId, leaseToken: t.leaseToken, result: { ok: true } })
    })
    for (let i = 0; i < Math.min(200, n); i++) yield* cycle
    const times: Array<number> = []
    const start = performance.now()
    for (let i = 0; i < n; i++) {
      const t0 = performance.now()
      yield* cycle
      times.push(performance.now() - t0)
    }
    const total = performance.now() - start
    times.sort((a, b) => a - b)
    return {
      name,
      opsPerSec: Math.round((n / total) * 1000),
      p50: times[Math.floor(n * 0.5)]!,
      p99: times[Math.floor(n * 0.99)]!
    } satisfies Row
  })

/** Cycles per second on the memory layer and on the Redis at `redisUrl`. */
export const benchTasks = async (redisUrl: string): Promise<Array<Row>> => {
  const memory = Tasks.layerMemory.pipe(Layer.provide(configFor({})))
  const redis = Tasks.layer.pipe(
    Layer.provideMerge(Layer.effect(RedisClient, RedisClient.make)),
    Layer.provide(configFor({ REDIS_URL: redisUrl }))
  )
  const onRedis = Effect.gen(function* () {
    yield* (yield* RedisClient).awaitReady(10_000)
    return yield* cycles("tasks: create→claim→complete, service on Redis", N)
  })
  const quiet = Effect.provideService(References.MinimumLogLevel, "Warn")
  return [
    await Effect.runPromise(
      cycles("tasks: create→claim→complete, service in memory", N).pipe(Effect.provide(memory), quiet)
    ),
    await Effect.runPromise(onRedis.pipe(Effect.provide(redis), quiet))
  ]
}

if (import.meta.main) {
  const { startRedis } = await import("../test/support/standalone.ts")
  const { stopAll } = await import("../test/support/registry.ts")
  const server = await startRedis()
  try {
    printTable(`sequential create → claim → complete cycles, n=${N}`, await benchTasks(server.url))
  } finally {
    await server.stop()
    await stopAll()
  }
}
