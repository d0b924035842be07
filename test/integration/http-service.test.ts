/**
 * The HTTP service as an operator meets it, on the built server: the endpoints that need no
 * token (/healthz, /readyz following Redis, /metrics), the body limit (413 before anything runs),
 * what refuses to start (a non-loopback bind without auth, an invalid auth file: exit 2 and one
 * line), `hash-token`, and REDIS_MCP_ROLE scoping a stdio session.
 */
import { spawn } from "node:child_process"
import { createHash } from "node:crypto"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { sha256Hex } from "../../src/mcp/auth/Tokens.ts"
import { initialize, request, spawnRaw } from "../protocol/raw.ts"
import { authDir } from "../support/auth.ts"
import { requireRedis } from "../support/env.ts"
import { MAIN, postMcp, rawRequest, rpcOf, runToExit, startHttpServer } from "../support/http-server.ts"
import { ephemeralPort } from "../support/ports.ts"
import { startRedis } from "../support/standalone.ts"

let files: Awaited<ReturnType<typeof authDir>>
beforeAll(async () => {
  files = await authDir()
})
afterAll(() => files.dispose())

const setCall = (key: string, value: string) => ({
  jsonrpc: "2.0",
  id: 1,
  method: "tools/call",
  params: { name: "set", arguments: { key, value } }
})

describe("endpoints without a token", () => {
  it("/healthz, /readyz (memory: always ready) and /metrics; the counters follow the answers", async () => {
    const server = await startHttpServer()
    try {
      const health = await fetch(`${server.base}/healthz`)
      assert.strictEqual(health.status, 200)
      assert.deepStrictEqual(await health.json(), { status: "ok" })
      const ready = await fetch(`${server.base}/readyz`)
      assert.strictEqual(ready.status, 200)
      assert.strictEqual(((await ready.json()) as any).mode, "memory")
      assert.strictEqual((await fetch(`${server.base}/nowhere`)).status, 404)
      assert.strictEqual((await fetch(`${server.base}/healthz`, { method: "POST" })).status, 405)
      const metrics = await fetch(`${server.base}/metrics`)
      assert.strictEqual(metrics.status, 200)
      assert.match(metrics.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/)
      const text = await metrics.text()
      assert.match(text, /^redis_mcp_http_requests_total\{code="200"\} [1-9]/m)
      assert.match(text, /^redis_mcp_http_requests_total\{code="404"\} 1$/m)
      assert.match(text, /^redis_mcp_http_requests_total\{code="405"\} 1$/m)
      assert.match(text, /^process_resident_memory_bytes [1-9]/m)
    } finally {
      await server.stop()
    }
  })

  it("/readyz is 503 while Redis does not answer and 200 once it does", async () => {
    requireRedis()
    const port = await ephemeralPort()
    const server = await startHttpServer({
      env: { REDIS_URL: `redis://127.0.0.1:${port}`, REDIS_COMMAND_TIMEOUT_MS: "500" }
    })
    try {
      const down = await fetch(`${server.base}/readyz`)
      assert.strictEqual(down.status, 503)
      assert.notStrictEqual(((await down.json()) as any).state, "ready")
      assert.strictEqual((await fetch(`${server.base}/healthz`)).status, 200)
      const redis = await startRedis({ port })
      try {
        let status = 0
        for (let i = 0; i < 100 && status !== 200; i++) {
          status = (await fetch(`${server.base}/readyz`)).status
          if (status !== 200) await new Promise((r) => setTimeout(r, 100))
        }
        assert.strictEqual(status, 200)
        await redis.debugSleep(2)
        const paused = await fetch(`${server.base}/readyz`)
        assert.strictEqual(paused.status, 503)
      } finally {
        await redis.stop()
      }
    } finally {
      await server.stop()
    }
  })
})

describe("the body limit", () => {
  it("a body over REDIS_MCP_HTTP_MAX_BODY_BYTES is 413 and runs nothing, with or without a length", async () => {
    const server = await startHttpServer({ env: { REDIS_MCP_HTTP_MAX_BODY_BYTES: "65536" } })
    try {
      const big = JSON.stringify(setCall("big", "x".repeat(70_000)))
      const sized = await postMcp(server.url, big)
      assert.strictEqual(sized.status, 413)
      assert.match(((await sized.json()) as any).error.message, /65536 bytes/)
      const chunked = await rawRequest(server.port, {
        path: "/mcp",
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          "mcp-protocol-version": "2025-11-25"
        },
        chunks: [big.slice(0, 40_000), big.slice(40_000)]
      })
      assert.strictEqual(chunked.status, 413)
      const exists = await rpcOf(
        await postMcp(server.url, {
          jsonrpc: "2.0",
          id: 2,
          method: "tools/call",
          params: { name: "exists", arguments: { keys: ["big"] } }
        })
      )
      assert.strictEqual(exists.result.structuredContent.count, 0)
      // Just under the limit is served.
      const fits = await postMcp(server.url, setCall("fits", "x".repeat(60_000)))
      assert.strictEqual(fits.status, 200)
    } finally {
      await server.stop()
    }
  })
})

