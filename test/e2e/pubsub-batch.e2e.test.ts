/**
 * The `pubsub`, `batch` and `command` toolsets through the built server over
 * stdio (`--toolsets default,pubsub,batch,command`), on the in-memory store and
 * on a real redis-server; then a read-only server, where `pipeline` and
 * `command` stay listed (read-only hints) and refuse writes with ReadOnlyMode.
 */
import { assert, describe, it } from "@effect/vitest"
import { useServer } from "./client.ts"

const TOOLSETS = ["--toolsets", "default,pubsub,batch,command"]

const suite = (mode: "memory" | "redis") =>
  describe(`pubsub, batch and command over stdio (${mode})`, () => {
    const server = useServer(mode, { args: TOOLSETS })
    const { expectOk: ok, expectError: failure } = server
    const p = `e2e${Math.random().toString(36).slice(2, 8)}`

    it("lists the tools with honest hints", async () => {
      const { tools } = await server.client.listTools()
      const byName = new Map(tools.map((t) => [t.name, t]))
      for (const name of ["publish", "subscribe", "read_messages", "unsubscribe", "pipeline", "command"]) {
        assert.isTrue(byName.has(name), name)
      }
      assert.isTrue(byName.get("command")!.annotations?.destructiveHint)
      assert.isFalse(byName.get("pipeline")!.annotations?.readOnlyHint)
      assert.isTrue(byName.get("read_messages")!.annotations?.readOnlyHint)
    })

    it("publish, subscribe and read_messages across calls", async () => {
      const channel = `${p}.news`
      assert.deepStrictEqual(await ok("publish", { channel, message: "before" }), { receivers: 0 })
      const sub = await ok("subscribe", { channels: [channel], patterns: [`${p}.alerts.*`] })
      assert.match(sub.subscriptionId, /^sub_/)
      assert.deepStrictEqual(await ok("publish", { channel, message: "hello" }), { receivers: 1 })
      await ok("publish", { channel: `${p}.alerts.disk`, message: "/w==", encoding: "base64" })
      const messages: Array<Record<string, unknown>> = []
      for (let i = 0; i < 10 && messages.length < 2; i++) {
        const r = await ok("read_messages", { subscriptionId: sub.subscriptionId, waitMs: 2000 })
        assert.strictEqual(r.dropped, 0)
        messages.push(...r.messages)
      }
      assert.deepStrictEqual(
        messages.map(({ receivedAt, ...m }) => m),
        [
          { channel, message: "hello", encoding: "utf8" },
          { channel: `${p}.alerts.disk`, pattern: `${p}.alerts.*`, message: "/w==", encoding: "base64" }
        ]
      )
      assert.deepStrictEqual(await ok("unsubscribe", { subscriptionId: sub.subscriptionId }), {
        unsubscribed: true
      })
      const gone = await failure("read_messages", { subscriptionId: sub.subscriptionId })
      assert.strictEqual(gone.tag, "NotFound")
      const bad = await failure("read_messages", { subscriptionId: sub.subscriptionId, waitMs: 60_000 })
      assert.strictEqual(bad.tag, "InvalidArgument")
    })

    it("pipeline, plain and atomic, with per-command results", async () => {
      const k = `${p}:counter`
      const plain = await ok("pipeline", {
        commands: [
          ["SET", k, 10],
          ["INCRBY", k, "5"],
          ["HGET", k, "f"],
          ["GET", k]
        ]
      })
      assert.deepStrictEqual(plain.atomic, false)
      assert.deepStrictEqual(plain.results[0], { ok: true, result: "OK", encoding: "utf8" })
      assert.deepStrictEqual(plain.results[1], { ok: true, result: 15, encoding: "utf8" })
      assert.strictEqual(plain.results[2].ok, false)
      assert.strictEqual(plain.results[2].error.tag, "WrongType")
      assert.deepStrictEqual(plain.results[3], { ok: true, result: "15", encoding: "utf8" })
      const atomic = await ok("pipeline", {
        commands: [
          ["INCR", k],
          ["HSET", `${k}:h`, "a", "1"],
          ["HGETALL", `${k}:h`]
        ],
        atomic: true
      })
      assert.deepStrictEqual(
        atomic.results.map((r: { result: unknown }) => r.result),
        [16, 1, ["a", "1"]]
      )
      const denied = await failure("pipeline", { commands: [["GET", k], ["FLUSHALL"]] })
      assert.strictEqual(denied.tag, "PermissionDenied")
    })

    it("command runs a command, and dryRun only reports the policy's verdict", async () => {
      const k = `${p}:cmd`
      const dry = await ok("command", { args: ["SET", k, "v"], dryRun: true })
      assert.deepStrictEqual([dry.command, dry.allowed, dry.executed, dry.readOnly], ["SET", true, false, false])
      assert.strictEqual((await ok("command", { args: ["GET", k] })).result, null)
      assert.strictEqual((await ok("command", { args: ["SET", k, "v"] })).result, "OK")
      assert.strictEqual((await ok("command", { args: ["GET", k] })).result, "v")
      const keys = await ok("command", { args: ["KEYS", "*"], dryRun: true })
      assert.deepStrictEqual([keys.allowed, keys.refusal.tag], [false, "PermissionDenied"])
      const blocking = await failure("command", { args: ["BLPOP", k, 0] })
      assert.strictEqual(blocking.tag, "InvalidArgument")
      if (mode === "redis") {
        const encoding = await ok("command", { args: ["object", "encoding", k] })
        assert.deepStrictEqual([encoding.command, typeof encoding.result], ["OBJECT ENCODING", "string"])
        // CONFIG, GET included (it returns secrets such as requirepass), is on the default deny list.
        for (const args of [
          ["CONFIG", "SET", "maxmemory", "1"],
          ["config", "get", "requirepass"]
        ]) {
          assert.strictEqual((await failure("command", { args })).tag, "PermissionDenied")
        }
      } else {
        const unsupported = await failure("command", { args: ["OBJECT", "ENCODING", k] })
        assert.strictEqual(unsupported.tag, "InvalidArgument")
        assert.include(unsupported.message, "real Redis")
      }
    })
  })

