/**
 * The `hash`, `list`, `set` and `zset` toolsets through the built server over
 * stdio (`--toolsets default,hash,list,set,zset`), as an MCP client sees them:
 * once on the in-memory store and once on a real redis-server. The SDK client
 * checks every structuredContent against the tool's outputSchema.
 */
import { assert, describe, it } from "@effect/vitest"
import { useServer } from "./client.ts"

const TOOLS = {
  hash: ["hset", "hget", "hgetall", "hdel", "hincrby"],
  list: ["lpush", "rpush", "lpop", "rpop", "lrange", "llen"],
  set: ["sadd", "srem", "smembers", "sismember"],
  zset: ["zadd", "zrange", "zrem", "zscore", "zincrby"]
}
const READ_ONLY = ["hget", "hgetall", "lrange", "llen", "smembers", "sismember", "zrange", "zscore"]

const suite = (mode: "memory" | "redis") =>
  describe(`collection toolsets over stdio (${mode})`, () => {
    const server = useServer(mode, {
      env: { REDIS_MCP_MAX_ITEMS: "5" },
      args: ["--toolsets", "default,hash,list,set,zset"]
    })
    const { expectOk: ok, expectError: fails } = server
    const p = `e2e${Math.random().toString(36).slice(2, 8)}`

    it("lists the four toolsets with honest hints and object schemas", async () => {
      const { tools } = await server.client.listTools()
      const byName = new Map(tools.map((t) => [t.name, t]))
      for (const name of Object.values(TOOLS).flat()) {
        const tool = byName.get(name)
        assert.isDefined(tool, name)
        assert.strictEqual(tool!.inputSchema.type, "object", name)
        assert.strictEqual(tool!.outputSchema?.type, "object", name)
        assert.strictEqual(tool!.annotations?.readOnlyHint, READ_ONLY.includes(name), name)
        assert.isFalse(tool!.annotations?.openWorldHint, name)
      }
      assert.isTrue(byName.get("lpop")!.annotations?.destructiveHint)
      assert.isFalse(byName.get("lpush")!.annotations?.idempotentHint)
      assert.isTrue(byName.get("sadd")!.annotations?.idempotentHint)
      assert.includeMembers(Object.keys(byName.get("zrange")!.inputSchema.properties ?? {}), [
        "key",
        "by",
        "start",
        "stop",
        "reverse",
        "offset",
        "count",
        "withScores",
        "cursor"
      ])
    })

    it("hash: hset with TTL, hget, hincrby, hgetall paged by cursor, hdel", async () => {
      const key = `${p}:user`
      const fields = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`f${i}`, `v${i}`]))
      assert.deepStrictEqual(await ok("hset", { key, fields, ttlSeconds: 60 }), { added: 5 })
      assert.deepStrictEqual(await ok("hset", { key, fields: { visits: "1", f0: "new" } }), { added: 1 })
      assert.deepStrictEqual(await ok("hget", { key, field: "f0" }), {
        found: true,
        value: "new",
        encoding: "utf8",
        length: 3,
        truncated: false
      })
      assert.deepStrictEqual(await ok("hget", { key, field: "nope" }), {
        found: false,
        value: null,
        encoding: "utf8",
        length: 0,
        truncated: false
      })
      assert.deepStrictEqual(await ok("hincrby", { key, field: "visits", increment: 41 }), { value: 42 })
      const seen: Array<string> = []
      let cursor: string | undefined
      let pages = 0
      do {
        const page = await ok("hgetall", { key, ...(cursor === undefined ? {} : { cursor }) })
        assert.isAtMost(page.fields.length, 5)
        seen.push(...page.fields.map((f: { field: string }) => f.field))
        cursor = page.cursor
        pages++
      } while (cursor !== undefined)
      assert.strictEqual(pages, 2)
      assert.sameMembers(seen, ["f0", "f1", "f2", "f3", "f4", "visits"])
      assert.deepStrictEqual(await ok("hdel", { key, fields: ["f1", "f2"] }), { deleted: 2 })
    })

    it("list: rpush, lrange with negative indexes, lpop with count, llen", async () => {
      const key = `${p}:queue`
      assert.deepStrictEqual(await ok("rpush", { key, values: ["a", "b", "c"] }), { length: 3 })
      assert.deepStrictEqual(await ok("lpush", { key, values: ["z"] }), { length: 4 })
      const range = await ok("lrange", { key, start: -3, stop: -1 })
      assert.deepStrictEqual(
        range.items.map((i: { value: string }) => i.value),
        ["a", "b", "c"]
      )
      assert.strictEqual(range.length, 4)
      const popped = await ok("lpop", { key, count: 2 })
      assert.deepStrictEqual(popped, {
        items: [
          { value: "z", encoding: "utf8" },
          { value: "a", encoding: "utf8" }
        ],
        length: 2,
        truncated: false
      })
      assert.deepStrictEqual(await ok("rpop", { key }), {
        items: [{ value: "c", encoding: "utf8" }],
        length: 1,
        truncated: false
      })
      assert.deepStrictEqual(await ok("llen", { key }), { length: 1 })
      assert.strictEqual((await fails("lpop", { key, count: 0 })).tag, "InvalidArgument")
    })

    it("set: sadd, sismember, smembers, srem, binary members", async () => {
      const key = `${p}:tags`
      assert.deepStrictEqual(await ok("sadd", { key, members: ["red", "blue", "red"] }), { added: 2 })
      assert.deepStrictEqual(await ok("sadd", { key, members: ["/wA="], encoding: "base64" }), { added: 1 })
      assert.deepStrictEqual(await ok("sismember", { key, member: "blue" }), { isMember: true })
      const page = await ok("smembers", { key })
      assert.sameDeepMembers(page.members, [
        { value: "red", encoding: "utf8" },
        { value: "blue", encoding: "utf8" },
        { value: "/wA=", encoding: "base64" }
      ])
      assert.isFalse(page.truncated)
      assert.deepStrictEqual(await ok("srem", { key, members: ["red", "pink"] }), { removed: 1 })
    })

    it("zset: zadd, zincrby, zscore, zrange by index, score and lex, zrem", async () => {
      const key = `${p}:board`
      assert.deepStrictEqual(
        await ok("zadd", {
          key,
          members: [
            { member: "ada", score: 30 },
            { member: "bob", score: 10 },
            { member: "cy", score: 20 }
          ]
        }),
        { added: 3, updated: 0 }
      )
      assert.deepStrictEqual(await ok("zincrby", { key, member: "bob", increment: 25 }), { score: 35 })
      assert.deepStrictEqual(await ok("zscore", { key, member: "nobody" }), { found: false, score: null })
      const top = await ok("zrange", { key, by: "index", start: 0, stop: 1, reverse: true, withScores: true })
      assert.deepStrictEqual(top, {
        members: [
          { value: "bob", encoding: "utf8", score: 35 },
          { value: "ada", encoding: "utf8", score: 30 }
        ],
        truncated: false
      })
      const mid = await ok("zrange", { key, by: "score", start: "(20", stop: "+inf", count: 1 })
      assert.deepStrictEqual(
        mid.members.map((m: { value: string }) => m.value),
        ["ada"]
      )
      const lex = await ok("zrange", { key: `${p}:none`, by: "lex", start: "-", stop: "+" })
      assert.deepStrictEqual(lex, { members: [], truncated: false })
      const bad = await fails("zrange", { key, by: "score", start: "abc", stop: 1 })
      assert.strictEqual(bad.tag, "InvalidArgument")
      assert.match(bad.message, /score bound/)
      assert.deepStrictEqual(await ok("zrem", { key, members: ["cy"] }), { removed: 1 })
    })

    it("a wrong type answers WrongType with the key's actual type and the tool to use", async () => {
      const key = `${p}:plain`
      await ok("set", { key, value: "text" })
      const e = await fails("lpush", { key, values: ["x"] })
      assert.strictEqual(e.tag, "WrongType")
      assert.strictEqual(e.actualType, "string")
      assert.isFalse(e.retryable)
      assert.match(e.message, /get\/set/)
      const hash = `${p}:h`
      await ok("hset", { key: hash, fields: { a: "1" } })
      const z = await fails("zrange", { key: hash, by: "index", start: 0, stop: -1 })
      assert.strictEqual(z.tag, "WrongType")
      assert.strictEqual(z.actualType, "hash")
    })

    it("oversize writes are TooLarge and schema violations InvalidArgument", async () => {
      const key = `${p}:many`
      const six = Array.from({ length: 6 }, (_, i) => `m${i}`)
      assert.strictEqual((await fails("sadd", { key, members: six })).tag, "TooLarge")
      assert.strictEqual((await fails("sadd", { key, members: [] })).tag, "InvalidArgument")
      assert.strictEqual((await fails("hset", { key, fields: { a: "1" }, ttlSeconds: 0 })).tag, "InvalidArgument")
    })
  })

suite("memory")
suite("redis")
