/**
 * `/metrics` of the built server over HTTP, on a real redis-server, read with the
 * Prometheus client's parser: the tool and MCP series move by exactly the calls a
 * test just made, by tool and outcome (an unknown tool is no label value); every
 * series of the catalog is really exported (the Cluster gauge aside); the pub/sub
 * gauge and the queue depths follow what the calls opened and created; and a
 * Redis kill moves `redis_mcp_redis_connected` to 0 and
 * `redis_mcp_redis_reconnects_total` up, and back to 1 when Redis returns.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { catalog } from "../../src/layers/Metrics.ts"
import { sha256Hex } from "../../src/mcp/auth/Tokens.ts"
import { requireTool } from "../deploy/tools.ts"
import { authDir } from "../support/auth.ts"
import { requireRedis } from "../support/env.ts"
import { type HttpServer, postMcp, rpcOf, startHttpServer } from "../support/http-server.ts"
import { type RedisHandle, startRedis } from "../support/standalone.ts"
import { waitFor } from "../support/wait.ts"
import { delta, type Scrape, scrape, total } from "./metrics-scrape.ts"

const TOKEN = "metrics-test-token-0123456789abcdef"
const auth = { authorization: `Bearer ${TOKEN}` }
const CALLS = "redis_mcp_tool_calls_total"
const OPS = "mcp_server_operation_duration_seconds_count"

let nextId = 1
const call = async (server: HttpServer, name: string, args: unknown) => {
  const body = { jsonrpc: "2.0", id: nextId++, method: "tools/call", params: { name, arguments: args } }
  return rpcOf(await postMcp(server.url, body, auth))
}
const list = async (server: HttpServer) =>
  rpcOf(await postMcp(server.url, { jsonrpc: "2.0", id: nextId++, method: "tools/list" }, auth))

const until = (server: HttpServer, ok: (s: Scrape) => boolean, description: string, timeoutMs = 20_000) =>
  waitFor(
    async () => {
      const s = await scrape(server.base)
      return ok(s) ? s : undefined
    },
    { timeoutMs, intervalMs: 100, description }
  )

describe("/metrics over HTTP", () => {
  requireTool("prometheus-client")
  requireRedis() // a missing redis-server fails the suite, never skips it
  let redis: RedisHandle
  let server: HttpServer
  let files: Awaited<ReturnType<typeof authDir>>

  beforeAll(async () => {
    files = await authDir()
    const authFile = await files.write("auth.json", {
      roles: { admin: { toolsets: ["all"] } },
      tokens: [{ name: "tester", sha256: sha256Hex(TOKEN), role: "admin" }]
    })
    redis = await startRedis()
    server = await startHttpServer({
      env: {
        REDIS_URL: redis.url,
        REDIS_MCP_AUTH_FILE: authFile,
        REDIS_MCP_TOOLSETS: "all",
        REDIS_MCP_KEY_PREFIX: "mhttp:",
        REDIS_MCP_QUEUE_DEPTH_INTERVAL_MS: "200",
        REDIS_RETRY_MAX_MS: "200"
      }
    })
  }, 60_000)
  afterAll(async () => {
    await server?.stop()
    await redis?.dispose()
    await files?.dispose()
  })

  it("tool calls and MCP operations move by exactly the calls made, by tool and outcome", async () => {
    const before = await scrape(server.base)
    for (let i = 0; i < 3; i++) assert.isUndefined((await call(server, "set", { key: `k${i}`, value: "v" })).error)
    for (let i = 0; i < 2; i++) assert.isFalse((await call(server, "get", { key: `k${i}` })).result.isError ?? false)
    // Bad arguments: past the argument-shape gate (an array) and at decoding (a missing key).
    assert.isTrue((await call(server, "get", [1])).result.isError)
    assert.isTrue((await call(server, "get", {})).result.isError)
    // A string is not a list: Redis's WRONGTYPE, as the tag WrongType.
    assert.isTrue((await call(server, "lpush", { key: "k0", values: ["x"] })).result.isError)
    // A tool that does not exist is a protocol error, and its name is no label value.
    assert.strictEqual((await call(server, "no_such_tool", {})).error.code, -32602)
    assert.isAbove((await list(server)).result.tools.length, 0)
    const after = await scrape(server.base)

    assert.strictEqual(delta(before, after, CALLS, { tool: "set", outcome: "ok" }), 3)
    assert.strictEqual(delta(before, after, CALLS, { tool: "get", outcome: "ok" }), 2)
    assert.strictEqual(delta(before, after, CALLS, { tool: "get", outcome: "InvalidArgument" }), 2)
    assert.strictEqual(delta(before, after, CALLS, { tool: "lpush", outcome: "WrongType" }), 1)
    assert.strictEqual(total(after, CALLS) - total(before, CALLS), 8, "no other call was counted")
    const op = (tool: string, error: string) => ({
      mcp_method_name: "tools/call",
      gen_ai_tool_name: tool,
      error_type: error
    })
    assert.strictEqual(delta(before, after, OPS, op("set", "")), 3)
    assert.strictEqual(delta(before, after, OPS, op("get", "")), 2)
    assert.strictEqual(delta(before, after, OPS, op("get", "InvalidArgument")), 2)
    assert.strictEqual(delta(before, after, OPS, op("lpush", "WrongType")), 1)
    assert.strictEqual(delta(before, after, OPS, op("", "UnknownTool")), 1)
    assert.strictEqual(
      delta(before, after, OPS, { mcp_method_name: "tools/list", gen_ai_tool_name: "", error_type: "" }),
      1
    )
    for (const s of after.series) assert.notInclude(s, "no_such_tool")
    // Every call went through the HTTP listener too.
    assert.isAtLeast(delta(before, after, "redis_mcp_http_requests_total", { code: "200" }), 9)
  })

  it("exports every series of the catalog; subscriptions and queue depths follow the calls", async () => {
    const sub = await call(server, "subscribe", { channels: ["news"] })
    const { subscriptionId } = sub.result.structuredContent
    assert.isTrue(
      (await call(server, "task_create", { queue: "builds", payload: {} })).result.structuredContent.created
    )
    const unauthorized = await postMcp(server.url, { jsonrpc: "2.0", id: 0, method: "tools/list" })
    assert.strictEqual(unauthorized.status, 401)
    const seen = await until(
      server,
      (s) => s.value("redis_mcp_task_queue_depth", { queue: "builds", status: "waiting" }) === 1,
      "the queue depth of builds",
      // Rounds every 200 ms (REDIS_MCP_QUEUE_DEPTH_INTERVAL_MS): well before the default 15 s.
      5000
    )
    assert.strictEqual(seen.value("redis_mcp_pubsub_subscriptions"), 1)
    assert.strictEqual(seen.value("redis_mcp_redis_connected"), 1)
    assert.isAtLeast(seen.value("redis_mcp_auth_failures_total", { reason: "missing" }) ?? 0, 1)
    const rendered = new Set(seen.families.map((f) => (f.type === "counter" ? `${f.name}_total` : f.name)))
    // redis_mcp_cluster_slots_covered is a Cluster mode series.
    const missing = catalog
      .map((s) => s.name)
      .filter((n) => !rendered.has(n) && n !== "redis_mcp_cluster_slots_covered")
    assert.deepStrictEqual(missing, [])

    await call(server, "unsubscribe", { subscriptionId })
    assert.strictEqual((await scrape(server.base)).value("redis_mcp_pubsub_subscriptions"), 0)
  })

  it("a Redis kill moves connected to 0 and reconnects up; connected is 1 again once Redis is back", async () => {
    const before = await scrape(server.base)
    assert.strictEqual(before.value("redis_mcp_redis_connected"), 1)
    const reconnects = before.value("redis_mcp_redis_reconnects_total") ?? 0
    await redis.kill()
    const down = await until(server, (s) => s.value("redis_mcp_redis_connected") === 0, "connected 0")
    assert.isAbove(down.value("redis_mcp_redis_reconnects_total") ?? 0, reconnects)
    await redis.restart()
    await until(server, (s) => s.value("redis_mcp_redis_connected") === 1, "connected 1 again")
  })
})
