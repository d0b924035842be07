/**
 * The admin toolset through the built server over stdio: on the in-memory store,
 * and with `--toolsets default,admin` against a 3 primaries + 3 replicas Cluster,
 * where `topology` shows every node and slot and `scan` pages through keys that
 * live on all three primaries.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import type { RedisCluster } from "../support/cluster.ts"
import { startCluster } from "../support/cluster.ts"
import { requireRedis } from "../support/env.ts"
import { type ServerUnderTest, startServer, useServer } from "./client.ts"

const ADMIN_TOOLS = [
  "ping",
  "health",
  "info",
  "dbsize",
  "slowlog",
  "latency",
  "client_list",
  "topology",
  "memory_usage"
]

describe("admin toolset over stdio (memory)", () => {
  const server = useServer("memory", { args: ["--toolsets", "default,admin"] })
  const ok = server.expectOk

  it("lists the admin tools, all read-only", async () => {
    const { tools } = await server.client.listTools()
    const byName = new Map(tools.map((t) => [t.name, t]))
    for (const name of ADMIN_TOOLS) {
      const tool = byName.get(name)
      assert.isDefined(tool, name)
      assert.isTrue(tool!.annotations?.readOnlyHint, name)
      assert.isFalse(tool!.annotations?.destructiveHint, name)
      assert.isDefined(tool!.outputSchema, name)
    }
  })

  it("without admin only ping and health are listed", async () => {
    const plain = await startServer({})
    try {
      const names = new Set((await plain.client.listTools()).tools.map((t) => t.name))
      assert.isTrue(names.has("ping") && names.has("health"))
      for (const name of ADMIN_TOOLS.slice(2)) assert.isFalse(names.has(name), name)
    } finally {
      await plain.close()
    }
  })

  it("describes the in-memory store; out-of-range arguments are InvalidArgument", async () => {
    await ok("set", { key: "a", value: "hello" })
    assert.strictEqual((await ok("dbsize")).keys, 1)
    const topology = await ok("topology")
    assert.strictEqual(topology.mode, "memory")
    assert.strictEqual(topology.nodes.length, 1)
    assert.deepStrictEqual((await ok("slowlog", { count: 128 })).entries, [])
    assert.deepStrictEqual((await ok("latency")).slowCommands, [])
    assert.isAbove((await ok("memory_usage", { key: "a" })).bytes, 5)
    assert.strictEqual(
      (await ok("info", { section: "keyspace" })).nodes[0].sections.keyspace.db0.split(",")[0],
      "keys=1"
    )
    const tooMany = await server.call("slowlog", { count: 129 })
    assert.isFalse(tooMany.ok)
    if (!tooMany.ok) assert.strictEqual(tooMany.error.tag, "InvalidArgument")
    const badSection = await server.call("info", { section: "everything" })
    assert.isFalse(badSection.ok)
    if (!badSection.ok) assert.strictEqual(badSection.error.tag, "InvalidArgument")
  })
})

describe("admin and keys over stdio against a Cluster", () => {
  requireRedis() // a missing redis-server fails the suite, never skips it
  let cluster: RedisCluster
  let server: ServerUnderTest
  const ok = (name: string, args?: Record<string, unknown>) => server.expectOk(name, args)
  const p = `e2e${Math.random().toString(36).slice(2, 8)}`

  beforeAll(async () => {
    cluster = await startCluster({ primaries: 3, replicasPerPrimary: 1 })
    server = await startServer(
      {
        REDIS_CLUSTER_NODES: cluster.seeds.map((s) => `${s.host}:${s.port}`).join(","),
        REDIS_MCP_KEY_PREFIX: "e2e:"
      },
      ["--toolsets", "default,admin"]
    )
  }, 120_000)

  afterAll(async () => {
    await server?.close()
    await cluster?.stop()
  })

  it("health says cluster and ready", async () => {
    let health = await ok("health")
    for (let i = 0; i < 100 && health.state !== "ready"; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      health = await ok("health")
    }
    assert.strictEqual(health.mode, "cluster")
    assert.strictEqual(health.state, "ready")
  })

  it("topology shows six nodes, three primaries with one replica each, every slot covered", async () => {
    const topology = await ok("topology")
    assert.strictEqual(topology.mode, "cluster")
    assert.strictEqual(topology.slotsCovered, 16384)
    assert.strictEqual(topology.nodes.length, 6)
    const primaries = topology.nodes.filter((n: { role: string }) => n.role === "primary")
    assert.strictEqual(primaries.length, 3)
    const ports = new Set(cluster.seeds.map((s) => `${s.host}:${s.port}`))
    for (const node of topology.nodes) assert.isTrue(ports.has(node.address), node.address)
  })

  it("mset across slots, then scan pages through every primary: each key once", async () => {
    const keys = Array.from({ length: 120 }, (_, i) => `${p}:${i}`)
    const written = await ok("mset", { entries: keys.map((key) => ({ key, value: "v" })) })
    assert.isTrue(written.written)
    const seen: Array<string> = []
    let cursor = "0"
    let pages = 0
    do {
      const page = await ok("scan", { cursor, match: `${p}:*`, limit: 25 })
      seen.push(...page.keys)
      cursor = page.cursor
      pages++
    } while (cursor !== "0" && pages < 100)
    assert.strictEqual(cursor, "0")
    assert.isAtLeast(pages, 5)
    assert.strictEqual(seen.length, keys.length)
    assert.deepStrictEqual([...seen].sort(), [...keys].sort())
    const got = await ok("mget", { keys: [keys[0], keys[119], `${p}:missing`] })
    assert.deepStrictEqual(
      got.values.map((i: { found: boolean }) => i.found),
      [true, true, false]
    )
  })

  it("info asks the three primaries; dbsize is refused under the key prefix", async () => {
    assert.strictEqual((await server.expectError("dbsize")).tag, "PermissionDenied")
    const info = await ok("info", { section: "server" })
    assert.strictEqual(info.nodes.length, 3)
    for (const node of info.nodes) assert.strictEqual(node.sections.server.redis_mode, "cluster")
  })
})
