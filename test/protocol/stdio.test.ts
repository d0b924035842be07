/**
 * The stdio process as a client sees it below the SDK: protocol hygiene
 * (stdout carries JSON-RPC only, a bad line does not kill the server), flags,
 * exit codes for bad configuration, and shutdown.
 */
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { initialize, request, spawnRaw, within } from "./raw.ts"

const VERSION = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")).version as string

describe("configuration errors", () => {
  it("an unknown toolset exits with code 2 and a message naming --toolsets or REDIS_MCP_TOOLSETS, as given", async () => {
    const raw = spawnRaw(["--toolsets", "default,nonsense"])
    const { code } = await within(raw.exited, 15_000, "exit")
    assert.strictEqual(code, 2)
    assert.match(raw.stderr(), /: --toolsets: unknown toolset "nonsense"/)
    assert.deepStrictEqual(raw.stdoutLines, [])
    const env = spawnRaw([], { REDIS_MCP_TOOLSETS: "default,nonsense" })
    assert.strictEqual((await within(env.exited, 15_000, "exit")).code, 2)
    assert.match(env.stderr(), /: REDIS_MCP_TOOLSETS: unknown toolset "nonsense"/)
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

  it("a bad flag value is reported under the flag's name; the same value from the environment under the variable's", async () => {
    const flag = spawnRaw(["--command-timeout-ms", "0"])
    assert.strictEqual((await within(flag.exited, 15_000, "exit")).code, 2)
    assert.strictEqual(
      flag.stderr().trim(),
      'effect-redis-mcp: invalid configuration: --command-timeout-ms: must be a whole number above 0, got "0"'
    )
    const env = spawnRaw([], { REDIS_COMMAND_TIMEOUT_MS: "soon" })
    assert.strictEqual((await within(env.exited, 15_000, "exit")).code, 2)
    assert.strictEqual(
      env.stderr().trim(),
      'effect-redis-mcp: invalid configuration: REDIS_COMMAND_TIMEOUT_MS: must be a whole number above 0, got "soon"'
    )
    const port = spawnRaw(["--port", "99999"])
    assert.strictEqual((await within(port.exited, 15_000, "exit")).code, 2)
    assert.match(port.stderr(), /^effect-redis-mcp: invalid configuration: --port: /)
    assert.deepStrictEqual([...flag.stdoutLines, ...env.stdoutLines, ...port.stdoutLines], [])
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
      // Five answers, plus one JSON-RPC error (id null) per bad line: three parse errors, one invalid request.
      const errors = raw.stdoutLines.map((l) => JSON.parse(l)).filter((m) => m.id === null)
      assert.deepStrictEqual(
        errors.map((m) => m.error.code),
        [-32700, -32700, -32600, -32700]
      )
      assert.strictEqual(raw.stdoutLines.length, 5 + 4)
      assert.include(raw.stderr(), "stdin line rejected")
      assert.isNull(raw.child.exitCode)
    } finally {
      raw.child.kill("SIGKILL")
    }
  })

  it("--help and --version print to stdout, nothing to stderr, exit 0", async () => {
    const help = spawnRaw(["--help"])
    assert.strictEqual((await within(help.exited, 15_000, "exit")).code, 0)
    const text = help.stdoutLines.join("\n")
    assert.include(text, "Usage: effect-redis-mcp")
    assert.include(text, "--toolsets")
    assert.strictEqual(help.stderr(), "")
    const version = spawnRaw(["--version"])
    assert.strictEqual((await within(version.exited, 15_000, "exit")).code, 0)
    assert.deepStrictEqual(version.stdoutLines, [VERSION])
    assert.strictEqual(version.stderr(), "")
  })

  it("an unknown flag exits with code 2 and points to --help", async () => {
    const raw = spawnRaw(["--no-such-flag"])
    assert.strictEqual((await within(raw.exited, 15_000, "exit")).code, 2)
    assert.include(raw.stderr(), "--no-such-flag")
    assert.include(raw.stderr(), "--help")
  })
})

describe("shutdown", () => {
  it("stdin closing ends the process cleanly, with exit code 0", async () => {
    const raw = spawnRaw()
    raw.send(initialize(1))
    await raw.response(1)
    raw.child.stdin.end()
    const { code, signal } = await within(raw.exited, 5000, "exit after stdin closed")
    assert.isNull(signal)
    assert.strictEqual(code, 0)
  })

  it("--cpu-profile writes a V8 CPU profile of the run on a clean shutdown", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "cpu-profile-")), "run.cpuprofile")
    const raw = spawnRaw(["--cpu-profile", file])
    raw.send(initialize(1))
    await raw.response(1)
    raw.send(request(2, "tools/call", { name: "ping", arguments: {} }))
    await raw.response(2)
    raw.child.kill("SIGTERM")
    const { code } = await within(raw.exited, 10_000, "exit after SIGTERM")
    assert.strictEqual(code, 143)
    const profile = JSON.parse(readFileSync(file, "utf8"))
    assert.isAbove(profile.nodes.length, 10)
    assert.isAbove(profile.endTime, profile.startTime)
    assert.include(raw.stderr(), "cpu profile written")
  })

  for (const [signal, expected] of [
    ["SIGTERM", 143],
    ["SIGINT", 130]
  ] as const) {
    it(`${signal} shuts down cleanly, then exits with ${expected} (128 + the signal's number)`, async () => {
      const raw = spawnRaw()
      raw.send(initialize(1))
      await raw.response(1)
      raw.child.kill(signal)
      const { code, signal: killedBy } = await within(raw.exited, 5000, `exit after ${signal}`)
      assert.isNull(killedBy, "exited by itself rather than being killed by the signal")
      assert.strictEqual(code, expected)
      assert.include(raw.stderr(), "mcp server closed", "the transport's finalizer ran before the exit")
      assert.notInclude(raw.stderr(), "fatal")
    })
  }

  it("a client that closes our stdout ends the process cleanly instead of crashing on EPIPE", async () => {
    const raw = spawnRaw()
    raw.send(initialize(1))
    await raw.response(1)
    raw.child.stdout.destroy()
    raw.send(JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }))
    const { code, signal } = await within(raw.exited, 5000, "exit after stdout closed")
    assert.isNull(signal)
    assert.strictEqual(code, 0)
    assert.notMatch(raw.stderr(), /EPIPE|Unhandled/)
  })
})
