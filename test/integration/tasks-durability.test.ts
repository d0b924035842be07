/**
 * Nothing is lost: (1) a server process is SIGKILLed while it holds claims, and
 * another server finishes the queue once the leases run out; (2) redis-server
 * (AOF, fsync always) is SIGKILLed and restarted under the Tasks service, and
 * every task, lease and idempotency key is still there; (3) on a 3-primary
 * Redis Cluster every script runs in its queue's one slot (no CROSSSLOT).
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer } from "effect"
import { RedisConfig, redisSettingsConfig, ServerConfig, serverSettingsConfig } from "../../src/layers/Config.ts"
import { RedisClient } from "../../src/layers/RedisClient.ts"
import { Tasks } from "../../src/services/Tasks.ts"
import { type ServerUnderTest, startServer } from "../e2e/client.ts"
import { type RedisCluster, startCluster } from "../support/cluster.ts"
import { requireRedis } from "../support/env.ts"
import { type RedisHandle, startRedis } from "../support/standalone.ts"

const TIMEOUT = 60_000

const ok = async (server: ServerUnderTest, name: string, args: Record<string, unknown>) => {
  const r = await server.call(name, args)
  if (!r.ok) assert.fail(`${name} failed: ${JSON.stringify(r.error)}`)
  return r.value
}

const connected = async (server: ServerUnderTest) => {
  for (let i = 0; i < 100; i++) {
    const health = await server.call("health", {})
    if (health.ok && health.value.state === "ready") return server
    await new Promise((r) => setTimeout(r, 100))
  }
  assert.fail("the server never reported Redis ready")
}

/** The Tasks service and its RedisClient on fresh (unmemoized) layers for `env`. */
const tasksOn = (env: Record<string, string>) => {
  const provider = ConfigProvider.fromEnvRecord({ REDIS_RETRY_BASE_MS: "50", REDIS_RETRY_MAX_MS: "300", ...env })
  const config = Layer.mergeAll(
    Layer.effect(RedisConfig, redisSettingsConfig.parse(provider)),
    Layer.effect(ServerConfig, serverSettingsConfig.parse(provider))
  )
  return Tasks.layer.pipe(Layer.provideMerge(Layer.effect(RedisClient, RedisClient.make)), Layer.provide(config))
}

describe("a server killed while it holds claims", () => {
  let redis: RedisHandle
  const servers: Array<ServerUnderTest> = []

  beforeAll(async () => {
    requireRedis()
    redis = await startRedis({ aof: true })
  }, TIMEOUT)

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close().catch(() => undefined)))
    await redis?.stop()
  }, TIMEOUT)

  it(
    "loses no task: the claims come back after their lease and another server completes everything",
    async () => {
      const env = { REDIS_URL: redis.url }
      const doomed = await connected(await startServer(env))
      servers.push(doomed)
      const q = "durable-kill"
      const ids: Array<string> = []
      for (let i = 0; i < 20; i++) ids.push((await ok(doomed, "task_create", { queue: q, payload: { i } })).taskId)
      const held = (await ok(doomed, "task_claim", { queue: q, worker: "doomed", leaseSeconds: 1, count: 5 })).tasks
      assert.strictEqual(held.length, 5)
      process.kill(doomed.pid!, "SIGKILL")

      const survivor = await connected(await startServer(env))
      servers.push(survivor)
      const attempts = new Map<string, number>()
      const deadline = Date.now() + 15_000
      while (attempts.size < 20 && Date.now() < deadline) {
        const { tasks } = await ok(survivor, "task_claim", {
          queue: q,
          worker: "survivor",
          leaseSeconds: 30,
          count: 10
        })
        if (tasks.length === 0) await new Promise((r) => setTimeout(r, 200))
        for (const t of tasks) {
          attempts.set(t.taskId, t.attempt)
          await ok(survivor, "task_complete", { queue: q, taskId: t.taskId, leaseToken: t.leaseToken })
        }
      }
      assert.sameMembers([...attempts.keys()], ids)
      for (const t of held) assert.strictEqual(attempts.get(t.taskId), 2, `attempt of ${t.taskId}`)
      const stats = await ok(survivor, "queue_stats", { queue: q })
      assert.strictEqual(stats.counts.completed, 20)
      assert.strictEqual(stats.total, 20)
    },
    TIMEOUT
  )
})

