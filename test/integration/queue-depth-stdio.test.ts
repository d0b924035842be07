/**
 * Queue depths over stdio are sampled only where they can be read: a stdio server
 * without `--metrics-port` starts no queue-depth work and keeps no subscription to
 * the task changes (each task transition would otherwise wake it for a message
 * nobody can see), while one with a metrics port subscribes and exports the depths.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { initialize, type RawServer, request, spawnRaw } from "../protocol/raw.ts"
import { requireRedis } from "../support/env.ts"
import { type RedisHandle, startRedis } from "../support/standalone.ts"
import { waitFor } from "../support/wait.ts"

const PREFIX = "qdstdio:"
const CHANNEL = `${PREFIX}task:changes`

const start = async (redis: RedisHandle, args: ReadonlyArray<string>): Promise<RawServer> => {
  const raw = spawnRaw(args, {
    REDIS_URL: redis.url,
    REDIS_MCP_KEY_PREFIX: PREFIX,
    REDIS_MCP_LOG_LEVEL: "debug",
    REDIS_MCP_QUEUE_DEPTH_INTERVAL_MS: "100"
  })
  raw.send(initialize(1))
  await raw.response(1, 15_000)
  raw.send(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }))
  return raw
}

/** The toolsets whose metrics work the server started, from its debug line. */
const metricsWork = async (raw: RawServer): Promise<ReadonlyArray<string>> => {
  await raw.logged('"metrics work"', 15_000)
  const line = raw
    .stderr()
    .split("\n")
    .find((l) => l.includes('"metrics work"'))!
  return JSON.parse(line).message[1].toolsets as ReadonlyArray<string>
}

const subscribers = async (redis: RedisHandle): Promise<number> => {
  const reply = (await redis.command("PUBSUB", "NUMSUB", CHANNEL)) as [string, number]
  return Number(reply[1])
}

const createTask = async (raw: RawServer, id: number, queue: string) => {
  raw.send(request(id, "tools/call", { name: "task_create", arguments: { queue, payload: { n: id } } }))
  const answer = await raw.response(id, 15_000)
  assert.strictEqual(answer.result?.structuredContent?.status, "waiting", JSON.stringify(answer))
}

describe("queue depths over stdio", () => {
  requireRedis() // a missing redis-server fails the suite, never skips it
  let redis: RedisHandle
  const servers: Array<RawServer> = []
  beforeAll(async () => {
    redis = await startRedis()
  }, 60_000)
  afterAll(async () => {
    for (const s of servers) s.child.kill()
    await redis?.dispose()
  })

  it("without a metrics port: no queue-depth work and no subscription to the task changes", async () => {
    const raw = await start(redis, [])
    servers.push(raw)
    assert.deepStrictEqual(await metricsWork(raw), [])
    await createTask(raw, 2, "quiet")
    assert.strictEqual(await subscribers(redis), 0)
    raw.child.kill()
  })

  it("with a metrics port: subscribed, and /metrics has the queue's depth", async () => {
    const raw = await start(redis, ["--metrics-port", "0"])
    servers.push(raw)
    assert.deepStrictEqual(await metricsWork(raw), ["task"])
    await waitFor(async () => (await subscribers(redis)) === 1, {
      timeoutMs: 15_000,
      intervalMs: 50,
      description: "the queue-depth sampler's subscription"
    })
    await raw.logged('"metrics listening"', 15_000)
    const port = Number(/"metrics listening".*"port":(\d+)/.exec(raw.stderr())![1])
    await createTask(raw, 2, "watched")
    const sample = 'redis_mcp_task_queue_depth{queue="watched",status="waiting"} 1'
    await waitFor(async () => (await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).includes(sample), {
      timeoutMs: 15_000,
      intervalMs: 100,
      description: "the queue's depth on /metrics"
    })
    raw.child.kill()
  })
})
