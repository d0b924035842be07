/**
 * The SDK-facing pieces: the bearer gate (401 with an RFC 6750 challenge, 503 when the issuer is
 * unavailable, the reason reported once per refusal), the verifier for `requireBearerAuth`
 * (OAuthError, never a plain Error), the AuthInfo both produce, and RFC 9728 metadata.
 */

import { assert, describe, it } from "@effect/vitest"
import { OAuthError, OAuthErrorCode, requireBearerAuth } from "@modelcontextprotocol/server"
import { Effect } from "effect"
import { AuthFailure, type AuthFailureReason } from "../../src/mcp/auth/AuthErrors.ts"
import type { Principal } from "../../src/mcp/auth/Authenticator.ts"
import {
  bearerGate,
  bearerToken,
  challenge,
  principalOf,
  REALM,
  toAuthInfo,
  tokenVerifier
} from "../../src/mcp/auth/Bearer.ts"
import { metadataPaths, metadataUrl, protectedResourceMetadata } from "../../src/mcp/auth/ResourceMetadata.ts"
import { makeRole } from "../../src/mcp/auth/Role.ts"

const role = makeRole("reader", { toolsets: ["keys"], readOnly: true, keys: ["app:*"] })
const principal: Principal = {
  id: "token:ci-bot",
  method: "token",
  role,
  clientId: "ci-bot",
  scopes: ["mcp"],
  expiresAt: 4_000_000_000
}

/** Accepts "good"; refuses "down" as issuer_unavailable and anything else as unknown_token. */
const verify = (token: string) =>
  token === "good"
    ? Effect.succeed(principal)
    : Effect.fail(
        new AuthFailure(
          token === "down"
            ? { reason: "issuer_unavailable", message: "issuer down", detail: "ECONNREFUSED" }
            : { reason: "unknown_token", message: 'the token is not "known"' }
        )
      )

const request = (authorization?: string) =>
  new Request("http://127.0.0.1:3000/mcp", {
    method: "POST",
    headers: authorization === undefined ? {} : { authorization }
  })

const metadata = "http://127.0.0.1:3000/.well-known/oauth-protected-resource/mcp"

describe("bearerToken", () => {
  const cases: ReadonlyArray<readonly [string | undefined, string | AuthFailureReason]> = [
    [undefined, "missing"],
    ["", "missing"],
    ["   ", "missing"],
    ["Bearer abc.def-_~+/==", "abc.def-_~+/=="],
    ["bearer abc", "abc"],
    ["BEARER  abc ", "abc"],
    ["Basic dXNlcjpwYXNz", "malformed"],
    ["Bearer", "malformed"],
    ["Bearer a b", "malformed"],
    ["Bearer abc, Bearer def", "malformed"],
    ["Bearer a\u00e9", "malformed"]
  ]
  for (const [header, expected] of cases) {
    it.effect(`${JSON.stringify(header)} → ${expected}`, () =>
      Effect.gen(function* () {
        const result = yield* Effect.result(bearerToken(header))
        if (result._tag === "Success") assert.strictEqual(result.success, expected)
        else assert.strictEqual(result.failure.reason, expected)
      })
    )
  }
})

describe("challenge", () => {
  it("no credentials: realm and metadata, no error code (RFC 6750 §3.1)", () => {
    const missing = new AuthFailure({ reason: "missing", message: "no bearer token" })
    assert.strictEqual(
      challenge(missing, { resourceMetadataUrl: metadata }),
      `Bearer realm="${REALM}", resource_metadata="${metadata}"`
    )
  })

  it("bad credentials: invalid_token with the description, quotes escaped, control characters dropped", () => {
    const bad = new AuthFailure({ reason: "expired", message: 'the "token"\r\nhas \\ expired' })
    assert.strictEqual(
      challenge(bad, { realm: "r" }),
      'Bearer realm="r", error="invalid_token", error_description="the \\"token\\"  has \\\\ expired"'
    )
  })
})

