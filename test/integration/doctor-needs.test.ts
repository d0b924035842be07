/**
 * doctor's table of the Redis commands each toolset needs (src/mcp/doctor/Needs.ts) against
 * what the tools really send: every tool of a toolset is called on a real redis-server (error
 * paths included), and every command Redis counted in INFO commandstats — Lua scripts' own
 * commands and subscriptions included — must be in the table. A tool that starts sending a new
 * command fails here until the table (and so doctor's ACL check) knows it.
 */
import { assert, describe, layer } from "@effect/vitest"
import { ConfigProvider, Context, Effect, Layer, References } from "effect"
import { RedisConfig, ServerConfig } from "../../src/layers/Config.ts"
import { RedisClient } from "../../src/layers/RedisClient.ts"
import { commandNames, needsFor } from "../../src/mcp/doctor/Needs.ts"
import { callTool, codecs } from "../../src/mcp/Registry.ts"
import * as Stack from "../../src/services/Stack.ts"
import { allTools } from "../../src/tools/index.ts"
import { RedisTestServer, redisResource } from "../support/effect.ts"
import { requireRedis } from "../support/env.ts"

const onServer = Layer.unwrap(
  Effect.gen(function* () {
    requireRedis()
    const handle = yield* redisResource({})
    const config = Layer.mergeAll(RedisConfig.layer, ServerConfig.layer).pipe(
      Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnvRecord({ REDIS_URL: handle.url })))
    )
    return Stack.layerRedis.pipe(
      Layer.merge(RedisClient.layer),
      Layer.tap((ctx) => Context.get(ctx, RedisClient).awaitReady(10_000).pipe(Effect.orDie)),
      Layer.provideMerge(config),
      Layer.merge(Layer.succeed(RedisTestServer, handle)),
      Layer.provide(Layer.succeed(References.MinimumLogLevel, "Warn"))
    )
  })
)

type Value = Record<string, any>
/** Every tool a scenario called: the last test checks that no tool was left out. */
const called = new Set<string>()
/** A task the task scenario created, for the read-only run. */
let knownTaskId = ""
const byName = new Map(allTools.map((t) => [t.name, t]))

/** Call a tool as the registry does; its structured result, or the error tag when `expect` names one. */
const call = (name: string, args: Value, expect?: string) =>
  Effect.gen(function* () {
    const tool = byName.get(name)
    if (tool === undefined) return yield* Effect.die(`no tool ${name}`)
    called.add(name)
    const outcome = yield* callTool(tool, codecs(tool), args, 1024 * 1024)
    if (outcome._tag === "Success") {
      if (expect !== undefined) return yield* Effect.die(`${name} succeeded, expected ${expect}`)
      return outcome.value as Value
    }
    if (outcome.error.tag !== expect) {
      return yield* Effect.die(`${name} ${JSON.stringify(args)}: ${JSON.stringify(outcome.error)}`)
    }
    return { error: outcome.error.tag } as Value
  })

/** The commands Redis counted while `scenario` ran (after `setup`). */
const commandsSent = <A, E, R>(scenario: Effect.Effect<A, E, R>, setup: ReadonlyArray<ReadonlyArray<string>> = []) =>
  Effect.gen(function* () {
    const redis = yield* RedisTestServer
    for (const c of setup) yield* Effect.promise(() => redis.command(c[0]!, ...c.slice(1)))
    yield* Effect.promise(() => redis.command("CONFIG", "RESETSTAT"))
    yield* scenario
    const stats = yield* Effect.promise(() => redis.info("commandstats"))
    return [...stats.keys()].map((k) => k.replace(/^cmdstat_/, "")).filter((c) => c !== "config|resetstat")
  })

/** Listed, but sent only by background work these scenarios do not run. */
const BACKGROUND: Readonly<Record<string, ReadonlyArray<string>>> = {
  task: ["sscan", "subscribe"], // the sweep walks the set of known queues; task:// resource subscriptions
  state: ["subscribe"] // change notifications for state:// resource subscriptions
}

