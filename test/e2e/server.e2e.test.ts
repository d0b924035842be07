/**
 * The built server (dist/main.js) over stdio, as MCP clients see it: handshake,
 * tools/list, toolset and read-only selection, errors, stdout hygiene, flags,
 * cancellation and shutdown.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { McpError } from "@modelcontextprotocol/sdk/types.js"
import { DEFAULT_TOOLSETS, type Toolset } from "../../src/layers/Config.ts"
import { allTools } from "../../src/tools/index.ts"
import { MAIN, type ServerUnderTest, startServer, useServer } from "./client.ts"
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

/** The server spawned by hand: raw stdin/stdout lines, stderr text, exit. */
interface RawServer {
  readonly child: ChildProcessWithoutNullStreams
  readonly stdoutLines: Array<string>
  readonly stderr: () => string
  readonly send: (line: string) => void
  /** Resolves with the first JSON-RPC response carrying this id. */
  readonly response: (id: number | string, timeoutMs?: number) => Promise<any>
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

const spawnRaw = (args: ReadonlyArray<string> = [], env: Record<string, string> = {}): RawServer => {
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdio: "pipe"
  })
  const stdoutLines: Array<string> = []
  let partial = ""
  let stderr = ""
  const waiters: Array<() => void> = []
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    partial += chunk
    const lines = partial.split("\n")
    partial = lines.pop() ?? ""
    stdoutLines.push(...lines.filter((l) => l !== ""))
    for (const w of waiters.splice(0)) w()
  })
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal }))
  )
  const response = (id: number | string, timeoutMs = 10_000) =>
    new Promise<any>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no response with id ${id} within ${timeoutMs} ms; stderr: ${stderr}`)),
        timeoutMs
      )
      const check = () => {
        for (const line of stdoutLines) {
          const message = JSON.parse(line)
          if (message.id === id) {
            clearTimeout(timer)
            return resolve(message)
          }
        }
        waiters.push(check)
      }
      check()
    })
  return {
    child,
    stdoutLines,
    stderr: () => stderr,
    send: (line) => child.stdin.write(`${line}\n`),
    response,
    exited
  }
}

const initialize = (id: number) =>
  JSON.stringify({
    jsonrpc: "2.0",
    id,
    method: "initialize",
    params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } }
  })
const request = (id: number, method: string, params: Record<string, unknown> = {}) =>
  JSON.stringify({ jsonrpc: "2.0", id, method, params })

/** Fails the test when `promise` does not settle in time (a hang, not a slow answer). */
const within = <A>(promise: Promise<A>, ms: number, what: string): Promise<A> =>
  Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms))
  ])

/** Resolves once the server has logged a line containing `text` on stderr. */
const stderrLine = async (server: ServerUnderTest, text: string, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs
  while (!server.stderr.some((l) => l.includes(text))) {
    if (Date.now() > deadline) throw new Error(`no stderr line with "${text}"; got:\n${server.stderr.join("\n")}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe("default server (in-memory store)", () => {
  const server = useServer("memory")

  it("initialize: server info, capabilities and instructions", () => {
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
      assert.include(DEFAULT_TOOLSETS, toolsetOf.get(name) as Toolset, `${name} is not in a default toolset`)
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
      assert.instanceOf(e, McpError)
      assert.strictEqual((e as McpError).code, -32602)
      assert.include((e as McpError).message, "no_such_tool")
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

  it("an unknown toolset exits with code 2 and a message naming REDIS_MCP_TOOLSETS", async () => {
    const raw = spawnRaw(["--toolsets", "default,nonsense"])
    const { code } = await within(raw.exited, 15_000, "exit")
    assert.strictEqual(code, 2)
    assert.match(raw.stderr(), /REDIS_MCP_TOOLSETS: unknown toolset "nonsense"/)
    assert.deepStrictEqual(raw.stdoutLines, [])
  })

  it("an invalid environment setting exits with code 2 and one line naming it", async () => {
    const raw = spawnRaw([], { REDIS_URL: "http://127.0.0.1:6379" })
    const { code } = await within(raw.exited, 15_000, "exit")
    assert.strictEqual(code, 2)
    assert.strictEqual(
      raw.stderr().trim(),
      "effect-redis-mcp: invalid configuration: REDIS_URL: must start with redis:// or rediss://"
    )
  })

  it("a malformed URL or host:port setting exits with code 2 naming the setting, never a crash", async () => {
    for (const [env, setting] of [
      [{ REDIS_URL: "redis://127.0.0.1:99999" }, "REDIS_URL"],
      [{ REDIS_URL: "redis://127.0.0.1:0" }, "REDIS_URL"],
      [{ REDIS_URL: "redis://:%zz@127.0.0.1:6379" }, "REDIS_URL"],
      [{ REDIS_URL: "redis://127.0.0.1:6379/db" }, "REDIS_URL"],
      [{ REDIS_CLUSTER_NODES: "127.0.0.1:99999" }, "REDIS_CLUSTER_NODES"],
      [
        { REDIS_CLUSTER_NODES: "127.0.0.1:7000", REDIS_CLUSTER_NAT_MAP: "a:1=127.0.0.1:99999" },
        "REDIS_CLUSTER_NAT_MAP"
      ],
      [{ REDIS_MCP_HTTP_HOST: "http://x/" }, "REDIS_MCP_HTTP_HOST"],
      [{ REDIS_MCP_MAX_KEY_BYTES: "1000000" }, "REDIS_MCP_MAX_KEY_BYTES"]
    ] as const) {
      const raw = spawnRaw([], env)
      const { code } = await within(raw.exited, 15_000, "exit")
      assert.strictEqual(code, 2, JSON.stringify(env))
      const stderr = raw.stderr().trim()
      assert.match(stderr, new RegExp(`^effect-redis-mcp: invalid configuration: ${setting}: `), stderr)
      assert.notInclude(stderr, "fatal", stderr)
      assert.notInclude(stderr, "%zz", "the URL (it may hold a password) is not repeated")
      assert.deepStrictEqual(raw.stdoutLines, [])
    }
  })
})

describe("stdio protocol hygiene", () => {
  it("a malformed line does not kill the server, and stdout carries only JSON-RPC", async () => {
    const raw = spawnRaw([], { REDIS_MCP_LOG_LEVEL: "debug" })
    try {
      raw.send("this is not json")
      raw.send('{"jsonrpc":"2.0","id":')
      raw.send('{"not":"json-rpc"}')
      raw.send(initialize(1))
      const init = await raw.response(1)
      assert.strictEqual(init.result.serverInfo.name, "effect-redis-mcp")
      raw.send(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }))
      raw.send("still not json {")
      raw.send(request(2, "tools/list"))
      assert.isAbove((await raw.response(2)).result.tools.length, 0)
      raw.send(request(3, "tools/call", { name: "ping", arguments: {} }))
      assert.strictEqual((await raw.response(3)).result.structuredContent.pong, "PONG")
      raw.send(request(4, "tools/call", { name: "ping", arguments: { message: 1 } }))
      assert.isTrue((await raw.response(4)).result.isError)
      raw.send(request(5, "no/such/method"))
      assert.strictEqual((await raw.response(5)).error.code, -32601)
      for (const line of raw.stdoutLines) {
        const message = JSON.parse(line)
        assert.strictEqual(message.jsonrpc, "2.0", line)
      }
      assert.strictEqual(raw.stdoutLines.length, 5)
      assert.include(raw.stderr(), "mcp transport error")
      assert.isNull(raw.child.exitCode)
    } finally {
      raw.child.kill("SIGKILL")
    }
  })

  it("--help and --version print to stderr, leave stdout empty, exit 0", async () => {
    const help = spawnRaw(["--help"])
    assert.strictEqual((await within(help.exited, 15_000, "exit")).code, 0)
    assert.include(help.stderr(), "Usage: effect-redis-mcp")
    assert.include(help.stderr(), "--toolsets")
    assert.deepStrictEqual(help.stdoutLines, [])
    const version = spawnRaw(["--version"])
    assert.strictEqual((await within(version.exited, 15_000, "exit")).code, 0)
    assert.strictEqual(version.stderr().trim(), VERSION)
    assert.deepStrictEqual(version.stdoutLines, [])
  })

  it("an unknown flag exits with code 2 and points to --help", async () => {
    const raw = spawnRaw(["--no-such-flag"])
    assert.strictEqual((await within(raw.exited, 15_000, "exit")).code, 2)
    assert.include(raw.stderr(), "--no-such-flag")
    assert.include(raw.stderr(), "--help")
  })
})

