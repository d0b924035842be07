/**
 * The OAuth resource server against a fake issuer on 127.0.0.1 (metadata, a JWKS over HTTP,
 * keys and tokens made by `jose`): a good JWT gives its role; every bad one is refused with its
 * own reason.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { base64url, exportSPKI, SignJWT, UnsecuredJWT } from "jose"
import { AUDIENCE, claims, forged, reason, scenario, signed, useOAuthFixture } from "./oauth-fixture.ts"

const fx = useOAuthFixture()

describe("OAuth: good tokens", () => {
  it.live("verified with keys found through the issuer's RFC 8414 metadata; the role and claims come through", () =>
    scenario(fx, [fx.key1], (auth, issuer) =>
      Effect.gen(function* () {
        const token = yield* signed(fx.key1, issuer, { client_id: "agent-7" })
        const p = yield* auth.verify(token)
        assert.strictEqual(p.id, "oauth:alice")
        assert.strictEqual(p.method, "oauth")
        assert.strictEqual(p.role.name, "reader")
        assert.isTrue(p.role.readOnly)
        assert.strictEqual(p.clientId, "agent-7")
        assert.deepStrictEqual(p.scopes, ["mcp", "redis"])
        assert.isAbove(p.expiresAt, Date.now() / 1000)
        assert.strictEqual(issuer.hits.metadata, 1)
        assert.strictEqual(issuer.hits.oidc, 0)
        yield* auth.verify(yield* signed(fx.key1, issuer, { redis_mcp_role: ["worker"] }))
        assert.strictEqual(issuer.hits.jwks, 1, "keys are cached")
        assert.strictEqual(issuer.hits.metadata, 1, "metadata is fetched once")
      })
    )
  )

  it.live("discovery falls back to OpenID Connect when RFC 8414 metadata is absent", () =>
    scenario(
      fx,
      [fx.ecKey],
      (auth, issuer) =>
        Effect.gen(function* () {
          const p = yield* auth.verify(yield* signed(fx.ecKey, issuer, { redis_mcp_role: "worker", azp: "cli" }))
          assert.strictEqual(p.role.name, "worker")
          assert.strictEqual(p.clientId, "cli")
          assert.strictEqual(issuer.hits.metadata, 1)
          assert.strictEqual(issuer.hits.oidc, 1)
        }),
      { metadata: "oidc" }
    )
  )

  it.live("REDIS_MCP_OAUTH_JWKS_URL skips discovery; a custom role claim; an audience list", () =>
    scenario(
      fx,
      [fx.key1],
      (auth, issuer) =>
        Effect.gen(function* () {
          const token = yield* signed(
            fx.key1,
            issuer,
            { "https://example.com/role": "worker" },
            { audience: ["other", AUDIENCE] }
          )
          assert.strictEqual((yield* auth.verify(token)).role.name, "worker")
          assert.strictEqual(issuer.hits.metadata + issuer.hits.oidc, 0)
        }),
      {
        metadata: "none",
        env: (issuer) => ({
          REDIS_MCP_OAUTH_JWKS_URL: issuer.jwksUrl,
          REDIS_MCP_OAUTH_ROLE_CLAIM: "https://example.com/role"
        })
      }
    )
  )

  it.live("file tokens still work beside OAuth", () =>
    scenario(fx, [fx.key1], (auth) =>
      Effect.gen(function* () {
        assert.strictEqual((yield* auth.verify("static-token")).id, "token:ci-bot")
        assert.strictEqual(yield* reason(auth, "not-a-jwt"), "unknown_token")
      })
    )
  )
})

describe("OAuth: bad tokens, each refused with its reason", () => {
  it.live("expired, not yet valid, wrong audience, wrong issuer, missing claims, unknown roles, malformed", () =>
    scenario(fx, [fx.key1], (auth, issuer) =>
      Effect.gen(function* () {
        const cases: ReadonlyArray<readonly [string, Effect.Effect<string>]> = [
          ["expired", signed(fx.key1, issuer, {}, { expiresIn: -120 })],
          ["not_yet_valid", signed(fx.key1, issuer, {}, { notBeforeIn: 600 })],
          ["wrong_audience", signed(fx.key1, issuer, {}, { audience: "https://other.test/mcp" })],
          ["wrong_issuer", signed(fx.key1, issuer, {}, { issuer: `${issuer.issuer}/evil` })],
          ["invalid_claims", signed(fx.key1, issuer, {}, { subject: undefined })],
          ["unknown_role", signed(fx.key1, issuer, { redis_mcp_role: "admin" })],
          ["unknown_role", signed(fx.key1, issuer, { redis_mcp_role: ["reader", "worker"] })],
          ["unknown_role", signed(fx.key1, issuer, { redis_mcp_role: undefined })],
          ["unknown_role", signed(fx.key1, issuer, { redis_mcp_role: "constructor" })],
          [
            "invalid_claims",
            Effect.promise(() =>
              new SignJWT({ ...claims, sub: "alice" })
                .setProtectedHeader({ alg: "RS256", kid: fx.key1.kid })
                .setIssuer(issuer.issuer)
                .setAudience(AUDIENCE)
                .sign(fx.key1.privateKey)
            )
          ],
          ["malformed", Effect.succeed(`${base64url.encode("not json")}.e30.c2ln`)],
          [
            "bad_signature",
            Effect.succeed(forged({ alg: "RS256", kid: fx.key1.kid }, { ...claims, sub: "x" }, "c2ln"))
          ],
          ["unknown_token", Effect.succeed(forged({ alg: "RS256", kid: fx.key1.kid }, { sub: "x" }, "!!"))]
        ]
        for (const [expected, token] of cases) {
          assert.strictEqual(yield* reason(auth, yield* token), expected)
        }
      })
    )
  )

  it.live("within the clock tolerance, just expired and just not-yet-valid tokens pass", () =>
    scenario(fx, [fx.key1], (auth, issuer) =>
      Effect.gen(function* () {
        yield* auth.verify(yield* signed(fx.key1, issuer, {}, { expiresIn: -5 }))
        yield* auth.verify(yield* signed(fx.key1, issuer, {}, { notBeforeIn: 5 }))
      })
    )
  )

  it.live("alg none, an HS256 'signature' made with the public key and a garbage header cost the issuer nothing", () =>
    scenario(fx, [fx.key1], (auth, issuer) =>
      Effect.gen(function* () {
        const payload = {
          ...claims,
          sub: "mallory",
          iss: issuer.issuer,
          aud: AUDIENCE,
          exp: Math.floor(Date.now() / 1000) + 600
        }
        const none = new UnsecuredJWT(payload).encode()
        assert.strictEqual(yield* reason(auth, none), "bad_algorithm")
        assert.strictEqual(yield* reason(auth, forged({ alg: "none", kid: fx.key1.kid }, payload)), "bad_algorithm")
        const pem = yield* Effect.promise(() => exportSPKI(fx.key1.publicKey))
        for (const secret of [
          new TextEncoder().encode(pem),
          new TextEncoder().encode(JSON.stringify(fx.key1.publicJwk))
        ]) {
          const hs = yield* Effect.promise(() =>
            new SignJWT(payload).setProtectedHeader({ alg: "HS256", kid: fx.key1.kid }).sign(secret)
          )
          assert.strictEqual(yield* reason(auth, hs), "bad_algorithm")
        }
        assert.strictEqual(yield* reason(auth, `${base64url.encode("not json")}.e30.c2ln`), "malformed")
        assert.strictEqual(issuer.hits.metadata + issuer.hits.jwks, 0, "refused before asking the issuer anything")
      })
    )
  )

  it.live("an algorithm outside REDIS_MCP_OAUTH_ALGORITHMS is refused", () =>
    scenario(
      fx,
      [fx.key1, fx.ecKey],
      (auth, issuer) =>
        Effect.gen(function* () {
          assert.strictEqual(yield* reason(auth, yield* signed(fx.key1, issuer)), "bad_algorithm")
          assert.strictEqual((yield* auth.verify(yield* signed(fx.ecKey, issuer))).id, "oauth:alice")
        }),
      { env: () => ({ REDIS_MCP_OAUTH_ALGORITHMS: "ES256" }) }
    )
  )

  it.live("a token signed by another key under a known kid: bad signature; under an unknown kid: unknown key", () =>
    scenario(fx, [fx.key1], (auth, issuer) =>
      Effect.gen(function* () {
        assert.strictEqual(yield* reason(auth, yield* signed(fx.stranger, issuer)), "bad_signature")
        assert.strictEqual(yield* reason(auth, yield* signed(fx.stranger, issuer, {}, { kid: "key-9" })), "unknown_key")
      })
    )
  )
})