/** Every command sent is listed, and (background work aside) every command listed was sent. */
/**
 * Lua scripts go by EVALSHA or EVAL depending on whether this connection sent the script before:
 * either one counts as the pair having been sent.
 */
const wasSent = (sent: ReadonlyArray<string>, command: string) =>
  sent.includes(command) ||
  ((command === "eval" || command === "evalsha") && (sent.includes("eval") || sent.includes("evalsha")))

const assertListed = (toolsets: ReadonlyArray<string>, sent: ReadonlyArray<string>) => {
  for (const toolset of toolsets) {
    assert.deepStrictEqual(
      commandNames(toolset).filter((c) => !wasSent(sent, c) && !BACKGROUND[toolset]?.includes(c)),
      [],
      `${toolset}: doctor checks commands the tools did not send`
    )
  }
  const listed = new Set([...toolsets, "connection"].flatMap(commandNames))
  assert.deepStrictEqual(
    sent.filter((c) => !listed.has(c)),
    [],
    `${toolsets.join(", ")} sent commands doctor does not check`
  )
}

describe("doctor's command table matches what the tools send", () => {
  requireRedis() // a missing redis-server fails the suite, never skips it
  layer(onServer, { timeout: 60_000, excludeTestServices: true })((it) => {
    it.effect("keys", () =>
      Effect.gen(function* () {
        const sent = yield* commandsSent(
          Effect.gen(function* () {
            yield* call("set", { key: "k1", value: "v", ttlSeconds: 100 })
            yield* call("set", { key: "k1", value: "v", condition: "ifPresent", keepTtl: true })
            yield* call("get", { key: "k1" })
            yield* call("get", { key: "k1", offset: 0, length: 1 })
            yield* call("mset", { entries: [{ key: "k2", value: "2" }], ttlSeconds: 10 })
            yield* call("mset", { entries: [{ key: "k2", value: "2" }] })
            yield* call("mget", { keys: ["k1", "k2", "nope"] })
            yield* call("exists", { keys: ["k1", "nope"] })
            yield* call("expire", { key: "k1", ttlSeconds: 50 })
            yield* call("expire", { key: "k1", persist: true })
            yield* call("key_info", { key: "k1" })
            for (const key of ["h", "l", "s", "z", "x"]) yield* call("key_info", { key })
            yield* call("rename", { key: "k1", newKey: "k3" })
            yield* call("rename", { key: "k3", newKey: "k2", onlyIfAbsent: true })
            yield* call("incr", { key: "n" })
            yield* call("incr", { key: "h" }, "WrongType")
            yield* call("get", { key: "h" }, "WrongType")
            yield* call("scan", { match: "k*", type: "string" })
            yield* call("del", { keys: ["k2", "k3", "n"] })
          }),
          [
            ["HSET", "h", "f", "v"],
            ["RPUSH", "l", "v"],
            ["SADD", "s", "v"],
            ["ZADD", "z", "1", "v"],
            ["XADD", "x", "*", "f", "v"]
          ]
        )
        assertListed(["keys"], sent)
      })
    )

    const collections: ReadonlyArray<readonly [string, ReadonlyArray<readonly [string, Value, string?]>]> = [
      [
        "hash",
        [
          ["hset", { key: "h1", fields: { a: "1", b: "2" }, ttlSeconds: 100 }],
          ["hget", { key: "h1", field: "a" }],
          ["hget", { key: "h1", field: "nope" }],
          ["hgetall", { key: "h1" }],
          ["hincrby", { key: "h1", field: "a", increment: 2 }],
          ["hdel", { key: "h1", fields: ["b"] }],
          ["hget", { key: "str", field: "a" }, "WrongType"]
        ]
      ],
      [
        "list",
        [
          ["lpush", { key: "l1", values: ["a", "b"], ttlSeconds: 100 }],
          ["rpush", { key: "l1", values: ["c", "d"] }],
          ["lrange", { key: "l1", start: 0, stop: -1 }],
          ["llen", { key: "l1" }],
          ["lpop", { key: "l1" }],
          ["rpop", { key: "l1", count: 2 }],
          ["llen", { key: "str" }, "WrongType"]
        ]
      ],
      [
        "set",
        [
          ["sadd", { key: "s1", members: ["a", "b"], ttlSeconds: 100 }],
          ["sismember", { key: "s1", member: "a" }],
          ["smembers", { key: "s1" }],
          ["srem", { key: "s1", members: ["a"] }],
          ["smembers", { key: "str" }, "WrongType"]
        ]
      ],
      [
        "zset",
        [
          ["zadd", { key: "z1", members: [{ member: "a", score: 1 }], ttlSeconds: 100 }],
          ["zincrby", { key: "z1", member: "a", increment: 2 }],
          ["zscore", { key: "z1", member: "a" }],
          ["zrange", { key: "z1", by: "index", start: 0, stop: -1, withScores: true }],
          ["zrange", { key: "z1", by: "score", start: "-inf", stop: "+inf", reverse: true }],
          ["zrange", { key: "z1", by: "lex", start: "-", stop: "+" }],
          ["zrem", { key: "z1", members: ["b"] }],
          ["zscore", { key: "str", member: "a" }, "WrongType"]
        ]
      ]
    ]
    for (const [toolset, calls] of collections) {
      it.effect(toolset, () =>
        Effect.gen(function* () {
          const sent = yield* commandsSent(
            Effect.forEach(calls, ([name, args, expect]) => call(name, args, expect), { discard: true }),
            [["SET", "str", "v"]]
          )
          assertListed([toolset], sent)
        })
      )
    }

    it.effect("stream", () =>
      Effect.gen(function* () {
        const sent = yield* commandsSent(
          Effect.gen(function* () {
            const { id } = yield* call("xadd", { key: "st", fields: { a: "1" } })
            yield* call("xadd", { key: "st", fields: { a: "2" }, maxLen: 100 })
            yield* call("xrange", { key: "st" })
            yield* call("xrange", { key: "st", reverse: true, count: 1 })
            yield* call("xread", { streams: [{ key: "st", id: "0" }] })
            yield* call("xread", { streams: [{ key: "st", id: "$" }], blockMs: 10 })
            yield* call("xlen", { key: "st" })
            yield* call("xgroup_create", { key: "st", group: "g", startId: "0" })
            yield* call("xreadgroup", { key: "st", group: "g", consumer: "c" })
            yield* call("xpending", { key: "st", group: "g" })
            yield* call("xautoclaim", { key: "st", group: "g", consumer: "c2", minIdleMs: 0 })
            yield* call("xack", { key: "st", group: "g", ids: [id] })
            yield* call("xinfo", { key: "st", group: "g" })
            yield* call("xdel", { key: "st", ids: [id] })
            yield* call("xtrim", { key: "st", maxLen: 1 })
            yield* call("xlen", { key: "str" }, "WrongType")
          }),
          [["SET", "str", "v"]]
        )
        assertListed(["stream"], sent)
      })
    )

    it.effect("pubsub", () =>
      Effect.gen(function* () {
        const sent = yield* commandsSent(
          Effect.gen(function* () {
            const { subscriptionId } = yield* call("subscribe", { channels: ["c1"], patterns: ["p*"] })
            yield* call("publish", { channel: "c1", message: "hi" })
            yield* call("read_messages", { subscriptionId, waitMs: 1000 })
            yield* call("unsubscribe", { subscriptionId })
          })
        )
        assertListed(["pubsub"], sent)
      })
    )

    it.effect("task", () =>
      Effect.gen(function* () {
        const sent = yield* commandsSent(
          Effect.gen(function* () {
            const a = yield* call("task_create", { queue: "q", payload: { n: 1 }, idempotencyKey: "a" })
            knownTaskId = a.taskId
            yield* call("task_create", { queue: "q", payload: { n: 1 }, idempotencyKey: "a" })
            yield* call("task_create", { queue: "q", payload: 2, delaySeconds: 60 })
            yield* call("task_create", { queue: "q", payload: 3, dependsOn: [a.taskId] })
            const { tasks } = yield* call("task_claim", { queue: "q", worker: "w", leaseSeconds: 30 })
            const t = tasks[0]
            yield* call("task_heartbeat", { queue: "q", taskId: t.taskId, leaseToken: t.leaseToken })
            yield* call("task_complete", { queue: "q", taskId: t.taskId, leaseToken: t.leaseToken, result: { ok: 1 } })
            const next = (yield* call("task_claim", { queue: "q", worker: "w" })).tasks[0]
            yield* call("task_fail", { queue: "q", taskId: next.taskId, leaseToken: next.leaseToken, error: "x" })
            yield* call("task_get", { queue: "q", taskId: a.taskId })
            yield* call("task_list", { queue: "q", status: "delayed" })
            yield* call("task_list", { queue: "q", status: "completed" })
            yield* call("task_cancel", { queue: "q", taskId: next.taskId })
            yield* call("queue_stats", { queue: "q" })
          })
        )
        assertListed(["task"], sent)
      })
    )

    it.effect("state", () =>
      Effect.gen(function* () {
        const sent = yield* commandsSent(
          Effect.gen(function* () {
            yield* call("state_set", { namespace: "n", key: "d", value: { a: 1 }, ttlSeconds: 100 })
            yield* call("state_set", { namespace: "n", key: "d", value: { a: 2 }, expectedVersion: 1 })
            yield* call("state_set", { namespace: "n", key: "d", value: {}, expectedVersion: 9 }, "VersionConflict")
            yield* call("state_patch", { namespace: "n", key: "d", patch: { b: 1 } })
            yield* call("state_get", { namespace: "n", key: "d" })
            yield* call("state_list", { namespace: "n" })
            yield* call("state_history", { namespace: "n", key: "d" })
            yield* call("state_set", { namespace: "n", key: "gone", value: 1 })
            yield* call("state_delete", { namespace: "n", key: "gone" })
            const lock = yield* call("lock_acquire", { name: "l", owner: "o", ttlSeconds: 10 })
            yield* call("lock_release", { name: "l", owner: "o", fencingToken: lock.fencingToken })
          })
        )
        assertListed(["state"], sent)
      })
    )

    it.effect("admin", () =>
      Effect.gen(function* () {
        const sent = yield* commandsSent(
          Effect.gen(function* () {
            yield* call("ping", {})
            yield* call("health", {})
            yield* call("info", { section: "memory" })
            yield* call("dbsize", {})
            yield* call("slowlog", { count: 5 })
            yield* call("client_list", {})
            yield* call("topology", {})
            yield* call("memory_usage", { key: "str" })
            yield* call("latency", {})
          }),
          [["SET", "str", "v"]]
        )
        assertListed(["admin"], sent)
      })
    )

    it.effect("batch and command: only their own machinery beside what they were asked to send", () =>
      Effect.gen(function* () {
        const sent = yield* commandsSent(
          Effect.gen(function* () {
            yield* call("pipeline", { commands: [["GET", "a"]], atomic: true })
            yield* call("command", { args: ["GET", "a"] })
          })
        )
        const listed = new Set([...commandNames("batch"), ...commandNames("command"), ...commandNames("connection")])
        assert.deepStrictEqual(
          sent.filter((c) => !listed.has(c) && c !== "get"),
          []
        )
      })
    )

    // A read-only server lists only read tools: doctor then checks only the commands not marked
    // write, so those must be exactly what the read tools send (on the data the tests above left).
    const readOnlyRuns: ReadonlyArray<
      readonly [string, ReadonlyArray<readonly [string, Value | (() => Value), string?]>]
    > = [
      [
        "keys",
        [
          ["get", { key: "k2" }],
          ["get", { key: "str" }],
          ["get", { key: "h" }, "WrongType"],
          ["mget", { keys: ["k2", "nope"] }],
          ["exists", { keys: ["k2"] }],
          ...["k2", "h", "l", "s", "z", "x"].map((key) => ["key_info", { key }] as const),
          ["scan", { match: "*" }]
        ]
      ],
      [
        "hash",
        [
          ["hget", { key: "h1", field: "a" }],
          ["hget", { key: "h1", field: "nope" }],
          ["hgetall", { key: "h1" }],
          ["hget", { key: "str", field: "a" }, "WrongType"]
        ]
      ],
      [
        "list",
        [
          ["lrange", { key: "l1", start: 0, stop: -1 }],
          ["llen", { key: "str" }, "WrongType"]
        ]
      ],
      [
        "set",
        [
          ["smembers", { key: "s1" }],
          ["sismember", { key: "s1", member: "b" }],
          ["smembers", { key: "str" }, "WrongType"]
        ]
      ],
      [
        "zset",
        [
          ["zrange", { key: "z1", by: "index", start: 0, stop: -1 }],
          ["zscore", { key: "z1", member: "a" }],
          ["zscore", { key: "str", member: "a" }, "WrongType"]
        ]
      ],
      [
        "stream",
        [
          ["xrange", { key: "st" }],
          ["xrange", { key: "st", reverse: true }],
          ["xread", { streams: [{ key: "st", id: "0" }] }],
          // Nothing new after "$": the read waits (XREAD BLOCK, only as a wake-up) until blockMs passed.
          ["xread", { streams: [{ key: "st", id: "$" }], blockMs: 10 }],
          ["xlen", { key: "st" }],
          ["xpending", { key: "st", group: "g" }],
          ["xinfo", { key: "st", group: "g" }],
          ["xlen", { key: "str" }, "WrongType"]
        ]
      ],
      [
        "task",
        [
          ["task_get", () => ({ queue: "q", taskId: knownTaskId })],
          ["task_get", { queue: "q", taskId: "nope" }, "NotFound"],
          ["task_list", { queue: "q", status: "completed" }],
          ["task_list", { queue: "q", status: "waiting" }],
          ["queue_stats", { queue: "q" }]
        ]
      ],
      [
        "state",
        [
          ["state_get", { namespace: "n", key: "d" }],
          ["state_list", { namespace: "n" }],
          ["state_history", { namespace: "n", key: "d" }]
        ]
      ]
    ]
    for (const [toolset, calls] of readOnlyRuns) {
      it.effect(`read-only server: ${toolset}`, () =>
        Effect.gen(function* () {
          const sent = yield* commandsSent(
            Effect.forEach(
              calls,
              ([name, args, expect]) => {
                assert.isTrue(byName.get(name)?.hints.readOnly, `${name} is a read tool`)
                return call(name, typeof args === "function" ? args() : args, expect)
              },
              { discard: true }
            )
          )
          const reads = new Set(
            [toolset, "connection"].flatMap((t) =>
              needsFor([t], "").flatMap((g) => g.needs.filter((n) => !n.write).map((n) => n.name))
            )
          )
          assert.deepStrictEqual(
            sent.filter((c) => !reads.has(c)),
            [],
            `${toolset} read tools sent commands doctor would not check on a read-only server`
          )
          const unused = [...reads].filter(
            (c) => !wasSent(sent, c) && !BACKGROUND[toolset]?.includes(c) && !commandNames("connection").includes(c)
          )
          assert.deepStrictEqual(
            unused,
            [],
            `${toolset}: doctor would demand commands read tools never send: ${unused.join(" ")}`
          )
        })
      )
    }

    it("every tool of every toolset was called above (a new tool needs a line here, and its commands a line in Needs.ts)", () => {
      assert.deepStrictEqual(
        allTools.map((t) => t.name).filter((name) => !called.has(name)),
        []
      )
    })
  })
})
