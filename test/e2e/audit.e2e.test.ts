/**
 * The audit log through the built server on a real Redis: a write call and a refused call each
 * give exactly one well-formed line (reads none), no value or payload that was sent reaches the
 * file, the key prefix stays out of `keys`, and SIGHUP after a rename sends the next line to a
 * new file; under a key-scoped role each refusal names its rule. (A refused token is an HTTP
 * matter: test/integration/http-auth.test.ts checks its line through the real transport.)
 */
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { sha256Hex } from "../../src/mcp/auth/Tokens.ts"
import { requireRedis } from "../support/env.ts"
import { useServer } from "./client.ts"

const dir = mkdtempSync(join(tmpdir(), "audit-e2e-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const CONTRACT = ["time", "event", "principal", "role", "tool", "keys", "outcome", "durationMs", "requestId"]

const linesOf = (path: string): Array<Record<string, any>> => {
  let text = ""
  try {
    text = readFileSync(path, "utf8")
  } catch {
    return []
  }
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l))
}

/** The lines once there are `count` of them (the audit is written by a background fiber). */
const waitForLines = async (path: string, count: number) => {
  for (let i = 0; i < 100; i++) {
    const lines = linesOf(path)
    if (lines.length >= count) return lines
    await new Promise((r) => setTimeout(r, 20))
  }
  return linesOf(path)
}

describe("audit log of the built server", () => {
  requireRedis() // a missing redis-server fails the suite, never skips it
  const path = join(dir, "audit.log")
  const server = useServer("redis", {
    env: { REDIS_MCP_AUDIT: path, REDIS_MCP_KEY_PREFIX: "agents:", REDIS_MCP_TOOLSETS: "default,command,batch" }
  })
  const secret = `value-${Math.random().toString(36).slice(2)}-never-logged`
  const payloadSecret = `payload-${Math.random().toString(36).slice(2)}-never-logged`

  it("a write: exactly one line with the contract's fields, logical keys, no value", async () => {
    await server.expectOk("set", { key: "user:1", value: secret })
    const lines = await waitForLines(path, 1)
    assert.strictEqual(lines.length, 1)
    const [line] = lines
    assert.deepStrictEqual(Object.keys(line!).slice(0, CONTRACT.length), CONTRACT)
    assert.strictEqual(line!.event, "call")
    assert.strictEqual(line!.principal, "stdio")
    assert.strictEqual(line!.tool, "set")
    assert.deepStrictEqual(line!.keys, ["user:1"])
    assert.strictEqual(line!.keyPrefix, "agents:")
    assert.strictEqual(line!.outcome, "ok")
    assert.isAtLeast(line!.durationMs, 0)
    assert.isNotNull(line!.requestId)
    assert.strictEqual(line!.transport, "stdio")
  })

  it("reads are not audited; a failed write is, with its error tag", async () => {
    await server.expectOk("get", { key: "user:1" })
    await server.expectOk("task_create", { queue: "q1", payload: { note: payloadSecret } })
    await server.expectError("incr", { key: "user:1" })
    const lines = await waitForLines(path, 3)
    assert.deepStrictEqual(
      lines.map((l) => [l.event, l.tool, l.outcome]),
      [
        ["call", "set", "ok"],
        ["call", "task_create", "ok"],
        ["call", "incr", "InvalidArgument"]
      ]
    )
    assert.deepStrictEqual(lines[1]!.queues, ["q1"])
  })

  it("a refused call: one denied line with its reason (deny list; the key prefix is `permission`)", async () => {
    const refused = await server.expectError("command", { args: ["CONFIG", "GET", "requirepass"] })
    assert.deepStrictEqual([refused.tag, refused.reason], ["PermissionDenied", "deny_list"])
    const lines = await waitForLines(path, 4)
    assert.strictEqual(lines.length, 4)
    assert.deepStrictEqual(
      [lines[3]!.event, lines[3]!.tool, lines[3]!.outcome, lines[3]!.reason],
      ["denied", "command", "PermissionDenied", "deny_list"]
    )
    // Inside a pipeline the refusal keeps its rule.
    await server.expectError("pipeline", {
      commands: [
        ["GET", "user:1"],
        ["CONFIG", "GET", "maxmemory"]
      ]
    })
    // SCAN cannot be kept under the key prefix: refused, but by no role and no list.
    await server.expectError("command", { args: ["SCAN", "0"] })
    const more = await waitForLines(path, 6)
    assert.deepStrictEqual(
      more.slice(4).map((l) => [l.event, l.tool, l.outcome, l.reason]),
      [
        ["denied", "pipeline", "PermissionDenied", "deny_list"],
        ["denied", "command", "PermissionDenied", "permission"]
      ]
    )
  })

  it("no value or payload that was sent is in the file", () => {
    const text = readFileSync(path, "utf8")
    assert.notInclude(text, secret)
    assert.notInclude(text, payloadSecret)
  })

  it("SIGHUP after a rename: the next line lands in a new file at the same path", async () => {
    renameSync(path, `${path}.1`)
    process.kill(server.pid!, "SIGHUP")
    // The server reopens the path on the signal: wait until the new file exists.
    for (let i = 0; i < 100 && linesOf(path).length === 0; i++) {
      try {
        readFileSync(path)
        break
      } catch {
        await new Promise((r) => setTimeout(r, 20))
      }
    }
    await server.expectOk("del", { keys: ["user:1"] })
    const fresh = await waitForLines(path, 1)
    assert.deepStrictEqual(
      fresh.map((l) => [l.event, l.tool]),
      [["call", "del"]]
    )
    assert.strictEqual(linesOf(`${path}.1`).length, 6)
    // The server is still serving (SIGHUP did not end it).
    await server.expectOk("ping", {})
  })
})

