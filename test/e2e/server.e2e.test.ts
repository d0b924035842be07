/**
 * The built server (dist/main.js) over stdio, as MCP clients see it: handshake,
 * tools/list, toolset and read-only selection, errors, stdout hygiene, flags,
 * cancellation and shutdown.
 */
import { readFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { DEFAULT_TOOLSETS } from "../../src/mcp/Settings.ts"
import { allTools } from "../../src/tools/index.ts"
import { within } from "../protocol/raw.ts"
import { PROTOCOL, rpcError, type ServerUnderTest, startServer, useServer } from "./client.ts"
import { KEYS_TOOLS, STATE_TOOLS, TASK_TOOLS } from "./tool-names.ts"

/** The default tool set fixed by TOOLS.md. */
const DEFAULT_NAMES: Readonly<Record<"keys" | "task" | "state", ReadonlyArray<string>>> = {
  keys: KEYS_TOOLS,
  task: TASK_TOOLS,
  state: STATE_TOOLS
}
const CORE = ["ping", "health"]
const implemented = new Set(allTools.map((t) => t.name))
const toolsetOf = new Map(allTools.map((t) => [t.name, t.toolset]))
const VERSION = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")).version as string

const logged = (server: ServerUnderTest, text: string) => server.stderr.filter((l) => l.includes(text)).length

/** Resolves once the server has logged `count` lines containing `text` on stderr. */
const stderrLine = async (server: ServerUnderTest, text: string, count = 1, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs
  while (logged(server, text) < count) {
    if (Date.now() > deadline) throw new Error(`no stderr line with "${text}"; got:\n${server.stderr.join("\n")}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe("default server (in-memory store)", () => {
  const server = useServer("memory")

  it("the handshake (initialize or server/discover): protocol revision, server info, capabilities, instructions", () => {
    assert.strictEqual(server.client.protocolVersion(), PROTOCOL)
    const info = server.client.getServerVersion()
    assert.strictEqual(info?.name, "effect-redis-mcp")
    assert.strictEqual(info?.version, VERSION)
    assert.isDefined(server.client.getServerCapabilities()?.tools)
    const instructions = server.client.getInstructions() ?? ""
    assert.include(instructions, "isError")
    assert.include(instructions, "retryable")
  })

  it("tools/list: titles, four annotations, object input and output schemas", async () => {
    // listTools() compiles every outputSchema: it rejects if any one does not compile.
    const { tools } = await server.client.listTools()
    assert.isAbove(tools.length, 0)
    for (const tool of tools) {
      assert.isString(tool.title, tool.name)
      assert.isAbove(tool.description?.length ?? 0, 0, tool.name)
      const a = tool.annotations!
      assert.strictEqual(a.title, tool.title, tool.name)
      for (const hint of [a.readOnlyHint, a.destructiveHint, a.idempotentHint, a.openWorldHint]) {
        assert.isBoolean(hint, tool.name)
      }
      assert.isFalse(a.openWorldHint)
      assert.strictEqual(tool.inputSchema.type, "object", tool.name)
      assert.strictEqual(tool.outputSchema?.type, "object", tool.name)
      assert.notInclude(JSON.stringify(tool.inputSchema), '"$schema"')
      assert.notInclude(JSON.stringify(tool.outputSchema), '"$schema"')
    }
  })

  it("the default list is keys, task and state plus ping and health", async () => {
    const names = (await server.client.listTools()).tools.map((t) => t.name)
    assert.includeMembers(names, CORE)
    for (const name of names) {
      if (CORE.includes(name)) continue
      assert.include(DEFAULT_TOOLSETS, toolsetOf.get(name)!, `${name} is not in a default toolset`)
    }
    // Every tool of a default toolset that exists by now is listed.
    const expected = [
      ...CORE,
      ...Object.values(DEFAULT_NAMES)
        .flat()
        .filter((n) => implemented.has(n))
    ]
    assert.includeMembers(names, expected)
    for (const t of allTools) {
      if (!DEFAULT_TOOLSETS.includes(t.toolset) && t.core !== true) assert.notInclude(names, t.name)
    }
    const complete = Object.values(DEFAULT_NAMES).every((list) => list.every((n) => implemented.has(n)))
    if (complete) {
      assert.strictEqual(names.length, 30)
      assert.sameMembers(names, [...CORE, ...Object.values(DEFAULT_NAMES).flat()])
    }
  })

  it("ping and health answer on the in-memory store", async () => {
    const ping = await server.call("ping", { message: "hello" })
    assert.deepInclude(ping, { ok: true })
    if (ping.ok) assert.strictEqual(ping.value.pong, "hello")
    const health = await server.call("health")
    assert.isTrue(health.ok)
    if (health.ok) assert.strictEqual(health.value.state, "memory")
  })

  it("bad arguments: isError with an InvalidArgument envelope and no structuredContent", async () => {
    const result = await server.client.callTool({ name: "ping", arguments: { message: 42 } })
    assert.isTrue(result.isError)
    assert.notProperty(result, "structuredContent")
    const content = result.content as Array<{ type: string; text: string }>
    assert.strictEqual(content.length, 1)
    const { error } = JSON.parse(content[0]!.text)
    assert.strictEqual(error.tag, "InvalidArgument")
    assert.isFalse(error.retryable)
    assert.include(error.message, "ping")
    const extra = await server.call("ping", { message: "x", bogus: true })
    assert.isFalse(extra.ok)
    if (!extra.ok) assert.strictEqual(extra.error.tag, "InvalidArgument")
  })

  it("an unknown tool is a JSON-RPC error -32602", async () => {
    try {
      await server.client.callTool({ name: "no_such_tool", arguments: {} })
      assert.fail("expected a JSON-RPC error")
    } catch (e) {
      assert.strictEqual(rpcError(e).code, -32602)
      assert.include(rpcError(e).message, "no_such_tool")
    }
  })

  it("logs go to stderr as JSON lines", () => {
    assert.isAbove(server.stderr.length, 0)
    for (const line of server.stderr) assert.doesNotThrow(() => JSON.parse(line), line)
  })
})

describe("toolset selection", () => {
  it("--read-only lists only read-only tools", async () => {
    const server = await startServer({}, ["--read-only"])
    try {
      const { tools } = await server.client.listTools()
      assert.includeMembers(
        tools.map((t) => t.name),
        CORE
      )
      for (const t of tools) assert.isTrue(t.annotations?.readOnlyHint, t.name)
      const expected = allTools.filter(
        (t) => (t.core === true || DEFAULT_TOOLSETS.includes(t.toolset)) && t.hints.readOnly
      )
      assert.sameMembers(
        tools.map((t) => t.name),
        expected.map((t) => t.name)
      )
    } finally {
      await server.close()
    }
  })

  it("--toolsets all lists every tool; the flag wins over the environment", async () => {
    const server = await startServer({ REDIS_MCP_TOOLSETS: "bogus" }, ["--toolsets", "all"])
    try {
      const { tools } = await server.client.listTools()
      assert.sameMembers(
        tools.map((t) => t.name),
        [...implemented]
      )
    } finally {
      await server.close()
    }
  })

  it("REDIS_MCP_READ_ONLY=yes in the environment works like --read-only", async () => {
    const server = await startServer({ REDIS_MCP_READ_ONLY: "yes", REDIS_MCP_TOOLSETS: "all" })
    try {
      const { tools } = await server.client.listTools()
      for (const t of tools) assert.isTrue(t.annotations?.readOnlyHint, t.name)
    } finally {
      await server.close()
    }
  })
})

describe("cancellation (real redis-server)", () => {
  const server = useServer("redis", { env: { REDIS_COMMAND_TIMEOUT_MS: "20000", REDIS_MCP_LOG_LEVEL: "debug" } })

  it("a call cancelled by the client interrupts its fiber; the server keeps answering", async () => {
    assert.isTrue((await server.call("ping")).ok)
    await server.redis().debugSleep(3) // Redis stops answering for 3 s
    const calls = logged(server, '"tool call"')
    const controller = new AbortController()
    const slow = server.client.callTool({ name: "ping", arguments: { message: "slow" } }, { signal: controller.signal })
    slow.catch(() => undefined)
    // The slow call has reached the server (its fiber is running) before it is cancelled.
    await stderrLine(server, '"tool call"', calls + 1)
    controller.abort("changed my mind")
    try {
      await within(slow, 1000, "the cancelled call")
      assert.fail("the cancelled call resolved")
    } catch (e) {
      assert.notInclude(String(e), "no answer within")
    }
    // The server fiber ran its interruption finalizer: without the interruption the call would just
    // have finished once Redis woke up, and nothing would say "cancelled".
    await stderrLine(server, "tool call cancelled")
    // The server is not stuck behind the cancelled call.
    const listed = await within(server.client.listTools(), 1000, "tools/list")
    assert.isAbove(listed.tools.length, 0)
    // Once Redis wakes up, calls succeed again.
    const after = await within(server.call("ping", { message: "after" }), 10_000, "ping after")
    assert.isTrue(after.ok)
    if (after.ok) assert.strictEqual(after.value.pong, "after")
  })
})