describe("shutdown", () => {
  it("stdin closing ends the process cleanly", async () => {
    const raw = spawnRaw()
    raw.send(initialize(1))
    await raw.response(1)
    raw.child.stdin.end()
    const { code, signal } = await within(raw.exited, 5000, "exit after stdin closed")
    assert.isNull(signal)
    assert.include([0, 130], code)
  })

  it("SIGTERM ends the process cleanly", async () => {
    const raw = spawnRaw()
    raw.send(initialize(1))
    await raw.response(1)
    raw.child.kill("SIGTERM")
    const { code, signal } = await within(raw.exited, 5000, "exit after SIGTERM")
    assert.isNull(signal, "exited by itself rather than being killed by the signal")
    assert.include([0, 130], code)
  })

  it("a client that closes our stdout ends the process cleanly instead of crashing on EPIPE", async () => {
    const raw = spawnRaw()
    raw.send(initialize(1))
    await raw.response(1)
    raw.child.stdout.destroy()
    raw.send(JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }))
    const { code, signal } = await within(raw.exited, 5000, "exit after stdout closed")
    assert.isNull(signal)
    assert.include([0, 130], code)
    assert.notMatch(raw.stderr(), /EPIPE|Unhandled/)
  })
})

describe("cancellation (real redis-server)", () => {
  const server = useServer("redis", { env: { REDIS_COMMAND_TIMEOUT_MS: "20000", REDIS_MCP_LOG_LEVEL: "debug" } })

  it("a call cancelled by the client interrupts its fiber; the server keeps answering", async () => {
    assert.isTrue((await server.call("ping")).ok)
    await server.redis().debugSleep(3) // Redis stops answering for 3 s
    const controller = new AbortController()
    const slow = server.client.callTool({ name: "ping", arguments: { message: "slow" } }, undefined, {
      signal: controller.signal
    })
    slow.catch(() => undefined)
    await stderrLine(server, '"tool call"')
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
