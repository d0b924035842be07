/**
 * The Admin service on the in-memory store and on a real redis-server: the same
 * read-only views (ping, health, info, dbsize, slowlog, client list, topology,
 * memory usage), bounded, with what each means on memory.
 */
import { assert } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { RedisClient } from "../../src/layers/RedisClient.ts"
import { Admin } from "../../src/services/Admin.ts"
import { Kv } from "../../src/services/Kv.ts"
import { MemoryStore } from "../../src/services/MemoryStore.ts"
import { onMemory, onRedis, runContract } from "./layers.ts"

/** Behind the service's back: make every command count as slow (Redis only). */
class Fixture extends Context.Service<Fixture, { readonly logEverything: (on: boolean) => Effect.Effect<void> }>()(
  "test/AdminFixture"
) {
  static readonly memory = Layer.succeed(Fixture, Fixture.of({ logEverything: () => Effect.void }))
  static readonly redis = Layer.effect(
    Fixture,
    Effect.map(RedisClient, (redis) =>
      Fixture.of({
        logEverything: (on) =>
          Effect.orDie(
            redis.run("CONFIG SET", (c) => c.call("CONFIG", ["SET", "slowlog-log-slower-than", on ? "0" : "10000"]))
          )
      })
    )
  )
}

const memory = onMemory(
  Layer.mergeAll(Admin.layerMemory, Kv.layerMemory, Fixture.memory).pipe(Layer.provide(MemoryStore.layer))
)
const redis = onRedis(Layer.mergeAll(Admin.layer, Kv.layer, Fixture.redis))

const uid = () => Math.random().toString(36).slice(2, 10)

