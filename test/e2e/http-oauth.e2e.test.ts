/**
 * OAuth over Streamable HTTP with this run's client: a JWT from a local issuer (RFC 8414
 * metadata and a JWKS on 127.0.0.1) is accepted, its role claim picks what the session sees, and
 * the protected-resource metadata names the issuer. The refusals of bad JWTs are in
 * test/integration/http-service.test.ts (raw HTTP, once).
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { authDir, type FakeIssuer, makeKey, type SigningKey, sign, startIssuer } from "../support/auth.ts"
import { type HttpServer, startHttpServer } from "../support/http-server.ts"
import { CLIENT, connectHttp } from "./client.ts"

const AUDIENCE = "https://mcp.example.test/mcp"

describe(`OAuth JWTs over HTTP (${CLIENT} client)`, () => {
  let issuer: FakeIssuer
  let key: SigningKey
  let server: HttpServer
  let files: Awaited<ReturnType<typeof authDir>>

  beforeAll(async () => {
    key = await makeKey("k1")
    issuer = await startIssuer([key])
    files = await authDir()
    const authFile = await files.write("auth.json", {
      roles: { reader: { toolsets: ["keys"], readOnly: true }, writer: { toolsets: ["keys", "state"] } }
    })
    server = await startHttpServer({
      env: {
        REDIS_MCP_AUTH_FILE: authFile,
        REDIS_MCP_OAUTH_ISSUER: issuer.issuer,
        REDIS_MCP_OAUTH_AUDIENCE: AUDIENCE
      }
    })
  })
  afterAll(async () => {
    await server?.stop()
    await issuer?.close()
    await files?.dispose()
  })

  const token = (role: string) =>
    sign(key, { redis_mcp_role: role }, { issuer: issuer.issuer, audience: AUDIENCE, subject: `agent-${role}` })

  it("a JWT's role claim decides the session's tools, and its calls run", async () => {
    const reader = await connectHttp(server.url, { token: await token("reader") })
    const writer = await connectHttp(server.url, { token: await token("writer") })
    try {
      const readerTools = (await reader.client.listTools()).tools.map((t) => t.name)
      const writerTools = (await writer.client.listTools()).tools.map((t) => t.name)
      assert.include(readerTools, "get")
      assert.notInclude(readerTools, "set")
      assert.notInclude(readerTools, "state_set")
      assert.includeMembers(writerTools, ["set", "state_set"])
      await writer.expectOk("set", { key: "jwt:k", value: "v" })
      assert.strictEqual((await reader.expectOk("get", { key: "jwt:k" })).value, "v")
      assert.isAtLeast(issuer.hits.jwks, 1)
    } finally {
      await reader.close()
      await writer.close()
    }
  })

  it("serves RFC 9728 metadata without a token, naming the issuer", async () => {
    for (const path of ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"]) {
      const response = await fetch(`${server.base}${path}`)
      assert.strictEqual(response.status, 200, path)
      const doc: any = await response.json()
      assert.strictEqual(doc.resource, AUDIENCE)
      assert.deepStrictEqual(doc.authorization_servers, [issuer.issuer])
    }
    const refused = await fetch(server.url, { method: "POST", body: "{}" })
    assert.strictEqual(refused.status, 401)
    assert.include(
      refused.headers.get("www-authenticate") ?? "",
      'resource_metadata="https://mcp.example.test/.well-known/oauth-protected-resource/mcp"'
    )
  })
})
