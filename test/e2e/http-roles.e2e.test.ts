/**
 * Roles over Streamable HTTP, with this run's client (v1 on 2025-11-25, v2 on 2026-07-28), on a
 * real redis-server: each token sees its role's tools only; a read-only role writes through no
 * tool, `pipeline` or `command`; a key-scoped role touches no key, channel, queue or namespace
 * outside its patterns through any tool (and nothing is sent to Redis when refused); what a
 * principal opens (subscriptions, blocking reads) is its own — another principal's
 * `notifications/cancelled` does not end it; per-principal limits answer LimitExceeded.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { sha256Hex } from "../../src/mcp/auth/Tokens.ts"
import { authDir } from "../support/auth.ts"
import { requireRedis } from "../support/env.ts"
import { type HttpServer, postMcp, rpcOf, startHttpServer } from "../support/http-server.ts"
import { type RedisHandle, startRedis } from "../support/standalone.ts"
import { CLIENT, connectHttp, rpcError, type ServerUnderTest } from "./client.ts"

const TOKENS = {
  admin: "admin-token-0123456789abcdef0123456789",
  reader: "reader-token-0123456789abcdef012345678",
  scoped: "scoped-token-0123456789abcdef012345678",
  other: "other-token-0123456789abcdef01234567890"
} as const

const AUTH = {
  roles: {
    admin: { toolsets: ["all"] },
    reader: { toolsets: ["keys", "hash", "list", "stream", "pubsub", "batch", "command"], readOnly: true },
    scoped: {
      toolsets: ["keys", "hash", "pubsub", "batch", "command", "task", "state"],
      keys: ["app:*"],
      channels: ["app.*"],
      queues: ["app-*"],
      namespaces: ["app"]
    }
  },
  tokens: [
    { name: "root", sha256: sha256Hex(TOKENS.admin), role: "admin" },
    { name: "viewer", sha256: sha256Hex(TOKENS.reader), role: "reader" },
    { name: "tenant", sha256: sha256Hex(TOKENS.scoped), role: "scoped" },
    { name: "neighbour", sha256: sha256Hex(TOKENS.other), role: "scoped" }
  ]
}

describe(`roles over HTTP (${CLIENT} client)`, () => {
  let redis: RedisHandle
  let server: HttpServer
  let files: Awaited<ReturnType<typeof authDir>>
  const clients: Partial<Record<keyof typeof TOKENS, ServerUnderTest>> = {}
  const as = (who: keyof typeof TOKENS) => clients[who] ?? assert.fail(`no client for ${who}`)

  beforeAll(async () => {
    requireRedis()
    redis = await startRedis()
    files = await authDir()
    const authFile = await files.write("auth.json", AUTH)
    server = await startHttpServer({
      env: {
        REDIS_URL: redis.url,
        REDIS_MCP_AUTH_FILE: authFile,
        REDIS_MCP_TOOLSETS: "all",
        REDIS_MCP_MAX_SUBSCRIPTIONS_PER_PRINCIPAL: "2",
        REDIS_MCP_MAX_CONCURRENT_CALLS_PER_PRINCIPAL: "4"
      }
    })
    for (const who of Object.keys(TOKENS) as Array<keyof typeof TOKENS>) {
      clients[who] = await connectHttp(server.url, { token: TOKENS[who], pid: server.pid })
    }
  })
  afterAll(async () => {
    for (const c of Object.values(clients)) await c?.close().catch(() => undefined)
    await server?.stop()
    await redis?.stop()
    await files?.dispose()
  })

  /** How often Redis ran `command` (INFO commandstats): proof that a refused call sent nothing. */
  const calls = async (command: string) => {
    const stats = await redis.info("commandstats")
    const line = stats.get(`cmdstat_${command}`)
    return line === undefined ? 0 : Number(/calls=(\d+)/.exec(line)![1])
  }

  const names = async (who: keyof typeof TOKENS) => (await as(who).client.listTools()).tools.map((t) => t.name)

  it("each token sees its role's tools; another role's tool is an unknown tool", async () => {
    const admin = await names("admin")
    const reader = await names("reader")
    const scoped = await names("scoped")
    assert.includeMembers(admin, ["set", "del", "task_create", "state_set", "dbsize", "hset", "publish"])
    assert.includeMembers(reader, ["get", "mget", "scan", "hget", "pipeline", "command", "ping", "health"])
    for (const write of ["set", "del", "mset", "rename", "hset", "lpush", "xadd", "publish", "incr", "expire"]) {
      assert.notInclude(reader, write)
    }
    assert.notInclude(reader, "task_create")
    assert.includeMembers(scoped, ["set", "task_create", "state_set", "publish"])
    assert.notInclude(scoped, "dbsize")
    assert.notDeepEqual(admin, reader)
    const refused = await as("reader")
      .client.callTool({ name: "set", arguments: { key: "x", value: "1" } })
      .then(
        (r) => assert.fail(`set answered ${JSON.stringify(r)}`),
        (e) => rpcError(e)
      )
    assert.strictEqual(refused.code, -32602)
    assert.match(refused.message, /Unknown tool: set/)
  })

  it("a read-only role writes through no tool, pipeline or command", async () => {
    const admin = (await as("admin").client.listTools()).tools
    const reader = new Set(await names("reader"))
    // Every writing tool of the server is unknown to it, except the two that refuse writes themselves.
    for (const tool of admin.filter((t) => t.annotations?.readOnlyHint === false)) {
      if (tool.name === "pipeline" || tool.name === "command") continue
      assert.isFalse(reader.has(tool.name), tool.name)
    }
    const sets = await calls("set")
    const r = as("reader")
    const viaPipeline = await r.expectError("pipeline", {
      commands: [
        ["GET", "ro:a"],
        ["SET", "ro:a", "1"]
      ]
    })
    assert.strictEqual(viaPipeline.tag, "ReadOnlyMode")
    for (const args of [
      ["SET", "ro:a", "1"],
      ["DEL", "ro:a"],
      ["HSET", "ro:h", "f", "v"],
      ["EXPIRE", "ro:a", "10"]
    ]) {
      assert.strictEqual((await r.expectError("command", { args })).tag, "ReadOnlyMode", args.join(" "))
    }
    assert.strictEqual(
      (await r.expectError("pipeline", { commands: [["SET", "ro:b", "1"]], atomic: true })).tag,
      "ReadOnlyMode"
    )
    assert.strictEqual(await calls("set"), sets)
    assert.strictEqual(await redis.command("EXISTS", "ro:a", "ro:b", "ro:h"), 0)
    // Reading still works.
    await redis.command("SET", "ro:c", "seen")
    assert.strictEqual((await r.expectOk("get", { key: "ro:c" })).value, "seen")
    assert.deepStrictEqual((await r.expectOk("command", { args: ["GET", "ro:c"] })).result, "seen")
  })

  it("a key-scoped role reads and writes no key outside its patterns, through any tool", async () => {
    const s = as("scoped")
    await redis.command("SET", "other", "secret")
    await s.expectOk("set", { key: "app:a", value: "1" })
    const denied = async (tool: string, args: Record<string, unknown>) => {
      const e = await s.expectError(tool, args)
      assert.strictEqual(e.tag, "PermissionDenied", `${tool} ${JSON.stringify(args)}: ${e.message}`)
      assert.match(e.message, /role "scoped"/)
      return e
    }
    const before = { get: await calls("get"), mget: await calls("mget"), rename: await calls("rename") }
    await denied("get", { key: "other" })
    const mget = await denied("mget", { keys: ["app:a", "other", "app:b"] })
    assert.match(mget.message, /"other"/)
    await denied("rename", { key: "app:a", newKey: "other2" })
    await denied("rename", { key: "other", newKey: "app:stolen" })
    await denied("set", { key: "other", value: "overwritten" })
    await denied("del", { keys: ["app:a", "other"] })
    await denied("hset", { key: "other:h", fields: { f: "v" } })
    await denied("scan", {})
    await denied("scan", { match: "*" })
    await denied("scan", { match: "ap*" })
    await denied("pipeline", {
      commands: [
        ["SET", "app:x", "1"],
        ["GET", "other"]
      ]
    })
    await denied("pipeline", { commands: [["MGET", "app:a", "other"]] })
    await denied("command", { args: ["GET", "other"] })
    await denied("command", { args: ["RENAME", "app:a", "other3"] })
    await denied("command", { args: ["SCAN", "0"] })
    await denied("command", { args: ["DBSIZE"] })
    await denied("command", { args: ["GET", "task:{app-q}:x"] })
    assert.deepStrictEqual(
      { get: await calls("get"), mget: await calls("mget"), rename: await calls("rename") },
      before
    )
    assert.strictEqual(await redis.command("GET", "other"), "secret")
    assert.strictEqual(await redis.command("EXISTS", "app:x", "other2", "other3", "app:stolen"), 0)
    // Inside its patterns everything works.
    assert.deepStrictEqual((await s.expectOk("mget", { keys: ["app:a", "app:b"] })).values.length, 2)
    assert.isArray((await s.expectOk("scan", { match: "app:*" })).keys)
    assert.strictEqual((await s.expectOk("command", { args: ["GET", "app:a"] })).result, "1")
    const piped = await s.expectOk("pipeline", {
      commands: [
        ["INCR", "app:n"],
        ["GET", "app:n"]
      ]
    })
    assert.deepStrictEqual(
      piped.results.map((r: { result: unknown }) => r.result),
      [1, "1"]
    )
    await s.expectOk("rename", { key: "app:a", newKey: "app:renamed" })
  })

  it("nor channels, queues or namespaces outside its patterns", async () => {
    const s = as("scoped")
    const denied = async (tool: string, args: Record<string, unknown>) =>
      assert.strictEqual((await s.expectError(tool, args)).tag, "PermissionDenied", `${tool} ${JSON.stringify(args)}`)
    await denied("publish", { channel: "ops.alerts", message: "x" })
    await denied("subscribe", { channels: ["ops.alerts"] })
    await denied("subscribe", { channels: ["app.news", "ops.alerts"] })
    await denied("subscribe", { patterns: ["*"] })
    await denied("subscribe", { patterns: ["app*"] })
    await denied("command", { args: ["PUBLISH", "ops.alerts", "x"] })
    await denied("task_create", { queue: "ops-q", payload: {} })
    await denied("queue_stats", { queue: "ops-q" })
    await denied("state_set", { namespace: "ops", key: "k", value: 1 })
    await denied("state_get", { namespace: "ops", key: "k" })
    await denied("lock_acquire", { name: "deploy", owner: "me", ttlSeconds: 5 })
    await s.expectOk("publish", { channel: "app.news", message: "x" })
    await s.expectOk("task_create", { queue: "app-q", payload: { n: 1 } })
    await s.expectOk("state_set", { namespace: "app", key: "k", value: 1 })
    // Resources follow the same lists.
    await as("admin").expectOk("state_set", { namespace: "ops", key: "k", value: 2 })
    const read = await s.client.readResource({ uri: "state://ops/k" }).then(
      () => assert.fail("read another namespace"),
      (e) => rpcError(e)
    )
    assert.strictEqual(read.code, -32602)
    assert.match(read.message, /namespace "ops"/)
    assert.include((await s.client.readResource({ uri: "state://app/k" })).contents[0].text, "1")
    const listed = (await s.client.listResources()).resources.map((r: { uri: string }) => r.uri)
    assert.include(listed, "tasks://app-q")
    assert.notInclude(listed, "tasks://ops-q")
  })

  it("resource updates: a 2026-07-28 listen stream carries only the role's URIs; a 2025 client is offered none", async () => {
    const s = as("scoped")
    if (CLIENT === "v1") {
      // Stateless HTTP has no stream for a 2025 client's updates: subscribe is not offered.
      assert.isUndefined(s.client.getServerCapabilities()?.resources?.subscribe)
      return
    }
    const updates: Array<string> = []
    s.client.onResourceUpdated((uri) => updates.push(uri))
    await s.client.subscribe("state://app/watched")
    const foreign = await s.client.subscribe("state://ops/watched").then(
      () => "honored",
      (e: Error) => e.message
    )
    assert.match(foreign, /did not honor state:\/\/ops\/watched/)
    await as("admin").expectOk("state_set", { namespace: "ops", key: "watched", value: 1 })
    await as("admin").expectOk("state_set", { namespace: "app", key: "watched", value: 1 })
    for (let i = 0; i < 100 && updates.length === 0; i++) await new Promise((done) => setTimeout(done, 50))
    assert.deepStrictEqual(updates, ["state://app/watched"])
    await s.client.unsubscribe("state://app/watched")
  })

  it("a subscription belongs to the principal that opened it", async () => {
    const mine = as("scoped")
    const theirs = as("other")
    const { subscriptionId } = await mine.expectOk("subscribe", { channels: ["app.private"] })
    const read = await theirs.expectError("read_messages", { subscriptionId })
    assert.strictEqual(read.tag, "NotFound")
    assert.deepStrictEqual(await theirs.expectOk("unsubscribe", { subscriptionId }), { unsubscribed: false })
    await as("admin").expectOk("publish", { channel: "app.private", message: "for me" })
    const got = await mine.expectOk("read_messages", { subscriptionId, waitMs: 5000 })
    assert.deepStrictEqual(
      got.messages.map((m: { message: string }) => m.message),
      ["for me"]
    )
    assert.deepStrictEqual(await mine.expectOk("unsubscribe", { subscriptionId }), { unsubscribed: true })
  })

  it("a blocking read belongs to its principal: another's notifications/cancelled for its id does not end it", async () => {
    const requestId = 4242
    const key = `app:blocking:${CLIENT}`
    // A's xread waits for the next entry (raw 2025 requests: the ids on the wire are ours to choose).
    const pending = postMcp(
      server.url,
      {
        jsonrpc: "2.0",
        id: requestId,
        method: "tools/call",
        params: { name: "xread", arguments: { streams: [{ key, id: "$" }], blockMs: 20_000 } }
      },
      { authorization: `Bearer ${TOKENS.admin}` }
    ).then(rpcOf)
    // Once Redis holds the read blocked, B (another principal) cancels that request id.
    for (let i = 0; i < 200 && Number((await redis.info("clients")).get("blocked_clients")) < 1; i++) {
      await new Promise((done) => setTimeout(done, 25))
    }
    const early = await Promise.race([pending, new Promise((r) => setTimeout(() => r("still pending"), 100))])
    assert.strictEqual(early, "still pending", JSON.stringify(early))
    assert.strictEqual(Number((await redis.info("clients")).get("blocked_clients")), 1)
    const cancel = await postMcp(
      server.url,
      { jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId, reason: "not yours" } },
      { authorization: `Bearer ${TOKENS.other}` }
    )
    assert.isBelow(cancel.status, 300)
    // The read is still waiting: the entry added now is what A gets back.
    assert.strictEqual(Number((await redis.info("clients")).get("blocked_clients")), 1)
    const client = redis.client()
    try {
      await client.xadd(key, "*", "who", "A")
    } finally {
      client.disconnect()
    }
    const answer = await pending
    assert.strictEqual(answer.id, requestId)
    assert.notStrictEqual(answer.result?.isError, true, JSON.stringify(answer))
    const [stream] = answer.result.structuredContent.streams
    assert.strictEqual(stream.key, key)
    assert.deepStrictEqual(
      stream.entries.map((e: { fields: unknown }) => e.fields),
      [{ who: "A" }]
    )
  })

  it("per-principal limits: open subscriptions, calls in flight", async () => {
    const s = as("scoped")
    const a = await s.expectOk("subscribe", { channels: ["app.l1"] })
    const b = await s.expectOk("subscribe", { channels: ["app.l2"] })
    const third = await s.expectError("subscribe", { channels: ["app.l3"] })
    assert.strictEqual(third.tag, "LimitExceeded")
    assert.isTrue(third.retryable)
    // Another principal is not held back by this one's subscriptions.
    const neighbours = await as("other").expectOk("subscribe", { channels: ["app.n"] })
    await s.expectOk("unsubscribe", { subscriptionId: b.subscriptionId })
    const c = await s.expectOk("subscribe", { channels: ["app.l3"] })

    // Four blocking reads fill the principal's calls in flight; a fifth call is refused at once.
    const blocked = [a, c, a, c].map((sub) =>
      s.call("read_messages", { subscriptionId: sub.subscriptionId, waitMs: 20_000 })
    )
    let refusal: { tag: string } | undefined
    for (let i = 0; i < 100 && refusal === undefined; i++) {
      const r = await s.call("ping", {})
      if (!r.ok) refusal = r.error
      else await new Promise((done) => setTimeout(done, 50))
    }
    assert.strictEqual(refusal?.tag, "LimitExceeded")
    assert.isTrue((await as("other").call("ping", {})).ok)
    await as("admin").expectOk("publish", { channel: "app.l1", message: "wake" })
    await as("admin").expectOk("publish", { channel: "app.l3", message: "wake" })
    for (const r of await Promise.all(blocked)) assert.isTrue(r.ok)
    assert.isTrue((await s.call("ping", {})).ok)
    for (const sub of [a, c]) await s.expectOk("unsubscribe", { subscriptionId: sub.subscriptionId })
    await as("other").expectOk("unsubscribe", { subscriptionId: neighbours.subscriptionId })
  })
})