suite("memory")
suite("redis")

describe("a read-only server over stdio (redis)", () => {
  const server = useServer("redis", {
    args: [...TOOLSETS, "--read-only"],
    seed: (redis) => redis.command("SET", "ro:key", "kept")
  })
  const { expectOk: ok, expectError: failure } = server

  it("lists pipeline and command as read-only, and not publish", async () => {
    const { tools } = await server.client.listTools()
    const byName = new Map(tools.map((t) => [t.name, t]))
    assert.isFalse(byName.has("publish"))
    for (const name of ["pipeline", "command", "subscribe", "read_messages"]) {
      assert.isTrue(byName.get(name)?.annotations?.readOnlyHint, name)
      assert.isFalse(byName.get(name)?.annotations?.destructiveHint, name)
    }
  })

  it("refuses a write in pipeline and in command with ReadOnlyMode, and runs reads", async () => {
    const piped = await failure("pipeline", {
      commands: [
        ["GET", "ro:key"],
        ["SET", "ro:key", "changed"]
      ]
    })
    assert.strictEqual(piped.tag, "ReadOnlyMode")
    const single = await failure("command", { args: ["DEL", "ro:key"] })
    assert.strictEqual(single.tag, "ReadOnlyMode")
    assert.strictEqual(single.retryable, false)
    assert.strictEqual((await ok("command", { args: ["GET", "ro:key"] })).result, "kept")
    const reads = await ok("pipeline", {
      commands: [
        ["EXISTS", "ro:key"],
        ["STRLEN", "ro:key"]
      ]
    })
    assert.deepStrictEqual(
      reads.results.map((r: { result: unknown }) => r.result),
      [1, 4]
    )
  })
})
