/**
 * The task cycle without MCP: sequential create → claim → complete on the
 * Tasks service itself, on the in-memory layer and on Redis, to tell the
 * service's cost from the protocol's. Not part of `npm run bench`; run alone:
 *
 *   npx node bench/tasks.ts [calls]     (starts its own redis-server)
 */
import { ConfigProvider, Effect, Layer, ManagedRuntime, References } from "effect"
import { RedisConfig, redisSettingsConfig, ServerConfig, serverSettingsConfig } from "../src/layers/Config.ts"
import { RedisClient } from "../src/layers/RedisClient.ts"
import { Tasks } from "../src/services/Tasks.ts"
import { stopAll } from "../test/support/registry.ts"
import { startRedis } from "../test/support/standalone.ts"
import { measure, type Sample } from "./stats.ts"

const configFor = (env: Record<string, string>) => {
  const provider = ConfigProvider.fromEnvRecord({ REDIS_MCP_LOG_LEVEL: "warn", ...env })
  return Layer.mergeAll(
    Layer.effect(RedisConfig, redisSettingsConfig.parse(provider)),
    Layer.effect(ServerConfig, serverSettingsConfig.parse(provider))
  )
}

const cycle = (queue: string) =>
  Effect.gen(function* () {
    const tasks = yield* Tasks
    const { taskId } = yield* tasks.create({ queue, payload: { job: "bench", n: 1 } })
    const { tasks: claimed } = yield* tasks.claim({ queue, worker: "bench", leaseSeconds: 60 })
    const t = claimed[0]
    if (t === undefined || t.taskId !== taskId) return yield* Effect.die(new Error("claimed the wrong task"))
    yield* tasks.complete({ queue, taskId, leaseToken: t.leaseToken, result: { ok: true } })
  })

/** Cycles per second through one layer, each cycle one `runPromise` (as a tool call would be). */
const cyclesOn = async (layer: Layer.Layer<Tasks, unknown>, calls: number): Promise<Sample> => {
  const quiet = Layer.succeed(References.MinimumLogLevel, "Warn")
  const runtime = ManagedRuntime.make(Layer.provideMerge(layer, quiet))
  const queue = `bench-${process.pid}-${Date.now()}`
  try {
    return await measure({ n: calls, warmup: Math.min(200, calls), inFlight: 1 }, () =>
      runtime.runPromise(cycle(queue))
    )
  } finally {
    await runtime.dispose()
  }
}

const calls = Number(process.argv[2] ?? 2000)
const redis = await startRedis()
try {
  const memory = Tasks.layerMemory.pipe(Layer.provide(configFor({})))
  const onRedis = Layer.effectDiscard(Effect.flatMap(RedisClient, (c) => c.awaitReady(10_000))).pipe(
    Layer.provideMerge(Tasks.layer),
    Layer.provideMerge(Layer.effect(RedisClient, RedisClient.make)),
    Layer.provide(configFor({ REDIS_URL: redis.url }))
  )
  for (const [name, layer] of [
    ["Tasks service, in memory", memory],
    ["Tasks service, on Redis", onRedis]
  ] as const) {
    const s = await cyclesOn(layer as Layer.Layer<Tasks, unknown>, calls)
    process.stdout.write(
      `${name.padEnd(26)} ${Math.round(s.perSec).toString().padStart(6)} cycles/s  p50 ${s.p50.toFixed(3)} ms  p99 ${s.p99.toFixed(3)} ms\n`
    )
  }
} finally {
  await redis.dispose()
  await stopAll()
}
