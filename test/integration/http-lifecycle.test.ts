/**
 * Signals on the running HTTP service: SIGHUP swaps the auth file (an added token works and a
 * removed one gets 401 from the next request on, while a call already in flight under the removed
 * token completes; an invalid file keeps the previous one), and SIGTERM drains (new requests get
 * 503, the call in flight finishes, the process exits 0).
 */
import { writeFile } from "node:fs/promises"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { sha256Hex } from "../../src/mcp/auth/Tokens.ts"
import { authDir } from "../support/auth.ts"
import { postMcp, rawRequest, rpcOf, startHttpServer } from "../support/http-server.ts"

const OLD = "old-token-0123456789abcdef0123456789ab"
const NEW = "new-token-0123456789abcdef0123456789ab"
const roles = { agent: { toolsets: ["pubsub"] } }

const call = (name: string, args: Record<string, unknown>, id = 1) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name, arguments: args }
})
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

let files: Awaited<ReturnType<typeof authDir>>
beforeAll(async () => {
  files = await authDir()
})
afterAll(() => files.dispose())

describe("SIGHUP", () => {
  it("adds and removes tokens from the next request on; a call in flight under a removed token completes", async () => {
    const path = await files.write("hup.json", {
      roles,
      tokens: [{ name: "old", sha256: sha256Hex(OLD), role: "agent" }]
    })
    const server = await startHttpServer({
      args: ["--auth-file", path, "--toolsets", "pubsub"],
      env: { REDIS_MCP_LOG_LEVEL: "debug" }
    })
    try {
      const sub = await rpcOf(await postMcp(server.url, call("subscribe", { channels: ["news"] }), bearer(OLD)))
      const { subscriptionId } = sub.result.structuredContent
      // A long call, under the token about to be removed: in flight once the server logs it.
      const long = postMcp(server.url, call("read_messages", { subscriptionId, waitMs: 15_000 }, 2), bearer(OLD))
      await server.logged('"tool":"read_messages"')

      await writeFile(path, JSON.stringify({ roles, tokens: [{ name: "new", sha256: sha256Hex(NEW), role: "agent" }] }))
      process.kill(server.pid, "SIGHUP")
      await server.logged("auth file reloaded")
      assert.strictEqual(
        (await postMcp(server.url, call("publish", { channel: "x", message: "" }), bearer(OLD))).status,
        401
      )
      const published = await postMcp(
        server.url,
        call("publish", { channel: "news", message: "after reload" }),
        bearer(NEW)
      )
      assert.strictEqual(published.status, 200)
      assert.deepStrictEqual((await rpcOf(published)).result.structuredContent, { receivers: 1 })

      const finished = await long
      assert.strictEqual(finished.status, 200)
      const messages = (await rpcOf(finished)).result.structuredContent.messages
      assert.deepStrictEqual(
        messages.map((m: { message: string }) => m.message),
        ["after reload"]
      )

      // An invalid file is refused: the previous one stays.
      await writeFile(path, '{"roles": {"agent": {"toolsets": ["nope"]}}}')
      process.kill(server.pid, "SIGHUP")
      await server.logged("auth file reload refused")
      assert.strictEqual(
        (await postMcp(server.url, call("publish", { channel: "x", message: "" }), bearer(NEW))).status,
        200
      )
      assert.strictEqual(server.child.exitCode, null)
    } finally {
      await server.stop()
    }
  })
})

describe("SIGTERM", () => {
  it("drains: new requests get 503, the call in flight finishes, then exit 0", async () => {
    const server = await startHttpServer({
      args: ["--toolsets", "pubsub"],
      env: { REDIS_MCP_LOG_LEVEL: "debug", REDIS_MCP_SHUTDOWN_GRACE_MS: "20000" }
    })
    const sub = await rpcOf(await postMcp(server.url, call("subscribe", { channels: ["news"] })))
    const { subscriptionId } = sub.result.structuredContent
    const inFlight = postMcp(server.url, call("read_messages", { subscriptionId, waitMs: 2000 }, 2))
    await server.logged('"tool":"read_messages"')
    process.kill(server.pid, "SIGTERM")
    await server.logged("draining")
    const refused = await rawRequest(server.port, { path: "/healthz", headers: { connection: "close" } })
    assert.strictEqual(refused.status, 503)
    assert.strictEqual(refused.headers["retry-after"], "5")
    const late = await rawRequest(server.port, {
      path: "/mcp",
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      chunks: [JSON.stringify(call("ping", {}, 3))]
    })
    assert.strictEqual(late.status, 503)
    const finished = await inFlight
    assert.strictEqual(finished.status, 200)
    assert.deepStrictEqual((await rpcOf(finished)).result.structuredContent.messages, [])
    const exit = await server.exited
    // 128 + SIGTERM after a clean shutdown, as shells and systemd expect (src/layers/RunMain.ts).
    assert.deepStrictEqual(exit, { code: 0, signal: null })
  })
})
