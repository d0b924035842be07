/**
 * Read paths never write. A read-only server connected as a Redis ACL user that
 * may only read (the user docs/admin/connection.md recommends for --read-only)
 * answers every read tool and resource, with expired data present (an expired
 * state document still in its namespace's index, a task whose lease ran out, a
 * delayed task now due), and Redis's ACL LOG shows that nothing it sent was
 * refused. The expired document leaves the index on the next write instead.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { redisReady, type ServerUnderTest, startServer } from "../e2e/client.ts"
import { requireRedis } from "../support/env.ts"
import { type RedisHandle, startRedis } from "../support/standalone.ts"
import { sleep } from "../support/wait.ts"

const READ_ONLY_RULES = "~* &* -@all +@read +@connection +info +multi +exec +eval +evalsha"
const PREFIX = "ro:"

describe("a read-only server under a read-only ACL user", () => {
  requireRedis() // a missing redis-server fails the suite, never skips it
  let redis: RedisHandle
  let server: ServerUnderTest | undefined
  const ns = `ns${Math.random().toString(36).slice(2, 8)}`
  const queue = "jobs"
  const indexKey = `${PREFIX}state:{${ns}}:index`

  beforeAll(async () => {
    redis = await startRedis({ aclUsers: [{ name: "reader", password: "r3ad", rules: READ_ONLY_RULES }] })
    const writer = await redisReady(
      await startServer({ REDIS_URL: redis.url, REDIS_MCP_TOOLSETS: "all", REDIS_MCP_KEY_PREFIX: PREFIX })
    )
    try {
      await writer.expectOk("set", { key: "s", value: "v" })
      await writer.expectOk("hset", { key: "h", fields: { f: "v" } })
      await writer.expectOk("rpush", { key: "l", values: ["a", "b"] })
      await writer.expectOk("sadd", { key: "st", members: ["m"] })
      await writer.expectOk("zadd", { key: "z", members: [{ member: "m", score: 1 }] })
      await writer.expectOk("xadd", { key: "x", fields: { f: "v" } })
      await writer.expectOk("xgroup_create", { key: "x", group: "g", startId: "0" })
      await writer.expectOk("xreadgroup", { key: "x", group: "g", consumer: "c" })
      await writer.expectOk("state_set", { namespace: ns, key: "kept", value: { a: 1 } })
      await writer.expectOk("state_set", { namespace: ns, key: "expiring", value: { b: 2 }, ttlSeconds: 1 })
      const { taskId } = await writer.expectOk("task_create", { queue, payload: { n: 1 } })
      await writer.expectOk("task_claim", { queue, worker: "w", leaseSeconds: 1 })
      await writer.expectOk("task_create", { queue, payload: { n: 2 }, delaySeconds: 1 })
      const done = await writer.expectOk("task_create", { queue, payload: { n: 3 }, priority: 1 })
      const [claimed] = (await writer.expectOk("task_claim", { queue, worker: "w" })).tasks
      await writer.expectOk("task_complete", { queue, taskId: done.taskId, leaseToken: claimed.leaseToken })
      assert.strictEqual(claimed.taskId, done.taskId)
      assert.isString(taskId)
    } finally {
      await writer.close()
    }
    // Let the document's TTL, the 1 s lease and the 1 s delay run out (in Redis's own time).
    await sleep(1500)
    await redis.command("ACL", "LOG", "RESET")
    server = await redisReady(
      await startServer({
        REDIS_URL: redis.urlFor("reader"),
        REDIS_MCP_READ_ONLY: "true",
        REDIS_MCP_TOOLSETS: "all",
        REDIS_MCP_KEY_PREFIX: PREFIX
      })
    )
  }, 60_000)

  afterAll(async () => {
    await server?.close()
    await redis?.dispose()
  })

  it("answers every read tool and resource, and Redis refused nothing it sent", async () => {
    const s = server!
    assert.strictEqual((await s.expectOk("get", { key: "s" })).value, "v")
    await s.expectOk("mget", { keys: ["s", "h"] })
    await s.expectOk("exists", { keys: ["s", "h"] })
    await s.expectOk("key_info", { key: "h" })
    await s.expectOk("scan", {})
    await s.expectOk("hget", { key: "h", field: "f" })
    await s.expectOk("hgetall", { key: "h" })
    await s.expectOk("lrange", { key: "l", start: 0, stop: -1 })
    await s.expectOk("llen", { key: "l" })
    await s.expectOk("smembers", { key: "st" })
    await s.expectOk("sismember", { key: "st", member: "m" })
    await s.expectOk("zrange", { key: "z", by: "index", start: 0, stop: -1 })
    await s.expectOk("zscore", { key: "z", member: "m" })
    await s.expectOk("xrange", { key: "x" })
    await s.expectOk("xread", { streams: [{ key: "x", id: "0" }] })
    await s.expectOk("xlen", { key: "x" })
    await s.expectOk("xpending", { key: "x", group: "g" })
    await s.expectOk("xinfo", { key: "x", group: "g" })
    const list = await s.expectOk("state_list", { namespace: ns })
    assert.deepStrictEqual(
      list.items.map((i: { key: string }) => i.key),
      ["kept"]
    )
    assert.isFalse((await s.expectOk("state_get", { namespace: ns, key: "expiring" })).found)
    await s.expectOk("state_get", { namespace: ns, key: "kept" })
    await s.expectOk("state_history", { namespace: ns, key: "kept" })
    await s.expectOk("task_list", { queue, status: "active" })
    await s.expectOk("task_list", { queue, status: "delayed" })
    await s.expectOk("task_list", { queue, status: "completed" })
    await s.expectOk("queue_stats", { queue })
    const stats = await s.expectOk("queue_stats", { queue })
    assert.strictEqual(stats.total, 3)
    await s.expectOk("ping", {})
    await s.expectOk("health", {})
    await s.expectOk("info", {})
    // dbsize counts every tenant's keys: refused on a prefixed server, and Redis never sees it.
    assert.strictEqual((await s.expectError("dbsize", {})).tag, "PermissionDenied")
    await s.expectOk("memory_usage", { key: "s" })
    const { resources } = await s.client.listResources()
    assert.isAbove(resources.length, 0)
    await s.client.readResource({ uri: `state://${ns}/kept` })
    await s.client.readResource({ uri: `tasks://${queue}` })

    const log = (await redis.command("ACL", "LOG")) as Array<unknown>
    assert.deepStrictEqual(log, [], `Redis refused commands of the read-only server: ${JSON.stringify(log)}`)
    // The expired document is still in the index: nothing was removed by a read.
    assert.include(await redis.client().zrange(indexKey, "0", "-1"), "expiring")
  })

  it("the next write in the namespace drops the expired document from the index", async () => {
    const writer = await redisReady(await startServer({ REDIS_URL: redis.url, REDIS_MCP_KEY_PREFIX: PREFIX }))
    try {
      await writer.expectOk("state_set", { namespace: ns, key: "other", value: 1 })
      assert.deepStrictEqual(await redis.client().zrange(indexKey, "0", "-1"), ["kept", "other"])
      assert.deepStrictEqual(await redis.client().zrange(`${PREFIX}state:{${ns}}:expiry`, "0", "-1"), [])
    } finally {
      await writer.close()
    }
  })
})
