/**
 * `--metrics-port` on the built server over stdio: `/healthz`, `/readyz` and `/metrics`
 * on 127.0.0.1 (a foreign Host is 403, other paths 404, a port in use stops the start
 * naming the flag); the counters move by exactly the calls made on stdin, by tool and
 * outcome, with the stdio fast path on and off; after 10,000 calls on 10,000 distinct keys there are exactly the series
 * there were before them, none naming a key; and REDIS_MCP_METRICS=off records nothing
 * while the calls work as ever.
 */
import { createServer } from "node:net"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { requireTool } from "../deploy/tools.ts"
import { initialize, type RawServer, request, spawnRaw } from "../protocol/raw.ts"
import { requireRedis } from "../support/env.ts"
import { rawRequest, runToExit } from "../support/http-server.ts"
import { type RedisHandle, startRedis } from "../support/standalone.ts"
import { waitFor } from "../support/wait.ts"
import { delta, parseScrape, scrape, total } from "./metrics-scrape.ts"

const CALLS = "redis_mcp_tool_calls_total"

interface Served {
  readonly raw: RawServer
  readonly base: string
  readonly port: number
  /** Sends `tools/call` lines (ids from `firstId`) and resolves once all are answered. */
  readonly calls: (calls: ReadonlyArray<{ name: string; arguments: unknown }>) => Promise<ReadonlyArray<any>>
  readonly stop: () => void
}

let nextId = 10
/** The server over stdio with `--metrics-port 0`, initialized; the port read from its log. */
const serve = async (env: Record<string, string>): Promise<Served> => {
  const raw = spawnRaw(["--metrics-port", "0"], { REDIS_MCP_LOG_LEVEL: "info", ...env })
  raw.send(initialize(1))
  await raw.response(1, 15_000)
  raw.send(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }))
  await raw.logged('"metrics listening"', 15_000)
  const line = raw
    .stderr()
    .split("\n")
    .find((l) => l.includes('"metrics listening"'))!
  assert.include(line, '"host":"127.0.0.1"')
  const port = Number(/"port":(\d+)/.exec(line)![1])
  const answers = new Map<number, any>()
  let read = 0
  const collect = () => {
    for (; read < raw.stdoutLines.length; read++) {
      const message = JSON.parse(raw.stdoutLines[read]!)
      if (typeof message.id === "number") answers.set(message.id, message)
    }
  }
  const calls = async (batch: ReadonlyArray<{ name: string; arguments: unknown }>) => {
    const ids = batch.map((params) => {
      const id = nextId++
      raw.send(request(id, "tools/call", params))
      return id
    })
    await waitFor(
      async () => {
        collect()
        return ids.every((id) => answers.has(id))
      },
      { timeoutMs: 60_000, intervalMs: 20, description: `answers to ${ids.length} calls` }
    )
    return ids.map((id) => answers.get(id))
  }
  return { raw, base: `http://127.0.0.1:${port}`, port, calls, stop: () => raw.child.kill() }
}

describe("--metrics-port over stdio", () => {
  requireTool("prometheus-client")
  requireRedis() // a missing redis-server fails the suite, never skips it
  let redis: RedisHandle
  let server: Served
  beforeAll(async () => {
    redis = await startRedis()
    server = await serve({ REDIS_URL: redis.url, REDIS_MCP_KEY_PREFIX: "mstdio:", REDIS_MCP_TOOLSETS: "keys,hash" })
  }, 60_000)
  afterAll(async () => {
    server?.stop()
    await redis?.dispose()
  })

  it("serves /healthz, /readyz and /metrics on loopback; a foreign Host is 403, another path 404", async () => {
    assert.strictEqual((await fetch(`${server.base}/healthz`)).status, 200)
    const ready = await fetch(`${server.base}/readyz`)
    assert.strictEqual(ready.status, 200)
    assert.strictEqual(((await ready.json()) as { mode: string }).mode, "standalone")
    const metrics = await scrape(server.base)
    assert.isAbove(metrics.value("process_resident_memory_bytes") ?? 0, 0)
    assert.strictEqual(metrics.value("redis_mcp_redis_connected"), 1)
    assert.strictEqual((await fetch(`${server.base}/mcp`)).status, 404)
    assert.strictEqual((await fetch(`${server.base}/metrics`, { method: "POST" })).status, 405)
    const foreign = await rawRequest(server.port, { path: "/metrics", headers: { host: "evil.example" } })
    assert.strictEqual(foreign.status, 403)
    const origin = await rawRequest(server.port, { path: "/metrics", headers: { origin: "https://evil.example" } })
    assert.strictEqual(origin.status, 403)
  })

  it("after 10,000 calls on 10,000 distinct keys the series are exactly those before, none naming a key", async () => {
    const mix = (i: number) => {
      const key = `card:${i}:${Math.random().toString(36).slice(2)}`
      switch (i % 5) {
        case 0:
          return { name: "set", arguments: { key, value: String(i) } }
        case 1:
          return { name: "get", arguments: { key } }
        case 2:
          return { name: "hset", arguments: { key, fields: { f: "v" } } }
        case 3:
          return { name: "del", arguments: { keys: [key] } }
        default:
          return { name: "hget", arguments: { key, field: "f" } }
      }
    }
    // Every tool and outcome of the mix once, so the first scrape has all their series.
    await server.calls(Array.from({ length: 5 }, (_, i) => mix(i)))
    const before = await scrape(server.base)
    const keys: Array<string> = []
    for (let start = 0; start < 10_000; start += 500) {
      const batch = Array.from({ length: 500 }, (_, j) => mix(start + j))
      for (const c of batch)
        keys.push((c.arguments as { key?: string; keys?: Array<string> }).key ?? c.arguments.keys![0]!)
      const answers = await server.calls(batch)
      assert.isTrue(answers.every((a) => a.result !== undefined && !a.result.isError))
    }
    const after = await scrape(server.base)
    assert.strictEqual(total(after, CALLS) - total(before, CALLS), 10_000)
    assert.deepStrictEqual(after.series, before.series, "the same series, no new label values")
    const text = after.series.join("\n")
    for (const key of keys.slice(0, 200)) assert.notInclude(text, key)
    assert.notInclude(text, "card:")
  }, 180_000)
})

