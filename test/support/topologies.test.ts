/**
 * Tests of the sentinel and cluster starters (real redis-server / redis-sentinel processes).
 */
import { assert } from "@effect/vitest"
import { Cluster, Redis } from "ioredis"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type RedisCluster, startCluster } from "./cluster.ts"
import { requireRedis } from "./env.ts"
import { type SentinelSet, startSentinelSet } from "./sentinel.ts"
import { waitFor } from "./wait.ts"

requireRedis() // throws under CI; locally a missing redis-server fails these tests, never skips them

describe("sentinel", () => {
  let set: SentinelSet
  beforeAll(async () => {
    set = await startSentinelSet({ replicas: 1, sentinels: 3 })
  })
  afterAll(() => set?.stop())

  it("reports the initial primary and survives killPrimary()", async () => {
    const first = await set.primary()
    expect(first.port).toBe(set.nodes[0]?.port)
    expect(set.sentinels).toHaveLength(3)

    const writer = (await set.primaryHandle()).client()
    await writer.set("before", "failover")
    expect(await writer.call("WAIT", "1", "2000")).toBe(1)

    const killed = await set.killPrimary()
    expect(killed.port).toBe(first.port)
    const started = Date.now()
    const next = await set.waitForPrimaryChange(first.port, 15_000)
    expect(Date.now() - started).toBeLessThan(15_000)
    expect(next.port).not.toBe(first.port)

    const viaSentinel = new Redis({ sentinels: [...set.sentinels], name: set.masterName })
    try {
      expect(await viaSentinel.get("before")).toBe("failover")
      expect(await viaSentinel.set("after", "failover")).toBe("OK")
    } finally {
      viaSentinel.disconnect()
    }

    await killed.restart()
    await set.waitForHealthy(30_000)
    // The restarted node rejoins the set: as a replica of the new primary, or as the primary itself
    // when a busy machine made the sentinels (down after 1 s) fail over once more.
    const current = await set.primary()
    expect(await killed.role()).toBe(current.port === killed.port ? "master" : "slave")
  })
})

describe("cluster", () => {
  let cluster: RedisCluster
  let client: Cluster
  beforeAll(async () => {
    cluster = await startCluster({ primaries: 3, replicasPerPrimary: 1 })
    client = new Cluster([...cluster.seeds])
  })
  afterAll(async () => {
    client?.disconnect()
    await cluster?.stop()
  })

  it("reaches cluster_state:ok with 3 primaries and 3 replicas", async () => {
    expect(cluster.nodes).toHaveLength(6)
    expect(await cluster.primaries()).toHaveLength(3)
    expect(await cluster.replicas()).toHaveLength(3)
    for (const node of cluster.nodes) {
      expect(await node.cli("CLUSTER", "INFO")).toContain("cluster_state:ok")
    }
  })

  it("routes keys through ioredis Cluster", async () => {
    await client.set("{user:1}:name", "ada")
    expect(await client.get("{user:1}:name")).toBe("ada")
    const owner = await cluster.primaryForKey("{user:1}:name")
    const direct = cluster.node(owner.port).client()
    expect(await direct.get("{user:1}:name")).toBe("ada")
  })

  it("promotes the replica when a primary is killed, and recovers after restartNode()", async () => {
    const owner = await cluster.primaryForKey("{user:1}:name")
    const [replica] = await cluster.replicasOf(owner.port)
    assert.isDefined(replica)
    expect(await cluster.node(owner.port).client().call("WAIT", "1", "2000")).toBe(1)

    await cluster.killNode(owner.port)
    await cluster.waitForFailover(owner.port, 30_000)
    expect(await cluster.node(replica.port).role()).toBe("master")
    expect((await cluster.primaryForKey("{user:1}:name")).port).toBe(replica.port)
    expect(
      await waitFor(async () => await client.get("{user:1}:name"), {
        timeoutMs: 10_000,
        description: "read after failover"
      })
    ).toBe("ada")

    await cluster.restartNode(owner.port)
    await cluster.waitForClusterOk(30_000)
    expect(await cluster.node(owner.port).role()).toBe("slave")
  })

  it("failoverReplicaOf() hands a primary role back", async () => {
    const owner = await cluster.primaryForKey("{user:1}:name")
    const promoted = await cluster.failoverReplicaOf(owner.port)
    expect(promoted.role).toBe("primary")
    expect((await cluster.primaryForKey("{user:1}:name")).port).toBe(promoted.port)
  })
})
