/**
 * The `stream` toolset through the built server over stdio (`--toolsets
 * default,stream`), as an MCP client sees it: on a real redis-server, and on the
 * in-memory store. Runs the worked agent flow of docs/guide/stream.md.
 */
import { assert, describe, it } from "@effect/vitest"
import { useServer } from "./client.ts"

const STREAM_TOOLS = [
  "xadd",
  "xrange",
  "xread",
  "xlen",
  "xdel",
  "xtrim",
  "xgroup_create",
  "xreadgroup",
  "xack",
  "xpending",
  "xautoclaim",
  "xinfo"
]

interface Entry {
  readonly id: string
  readonly fields: Record<string, string>
}

const suite = (mode: "redis" | "memory") =>
  describe(`stream toolset over stdio (${mode})`, () => {
    const server = useServer(mode, { args: ["--toolsets", "default,stream"] })
    const { expectOk: ok, expectError: fails } = server
    const p = `e2e${Math.random().toString(36).slice(2, 8)}`

    it("lists the twelve stream tools with honest hints", async () => {
      const { tools } = await server.client.listTools()
      const byName = new Map(tools.map((t) => [t.name, t]))
      for (const name of STREAM_TOOLS) {
        assert.isTrue(byName.has(name), name)
        assert.strictEqual(byName.get(name)!.outputSchema?.type, "object", name)
        assert.isFalse(byName.get(name)!.annotations?.openWorldHint, name)
      }
      for (const name of ["xrange", "xread", "xlen", "xpending", "xinfo"]) {
        assert.isTrue(byName.get(name)!.annotations?.readOnlyHint, name)
      }
      for (const name of ["xadd", "xreadgroup", "xautoclaim", "xack", "xgroup_create", "xdel", "xtrim"]) {
        assert.isFalse(byName.get(name)!.annotations?.readOnlyHint, name)
      }
      assert.isTrue(byName.get("xdel")!.annotations?.destructiveHint)
      assert.isTrue(byName.get("xgroup_create")!.annotations?.idempotentHint)
      assert.isFalse(byName.get("xreadgroup")!.annotations?.idempotentHint)
    })

    it("worked flow: 100 events, two consumers, one dies, the other recovers; nothing lost or acked twice", async () => {
      const key = `${p}:orders`
      const group = "workers"
      assert.deepStrictEqual(await ok("xgroup_create", { key, group, startId: "0" }), { created: true })
      assert.deepStrictEqual(await ok("xgroup_create", { key, group, startId: "0" }), { created: false })

      const added: Array<string> = []
      for (let i = 0; i < 100; i++) {
        const { id } = await ok("xadd", { key, fields: { type: "order.created", orderId: String(i) } })
        added.push(id)
      }
      assert.strictEqual(new Set(added).size, 100)
      assert.deepStrictEqual(await ok("xlen", { key }), { length: 100 })

      const acked: Array<string> = []
      const ack = async (entries: ReadonlyArray<Entry>) => {
        if (entries.length === 0) return
        const ids = entries.map((e) => e.id)
        assert.deepStrictEqual(await ok("xack", { key, group, ids }), { acked: ids.length })
        acked.push(...ids)
      }
      const take = async (consumer: string, count: number): Promise<ReadonlyArray<Entry>> =>
        (await ok("xreadgroup", { key, group, consumer, count })).entries

      for (let round = 0; round < 3; round++) {
        await ack(await take("alice", 10))
        await ack(await take("bob", 10))
      }
      const lost = await take("bob", 15) // bob dies holding these
      assert.strictEqual(lost.length, 15)
      while (true) {
        const batch = await take("alice", 10)
        if (batch.length === 0) break
        await ack(batch)
      }

      const stuck = await ok("xpending", { key, group })
      assert.strictEqual(stuck.pending, 15)
      assert.deepStrictEqual(stuck.consumers, [{ consumer: "bob", pending: 15 }])
      assert.deepStrictEqual(
        stuck.entries.map((e: { id: string }) => e.id),
        lost.map((e) => e.id)
      )

      // Wait until bob's entries are idle longer than minIdleMs, then alice takes them over.
      const minIdleMs = 100
      await new Promise((resolve) => setTimeout(resolve, minIdleMs + 50))
      let start = "0-0"
      while (true) {
        const claimed = await ok("xautoclaim", { key, group, consumer: "alice", minIdleMs, start, count: 4 })
        assert.deepStrictEqual(claimed.deletedIds, [])
        await ack(claimed.entries)
        start = claimed.cursor
        if (claimed.done) break
      }

      const end = await ok("xpending", { key, group })
      assert.strictEqual(end.pending, 0)
      assert.deepStrictEqual(end.entries, [])
      assert.strictEqual(acked.length, 100)
      assert.deepStrictEqual([...acked].sort(), [...added].sort())
      assert.deepStrictEqual(await ok("xack", { key, group, ids: added }), { acked: 0 })

      const info = await ok("xinfo", { key, group })
      assert.strictEqual(info.stream.length, 100)
      assert.deepStrictEqual(info.groups, [{ name: group, consumers: 2, pending: 0, lastDeliveredId: added[99] }])
    })

    it("a blocking xread waits without holding up other calls", async () => {
      const key = `${p}:feed`
      const { id: before } = await ok("xadd", { key, fields: { n: "0" } })
      let settled = false
      const reading = server.call("xread", { streams: [{ key, id: before }], blockMs: 4000 }).then((r) => {
        settled = true
        return r
      })
      assert.deepStrictEqual(await ok("xlen", { key }), { length: 1 })
      assert.strictEqual((await ok("ping", {})).pong, "PONG")
      assert.isFalse(settled)
      const { id } = await ok("xadd", { key, fields: { n: "1" } })
      const r = await reading
      if (!r.ok) assert.fail(JSON.stringify(r.error))
      assert.deepStrictEqual(r.value.streams[0].entries, [{ id, fields: { n: "1" } }])
      assert.strictEqual(r.value.streams[0].lastId, id)
    })

    it("errors are envelopes a model can act on", async () => {
      const key = `${p}:errors`
      assert.strictEqual((await fails("xadd", { key, fields: { a: "1" }, id: "not-an-id" })).tag, "InvalidArgument")
      assert.strictEqual((await fails("xrange", { key, count: -1 })).tag, "InvalidArgument")
      assert.strictEqual((await fails("xread", { streams: [{ key, id: ">" }] })).tag, "InvalidArgument")
      const noGroup = await fails("xreadgroup", { key, group: "nobody", consumer: "c" })
      assert.strictEqual(noGroup.tag, "NotFound")
      assert.match(noGroup.message, /xgroup_create/)
      assert.isFalse(noGroup.retryable)
      await ok("set", { key: `${p}:text`, value: "hello" })
      const wrong = await fails("xlen", { key: `${p}:text` })
      assert.strictEqual(wrong.tag, "WrongType")
      assert.strictEqual(wrong.actualType, "string")
      assert.deepStrictEqual(await ok("xinfo", { key: `${p}:nothing` }), { found: false })
    })
  })

suite("redis")
suite("memory")