describe("Redis killed and restarted with AOF under the Tasks service", () => {
  let redis: RedisHandle

  beforeAll(async () => {
    requireRedis()
    redis = await startRedis({ aof: true })
  }, TIMEOUT)

  afterAll(async () => {
    await redis?.stop()
  }, TIMEOUT)

  const services = () => tasksOn({ REDIS_URL: redis.url })

  it.live(
    "keeps every task, live lease and idempotency key across the crash",
    () =>
      Effect.gen(function* () {
        const tasks = yield* Tasks
        const client = yield* RedisClient
        yield* client.awaitReady(10_000)
        const q = "durable-aof"
        const ids: Array<string> = []
        for (let i = 0; i < 30; i++) {
          ids.push((yield* tasks.create({ queue: q, payload: { i }, idempotencyKey: `k${i}` })).taskId)
        }
        const { tasks: claimed } = yield* tasks.claim({ queue: q, worker: "w", leaseSeconds: 120, count: 10 })
        for (const t of claimed.slice(0, 5)) {
          yield* tasks.complete({ queue: q, taskId: t.taskId, leaseToken: t.leaseToken, result: t.payload })
        }
        const before = yield* tasks.stats(q)

        yield* Effect.promise(() => redis.kill())
        yield* Effect.promise(() => redis.restart())
        yield* client.awaitReady(15_000)

        const after = yield* tasks.stats(q)
        assert.deepStrictEqual(after, before)
        assert.deepStrictEqual(after.counts, {
          waiting: 20,
          delayed: 0,
          blocked: 0,
          active: 5,
          completed: 5,
          failed: 0,
          cancelled: 0
        })
        // The leases taken before the crash still hold, and their tokens still work.
        for (const t of claimed.slice(5)) {
          yield* tasks.complete({ queue: q, taskId: t.taskId, leaseToken: t.leaseToken })
        }
        const again = yield* tasks.create({ queue: q, payload: {}, idempotencyKey: "k7" })
        assert.deepStrictEqual(again, { taskId: ids[7]!, created: false, status: "completed" })
        const { tasks: rest } = yield* tasks.claim({ queue: q, worker: "w", count: 100 })
        assert.strictEqual(rest.length, 20)
        for (const t of rest) yield* tasks.complete({ queue: q, taskId: t.taskId, leaseToken: t.leaseToken })
        const final = yield* tasks.stats(q)
        assert.strictEqual(final.counts.completed, 30)
        assert.strictEqual(final.total, 30)
        assert.deepStrictEqual((yield* tasks.get({ queue: q, taskId: ids[0]! })).result, { i: 0 })
      }).pipe(Effect.provide(services())),
    TIMEOUT
  )
})

describe("task queues on a Redis Cluster", () => {
  let cluster: RedisCluster

  beforeAll(async () => {
    requireRedis()
    cluster = await startCluster({ primaries: 3, replicasPerPrimary: 0 })
  }, 120_000)

  afterAll(async () => {
    await cluster?.stop()
  }, TIMEOUT)

  it.live(
    "runs every transition of several queues (different slots) without CROSSSLOT",
    () =>
      Effect.gen(function* () {
        const tasks = yield* Tasks
        yield* (yield* RedisClient).awaitReady(15_000)
        const queues = ["alpha", "beta", "gamma", "delta"]
        for (const q of queues) {
          const a = (yield* tasks.create({ queue: q, payload: { q }, idempotencyKey: "first" })).taskId
          const b = (yield* tasks.create({ queue: q, payload: "b", dependsOn: [a] })).taskId
          const [ca] = (yield* tasks.claim({ queue: q, worker: "w", leaseSeconds: 30 })).tasks
          yield* tasks.heartbeat({ queue: q, taskId: a, leaseToken: ca!.leaseToken })
          assert.deepStrictEqual(
            (yield* tasks.complete({ queue: q, taskId: a, leaseToken: ca!.leaseToken })).unblocked,
            [b]
          )
          const [cb] = (yield* tasks.claim({ queue: q, worker: "w" })).tasks
          assert.strictEqual(
            (yield* tasks.fail({ queue: q, taskId: b, leaseToken: cb!.leaseToken, error: "x", retry: false })).status,
            "failed"
          )
          const c = (yield* tasks.create({ queue: q, payload: "c", delaySeconds: 60 })).taskId
          assert.isTrue((yield* tasks.cancel({ queue: q, taskId: c })).cancelled)
          yield* tasks.sweep(q)
          const stats = yield* tasks.stats(q)
          assert.deepStrictEqual([stats.counts.completed, stats.counts.failed, stats.counts.cancelled], [1, 1, 1])
          assert.strictEqual((yield* tasks.list({ queue: q, status: "completed" })).tasks[0]?.taskId, a)
          assert.strictEqual((yield* tasks.newest(q, 1))[0]?.taskId, c)
          assert.deepStrictEqual((yield* tasks.get({ queue: q, taskId: a })).result, undefined)
        }
        assert.includeMembers([...(yield* tasks.queues(100))], queues)
      }).pipe(
        Effect.provide(tasksOn({ REDIS_CLUSTER_NODES: cluster.seeds.map((s) => `${s.host}:${s.port}`).join(",") }))
      ),
    TIMEOUT
  )
})
