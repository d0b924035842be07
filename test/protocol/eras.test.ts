/**
 * Both protocol eras on one stdio server, as raw JSON lines: the 2026-07-28
 * request shapes we rely on (server/discover, the per-request `_meta` envelope,
 * cache hints, subscriptions/listen, trace context), the errors a client gets
 * for a wrong envelope or revision, and bad input that must answer, not crash.
 */
import { assert, describe, it } from "@effect/vitest"
import { DEFAULT_TOOLSETS } from "../../src/mcp/Settings.ts"
import { features } from "../../src/tools/index.ts"
import { initialize, MODERN_META, modern, type RawServer, request, spawnRaw } from "./raw.ts"

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`

/** A server for one test, killed after it. */
const withServer = async (test: (raw: RawServer) => Promise<void>, env: Record<string, string> = {}) => {
  const raw = spawnRaw([], env)
  try {
    await test(raw)
  } finally {
    raw.child.kill("SIGKILL")
  }
}

/** The error envelope of a tools/call result that must be isError. */
const envelopeOf = (response: any) => {
  assert.isTrue(response.result?.isError, JSON.stringify(response))
  assert.notProperty(response.result, "structuredContent")
  return JSON.parse(response.result.content[0].text).error
}

const defaultToolOrder = features
  .flatMap((f) => f.tools)
  .filter((t) => t.core === true || DEFAULT_TOOLSETS.includes(t.toolset))
  .map((t) => t.name)

describe("2026-07-28 over stdio", () => {
  it("server/discover: the revision, our capabilities and instructions, with cache hints", () =>
    withServer(async (raw) => {
      raw.send(modern(1, "server/discover"))
      const { result } = await raw.response(1)
      assert.deepStrictEqual(result.supportedVersions, ["2026-07-28"])
      assert.deepStrictEqual(result.capabilities.tools, { listChanged: false })
      assert.isTrue(result.capabilities.resources.subscribe)
      assert.isDefined(result.capabilities.prompts)
      assert.include(result.instructions, "retryable")
      assert.strictEqual(result._meta["io.modelcontextprotocol/serverInfo"].name, "effect-redis-mcp")
      assert.isNumber(result.ttlMs)
      assert.strictEqual(result.cacheScope, "private")
    }))

  it("tools/list: a fixed order (features, then each one's tools) and ttlMs/cacheScope hints", () =>
    withServer(async (raw) => {
      raw.send(modern(1, "tools/list"))
      raw.send(modern(2, "tools/list"))
      const first = (await raw.response(1)).result
      const second = (await raw.response(2)).result
      const names = first.tools.map((t: { name: string }) => t.name)
      assert.deepStrictEqual(names, defaultToolOrder)
      assert.deepStrictEqual(
        second.tools.map((t: { name: string }) => t.name),
        names
      )
      assert.strictEqual(first.ttlMs, 300_000)
      assert.strictEqual(first.cacheScope, "private")
      raw.send(modern(3, "resources/list"))
      assert.strictEqual((await raw.response(3)).result.ttlMs, 0)
    }))

  it("a request whose _meta lacks the client capabilities is -32602, and the connection goes on", () =>
    withServer(async (raw) => {
      raw.send(request(1, "tools/list", { _meta: { "io.modelcontextprotocol/protocolVersion": "2026-07-28" } }))
      const refused = await raw.response(1)
      assert.strictEqual(refused.error.code, -32602)
      assert.include(refused.error.message, "_meta")
      raw.send(modern(2, "tools/call", { name: "ping", arguments: {} }))
      assert.strictEqual((await raw.response(2)).result.structuredContent.pong, "PONG")
    }))

  it("an unsupported revision is -32022 naming the supported one; so is initialize once a connection is 2026", () =>
    withServer(async (raw) => {
      raw.send(modern(1, "server/discover", {}, { "io.modelcontextprotocol/protocolVersion": "2099-01-01" }))
      const unsupported = await raw.response(1)
      assert.strictEqual(unsupported.error.code, -32022)
      assert.deepStrictEqual(unsupported.error.data.supported, ["2026-07-28"])
      assert.strictEqual(unsupported.error.data.requested, "2099-01-01")
      raw.send(modern(2, "server/discover"))
      assert.deepStrictEqual((await raw.response(2)).result.supportedVersions, ["2026-07-28"])
      // Right after server/discover a client may still fall back to initialize (the SDK's probe); once a
      // 2026 request has been served, the connection is 2026-07-28 for good.
      raw.send(modern(3, "tools/list"))
      await raw.response(3)
      raw.send(initialize(4))
      assert.strictEqual((await raw.response(4)).error.code, -32022)
    }))

  it("a traceparent in _meta parents the call's span: its debug log line carries the trace id", () =>
    withServer(
      async (raw) => {
        raw.send(modern(1, "tools/call", { name: "ping", arguments: {} }, { traceparent: TRACEPARENT }))
        assert.isFalse((await raw.response(1)).result.isError === true)
        await raw.logged(`"traceId":"${TRACE_ID}"`)
        // A malformed one is ignored: the call runs in a trace of its own.
        raw.send(modern(2, "tools/call", { name: "ping", arguments: {} }, { traceparent: "00-zz-00-01" }))
        assert.strictEqual((await raw.response(2)).result.structuredContent.pong, "PONG")
        assert.strictEqual(raw.stderr().split(TRACE_ID).length - 1, 1)
      },
      { REDIS_MCP_LOG_LEVEL: "debug" }
    ))

  it("subscriptions/listen on tasks://{queue}: acknowledged, then an update per task state change, none after cancel", () =>
    withServer(async (raw) => {
      const isUpdate = (m: any) => m.method === "notifications/resources/updated" && m.params.uri === "tasks://jobs"
      raw.send(
        modern(1, "subscriptions/listen", { notifications: { resourceSubscriptions: ["tasks://jobs", "nope://x"] } })
      )
      const ack = await raw.message((m) => m.method === "notifications/subscriptions/acknowledged")
      assert.strictEqual(ack.params._meta["io.modelcontextprotocol/subscriptionId"], 1)
      raw.send(modern(2, "tools/call", { name: "task_create", arguments: { queue: "jobs", payload: {} } }))
      await raw.response(2)
      const update = await raw.message(isUpdate)
      assert.strictEqual(update.params._meta["io.modelcontextprotocol/subscriptionId"], 1)
      raw.send(modern(3, "tools/call", { name: "task_claim", arguments: { queue: "jobs", worker: "w" } }))
      await raw.response(3)
      await raw.message(isUpdate, 2)
      raw.send(
        JSON.stringify({
          jsonrpc: "2.0",
          method: "notifications/cancelled",
          params: { requestId: 1, _meta: MODERN_META }
        })
      )
      raw.send(modern(4, "tools/call", { name: "task_create", arguments: { queue: "jobs", payload: {} } }))
      await raw.response(4)
      // A later change of a queue still watched (a new listen) proves the cancelled one got nothing more.
      raw.send(modern(5, "subscriptions/listen", { notifications: { resourceSubscriptions: ["tasks://other"] } }))
      await raw.message((m) => m.method === "notifications/subscriptions/acknowledged", 2)
      raw.send(modern(6, "tools/call", { name: "task_create", arguments: { queue: "other", payload: {} } }))
      await raw.message((m) => m.method === "notifications/resources/updated" && m.params.uri === "tasks://other")
      assert.strictEqual(raw.stdoutLines.map((l) => JSON.parse(l)).filter(isUpdate).length, 2)
    }))
})

describe("bad input answers, never crashes (both eras)", () => {
  for (const era of ["2025", "2026"] as const) {
    const call = (id: number, params: Record<string, unknown>) =>
      era === "2026" ? modern(id, "tools/call", params) : request(id, "tools/call", params)
    const open = async (raw: RawServer) => {
      if (era === "2025") {
        raw.send(initialize(100))
        await raw.response(100)
        raw.send(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }))
      }
    }

    it(`${era}: tools/call arguments that are an array, a string or null get the InvalidArgument envelope`, () =>
      withServer(async (raw) => {
        await open(raw)
        const cases: ReadonlyArray<[unknown, string]> = [
          [["a"], "an array"],
          ["key=a", "a string"],
          [null, "null"]
        ]
        for (const [i, [args, kind]] of cases.entries()) {
          raw.send(call(i + 1, { name: "get", arguments: args }))
          const error = envelopeOf(await raw.response(i + 1))
          assert.strictEqual(error.tag, "InvalidArgument")
          assert.include(error.message, `not ${kind}`)
          assert.notInclude(error.message, "invalid_type")
        }
      }))

    it(`${era}: arguments nested 20,000 deep are InvalidArgument and the server goes on`, () =>
      withServer(async (raw) => {
        await open(raw)
        const depth = 20_000
        const value = `${"[".repeat(depth)}1${"]".repeat(depth)}`
        const line = call(1, { name: "state_set", arguments: { namespace: "n", key: "k", value: "@" } }).replace(
          '"@"',
          value
        )
        raw.send(line)
        const error = envelopeOf(await raw.response(1))
        assert.strictEqual(error.tag, "InvalidArgument")
        assert.include(error.message, "levels deep")
        raw.send(call(2, { name: "ping", arguments: {} }))
        assert.strictEqual((await raw.response(2)).result.structuredContent.pong, "PONG")
      }))

    it(`${era}: resources/read of tasks://% (bad percent-encoding) is -32602 with a clear message`, () =>
      withServer(async (raw) => {
        await open(raw)
        raw.send(
          era === "2026"
            ? modern(1, "resources/read", { uri: "tasks://%" })
            : request(1, "resources/read", { uri: "tasks://%" })
        )
        const { error } = await raw.response(1)
        assert.strictEqual(error.code, -32602)
        assert.include(error.message, "percent-encoding")
        assert.include(error.message, "tasks://{queue}")
      }))
  }

  it("2025: nothing but initialize (and ping) is served before initialize", () =>
    withServer(async (raw) => {
      raw.send(request(1, "tools/call", { name: "set", arguments: { key: "k", value: "early" } }))
      const early = await raw.response(1)
      assert.strictEqual(early.error.code, -32600)
      assert.include(early.error.message, "initialize")
      raw.send(request(2, "ping"))
      assert.deepStrictEqual((await raw.response(2)).result, {})
      raw.send(initialize(3))
      assert.strictEqual((await raw.response(3)).result.protocolVersion, "2025-06-18")
      raw.send(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }))
      raw.send(request(4, "tools/call", { name: "get", arguments: { key: "k" } }))
      // The early set was never served.
      assert.isFalse((await raw.response(4)).result.structuredContent.found)
    }))
})

