/**
 * The auth pieces plugged into the SDK's `createMcpHandler` the way the HTTP transport will:
 * the gate (or `requireBearerAuth` with our verifier) in front, the per-request factory reading
 * the principal and role back from `ctx.authInfo`, and refusals never reaching the factory.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import {
  type AuthInfo,
  createMcpHandler,
  type McpRequestContext,
  requireBearerAuth,
  Server
} from "@modelcontextprotocol/server"
import { Effect } from "effect"
import { Authenticator } from "../../src/mcp/auth/Authenticator.ts"
import { type AuthExtra, bearerGate, principalOf, tokenVerifier } from "../../src/mcp/auth/Bearer.ts"
import { effectiveSettings } from "../../src/mcp/auth/Role.ts"
import { sha256Hex } from "../../src/mcp/auth/Tokens.ts"
import { authDir, authLayers } from "../support/auth.ts"

const server = { toolsets: ["keys", "hash", "task", "state"] as const, readOnly: false }

let files: Awaited<ReturnType<typeof authDir>>
let authFile: string
beforeAll(async () => {
  files = await authDir()
  authFile = await files.write("auth.json", {
    roles: { reader: { toolsets: ["keys", "state", "command"], readOnly: true, keys: ["app:*"] } },
    tokens: [{ name: "ci-bot", sha256: sha256Hex("reader-token-0123456789abcdef"), role: "reader" }]
  })
})
afterAll(() => files.dispose())

/** A handler whose factory records what each request's session would be allowed. */
const handler = () => {
  const sessions: Array<{ principal: AuthExtra | undefined; toolsets: ReadonlyArray<string>; readOnly: boolean }> = []
  const factory = (ctx?: McpRequestContext) => {
    const principal = principalOf(ctx?.authInfo)
    sessions.push({ principal, ...effectiveSettings(server, principal?.grant) })
    return new Server({ name: "test", version: "0" }, { capabilities: { tools: {} } })
  }
  return { mcp: createMcpHandler(factory, { legacy: "stateless" }), sessions }
}

/** Gate, then the MCP handler with the gate's AuthInfo: what the HTTP transport will do. */
const serveWith =
  (gate: (r: Request) => Promise<AuthInfo | Response>, mcp: ReturnType<typeof handler>["mcp"]) => (request: Request) =>
    Effect.promise(async () => {
      const info = await gate(request)
      return info instanceof Response ? info : mcp.fetch(request, { authInfo: info })
    })

const initialize = (authorization?: string) =>
  new Request("http://127.0.0.1:3000/mcp", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...(authorization === undefined ? {} : { authorization })
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "c", version: "1" } }
    })
  })

describe("auth in front of createMcpHandler", () => {
  it.effect("bearerGate: the factory sees the principal and the narrowed settings; refusals never reach it", () =>
    Effect.gen(function* () {
      const auth = yield* Authenticator
      const gate = bearerGate(auth.verify)
      const { mcp, sessions } = handler()
      const serve = serveWith(gate, mcp)
      const ok = yield* serve(initialize("Bearer reader-token-0123456789abcdef"))
      assert.strictEqual(ok.status, 200)
      assert.include(yield* Effect.promise(() => ok.text()), '"protocolVersion"')
      assert.strictEqual(sessions.length, 1)
      assert.strictEqual(sessions[0]!.principal?.principal, "token:ci-bot")
      assert.strictEqual(sessions[0]!.principal?.role, "reader")
      assert.deepStrictEqual(sessions[0]!.toolsets, ["keys", "state"])
      assert.isTrue(sessions[0]!.readOnly)
      for (const header of [undefined, "Bearer wrong", "Basic eDp5"]) {
        assert.strictEqual((yield* serve(initialize(header))).status, 401)
      }
      assert.strictEqual(sessions.length, 1, "no session was made for a refused request")
    }).pipe(Effect.provide(authLayers({ REDIS_MCP_AUTH_FILE: authFile })))
  )

  it.effect("requireBearerAuth with tokenVerifier: the same AuthInfo reaches the factory", () =>
    Effect.gen(function* () {
      const auth = yield* Authenticator
      const gate = requireBearerAuth({ verifier: tokenVerifier(auth.verify) })
      const { mcp, sessions } = handler()
      const serve = serveWith(gate, mcp)
      assert.strictEqual((yield* serve(initialize("Bearer reader-token-0123456789abcdef"))).status, 200)
      assert.strictEqual(sessions[0]!.principal?.principal, "token:ci-bot")
      assert.strictEqual((yield* serve(initialize("Bearer wrong"))).status, 401)
      assert.strictEqual(sessions.length, 1)
    }).pipe(Effect.provide(authLayers({ REDIS_MCP_AUTH_FILE: authFile })))
  )
})