/**
 * The calls of `countedCalls` on a fresh server, in one mode of the stdio fast path: each
 * is counted once, whether the fast path or the SDK's handler answered it (both run the
 * edge's one call path, which records them).
 */
describe("tool call counters over stdio", () => {
  requireRedis()
  requireTool("prometheus-client")
  let redis: RedisHandle
  beforeAll(async () => {
    redis = await startRedis()
  }, 60_000)
  afterAll(async () => {
    await redis?.dispose()
  })

  for (const fastPath of [true, false])
    it(`move by exactly the calls made on stdin, by tool and outcome (fast path ${fastPath ? "on" : "off"})`, async () => {
      const server = await serve({
        REDIS_URL: redis.url,
        REDIS_MCP_KEY_PREFIX: `mcount${fastPath ? 1 : 0}:`,
        REDIS_MCP_TOOLSETS: "keys,hash",
        REDIS_MCP_FASTPATH: fastPath ? "1" : "0"
      })
      try {
        const before = await scrape(server.base)
        await server.calls([
          { name: "set", arguments: { key: "a", value: "1" } },
          { name: "set", arguments: { key: "b", value: "2" } },
          { name: "get", arguments: { key: "a" } },
          { name: "hget", arguments: { key: "a", field: "f" } },
          { name: "get", arguments: { nokey: "a" } },
          { name: "get", arguments: "not an object" },
          { name: "nosuchtool", arguments: {} }
        ])
        const after = await scrape(server.base)
        assert.strictEqual(delta(before, after, CALLS, { tool: "set", outcome: "ok" }), 2)
        assert.strictEqual(delta(before, after, CALLS, { tool: "get", outcome: "ok" }), 1)
        assert.strictEqual(delta(before, after, CALLS, { tool: "hget", outcome: "WrongType" }), 1)
        assert.strictEqual(delta(before, after, CALLS, { tool: "get", outcome: "InvalidArgument" }), 2)
        // The unknown tool is refused before any tool ran: no tool call, an operation with its error type.
        assert.strictEqual(total(after, CALLS) - total(before, CALLS), 6)
        assert.strictEqual(
          delta(before, after, "mcp_server_operation_duration_seconds_count", {
            mcp_method_name: "tools/call",
            gen_ai_tool_name: "",
            error_type: "UnknownTool"
          }),
          1
        )
        // One duration each in the operation histogram, the refused one included.
        const toolCalls = (s: typeof after) =>
          s
            .samples("mcp_server_operation_duration_seconds_count")
            .filter((x) => x.labels.mcp_method_name === "tools/call")
            .reduce((sum, x) => sum + x.value, 0)
        assert.strictEqual(toolCalls(after) - toolCalls(before), 7)
        // The Redis commands they sent (two SETs among them) are on the connection's series.
        assert.strictEqual(
          delta(before, after, "redis_mcp_redis_command_duration_seconds_count", { command: "set" }),
          2
        )
      } finally {
        server.raw.child.stdin.end()
        await server.raw.logged('"mcp server closed"', 15_000)
        server.stop()
      }
      // The fast path answered the calls it may (known tools, object arguments); off, none.
      const taken = Number(/"fastPathCalls":(\d+)/.exec(server.raw.stderr())?.[1] ?? 0)
      if (fastPath) assert.strictEqual(taken, 5)
      else assert.strictEqual(taken, 0)
    })
})

describe("--metrics-port without Redis", () => {
  requireTool("prometheus-client")
  it("REDIS_MCP_METRICS=off: calls work, /metrics renders no series and says why", async () => {
    const server = await serve({ REDIS_MCP_METRICS: "off" })
    try {
      const [set, get] = await server.calls([
        { name: "set", arguments: { key: "k", value: "v" } },
        { name: "get", arguments: { key: "k" } }
      ])
      assert.deepStrictEqual(set.result.structuredContent, { written: true })
      assert.strictEqual(get.result.structuredContent.value, "v")
      const text = await (await fetch(`${server.base}/metrics`)).text()
      assert.match(text, /^# metrics are off \(REDIS_MCP_METRICS=off\)/)
      assert.deepStrictEqual(parseScrape(text).families, [])
      assert.strictEqual((await fetch(`${server.base}/readyz`)).status, 200)
    } finally {
      server.stop()
    }
  })

  it("a metrics port in use stops the start: exit 2, one line naming the flag", async () => {
    const taken = createServer()
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve))
    const port = (taken.address() as { port: number }).port
    try {
      const { code, stderr } = await runToExit({ args: ["--metrics-port", String(port)] })
      assert.strictEqual(code, 2)
      assert.include(stderr, `--metrics-port: cannot listen on 127.0.0.1:${port}: the port is in use`)
    } finally {
      taken.close()
    }
  })
})