describe("bearerGate", () => {
  const gate = (reasons: Array<string>) =>
    bearerGate(verify, {
      resourceMetadataUrl: metadata,
      resource: new URL("http://127.0.0.1:3000/mcp"),
      onFailure: (f) => Effect.sync(() => void reasons.push(f.reason))
    })

  it("a good token gives the AuthInfo with principal and role", async () => {
    const reasons: Array<string> = []
    const info = await gate(reasons)(request("Bearer good"))
    assert.notInstanceOf(info, Response)
    if (info instanceof Response) return
    assert.strictEqual(info.token, "good")
    assert.strictEqual(info.clientId, "ci-bot")
    assert.deepStrictEqual(info.scopes, ["mcp"])
    assert.strictEqual(info.expiresAt, 4_000_000_000)
    assert.strictEqual(info.resource?.href, "http://127.0.0.1:3000/mcp")
    assert.strictEqual(info.extra?.["principal"], "token:ci-bot")
    assert.strictEqual(info.extra?.["role"], "reader")
    assert.strictEqual(principalOf(info)?.grant, role)
    assert.deepStrictEqual(reasons, [])
  })

  it("no token: 401 with a challenge without error code, reason 'missing'", async () => {
    const reasons: Array<string> = []
    const response = await gate(reasons)(request())
    assert.instanceOf(response, Response)
    const r = response as Response
    assert.strictEqual(r.status, 401)
    assert.strictEqual(r.headers.get("www-authenticate"), `Bearer realm="${REALM}", resource_metadata="${metadata}"`)
    assert.deepStrictEqual(reasons, ["missing"])
  })

  it("a bad token: 401 invalid_token with the message, the token never echoed", async () => {
    const reasons: Array<string> = []
    const r = (await gate(reasons)(request("Bearer s3cret"))) as Response
    assert.strictEqual(r.status, 401)
    const header = r.headers.get("www-authenticate")!
    assert.include(header, 'error="invalid_token"')
    assert.include(header, `resource_metadata="${metadata}"`)
    const body = await r.json()
    assert.deepStrictEqual(body, { error: "invalid_token", error_description: 'the token is not "known"' })
    assert.notInclude(header + JSON.stringify(body), "s3cret")
    assert.deepStrictEqual(reasons, ["unknown_token"])
  })

  it("the issuer unavailable: 503 with Retry-After, the detail kept out of the response", async () => {
    const reasons: Array<string> = []
    const r = (await gate(reasons)(request("Bearer down"))) as Response
    assert.strictEqual(r.status, 503)
    assert.strictEqual(r.headers.get("retry-after"), "5")
    const text = await r.text()
    assert.include(text, "temporarily_unavailable")
    assert.notInclude(text, "ECONNREFUSED")
    assert.deepStrictEqual(reasons, ["issuer_unavailable"])
  })
})

describe("tokenVerifier with the SDK's requireBearerAuth", () => {
  it("throws OAuthError InvalidToken for a bad token (never a plain Error) and ServerError for a down issuer", async () => {
    const verifier = tokenVerifier(verify)
    const bad = await verifier.verifyAccessToken("nope").catch((e: unknown) => e)
    assert.instanceOf(bad, OAuthError)
    assert.strictEqual((bad as OAuthError).code, OAuthErrorCode.InvalidToken)
    const down = await verifier.verifyAccessToken("down").catch((e: unknown) => e)
    assert.strictEqual((down as OAuthError).code, OAuthErrorCode.ServerError)
  })

  it("the SDK gate: 200 path gets our AuthInfo, a bad token gets 401 with a challenge", async () => {
    const reasons: Array<string> = []
    const gate = requireBearerAuth({
      verifier: tokenVerifier(verify, { onFailure: (f) => Effect.sync(() => void reasons.push(f.reason)) }),
      resourceMetadataUrl: metadata
    })
    const ok = await gate(request("Bearer good"))
    assert.notInstanceOf(ok, Response)
    assert.strictEqual(principalOf(ok as Exclude<typeof ok, Response>)?.principal, "token:ci-bot")
    const refused = (await gate(request("Bearer nope"))) as Response
    assert.strictEqual(refused.status, 401)
    assert.include(refused.headers.get("www-authenticate")!, 'error="invalid_token"')
    assert.deepStrictEqual(reasons, ["unknown_token"])
  })

  it("toAuthInfo always has expiresAt, which the SDK requires", () => {
    assert.strictEqual(toAuthInfo("t", principal).expiresAt, principal.expiresAt)
    assert.isUndefined(principalOf({ token: "t", clientId: "c", scopes: [] }))
  })
})

describe("protected resource metadata (RFC 9728)", () => {
  const resource = new URL("https://mcp.example.com/mcp")

  it("names the resource, the issuer and header-only bearer tokens", () => {
    assert.deepStrictEqual(protectedResourceMetadata({ resource, issuer: "https://id.example.com/realms/main" }), {
      resource: "https://mcp.example.com/mcp",
      authorization_servers: ["https://id.example.com/realms/main"],
      bearer_methods_supported: ["header"],
      resource_name: "effect-redis-mcp"
    })
    const withScopes = protectedResourceMetadata({ resource, issuer: "https://i", scopesSupported: ["mcp"] })
    assert.deepStrictEqual(withScopes.scopes_supported, ["mcp"])
  })

  it("served at the RFC 9728 path and the bare one; the RFC one is advertised", () => {
    assert.deepStrictEqual(metadataPaths(resource), [
      "/.well-known/oauth-protected-resource/mcp",
      "/.well-known/oauth-protected-resource"
    ])
    assert.deepStrictEqual(metadataPaths(new URL("https://mcp.example.com/")), [
      "/.well-known/oauth-protected-resource"
    ])
    assert.strictEqual(metadataUrl(resource), "https://mcp.example.com/.well-known/oauth-protected-resource/mcp")
  })
})
