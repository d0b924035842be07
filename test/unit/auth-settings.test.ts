/**
 * Auth settings: defaults, and one clear line naming the setting for every invalid combination.
 */
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect } from "effect"
import { describeConfigError } from "../../src/layers/Config.ts"
import { ASYMMETRIC_ALGORITHMS, authSettingsConfig } from "../../src/mcp/auth/AuthSettings.ts"

const parse = (env: Record<string, string>) => authSettingsConfig.parse(ConfigProvider.fromUnknown(env))
const failure = (env: Record<string, string>) => parse(env).pipe(Effect.flip, Effect.map(describeConfigError))

const oauth = {
  REDIS_MCP_AUTH_FILE: "/etc/redis-mcp/auth.json",
  REDIS_MCP_OAUTH_ISSUER: "https://id.example.com/realms/main",
  REDIS_MCP_OAUTH_AUDIENCE: "redis-mcp"
}

describe("auth settings", () => {
  it.effect("defaults: no auth, no role, limits 32 calls and 10 subscriptions", () =>
    Effect.gen(function* () {
      const s = yield* parse({})
      assert.isUndefined(s.authFile)
      assert.isUndefined(s.role)
      assert.isUndefined(s.oauth)
      assert.deepStrictEqual(s.limits, { maxConcurrentCalls: 32, maxSubscriptions: 10 })
    })
  )

  it.effect("OAuth with its defaults", () =>
    Effect.gen(function* () {
      const s = (yield* parse(oauth)).oauth!
      assert.strictEqual(s.issuer, oauth.REDIS_MCP_OAUTH_ISSUER)
      assert.strictEqual(s.audience, "redis-mcp")
      assert.isUndefined(s.jwksUrl)
      assert.strictEqual(s.roleClaim, "redis_mcp_role")
      assert.deepStrictEqual(s.algorithms, [...ASYMMETRIC_ALGORITHMS])
      assert.strictEqual(s.clockToleranceSeconds, 30)
      assert.isUndefined(s.resource, "an audience that is not a URL gives no resource")
    })
  )

  it.effect("OAuth with every setting", () =>
    Effect.gen(function* () {
      const s = (yield* parse({
        ...oauth,
        REDIS_MCP_OAUTH_AUDIENCE: "https://mcp.example.com/mcp",
        REDIS_MCP_OAUTH_JWKS_URL: "https://id.example.com/keys",
        REDIS_MCP_OAUTH_ROLE_CLAIM: "https://example.com/role",
        REDIS_MCP_OAUTH_ALGORITHMS: "ES256, RS256",
        REDIS_MCP_OAUTH_CLOCK_TOLERANCE_SECONDS: "5",
        REDIS_MCP_MAX_CONCURRENT_CALLS_PER_PRINCIPAL: "4",
        REDIS_MCP_MAX_SUBSCRIPTIONS_PER_PRINCIPAL: "2"
      })).oauth!
      assert.strictEqual(s.jwksUrl?.href, "https://id.example.com/keys")
      assert.strictEqual(s.roleClaim, "https://example.com/role")
      assert.deepStrictEqual(s.algorithms, ["ES256", "RS256"])
      assert.strictEqual(s.clockToleranceSeconds, 5)
      assert.strictEqual(s.resource?.href, "https://mcp.example.com/mcp", "an audience URL is the resource")
      const explicit = (yield* parse({ ...oauth, REDIS_MCP_OAUTH_RESOURCE: "https://mcp.example.com/mcp" })).oauth!
      assert.strictEqual(explicit.resource?.href, "https://mcp.example.com/mcp")
    })
  )

  it.effect("http is accepted for a loopback issuer only", () =>
    Effect.gen(function* () {
      const s = yield* parse({ ...oauth, REDIS_MCP_OAUTH_ISSUER: "http://127.0.0.1:8080/realms/t" })
      assert.strictEqual(s.oauth?.issuer, "http://127.0.0.1:8080/realms/t")
    })
  )

  const invalid: ReadonlyArray<readonly [string, Record<string, string>, string]> = [
    ["a role without a file", { REDIS_MCP_ROLE: "reader" }, "REDIS_MCP_ROLE: is set but REDIS_MCP_AUTH_FILE is not"],
    [
      "an issuer without an audience",
      { ...oauth, REDIS_MCP_OAUTH_AUDIENCE: "" },
      "REDIS_MCP_OAUTH_AUDIENCE: is required"
    ],
    [
      "an issuer without an auth file",
      { ...oauth, REDIS_MCP_AUTH_FILE: "" },
      "REDIS_MCP_AUTH_FILE: is required when REDIS_MCP_OAUTH_ISSUER"
    ],
    [
      "an issuer that is not a URL",
      { ...oauth, REDIS_MCP_OAUTH_ISSUER: "id.example.com" },
      'REDIS_MCP_OAUTH_ISSUER: "id.example.com" is not a URL'
    ],
    [
      "an http issuer off loopback",
      { ...oauth, REDIS_MCP_OAUTH_ISSUER: "http://id.example.com" },
      "REDIS_MCP_OAUTH_ISSUER: must be an https:// URL"
    ],
    [
      "an issuer with a query",
      { ...oauth, REDIS_MCP_OAUTH_ISSUER: "https://id.example.com/?x=1" },
      "REDIS_MCP_OAUTH_ISSUER: must have no query"
    ],
    [
      "an http JWKS URL",
      { ...oauth, REDIS_MCP_OAUTH_JWKS_URL: "http://id.example.com/keys" },
      "REDIS_MCP_OAUTH_JWKS_URL: must be an https:// URL"
    ],
    [
      "an HMAC algorithm",
      { ...oauth, REDIS_MCP_OAUTH_ALGORITHMS: "RS256,HS256" },
      'REDIS_MCP_OAUTH_ALGORITHMS: "HS256" is not allowed'
    ],
    ["alg none", { ...oauth, REDIS_MCP_OAUTH_ALGORITHMS: "none" }, 'REDIS_MCP_OAUTH_ALGORITHMS: "none" is not allowed'],
    ["no algorithm", { ...oauth, REDIS_MCP_OAUTH_ALGORITHMS: " , " }, "REDIS_MCP_OAUTH_ALGORITHMS: names no algorithm"],
    [
      "a large clock tolerance",
      { ...oauth, REDIS_MCP_OAUTH_CLOCK_TOLERANCE_SECONDS: "3600" },
      "REDIS_MCP_OAUTH_CLOCK_TOLERANCE_SECONDS: must be 0 to 300"
    ],
    [
      "an audience without an issuer",
      { REDIS_MCP_OAUTH_AUDIENCE: "x" },
      "REDIS_MCP_OAUTH_AUDIENCE: is set but REDIS_MCP_OAUTH_ISSUER is not"
    ],
    [
      "a zero call limit",
      { REDIS_MCP_MAX_CONCURRENT_CALLS_PER_PRINCIPAL: "0" },
      "REDIS_MCP_MAX_CONCURRENT_CALLS_PER_PRINCIPAL: must be a whole number above 0"
    ],
    [
      "a subscription limit that is not a number",
      { REDIS_MCP_MAX_SUBSCRIPTIONS_PER_PRINCIPAL: "many" },
      "REDIS_MCP_MAX_SUBSCRIPTIONS_PER_PRINCIPAL"
    ]
  ]
  for (const [name, env, expected] of invalid) {
    it.effect(name, () =>
      Effect.gen(function* () {
        const message = yield* failure(env)
        assert.include(message, expected)
        assert.notInclude(message, "\n")
      })
    )
  }
})