runContract("Admin contract", memory, redis, (it, target) => {
  it.effect("ping answers PONG, or echoes the message", () =>
    Effect.gen(function* () {
      const admin = yield* Admin
      assert.strictEqual((yield* admin.ping()).pong, "PONG")
      assert.strictEqual((yield* admin.ping("hello")).pong, "hello")
    })
  )

  it.effect("health reports a usable connection", () =>
    Effect.gen(function* () {
      const health = yield* (yield* Admin).health
      assert.include(["ready", "memory"], health.state)
      assert.isNull(health.lastError)
    })
  )

  it.effect("dbsize counts the keys of the store, on one node", () =>
    Effect.gen(function* () {
      const admin = yield* Admin
      const kv = yield* Kv
      const before = yield* admin.dbsize
      const p = uid()
      yield* kv.mset([
        { key: `${p}:a`, value: "1" },
        { key: `${p}:b`, value: "2" },
        { key: `${p}:c`, value: "3" }
      ])
      const after = yield* admin.dbsize
      assert.strictEqual(after.keys, before.keys + 3)
      assert.strictEqual(after.nodes.length, 1)
      assert.strictEqual(after.nodes[0]!.keys, after.keys)
    })
  )

  it.effect("info returns the asked section as fields, and the keyspace counts keys", () =>
    Effect.gen(function* () {
      const admin = yield* Admin
      const kv = yield* Kv
      yield* kv.set(`info:${uid()}`, "v", { ttlSeconds: 60 })
      const [server] = yield* admin.info("server")
      assert.deepStrictEqual(Object.keys(server!.sections), ["server"])
      if (target.name === "redis") assert.match(server!.sections.server!.redis_version ?? "", /^\d+\.\d+/)
      else assert.strictEqual(server!.sections.server!.redis_mode, "memory")
      const [keyspace] = yield* admin.info("keyspace")
      assert.match(keyspace!.sections.keyspace!.db0 ?? "", /^keys=\d+,expires=[1-9]\d*/)
      const [overview] = yield* admin.info("default")
      assert.includeMembers(Object.keys(overview!.sections), ["server", "clients", "memory", "replication", "keyspace"])
    })
  )

  it.effect("slowlog returns at most `count` entries, newest first", () =>
    Effect.gen(function* () {
      const admin = yield* Admin
      const kv = yield* Kv
      const fixture = yield* Fixture
      yield* fixture.logEverything(true)
      for (let i = 0; i < 6; i++) yield* kv.set(`slow:${uid()}`, "v")
      const entries = yield* admin.slowlog(4)
      yield* fixture.logEverything(false)
      if (target.name === "memory") {
        assert.deepStrictEqual(entries, [])
        return
      }
      assert.strictEqual(entries.length, 4)
      for (let i = 1; i < entries.length; i++) {
        assert.isAtLeast(entries[i - 1]!.timestamp, entries[i]!.timestamp)
        if (entries[i - 1]!.timestamp === entries[i]!.timestamp) assert.isAbove(entries[i - 1]!.id, entries[i]!.id)
      }
      for (const e of entries) {
        assert.isAbove(e.command.length, 0)
        assert.isAtLeast(e.durationMicros, 0)
        assert.isAbove(e.timestamp, 1_600_000_000_000)
      }
    })
  )

  it.effect("latency: our per-command windows, Redis's latency monitor, the slow log per command name", () =>
    Effect.gen(function* () {
      const admin = yield* Admin
      const kv = yield* Kv
      const fixture = yield* Fixture
      yield* fixture.logEverything(true)
      for (let i = 0; i < 5; i++) yield* kv.set(`lat:${uid()}`, "v")
      yield* fixture.logEverything(false)
      const report = yield* admin.latency(3)
      if (target.name === "memory") {
        assert.deepStrictEqual([report.client.commands, report.events, report.slowCommands], [[], [], []])
        return
      }
      const commands = new Map(report.client.commands.map((c) => [c.command, c]))
      assert.isAbove(report.client.commands.length, 0)
      for (const c of commands.values()) {
        assert.isAtLeast(c.timeoutMs, report.client.timeoutFloorMs)
        assert.isAtMost(c.timeoutMs, report.client.timeoutCapMs)
      }
      assert.isAtMost(report.slowCommands.length, 3)
      assert.isAtLeast(report.slowEntries, 5)
      for (let i = 1; i < report.slowCommands.length; i++) {
        assert.isAtLeast(report.slowCommands[i - 1]!.maxMicros, report.slowCommands[i]!.maxMicros)
      }
      // Names, counts and durations only: no key or value of the slow commands.
      assert.notInclude(JSON.stringify(report), "lat:")
    })
  )

  it.effect("client_list lists connected clients, capped by the limit", () =>
    Effect.gen(function* () {
      const admin = yield* Admin
      const all = yield* admin.clientList(100)
      if (target.name === "memory") {
        assert.deepStrictEqual(all, { clients: [], total: 0, truncated: false })
        return
      }
      assert.isAtLeast(all.total, 1)
      assert.isTrue(all.clients.some((c) => c.lastCommand.startsWith("client")))
      const one = yield* admin.clientList(1)
      assert.strictEqual(one.clients.length, 1)
      assert.strictEqual(one.truncated, one.total > 1)
    })
  )

  it.effect("topology shows the one primary, no slots", () =>
    Effect.gen(function* () {
      const topology = yield* (yield* Admin).topology
      assert.strictEqual(topology.mode, target.name === "memory" ? "memory" : "standalone")
      assert.isNull(topology.slotsCovered)
      const primaries = topology.nodes.filter((n) => n.role === "primary")
      assert.strictEqual(primaries.length, 1)
      assert.deepStrictEqual(primaries[0]!.slots, [])
      assert.deepStrictEqual(primaries[0]!.flags, [])
      if (target.name === "redis") assert.match(primaries[0]!.address, /^127\.0\.0\.1:\d+$/)
    })
  )

  it.effect("memory_usage measures a key in bytes; a missing key is null", () =>
    Effect.gen(function* () {
      const admin = yield* Admin
      const kv = yield* Kv
      const k = `mem:${uid()}`
      yield* kv.set(k, "x".repeat(1000))
      const used = yield* admin.memoryUsage(k)
      assert.strictEqual(used.key, k)
      assert.isAtLeast(used.bytes ?? 0, 1000)
      assert.isAbove((yield* admin.memoryUsage(k, 0)).bytes ?? 0, 1000)
      assert.deepStrictEqual(yield* admin.memoryUsage(`${k}:missing`), { key: `${k}:missing`, bytes: null })
    })
  )
})

runContract(
  "Admin contract (key prefix)",
  onMemory(Layer.mergeAll(Admin.layerMemory, Kv.layerMemory).pipe(Layer.provide(MemoryStore.layer)), {
    REDIS_MCP_KEY_PREFIX: "app:"
  }),
  onRedis(Layer.mergeAll(Admin.layer, Kv.layer), { REDIS_MCP_KEY_PREFIX: "app:" }),
  (it) => {
    it.effect("memory_usage finds the key under the prefix", () =>
      Effect.gen(function* () {
        const admin = yield* Admin
        const kv = yield* Kv
        const k = `mem:${uid()}`
        yield* kv.set(k, "hello")
        assert.isAbove((yield* admin.memoryUsage(k)).bytes ?? 0, 0)
      })
    )
  }
)
