/**
 * Cluster helpers without a cluster: key slots as Redis computes them (CRC16,
 * hash tags), grouping per slot, the cluster-wide SCAN cursor, CLUSTER NODES
 * parsing, and how Cluster-specific failures map to retryable errors.
 */
import { assert, describe, it } from "@effect/vitest"
import { parseClusterNodes, slotsCovered } from "../../src/layers/ClusterNodes.ts"
import {
  decodeClusterCursor,
  encodeClusterCursor,
  groupBySlot,
  keySlot,
  SLOT_COUNT,
  toRanges
} from "../../src/layers/ClusterSlots.ts"
import { toRedisError } from "../../src/layers/RedisErrors.ts"

describe("keySlot", () => {
  it("matches CLUSTER KEYSLOT", () => {
    // Values from redis-cli CLUSTER KEYSLOT on Redis 7.
    assert.strictEqual(keySlot("foo"), 12182)
    assert.strictEqual(keySlot("bar"), 5061)
    assert.strictEqual(keySlot("123456789"), 0x31c3 % SLOT_COUNT)
    assert.strictEqual(keySlot(""), 0)
  })

  it("hashes only a non-empty {tag}", () => {
    assert.strictEqual(keySlot("{user1000}.following"), keySlot("user1000"))
    assert.strictEqual(keySlot("app:{user1000}.followers"), keySlot("user1000"))
    assert.strictEqual(keySlot("foo{}{bar}"), keySlot("foo{}{bar}"))
    assert.notStrictEqual(keySlot("foo{}{bar}"), keySlot("bar"))
    assert.strictEqual(keySlot("foo{{bar}}zap"), keySlot("{bar"))
    assert.strictEqual(keySlot(Buffer.from("foo")), 12182)
  })
})

describe("groupBySlot", () => {
  it("groups positions by the slot of prefix + key, in first-seen order", () => {
    const keys = ["{a}1", "b", "{a}2", "c", "b"]
    const groups = groupBySlot(keys, "p:")
    assert.deepStrictEqual(groups.flat().sort(), [0, 1, 2, 3, 4])
    assert.deepStrictEqual(groups[0], [0, 2])
    for (const group of groups) {
      assert.strictEqual(new Set(group.map((i) => keySlot(`p:${keys[i]}`))).size, 1)
    }
  })

  it("a prefix with a hash tag puts every key in one slot", () => {
    assert.strictEqual(groupBySlot(["a", "b", "c", "d"], "{tenant}:").length, 1)
  })
})

describe("toRanges", () => {
  it("folds slots into inclusive ranges", () => {
    assert.deepStrictEqual(toRanges([5, 1, 2, 3, 9, 10, 3]), [
      [1, 3],
      [5, 5],
      [9, 10]
    ])
    assert.deepStrictEqual(toRanges([]), [])
  })
})

describe("cluster SCAN cursor", () => {
  it("round-trips a node cursor and slot; 0 stays the start", () => {
    const cursors = [
      { slot: 0, nodeCursor: 0n },
      { slot: 5461, nodeCursor: 0n },
      { slot: 10923, nodeCursor: 123n },
      { slot: 0, nodeCursor: 18446744073709551615n }
    ]
    for (const c of cursors) assert.deepStrictEqual(decodeClusterCursor(encodeClusterCursor(c)), c)
    assert.strictEqual(encodeClusterCursor({ slot: 0, nodeCursor: 0n }), "0")
    assert.notStrictEqual(encodeClusterCursor({ slot: 5461, nodeCursor: 0n }), "0")
    assert.match(encodeClusterCursor({ slot: 7, nodeCursor: 99n }), /^\d+$/)
    assert.isUndefined(decodeClusterCursor("abc"))
  })
})

describe("parseClusterNodes", () => {
  const text = [
    "07c37dfeb235213a872192d90877d0cd55635b91 127.0.0.1:30004@31004,host4 slave e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 0 1426238317239 4 connected",
    "67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 127.0.0.1:30002@31002 master - 0 1426238316232 2 connected 5461-10922",
    "e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@31001 myself,master - 0 0 1 connected 0-5460 [5461->-67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1]",
    "6ec23923021cf3ffec47632106199cb7f496ce01 127.0.0.1:30005@31005 slave,fail 67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 0 1426238316232 5 disconnected",
    "292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f 127.0.0.1:30003@31003 master - 0 1426238318243 3 connected 10923-16383"
  ].join("\n")

  it("reads roles, primaries, slots (without migration markers) and flags", () => {
    const nodes = parseClusterNodes(text)
    assert.strictEqual(nodes.length, 5)
    const self = nodes[2]!
    assert.deepStrictEqual(self, {
      id: "e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca",
      address: "127.0.0.1:30001",
      role: "primary",
      primaryId: null,
      slots: [[0, 5460]],
      flags: [],
      link: "connected"
    })
    assert.strictEqual(nodes[0]!.address, "127.0.0.1:30004")
    assert.strictEqual(nodes[0]!.primaryId, self.id)
    assert.deepStrictEqual(nodes[3]!.flags, ["fail"])
    assert.strictEqual(nodes[3]!.link, "disconnected")
    assert.strictEqual(slotsCovered(nodes), 16384)
  })
})

describe("Cluster failures map to retryable errors", () => {
  const map = (message: string) => toRedisError(new Error(message), "GET", 1000)

  it("TRYAGAIN and CLUSTERDOWN are RedisBusy with their reason", () => {
    const tryAgain = map("TRYAGAIN Multiple keys request during rehashing of slot")
    assert.strictEqual(tryAgain._tag, "RedisBusy")
    assert.isTrue(tryAgain.retryable)
    const down = map("CLUSTERDOWN The cluster is down")
    assert.strictEqual(down._tag === "RedisBusy" ? down.reason : "", "CLUSTERDOWN")
  })

  it("a redirection storm names its last error", () => {
    const storm = map("Too many Cluster redirections. Last error: ReplyError: TRYAGAIN Multiple keys request")
    assert.strictEqual(storm._tag === "RedisBusy" ? storm.reason : storm._tag, "TRYAGAIN")
    const moved = map("Too many Cluster redirections. Last error: ReplyError: MOVED 3999 127.0.0.1:6381")
    assert.strictEqual(moved._tag, "RedisUnavailable")
    assert.isTrue(moved.retryable)
  })

  it("MOVED reaching us, a closed node and a cluster that is not ready are RedisUnavailable", () => {
    for (const message of [
      "MOVED 3999 127.0.0.1:6381",
      "Connection is closed.",
      "Cluster isn't ready and enableOfflineQueue options is false",
      "None of startup nodes is available",
      "Failed to refresh slots cache."
    ]) {
      const e = map(message)
      assert.strictEqual(e._tag, "RedisUnavailable", message)
      assert.isTrue(e.retryable)
    }
  })
})