describe("refusing to start", () => {
  it("a non-loopback bind with no auth method: exit 2 and one line", async () => {
    const { code, stderr } = await runToExit({ args: ["--transport", "http", "--host", "0.0.0.0", "--port", "0"] })
    assert.strictEqual(code, 2)
    // Set by a flag, so named by the flag (the variable when the environment set it).
    assert.match(stderr, /^effect-redis-mcp: invalid configuration: --host: 0\.0\.0\.0 is not a loopback/)
    assert.match(stderr, /--allow-unauthenticated/)
    assert.strictEqual(stderr.trim().split("\n").length, 1)
  })

  it("an invalid auth file: exit 2 and one line naming the place", async () => {
    const path = await files.write("bad.json", { roles: { r: { toolsets: ["keys"], readonly: true } } })
    for (const transport of ["http", "stdio"]) {
      const { code, stderr } = await runToExit({ args: ["--transport", transport, "--port", "0", "--auth-file", path] })
      assert.strictEqual(code, 2, transport)
      assert.strictEqual(stderr, `effect-redis-mcp: REDIS_MCP_AUTH_FILE (${path}): roles.r.readonly: unknown field\n`)
    }
    const role = await runToExit({
      args: ["--auth-file", await files.write("ok.json", { roles: { r: { toolsets: ["keys"] } } })],
      env: { REDIS_MCP_ROLE: "nobody" }
    })
    assert.strictEqual(role.code, 2)
    assert.match(role.stderr, /REDIS_MCP_ROLE: no role named "nobody"/)
  })

  it("bad HTTP settings name themselves", async () => {
    for (const [env, expected] of [
      [
        { REDIS_MCP_ALLOWED_HOSTS: "mcp.example.com:443" },
        /REDIS_MCP_ALLOWED_HOSTS: "mcp\.example\.com:443" is not a hostname/
      ],
      [{ REDIS_MCP_ALLOWED_ORIGINS: "https://a.test/path" }, /REDIS_MCP_ALLOWED_ORIGINS: "https:\/\/a\.test\/path"/],
      [{ REDIS_MCP_HTTP_MAX_BODY_BYTES: "10" }, /REDIS_MCP_HTTP_MAX_BODY_BYTES: must be at least 1024/],
      [{ REDIS_MCP_SHUTDOWN_GRACE_MS: "-1" }, /REDIS_MCP_SHUTDOWN_GRACE_MS: must be 0 to 3600000/]
    ] as const) {
      const { code, stderr } = await runToExit({ args: ["--transport", "http", "--port", "0"], env })
      assert.strictEqual(code, 2, JSON.stringify(env))
      assert.match(stderr, expected)
    }
  })
})

describe("hash-token", () => {
  const run = (input: string) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [MAIN, "hash-token"], { stdio: "pipe" })
      let stdout = ""
      let stderr = ""
      child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c))
      child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c))
      child.once("exit", (code) => resolve({ code, stdout, stderr }))
      child.stdin.end(input)
    })

  it("prints the SHA-256 hex of the token on stdin (one trailing line break dropped) on stdout", async () => {
    const token = "a-long-random-token-0123456789abcdef"
    const expected = `${createHash("sha256").update(token).digest("hex")}\n`
    for (const input of [token, `${token}\n`]) {
      const r = await run(input)
      assert.strictEqual(r.code, 0)
      assert.strictEqual(r.stdout, expected)
      assert.strictEqual(r.stderr, "")
    }
    const short = await run("short")
    assert.strictEqual(short.code, 0)
    assert.match(short.stderr, /warning: the token is only 5 characters/)
    const empty = await run("")
    assert.strictEqual(empty.code, 2)
    assert.strictEqual(empty.stdout, "")
    assert.match(empty.stderr, /^effect-redis-mcp hash-token: no token on stdin/)
  })
})

describe("REDIS_MCP_ROLE over stdio", () => {
  it("scopes the local session like a remote one: its tools, its keys", async () => {
    const authFile = await files.write("stdio.json", {
      roles: { local: { toolsets: ["keys"], keys: ["mine:*"] } },
      tokens: [{ name: "unused", sha256: sha256Hex("unused-token-0123456789abcdef0123"), role: "local" }]
    })
    const raw = spawnRaw(["--auth-file", authFile], { REDIS_MCP_ROLE: "local" })
    try {
      raw.send(initialize(1))
      await raw.response(1)
      raw.send(request(2, "tools/list"))
      const names = (await raw.response(2)).result.tools.map((t: { name: string }) => t.name)
      assert.include(names, "set")
      assert.notInclude(names, "task_create")
      raw.send(request(3, "tools/call", { name: "set", arguments: { key: "theirs", value: "1" } }))
      const denied = JSON.parse((await raw.response(3)).result.content[0].text).error
      assert.strictEqual(denied.tag, "PermissionDenied")
      raw.send(request(4, "tools/call", { name: "set", arguments: { key: "mine:a", value: "1" } }))
      assert.deepStrictEqual((await raw.response(4)).result.structuredContent, { written: true })
    } finally {
      raw.child.kill()
    }
  })
})
