/**
 * Every tool declares what a call touches, as a function of its decoded input
 * (the HTTP service checks a role's glob lists against it before anything is
 * sent): keys, channels, queues and namespaces, logical names before the prefix.
 */
import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { allTools, features } from "../../src/tools/index.ts"
import type { Touches } from "../../src/tools/Tool.ts"

const byName = new Map(allTools.map((t) => [t.name, t]))

/** What a call of `name` with these (raw JSON) arguments touches, decoded as the registry decodes them. */
const touches = (name: string, args: Record<string, unknown>): Touches => {
  const tool = byName.get(name) ?? assert.fail(`no tool ${name}`)
  const input = Schema.decodeUnknownSync(Schema.toCodecJson(tool.input))(args)
  return tool.touches(input)
}

describe("touches", () => {
  it("every tool of every feature declares it, and it answers for the tool's own example input", () => {
    assert.isAbove(allTools.length, 60)
    for (const feature of features) {
      for (const tool of feature.tools) {
        assert.strictEqual(tool.toolset, feature.name, `${tool.name} is listed under ${feature.name}`)
        assert.isFunction(tool.touches, tool.name)
      }
    }
  })

  it("key tools name their keys: mget all of them, rename both, mset every entry's, xread every stream", () => {
    assert.deepStrictEqual(touches("get", { key: "a" }), { keys: ["a"] })
    assert.deepStrictEqual(touches("mget", { keys: ["a", "b", "c"] }), { keys: ["a", "b", "c"] })
    assert.deepStrictEqual(touches("del", { keys: ["a", "b"] }), { keys: ["a", "b"] })
    assert.deepStrictEqual(touches("rename", { key: "old", newKey: "new" }), { keys: ["old", "new"] })
    assert.deepStrictEqual(
      touches("mset", {
        entries: [
          { key: "a", value: "1" },
          { key: "b", value: "2" }
        ]
      }),
      { keys: ["a", "b"] }
    )
    assert.deepStrictEqual(
      touches("xread", {
        streams: [
          { key: "s1", id: "0" },
          { key: "s2", id: "$" }
        ]
      }),
      { keys: ["s1", "s2"] }
    )
    assert.deepStrictEqual(touches("hset", { key: "h", fields: { f: "v" } }), { keys: ["h"] })
    assert.deepStrictEqual(touches("memory_usage", { key: "m" }), { keys: ["m"] })
    // scan declares its glob (all keys when there is none), to be matched as a pattern.
    assert.deepStrictEqual(touches("scan", {}), { keyPatterns: ["*"] })
    assert.deepStrictEqual(touches("scan", { match: "user:*" }), { keyPatterns: ["user:*"] })
  })

  it("task tools name their queue, state tools their namespace, locks the namespace lock:<name>", () => {
    const lease = { queue: "q1", taskId: "t1", leaseToken: "x" }
    const taskCalls: Record<string, Record<string, unknown>> = {
      task_create: { queue: "q1", payload: {} },
      task_claim: { queue: "q1", worker: "w" },
      task_heartbeat: lease,
      task_complete: lease,
      task_fail: { ...lease, error: "boom" },
      task_get: { queue: "q1", taskId: "t1" },
      task_list: { queue: "q1", status: "waiting" },
      task_cancel: { queue: "q1", taskId: "t1" },
      queue_stats: { queue: "q1" }
    }
    assert.sameMembers(
      Object.keys(taskCalls),
      allTools.filter((t) => t.toolset === "task").map((t) => t.name)
    )
    for (const [name, args] of Object.entries(taskCalls))
      assert.deepStrictEqual(touches(name, args), { queues: ["q1"] }, name)
    for (const name of ["state_get", "state_delete", "state_list", "state_history"]) {
      assert.deepStrictEqual(
        touches(name, name === "state_list" ? { namespace: "ns" } : { namespace: "ns", key: "k" }),
        {
          namespaces: ["ns"]
        }
      )
    }
    assert.deepStrictEqual(touches("state_set", { namespace: "ns", key: "k", value: 1 }), { namespaces: ["ns"] })
    assert.deepStrictEqual(touches("state_patch", { namespace: "ns", key: "k", patch: {} }), { namespaces: ["ns"] })
    assert.deepStrictEqual(touches("lock_acquire", { name: "deploy", owner: "me", ttlSeconds: 5 }), {
      namespaces: ["lock:deploy"]
    })
    assert.deepStrictEqual(touches("lock_release", { name: "deploy", owner: "me", fencingToken: 1 }), {
      namespaces: ["lock:deploy"]
    })
  })

  it("publish names its channel, subscribe its channels apart from its patterns", () => {
    assert.deepStrictEqual(touches("publish", { channel: "news", message: "hi" }), { channels: ["news"] })
    assert.deepStrictEqual(touches("subscribe", { channels: ["a", "b"], patterns: ["news.*"] }), {
      channels: ["a", "b"],
      channelPatterns: ["news.*"]
    })
    assert.deepStrictEqual(touches("subscribe", { patterns: ["x*"] }), { channels: [], channelPatterns: ["x*"] })
  })

  it("reads of the whole server say so; pipeline and command list their raw commands (keys from Redis key specs)", () => {
    for (const name of ["ping", "health", "topology"]) assert.deepStrictEqual(touches(name, {}), {}, name)
    for (const name of ["dbsize", "slowlog", "latency", "client_list", "info"]) {
      assert.deepStrictEqual(touches(name, {}), { serverWide: true }, name)
    }
    // INFO sections other than keyspace (and default, which has it) say nothing of the keys.
    assert.deepStrictEqual(touches("info", { section: "memory" }), {})
    assert.deepStrictEqual(touches("info", { section: "keyspace" }), { serverWide: true })
    assert.deepStrictEqual(
      touches("pipeline", {
        commands: [
          ["GET", "a"],
          ["INCRBY", "b", 2]
        ]
      }),
      {
        commands: [
          ["GET", "a"],
          ["INCRBY", "b", "2"]
        ]
      }
    )
    assert.deepStrictEqual(touches("command", { args: ["GET", "a"] }), { commands: [["GET", "a"]] })
  })
})