describe("logging: declared, no notifications sent (both eras)", () => {
  it("2025: the logging capability is declared; logging/setLevel answers {}; no log notification is sent", () =>
    withServer(async (raw) => {
      raw.send(initialize(1))
      assert.deepStrictEqual((await raw.response(1)).result.capabilities.logging, {})
      raw.send(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }))
      raw.send(request(2, "logging/setLevel", { level: "debug" }))
      assert.deepStrictEqual((await raw.response(2)).result, {})
      // A level that does not exist is an error (the SDK's own validation), and the session goes on.
      raw.send(request(3, "logging/setLevel", { level: "loud" }))
      assert.isDefined((await raw.response(3)).error)
      raw.send(request(4, "tools/call", { name: "ping", arguments: {} }))
      assert.strictEqual((await raw.response(4)).result.structuredContent.pong, "PONG")
      assert.notInclude(raw.stdoutLines.join("\n"), "notifications/message")
    }))

  it("2026: logging is declared; the level comes per request in _meta (logging/setLevel is not a 2026 method)", () =>
    withServer(async (raw) => {
      raw.send(modern(1, "server/discover"))
      assert.deepStrictEqual((await raw.response(1)).result.capabilities.logging, {})
      const LOG_LEVEL = "io.modelcontextprotocol/logLevel"
      raw.send(modern(2, "tools/call", { name: "ping", arguments: {} }, { [LOG_LEVEL]: "debug" }))
      assert.strictEqual((await raw.response(2)).result.structuredContent.pong, "PONG")
      raw.send(modern(3, "tools/call", { name: "ping", arguments: {} }, { [LOG_LEVEL]: "loud" }))
      assert.strictEqual((await raw.response(3)).error.code, -32602)
      raw.send(modern(4, "logging/setLevel", { level: "debug" }))
      assert.strictEqual((await raw.response(4)).error.code, -32601)
      assert.notInclude(raw.stdoutLines.join("\n"), "notifications/message")
    }))
})
