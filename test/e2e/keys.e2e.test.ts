/**
 * The `keys` toolset through the built server over stdio, as an MCP client sees
 * it: once on the in-memory store (no REDIS_URL) and once on a real redis-server.
 */
import { assert, describe, it } from "@effect/vitest"
import { rpcError, useServer } from "./client.ts"
import { KEYS_TOOLS } from "./tool-names.ts"

// Small enough that a 3000-byte value needs several get calls.
const OUTPUT_CAP = 1024

const suite = (mode: "memory" | "redis") =>
  describe(`keys toolset over stdio (${mode})`, () => {
    const server = useServer(mode, { env: { REDIS_MCP_MAX_OUTPUT_BYTES: String(OUTPUT_CAP) } })
    const ok = server.expectOk
    const p = `e2e${Math.random().toString(36).slice(2, 8)}`

    it("lists every keys tool with honest hints", async () => {
      const { tools } = await server.client.listTools()
      const byName = new Map(tools.map((t) => [t.name, t]))
      for (const name of KEYS_TOOLS) assert.isTrue(byName.has(name), name)
      for (const name of ["get", "mget", "exists", "key_info", "scan"]) {
        assert.isTrue(byName.get(name)!.annotations?.readOnlyHint, name)
      }
      assert.isFalse(byName.get("incr")!.annotations?.idempotentHint)
      assert.isTrue(byName.get("del")!.annotations?.destructiveHint)
      assert.strictEqual(byName.get("get")!.outputSchema?.type, "object")
    })

    it("set, get, mget and del", async () => {
      assert.deepStrictEqual(await ok("set", { key: `${p}:a`, value: "alpha", ttlSeconds: 60 }), { written: true })
      assert.deepStrictEqual(await ok("set", { key: `${p}:a`, value: "x", condition: "ifAbsent" }), { written: false })
      assert.deepStrictEqual(await ok("get", { key: `${p}:a` }), {
        found: true,
        value: "alpha",
        encoding: "utf8",
        length: 5,
        truncated: false
      })
      assert.deepStrictEqual(await ok("get", { key: `${p}:missing` }), {
        found: false,
        value: null,
        encoding: "utf8",
        length: 0,
        truncated: false
      })
      await ok("mset", {
        entries: [
          { key: `${p}:b`, value: "beta" },
          { key: `${p}:bin`, value: Buffer.from([0xff, 0xfe]).toString("base64"), encoding: "base64" }
        ]
      })
      assert.deepStrictEqual(await ok("mget", { keys: [`${p}:a`, `${p}:nope`, `${p}:b`, `${p}:bin`] }), {
        values: [
          { key: `${p}:a`, found: true, value: "alpha", encoding: "utf8" },
          { key: `${p}:nope`, found: false, value: null, encoding: "utf8" },
          { key: `${p}:b`, found: true, value: "beta", encoding: "utf8" },
          { key: `${p}:bin`, found: true, value: "//4=", encoding: "base64" }
        ],
        truncated: false,
        remaining: []
      })
      assert.deepStrictEqual(await ok("del", { keys: [`${p}:a`, `${p}:b`, `${p}:nope`] }), { deleted: 2 })
      assert.deepStrictEqual(await ok("exists", { keys: [`${p}:a`, `${p}:bin`] }), {
        count: 1,
        existing: [`${p}:bin`]
      })
    })

    it("incr, expire, key_info and rename", async () => {
      assert.deepStrictEqual(await ok("incr", { key: `${p}:n`, by: 41 }), { value: 41 })
      assert.deepStrictEqual(await ok("incr", { key: `${p}:n` }), { value: 42 })
      assert.deepStrictEqual(await ok("expire", { key: `${p}:n`, ttlSeconds: 100 }), { applied: true })
      const info = await ok("key_info", { key: `${p}:n` })
      assert.strictEqual(info.type, "string")
      assert.strictEqual(info.size, 2)
      assert.isTrue(info.ttlMs > 0 && info.ttlMs <= 100_000)
      assert.deepStrictEqual(await ok("rename", { key: `${p}:n`, newKey: `${p}:m` }), { renamed: true })
      const missing = await server.call("rename", { key: `${p}:n`, newKey: `${p}:m` })
      assert.isFalse(missing.ok)
      if (!missing.ok) assert.strictEqual(missing.error.tag, "NotFound")
      await ok("set", { key: `${p}:word`, value: "abc" })
      const notInt = await server.call("incr", { key: `${p}:word` })
      assert.isFalse(notInt.ok)
      if (!notInt.ok) {
        assert.strictEqual(notInt.error.tag, "InvalidArgument")
        assert.isFalse(notInt.error.retryable)
      }
    })

    it("get hands back a large value in parts under the output cap", async () => {
      const value = "0123456789".repeat(300)
      await ok("set", { key: `${p}:big`, value })
      let text = ""
      let offset = 0
      let calls = 0
      while (true) {
        const r = await ok("get", { key: `${p}:big`, offset })
        calls++
        assert.strictEqual(r.length, 3000)
        text += r.value
        if (!r.truncated) break
        offset = r.offset
      }
      assert.strictEqual(text, value)
      assert.isAbove(calls, 2)
    })

    it("scan pages through matching keys until done", async () => {
      const keys = Array.from({ length: 12 }, (_, i) => `${p}:scan:${i}`)
      await ok("mset", { entries: keys.map((key) => ({ key, value: "v" })) })
      const seen = new Set<string>()
      let cursor = "0"
      let pages = 0
      do {
        const page = await ok("scan", { cursor, match: `${p}:scan:*`, limit: 5 })
        assert.isAtMost(page.keys.length, 5)
        assert.strictEqual(page.truncated, !page.done)
        for (const k of page.keys) seen.add(k)
        cursor = page.cursor
        pages++
        if (page.done) break
      } while (pages < 1000)
      assert.deepStrictEqual([...seen].sort(), [...keys].sort())
      assert.isAbove(pages, 1)
    })

    it("bad arguments are InvalidArgument, never a Redis call", async () => {
      const cases: Array<[string, Record<string, unknown>]> = [
        ["get", { key: 42 }],
        ["get", {}],
        ["set", { key: "k" }],
        ["set", { key: "k", value: "v", ttlSeconds: 0 }],
        ["set", { key: "k", value: "v", ttlSeconds: 1.5 }],
        ["set", { key: "k", value: "v", condition: "sometimes" }],
        ["set", { key: "k", value: "v", ttlSeconds: 5, keepTtl: true }],
        ["mget", { keys: [] }],
        ["mget", { keys: "k" }],
        ["del", { keys: [1, 2] }],
        ["incr", { key: "k", by: "1" }],
        ["scan", { limit: 0 }],
        ["scan", { cursor: "garbage" }],
        ["expire", { key: "k" }],
        ["get", { key: "k", extra: true }]
      ]
      for (const [name, args] of cases) {
        const r = await server.call(name, args)
        assert.isFalse(r.ok, `${name} ${JSON.stringify(args)}`)
        if (!r.ok) assert.strictEqual(r.error.tag, "InvalidArgument", `${name} ${JSON.stringify(args)}`)
      }
    })

    it("key names that are not valid Unicode, too long, or patterns too long are InvalidArgument with a short message", async () => {
      const huge = "k".repeat(2 * 1024 * 1024)
      const cases: Array<[string, Record<string, unknown>]> = [
        ["get", { key: "\ud800" }],
        ["set", { key: "a\udfff", value: "v" }],
        ["set", { key: `${p}:v`, value: "lone \ud83d" }],
        ["mget", { keys: [`${p}:ok`, "\udc00"] }],
        ["rename", { key: `${p}:ok`, newKey: "\ud800" }],
        ["get", { key: huge }],
        ["get", { key: "k".repeat(9000) }],
        ["scan", { match: "*".repeat(300) }]
      ]
      for (const [name, args] of cases) {
        const r = await server.call(name, args)
        const what = `${name} ${JSON.stringify(args).slice(0, 80)}`
        assert.isFalse(r.ok, what)
        if (!r.ok) {
          assert.strictEqual(r.error.tag, "InvalidArgument", what)
          assert.isBelow(r.error.message.length, 600, what)
        }
      }
      // "\ud800" and "\udbff" never both land on U+FFFD: nothing was written under it.
      assert.deepStrictEqual((await ok("exists", { keys: ["\ufffd", "a\ufffd"] })).count, 0)
    })

    it("task and state keys are refused by the key tools, naming the tools to use, and scan hides them", async () => {
      await ok("task_create", { queue: `q${p}`, payload: { n: 1 } })
      await ok("state_set", { namespace: `n${p}`, key: "doc", value: 1 })
      await ok("lock_acquire", { name: `l${p}`, owner: "me", ttlSeconds: 60 })
      for (const [name, args, family] of [
        ["del", { keys: [`state:lock:{l${p}}:fence`] }, "state"],
        ["set", { key: `state:lock:{l${p}}:fence`, value: "0" }, "state"],
        ["get", { key: `task:{q${p}}:t:t1` }, "task"],
        ["key_info", { key: "task:queues" }, "task"],
        ["rename", { key: `${p}:x`, newKey: `state:{n${p}}:doc:doc` }, "state"],
        ["expire", { key: `task:{q${p}}:waiting`, ttlSeconds: 1 }, "task"],
        [
          "mset",
          {
            entries: [
              { key: `${p}:fine`, value: "1" },
              { key: "task:x", value: "2" }
            ]
          },
          "task"
        ]
      ] as const) {
        const e = await server.expectError(name, args)
        assert.strictEqual(e.tag, "PermissionDenied", name)
        assert.include(e.message, `${family}_get`, name)
      }
      // The lock still holds and its token was not rewound.
      const again = await ok("lock_acquire", { name: `l${p}`, owner: "other", ttlSeconds: 60 })
      assert.isFalse(again.acquired)
      const keys = new Set<string>()
      let cursor = "0"
      do {
        const page = await ok("scan", { cursor, limit: 1000 })
        for (const k of page.keys) keys.add(k)
        cursor = page.cursor
      } while (cursor !== "0")
      for (const k of keys) assert.isFalse(k.startsWith("task:") || k.startsWith("state:"), k)
      // The refused mset wrote nothing, not even its allowed key.
      assert.isFalse((await ok("get", { key: `${p}:fine` })).found)
    })

    it("an unknown tool is a JSON-RPC error -32602", async () => {
      const error = await server.client.callTool({ name: "no_such_tool", arguments: {} }).then(
        () => undefined,
        (e: unknown) => e
      )
      assert.isDefined(error)
      assert.strictEqual(rpcError(error).code, -32602)
    })
  })

suite("memory")
suite("redis")
