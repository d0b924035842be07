/**
 * The data toolsets on a real 3 primaries + 3 replicas Redis Cluster, through the
 * built server (`--toolsets all`, a key prefix, small item cap): collections with
 * TTL and paging; streams with consumer groups, and blocking reads held on the
 * node that owns the stream (without stalling other calls) or refused when their
 * streams span slots; pub/sub across two server processes; pipelines within one
 * slot and a clear refusal across slots; `command`; and `state://` resource
 * notifications. One cluster and two servers for the whole file.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { redisReady, type ServerUnderTest, startServer } from "../e2e/client.ts"
import { type RedisCluster, startCluster } from "../support/cluster.ts"
import { requireRedis } from "../support/env.ts"
import { waitFor } from "../support/wait.ts"

const PREFIX = "app:"
const TIMEOUT = 20_000
const p = `ct${Math.random().toString(36).slice(2, 8)}`

describe("data toolsets on a Redis Cluster (3 primaries + 3 replicas)", () => {
  let cluster: RedisCluster
  let a: ServerUnderTest
  let b: ServerUnderTest

  const ok = (name: string, args: Record<string, unknown> = {}) => a.expectOk(name, args)
  const fails = (name: string, args: Record<string, unknown> = {}) => a.expectError(name, args)

  /** Port of the primary serving `key` (as the server names it: the prefix is added). */
  const ownerPort = async (key: string) => (await cluster.primaryForKey(PREFIX + key)).port

  beforeAll(async () => {
    requireRedis()
    cluster = await startCluster({ primaries: 3, replicasPerPrimary: 1 })
    const env = {
      REDIS_CLUSTER_NODES: cluster.seeds.map((s) => `${s.host}:${s.port}`).join(","),
      REDIS_COMMAND_TIMEOUT_MS: "5000",
      REDIS_MCP_KEY_PREFIX: PREFIX,
      REDIS_MCP_MAX_ITEMS: "5"
    }
    ;[a, b] = await Promise.all([
      startServer(env, ["--toolsets", "all"]).then(redisReady),
      startServer(env, ["--toolsets", "all"]).then(redisReady)
    ])
  }, 60_000)

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()])
    await cluster?.stop()
  }, 30_000)

  it(
    "hash, list, set and zset: writes with TTL, reads paged by cursor",
    async () => {
      const hash = `${p}:user`
      // Seven items in two writes (the item cap is 5 per call), read back in two pages.
      const fields = Object.fromEntries(Array.from({ length: 7 }, (_, i) => [`f${i}`, `v${i}`]))
      const [f1, f2] = [Object.entries(fields).slice(0, 4), Object.entries(fields).slice(4)].map(Object.fromEntries)
      assert.deepStrictEqual(await ok("hset", { key: hash, fields: f1, ttlSeconds: 60 }), { added: 4 })
      assert.deepStrictEqual(await ok("hset", { key: hash, fields: f2 }), { added: 3 })
      const seen: Array<string> = []
      let cursor: string | undefined
      do {
        const page = await ok("hgetall", { key: hash, ...(cursor === undefined ? {} : { cursor }) })
        assert.isAtMost(page.fields.length, 5)
        seen.push(...page.fields.map((f: { field: string }) => f.field))
        cursor = page.cursor
      } while (cursor !== undefined)
      assert.sameMembers(seen, Object.keys(fields))

      const list = `${p}:queue`
      assert.deepStrictEqual(await ok("rpush", { key: list, values: ["a", "b", "c"], ttlSeconds: 60 }), {
        length: 3
      })
      const range = await ok("lrange", { key: list, start: 0, stop: -1 })
      assert.deepStrictEqual(
        range.items.map((i: { value: string }) => i.value),
        ["a", "b", "c"]
      )

      const set = `${p}:tags`
      const members = Array.from({ length: 7 }, (_, i) => `m${i}`)
      assert.deepStrictEqual(await ok("sadd", { key: set, members: members.slice(0, 4), ttlSeconds: 60 }), {
        added: 4
      })
      assert.deepStrictEqual(await ok("sadd", { key: set, members: members.slice(4) }), { added: 3 })
      const got: Array<string> = []
      cursor = undefined
      do {
        const page = await ok("smembers", { key: set, ...(cursor === undefined ? {} : { cursor }) })
        got.push(...page.members.map((m: { value: string }) => m.value))
        cursor = page.cursor
      } while (cursor !== undefined)
      assert.sameMembers(got, members)

      const zset = `${p}:board`
      const scored = Array.from({ length: 7 }, (_, i) => ({ member: `z${i}`, score: i }))
      assert.deepStrictEqual(await ok("zadd", { key: zset, members: scored.slice(0, 4), ttlSeconds: 60 }), {
        added: 4,
        updated: 0
      })
      assert.deepStrictEqual(await ok("zadd", { key: zset, members: scored.slice(4) }), { added: 3, updated: 0 })
      const first = await ok("zrange", { key: zset, by: "index", start: 0, stop: -1 })
      assert.isTrue(first.truncated)
      assert.strictEqual(first.members.length, 5)
      const rest = await ok("zrange", { key: zset, by: "index", start: 0, stop: -1, cursor: first.cursor })
      assert.deepStrictEqual(
        [...first.members, ...rest.members].map((m: { value: string }) => m.value),
        scored.map((m) => m.member)
      )

      // The keys landed on more than one primary, and every one carries its TTL.
      const owners = new Set(await Promise.all([hash, list, set, zset].map(ownerPort)))
      assert.isAbove(owners.size, 1)
      for (const key of [hash, list, set, zset]) {
        const info = await ok("key_info", { key })
        assert.isTrue(info.exists, key)
        assert.isAbove(info.ttlMs, 0, key)
        assert.isAtMost(info.ttlMs, 60_000, key)
      }
    },
    TIMEOUT
  )

  it(
    "streams: consumer group read, ack, pending and autoclaim",
    async () => {
      const key = `${p}:jobs`
      assert.deepStrictEqual(await ok("xgroup_create", { key, group: "g", startId: "$", mkstream: true }), {
        created: true
      })
      const ids: Array<string> = []
      for (const n of ["1", "2", "3"]) ids.push((await ok("xadd", { key, fields: { n } })).id)
      const taken = await ok("xreadgroup", { key, group: "g", consumer: "w1", count: 2 })
      assert.deepStrictEqual(
        taken.entries.map((e: { id: string }) => e.id),
        ids.slice(0, 2)
      )
      assert.deepStrictEqual(await ok("xack", { key, group: "g", ids: [ids[0]] }), { acked: 1 })
      const pending = await ok("xpending", { key, group: "g" })
      assert.strictEqual(pending.pending, 1)
      const claimed = await ok("xautoclaim", { key, group: "g", consumer: "w2", minIdleMs: 0 })
      assert.deepStrictEqual(
        claimed.entries.map((e: { id: string }) => e.id),
        [ids[1]]
      )
      const last = await ok("xreadgroup", { key, group: "g", consumer: "w2" })
      assert.deepStrictEqual(
        last.entries.map((e: { id: string }) => e.id),
        [ids[2]]
      )
    },
    TIMEOUT
  )

  /** Waits until the node at `port` holds a client blocked in `command` (CLIENT LIST). */
  const blockedOn = (port: number, command: string) =>
    waitFor(
      async () => {
        const clients = String(await cluster.node(port).command("CLIENT", "LIST"))
        return clients.split("\n").some((l) => l.includes(`cmd=${command}`) && / flags=\w*b/.test(l))
      },
      { timeoutMs: 5000, intervalMs: 50, description: `a client blocked in ${command} on node ${port}` }
    )

  it(
    "a blocking xread waits on the stream's own node, other calls go on, and an entry added meanwhile arrives",
    async () => {
      const key = `${p}:audit`
      await ok("xadd", { key, fields: { n: "0" } })
      let settled = false
      const reading = a.expectOk("xread", { streams: [{ key, id: "$" }], blockMs: 4000 }).finally(() => {
        settled = true
      })
      await blockedOn(await ownerPort(key), "xread")
      // Other calls on the same server are answered while the read blocks.
      await ok("set", { key: `${p}:side`, value: "x" })
      assert.strictEqual((await ok("get", { key: `${p}:side` })).value, "x")
      assert.isFalse(settled)
      const { id } = await b.expectOk("xadd", { key, fields: { n: "1" } })
      const read = await reading
      assert.deepStrictEqual(read.streams[0].entries, [{ id, fields: { n: "1" } }])
    },
    TIMEOUT
  )

  it(
    "a blocking xreadgroup waits on the stream's node and receives the next entry",
    async () => {
      const key = `${p}:work`
      await ok("xgroup_create", { key, group: "g", startId: "$", mkstream: true })
      const reading = a.expectOk("xreadgroup", { key, group: "g", consumer: "w", blockMs: 4000 })
      // It waits with XREAD BLOCK after the group's last delivered entry, then delivers only what fits.
      await blockedOn(await ownerPort(key), "xread")
      const { id } = await b.expectOk("xadd", { key, fields: { job: "j1" } })
      const read = await reading
      assert.deepStrictEqual(read.entries, [{ id, fields: { job: "j1" } }])
    },
    TIMEOUT
  )

  it(
    "xread of several streams: one hash tag blocks together; streams in different slots are refused",
    async () => {
      const [eu, us] = [`{${p}:orders}:eu`, `{${p}:orders}:us`]
      await ok("xadd", { key: eu, fields: { n: "0" } })
      const reading = a.expectOk("xread", {
        streams: [
          { key: eu, id: "$" },
          { key: us, id: "$" }
        ],
        blockMs: 4000
      })
      await blockedOn(await ownerPort(eu), "xread")
      const { id } = await b.expectOk("xadd", { key: us, fields: { n: "1" } })
      const read = await reading
      const byKey = new Map(read.streams.map((s: { key: string; entries: unknown }) => [s.key, s.entries]))
      assert.deepStrictEqual(byKey.get(us), [{ id, fields: { n: "1" } }])

      // Two streams whose slots differ (found by their owners, or failing that by name).
      let other = `${p}:x0`
      for (let i = 1; (await ownerPort(other)) === (await ownerPort(eu)); i++) other = `${p}:x${i}`
      for (const blockMs of [0, 1000]) {
        const e = await fails("xread", {
          streams: [
            { key: eu, id: "0" },
            { key: other, id: "0" }
          ],
          blockMs
        })
        assert.strictEqual(e.tag, "InvalidArgument")
        assert.match(e.message, /hash slot/)
        assert.match(e.message, /hash tag/)
      }
    },
    TIMEOUT
  )

  it(
    "pubsub: a subscription on one server receives what another server publishes",
    async () => {
      const channel = `${p}.news`
      const sub = await ok("subscribe", { channels: [channel], patterns: [`${p}.alerts.*`] })
      // On a Cluster `receivers` counts the subscribers on the node that took the PUBLISH only: not asserted.
      await b.expectOk("publish", { channel, message: "hello" })
      await b.expectOk("publish", { channel: `${p}.alerts.disk`, message: "91%" })
      const messages: Array<Record<string, unknown>> = []
      for (let i = 0; i < 10 && messages.length < 2; i++) {
        const r = await ok("read_messages", { subscriptionId: sub.subscriptionId, waitMs: 2000 })
        messages.push(...r.messages)
      }
      assert.deepStrictEqual(
        messages.map(({ receivedAt, ...m }) => m),
        [
          { channel, message: "hello", encoding: "utf8" },
          { channel: `${p}.alerts.disk`, pattern: `${p}.alerts.*`, message: "91%", encoding: "utf8" }
        ]
      )
      assert.deepStrictEqual(await ok("unsubscribe", { subscriptionId: sub.subscriptionId }), { unsubscribed: true })
      assert.strictEqual((await fails("read_messages", { subscriptionId: sub.subscriptionId })).tag, "NotFound")
    },
    TIMEOUT
  )

  it(
    "pipeline within one slot, plain and atomic; across slots a clear error; command",
    async () => {
      const [x, y] = [`{${p}:cart}:n`, `{${p}:cart}:items`]
      const plain = await ok("pipeline", {
        commands: [
          ["SET", x, 10],
          ["INCRBY", x, "5"],
          ["RPUSH", y, "a", "b"],
          ["GET", x]
        ]
      })
      assert.deepStrictEqual(
        plain.results.map((r: { result: unknown }) => r.result),
        ["OK", 15, 2, "15"]
      )
      const atomic = await ok("pipeline", {
        commands: [
          ["INCR", x],
          ["LRANGE", y, 0, -1]
        ],
        atomic: true
      })
      assert.deepStrictEqual(
        atomic.results.map((r: { result: unknown }) => r.result),
        [16, ["a", "b"]]
      )

      let other = `${p}:o0`
      for (let i = 1; (await ownerPort(other)) === (await ownerPort(x)); i++) other = `${p}:o${i}`
      for (const atomic of [false, true]) {
        const e = await fails("pipeline", {
          commands: [
            ["SET", x, 1],
            ["SET", other, 2]
          ],
          atomic
        })
        assert.strictEqual(e.tag, "InvalidArgument")
        assert.match(e.message, /hash slot/)
        assert.match(e.message, /hash tag/)
      }
      // Nothing of the refused pipelines ran, and the server goes on.
      assert.strictEqual((await ok("command", { args: ["GET", x] })).result, "16")
      assert.strictEqual((await ok("get", { key: other })).found, false)

      assert.strictEqual((await ok("command", { args: ["SET", `${p}:cmd`, "v"] })).result, "OK")
      assert.strictEqual((await ok("command", { args: ["GET", `${p}:cmd`] })).result, "v")
      assert.strictEqual((await ok("command", { args: ["HSET", `${p}:cmdh`, "f", "1"] })).result, 1)
      const crossed = await fails("command", { args: ["MGET", x, other] })
      assert.strictEqual(crossed.tag, "InvalidArgument")
      assert.match(crossed.message, /hash tag/)
    },
    TIMEOUT
  )

  it(
    "state:// resources: a subscribed client is told of changes made by another server",
    async () => {
      const ns = `${p}-ns`
      const uri = `state://${encodeURIComponent(ns)}/progress`
      const seen: Array<string> = []
      a.client.onResourceUpdated((u) => {
        seen.push(u)
      })
      const count = () => seen.filter((u) => u === uri).length
      await a.client.subscribe(uri)
      await b.expectOk("state_set", { namespace: ns, key: "progress", value: { percent: 10 } })
      await waitFor(async () => count() >= 1, { timeoutMs: 5000, intervalMs: 20, description: `an update of ${uri}` })
      const read = await a.client.readResource({ uri })
      assert.deepStrictEqual(JSON.parse(String((read.contents[0] as { text: string }).text)), { percent: 10 })
      await b.expectOk("state_patch", { namespace: ns, key: "progress", patch: { percent: 50 } })
      await waitFor(async () => count() >= 2, {
        timeoutMs: 5000,
        intervalMs: 20,
        description: `a second update of ${uri}`
      })
      await a.client.unsubscribe(uri)
    },
    TIMEOUT
  )
})
