/**
 * The HTTP service's front door, with raw HTTP against the built server: a foreign Host or Origin
 * is 403 before anything runs (the endpoints too); every bad credential is 401 with an RFC 6750
 * challenge and runs nothing — no header, a malformed one, an unknown token, and JWTs that are
 * expired, for another audience, from another issuer, signed by an unknown key, `alg: none` or
 * HMAC — and an unreachable issuer is 503, never a pass; each refusal is counted by reason and
 * gives exactly one `auth_failure` line in the audit file, with its reason and no token text.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { base64url, SignJWT, UnsecuredJWT } from "jose"
import { sha256Hex } from "../../src/mcp/auth/Tokens.ts"
import { authDir, type FakeIssuer, makeKey, type SigningKey, sign, startIssuer } from "../support/auth.ts"
import { type HttpServer, postMcp, rawRequest, rpcOf, startHttpServer } from "../support/http-server.ts"

const AUDIENCE = "https://mcp.test/mcp"
const STATIC = "static-token-0123456789abcdef0123456789"

const setCall = (key: string) => ({
  jsonrpc: "2.0",
  id: 1,
  method: "tools/call",
  params: { name: "set", arguments: { key, value: "x" } }
})

describe("HTTP: Host, Origin and credentials", () => {
  let issuer: FakeIssuer
  let key: SigningKey
  let stranger: SigningKey
  let server: HttpServer
  let files: Awaited<ReturnType<typeof authDir>>
  let auditPath: string

  beforeAll(async () => {
    ;[key, stranger] = await Promise.all([makeKey("k1"), makeKey("k-unknown")])
    issuer = await startIssuer([key])
    files = await authDir()
    auditPath = join(files.dir, "audit.log")
    const authFile = await files.write("auth.json", {
      roles: { writer: { toolsets: ["keys"] } },
      tokens: [{ name: "ci", sha256: sha256Hex(STATIC), role: "writer" }]
    })
    server = await startHttpServer({
      env: {
        REDIS_MCP_AUTH_FILE: authFile,
        REDIS_MCP_OAUTH_ISSUER: issuer.issuer,
        REDIS_MCP_OAUTH_AUDIENCE: AUDIENCE,
        REDIS_MCP_ALLOWED_ORIGINS: "https://app.example.test,localhost",
        REDIS_MCP_AUDIT: auditPath
      }
    })
  })
  afterAll(async () => {
    await server?.stop()
    await issuer?.close()
    await files?.dispose()
  })

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
  const jwt = (claims: Record<string, unknown>, options: Partial<Parameters<typeof sign>[2]> = {}, k = key) =>
    sign(
      k,
      { redis_mcp_role: "writer", ...claims },
      { issuer: issuer.issuer, audience: AUDIENCE, subject: "bot", ...options }
    )
  const exists = async (k: string) => {
    const r = await rpcOf(
      await postMcp(
        server.url,
        { jsonrpc: "2.0", id: 9, method: "tools/call", params: { name: "exists", arguments: { keys: [k] } } },
        bearer(STATIC)
      )
    )
    return r.result.structuredContent.count as number
  }
  const metric = async (reason: string) => {
    const text = await (await fetch(`${server.base}/metrics`)).text()
    const line = text.split("\n").find((l) => l.startsWith(`redis_mcp_auth_failures_total{reason="${reason}"}`))
    return line === undefined ? 0 : Number(line.split(" ").at(-1))
  }

  const auditText = () => {
    try {
      return readFileSync(auditPath, "utf8")
    } catch {
      return ""
    }
  }
  const auditLines = (): Array<Record<string, any>> =>
    auditText()
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l))
  const authFailures = () => auditLines().filter((l) => l.event === "auth_failure")
  /** The audit's auth_failure lines once there are `count` (a background fiber writes them). */
  const waitForFailures = async (count: number) => {
    for (let i = 0; i < 200 && authFailures().length < count; i++) await new Promise((r) => setTimeout(r, 10))
    return authFailures()
  }

  it("a foreign Host or Origin is 403 before anything runs, on every path", async () => {
    for (const path of ["/mcp", "/healthz", "/metrics"]) {
      const host = await rawRequest(server.port, { path, headers: { host: "evil.example:80", ...bearer(STATIC) } })
      assert.strictEqual(host.status, 403, path)
      assert.match(JSON.parse(host.text).error.message, /Invalid Host: evil\.example/)
    }
    const rebound = await rawRequest(server.port, {
      path: "/mcp",
      method: "POST",
      headers: { host: "evil.example", "content-type": "application/json", ...bearer(STATIC) },
      chunks: [JSON.stringify(setCall("host:k"))]
    })
    assert.strictEqual(rebound.status, 403)
    assert.strictEqual(await exists("host:k"), 0)
    const origin = await postMcp(server.url, setCall("origin:k"), { ...bearer(STATIC), origin: "https://evil.example" })
    assert.strictEqual(origin.status, 403)
    assert.strictEqual(await exists("origin:k"), 0)
    // Listed origins pass: a full origin must match exactly, a bare hostname any scheme and port.
    for (const ok of ["https://app.example.test", "http://localhost:5173"]) {
      const r = await postMcp(server.url, setCall("origin:ok"), { ...bearer(STATIC), origin: ok })
      assert.strictEqual(r.status, 200, ok)
    }
    assert.strictEqual(
      (await postMcp(server.url, setCall("x"), { ...bearer(STATIC), origin: "http://app.example.test" })).status,
      403
    )
    assert.strictEqual((await postMcp(server.url, setCall("x"), { ...bearer(STATIC), origin: "null" })).status, 403)
  })

  it("every bad credential is 401 with a challenge, nothing runs, and it is counted by reason", async () => {
    const past = await jwt({}, { expiresIn: -600 })
    const payload = {
      iss: issuer.issuer,
      aud: AUDIENCE,
      sub: "bot",
      redis_mcp_role: "writer",
      exp: Math.floor(Date.now() / 1000) + 600
    }
    const hmac = await new SignJWT(payload)
      .setProtectedHeader({ alg: "HS256", kid: key.kid })
      .sign(new TextEncoder().encode("a-secret-the-server-never-had-0123456789"))
    const cases: ReadonlyArray<readonly [string, Record<string, string>, string]> = [
      ["no header", {}, "missing"],
      ["not bearer", { authorization: "Basic dXNlcjpwYXNz" }, "malformed"],
      ["unknown token", bearer("not-a-token-of-this-server-0123456789"), "unknown_token"],
      ["expired", bearer(past), "expired"],
      ["other audience", bearer(await jwt({}, { audience: "https://other.test/mcp" })), "wrong_audience"],
      ["other issuer", bearer(await jwt({}, { issuer: "https://evil.test/realms/x" })), "wrong_issuer"],
      ["unknown key", bearer(await jwt({}, {}, stranger)), "unknown_key"],
      ["alg none", bearer(new UnsecuredJWT(payload).encode()), "bad_algorithm"],
      ["hmac", bearer(hmac), "bad_algorithm"],
      ["no role", bearer(await jwt({ redis_mcp_role: "nobody" })), "unknown_role"],
      [
        "garbage signature",
        bearer(`${(await jwt({})).split(".").slice(0, 2).join(".")}.${base64url.encode("x")}`),
        "bad_signature"
      ]
    ]
    // Earlier tests' writes are audited too (as calls, by a background fiber): count refusals only.
    const first = authFailures().length
    for (const [index, [title, headers, reason]] of cases.entries()) {
      const before = await metric(reason)
      const response = await postMcp(server.url, setCall(`refused:${reason}`), headers)
      assert.strictEqual(response.status, 401, title)
      const challenge = response.headers.get("www-authenticate") ?? ""
      assert.match(challenge, /^Bearer realm="effect-redis-mcp"/, title)
      assert.include(challenge, "resource_metadata=", title)
      if (reason === "missing") assert.notInclude(challenge, "error=", title)
      else assert.include(challenge, 'error="invalid_token"', title)
      assert.strictEqual(((await response.json()) as any).error, "invalid_token", title)
      assert.strictEqual(await metric(reason), before + 1, title)
      assert.strictEqual(await exists(`refused:${reason}`), 0, title)
      // One audit line, for this refusal: the count before the next case shows there was no second.
      const lines = await waitForFailures(first + index + 1)
      assert.strictEqual(lines.length, first + index + 1, title)
      const line = lines.at(-1)!
      assert.deepStrictEqual(
        Object.keys(line).slice(0, 9),
        ["time", "event", "principal", "role", "tool", "keys", "outcome", "durationMs", "requestId"],
        title
      )
      assert.deepStrictEqual(
        [line.event, line.reason, line.outcome, line.principal, line.role, line.tool, line.transport],
        ["auth_failure", reason, "refused", null, null, null, "http"],
        title
      )
      assert.strictEqual(line.remoteAddress, "127.0.0.1", title)
      assert.isFalse(Number.isNaN(Date.parse(line.time)), title)
    }
    // The good ones pass (a write: one call line, after the refusals).
    const good = await jwt({})
    assert.strictEqual((await postMcp(server.url, setCall("ok:jwt"), bearer(good))).status, 200)
    assert.strictEqual(await exists("ok:jwt"), 1)
    let call: Record<string, any> | undefined
    for (let i = 0; i < 200 && call === undefined; i++) {
      call = auditLines().find((l) => l.principal === "oauth:bot" && l.keys?.[0] === "ok:jwt")
      if (call === undefined) await new Promise((r) => setTimeout(r, 10))
    }
    assert.deepStrictEqual([call?.event, call?.tool, call?.outcome], ["call", "set", "ok"])
    assert.strictEqual(authFailures().length, first + cases.length)
    // No credential that was sent reaches the file, whole or as its signature.
    const text = auditText()
    for (const [title, headers] of cases) {
      const credential = (headers.authorization ?? "").replace(/^\S+ /, "")
      if (credential === "") continue
      assert.notInclude(text, credential, title)
      const signature = credential.split(".").at(-1)!
      if (signature.length >= 16) assert.notInclude(text, signature, title)
    }
    assert.notInclude(text, good)
    assert.notInclude(text, STATIC)
  })

  it("an issuer that cannot be reached is 503 with Retry-After, never a pass; it recovers when the issuer does", async () => {
    const down = await startIssuer([key])
    down.failing = true
    const authFile = await files.write("auth-down.json", { roles: { writer: { toolsets: ["keys"] } } })
    const second = await startHttpServer({
      env: { REDIS_MCP_AUTH_FILE: authFile, REDIS_MCP_OAUTH_ISSUER: down.issuer, REDIS_MCP_OAUTH_AUDIENCE: AUDIENCE }
    })
    try {
      const token = await sign(
        key,
        { redis_mcp_role: "writer" },
        { issuer: down.issuer, audience: AUDIENCE, subject: "bot" }
      )
      const refused = await postMcp(second.url, setCall("down:k"), bearer(token))
      assert.strictEqual(refused.status, 503)
      assert.strictEqual(refused.headers.get("retry-after"), "5")
      assert.strictEqual(((await refused.json()) as any).error, "temporarily_unavailable")
      down.failing = false
      const served = await postMcp(second.url, setCall("down:k"), bearer(token))
      assert.strictEqual(served.status, 200)
      assert.isTrue((await rpcOf(served)).result.structuredContent.written)
    } finally {
      await second.stop()
      await down.close()
    }
  })
})