describe("audit log under a key-scoped role", () => {
  requireRedis() // a missing redis-server fails the suite, never skips it
  const path = join(dir, "scoped.log")
  const authFile = join(dir, "auth.json")
  writeFileSync(
    authFile,
    JSON.stringify({
      roles: { scoped: { toolsets: ["keys", "command", "batch", "admin"], keys: ["mine:*"] } },
      tokens: [{ name: "unused", sha256: sha256Hex("unused-token-0123456789abcdef0123"), role: "scoped" }]
    })
  )
  const server = useServer("redis", {
    args: ["--auth-file", authFile],
    env: { REDIS_MCP_AUDIT: path, REDIS_MCP_ROLE: "scoped", REDIS_MCP_TOOLSETS: "default,command,batch,admin" }
  })

  it("a key outside the role's patterns, or a whole-server read (slowlog, latency), is `key_pattern`", async () => {
    await server.expectOk("set", { key: "mine:a", value: "1" })
    for (const [tool, args] of [
      ["get", { key: "other" }],
      ["command", { args: ["GET", "other"] }],
      [
        "pipeline",
        {
          commands: [
            ["GET", "mine:a"],
            ["GET", "other"]
          ]
        }
      ],
      // Whole-server reads tell of every tenant's keys or commands.
      ["slowlog", {}],
      ["latency", {}]
    ] as const) {
      const error = await server.expectError(tool, args)
      // The agent sees the same rule in the error envelope.
      assert.deepStrictEqual([error.tag, error.reason], ["PermissionDenied", "key_pattern"])
    }
    // A tool outside the role's toolsets is refused by its role.
    await server.client.callTool({ name: "task_create", arguments: { queue: "q", payload: {} } }).catch(() => undefined)
    const lines = await waitForLines(path, 7)
    assert.deepStrictEqual(
      lines.map((l) => [l.event, l.role, l.tool, l.outcome, l.reason ?? null]),
      [
        ["call", "scoped", "set", "ok", null],
        ["denied", "scoped", "get", "PermissionDenied", "key_pattern"],
        ["denied", "scoped", "command", "PermissionDenied", "key_pattern"],
        ["denied", "scoped", "pipeline", "PermissionDenied", "key_pattern"],
        ["denied", "scoped", "slowlog", "PermissionDenied", "key_pattern"],
        ["denied", "scoped", "latency", "PermissionDenied", "key_pattern"],
        ["denied", "scoped", "task_create", "UnknownTool", "role"]
      ]
    )
  })
})
