/**
 * OAuth keys: rotation picked up on an unknown `kid`, at most one JWKS fetch per cooldown, an
 * issuer that fails or refuses connections fails closed (`issuer_unavailable`) and is tried
 * again on the next request; the bearer gate's answers for each.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { Authenticator } from "../../src/mcp/auth/Authenticator.ts"
import { bearerGate } from "../../src/mcp/auth/Bearer.ts"
import { metadataUrls } from "../../src/mcp/auth/Discovery.ts"
import { defaultJwksOptions } from "../../src/mcp/auth/OAuth.ts"
import { authLayers, startIssuer } from "../support/auth.ts"
import { env, reason, scenario, signed, useOAuthFixture } from "./oauth-fixture.ts"

const fx = useOAuthFixture()

describe("OAuth: key rotation and fetching", () => {
  it.live("a key added to the JWKS is picked up on its unknown kid", () =>
    scenario(
      fx,
      [fx.key1],
      (auth, issuer) =>
        Effect.gen(function* () {
          yield* auth.verify(yield* signed(fx.key1, issuer))
          assert.strictEqual(issuer.hits.jwks, 1)
          issuer.published = [fx.key1, fx.key2]
          assert.strictEqual((yield* auth.verify(yield* signed(fx.key2, issuer))).id, "oauth:alice")
          assert.strictEqual(issuer.hits.jwks, 2)
          issuer.published = [fx.key2]
          yield* auth.verify(yield* signed(fx.key2, issuer))
          assert.strictEqual(issuer.hits.jwks, 2, "a known kid needs no fetch")
        }),
      { jwks: { cooldownMs: 0 } }
    )
  )

  it.live("unknown kids fetch the JWKS at most once per cooldown", () =>
    scenario(fx, [fx.key1], (auth, issuer) =>
      Effect.gen(function* () {
        yield* auth.verify(yield* signed(fx.key1, issuer))
        for (let i = 0; i < 5; i++) {
          assert.strictEqual(
            yield* reason(auth, yield* signed(fx.stranger, issuer, {}, { kid: `random-${i}` })),
            "unknown_key"
          )
        }
        assert.strictEqual(issuer.hits.jwks, 1)
      })
    )
  )

  it.live("the JWKS endpoint failing: issuer_unavailable (fail closed), and it recovers when it is back", () =>
    scenario(
      fx,
      [fx.key1],
      (auth, issuer) =>
        Effect.gen(function* () {
          const token = yield* signed(fx.key1, issuer)
          issuer.failing = true
          const failure = yield* Effect.flip(auth.verify(token))
          assert.strictEqual(failure.reason, "issuer_unavailable")
          assert.isTrue(failure.retryable)
          issuer.failing = false
          assert.strictEqual((yield* auth.verify(token)).id, "oauth:alice")
        }),
      { env: (issuer) => ({ REDIS_MCP_OAUTH_JWKS_URL: issuer.jwksUrl }) }
    )
  )

  it.live("the JWKS endpoint refusing connections: issuer_unavailable", () =>
    Effect.gen(function* () {
      const issuer = yield* Effect.promise(() => startIssuer([fx.key1]))
      const token = yield* signed(fx.key1, issuer)
      const jwksUrl = issuer.jwksUrl
      yield* Effect.promise(() => issuer.close())
      const envDown = { ...env(fx, issuer), REDIS_MCP_OAUTH_JWKS_URL: jwksUrl }
      const failure = yield* Authenticator.use((a) => Effect.flip(a.verify(token))).pipe(
        Effect.provide(authLayers(envDown, { ...defaultJwksOptions, timeoutMs: 2000 }))
      )
      assert.strictEqual(failure.reason, "issuer_unavailable")
      assert.isTrue(failure.retryable)
      assert.notInclude(failure.message, "127.0.0.1", "the network detail stays in `detail`")
      assert.isString(failure.detail)
    })
  )

  it.live("the issuer's metadata failing: issuer_unavailable, retried on the next request", () =>
    scenario(fx, [fx.key1], (auth, issuer) =>
      Effect.gen(function* () {
        const token = yield* signed(fx.key1, issuer)
        issuer.failing = true
        const failure = yield* Effect.flip(auth.verify(token))
        assert.strictEqual(failure.reason, "issuer_unavailable")
        assert.include(failure.detail, "HTTP 503")
        issuer.failing = false
        assert.strictEqual((yield* auth.verify(token)).id, "oauth:alice")
      })
    )
  )

  it.live("concurrent requests share one discovery, also when it fails", () =>
    scenario(fx, [fx.key1], (auth, issuer) =>
      Effect.gen(function* () {
        const token = yield* signed(fx.key1, issuer)
        issuer.failing = true
        const failures = yield* Effect.all(
          Array.from({ length: 10 }, () => reason(auth, token)),
          { concurrency: "unbounded" }
        )
        assert.deepStrictEqual(new Set(failures), new Set(["issuer_unavailable"]))
        assert.deepStrictEqual([issuer.hits.metadata, issuer.hits.oidc], [1, 1])
        issuer.failing = false
        const ok = yield* Effect.all(
          Array.from({ length: 10 }, () => auth.verify(token)),
          { concurrency: "unbounded" }
        )
        assert.strictEqual(ok.length, 10)
        assert.deepStrictEqual([issuer.hits.metadata, issuer.hits.jwks], [2, 1])
      })
    )
  )

  it.live("the issuer refusing connections: issuer_unavailable, both metadata documents tried", () =>
    Effect.gen(function* () {
      const issuer = yield* Effect.promise(() => startIssuer([fx.key1]))
      const token = yield* signed(fx.key1, issuer)
      yield* Effect.promise(() => issuer.close())
      const failure = yield* Authenticator.use((a) => Effect.flip(a.verify(token))).pipe(
        Effect.provide(authLayers(env(fx, issuer)))
      )
      assert.strictEqual(failure.reason, "issuer_unavailable")
      assert.include(failure.detail, "oauth-authorization-server")
      assert.include(failure.detail, "openid-configuration")
    })
  )

  it.live("metadata naming another issuer is not trusted", () =>
    scenario(fx, [fx.key1], (auth, issuer) =>
      Effect.gen(function* () {
        issuer.metadataIssuer = "https://evil.test"
        const failure = yield* Effect.flip(auth.verify(yield* signed(fx.key1, issuer)))
        assert.strictEqual(failure.reason, "issuer_unavailable")
        assert.include(failure.detail, "https://evil.test")
        assert.strictEqual(issuer.hits.jwks, 0)
        issuer.metadataIssuer = undefined
        assert.strictEqual(
          (yield* auth.verify(yield* signed(fx.key1, issuer))).id,
          "oauth:alice",
          "retried, then found"
        )
      })
    )
  )

  it("metadata URLs: RFC 8414 inserts the well-known segment, OIDC appends it", () => {
    assert.deepStrictEqual(
      metadataUrls("https://id.example.com/realms/main").map((u) => u.href),
      [
        "https://id.example.com/.well-known/oauth-authorization-server/realms/main",
        "https://id.example.com/realms/main/.well-known/openid-configuration"
      ]
    )
    assert.deepStrictEqual(
      metadataUrls("https://tenant.auth0.com/").map((u) => u.href),
      [
        "https://tenant.auth0.com/.well-known/oauth-authorization-server",
        "https://tenant.auth0.com/.well-known/openid-configuration"
      ]
    )
  })
})

describe("OAuth through the bearer gate", () => {
  it.live("good: AuthInfo with the role; bad: 401 with its reason; issuer down: 503", () =>
    scenario(
      fx,
      [fx.key1],
      (auth, issuer) =>
        Effect.gen(function* () {
          const reasons: Array<string> = []
          const gate = bearerGate(auth.verify, { onFailure: (f) => Effect.sync(() => void reasons.push(f.reason)) })
          const call = (token: string) =>
            Effect.promise(() =>
              gate(
                new Request("http://127.0.0.1/mcp", { method: "POST", headers: { authorization: `Bearer ${token}` } })
              )
            )
          const ok = yield* call(yield* signed(fx.key1, issuer))
          assert.notInstanceOf(ok, Response)
          assert.strictEqual((ok as { extra?: Record<string, unknown> }).extra?.["role"], "reader")
          const expired = (yield* call(yield* signed(fx.key1, issuer, {}, { expiresIn: -600 }))) as Response
          assert.strictEqual(expired.status, 401)
          assert.include(expired.headers.get("www-authenticate")!, 'error_description="the token has expired"')
          const later = yield* signed(fx.key2, issuer)
          yield* Effect.promise(() => issuer.close())
          const down = (yield* call(later)) as Response
          assert.strictEqual(down.status, 503)
          assert.deepStrictEqual(reasons, ["expired", "issuer_unavailable"])
        }),
      { jwks: { cooldownMs: 0 } }
    )
  )
})
