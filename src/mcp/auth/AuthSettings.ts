/**
 * Settings of authentication, roles and per-principal limits, read once at start (flag >
 * environment > default, see SERVICE.md). An invalid value fails with one line naming the
 * setting, like every other setting (the caller exits 2).
 */
import { Config, ConfigProvider, Context, Layer, Option } from "effect"

/** JWS algorithms accepted by default: asymmetric only, so a public key can never act as an HMAC secret. */
export const ASYMMETRIC_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519"
] as const

export interface OAuthSettings {
  /** The authorization server's issuer identifier, exactly as it writes `iss` (REDIS_MCP_OAUTH_ISSUER). */
  readonly issuer: string
  /** The `aud` the access tokens must carry (REDIS_MCP_OAUTH_AUDIENCE). */
  readonly audience: string
  /** Where the signing keys are (REDIS_MCP_OAUTH_JWKS_URL). @default undefined (from the issuer's metadata) */
  readonly jwksUrl: URL | undefined
  /** The claim naming the role (REDIS_MCP_OAUTH_ROLE_CLAIM). @default "redis_mcp_role" */
  readonly roleClaim: string
  /** Accepted `alg` values (REDIS_MCP_OAUTH_ALGORITHMS). @default ASYMMETRIC_ALGORITHMS */
  readonly algorithms: ReadonlyArray<string>
  /** Leeway for `exp` and `nbf` (REDIS_MCP_OAUTH_CLOCK_TOLERANCE_SECONDS). @default 30 */
  readonly clockToleranceSeconds: number
  /** This server's resource identifier for RFC 9728 metadata (REDIS_MCP_OAUTH_RESOURCE). @default the audience when it is a URL */
  readonly resource: URL | undefined
}

export interface PrincipalLimitSettings {
  /** Calls one principal may have in flight (REDIS_MCP_MAX_CONCURRENT_CALLS_PER_PRINCIPAL). @default 32 */
  readonly maxConcurrentCalls: number
  /** Subscriptions one principal may hold open (REDIS_MCP_MAX_SUBSCRIPTIONS_PER_PRINCIPAL). @default 10 */
  readonly maxSubscriptions: number
}

export interface AuthSettingsShape {
  /** The token and role file (REDIS_MCP_AUTH_FILE / --auth-file). @default undefined */
  readonly authFile: string | undefined
  /** The role a stdio session runs as (REDIS_MCP_ROLE). @default undefined (the server's own settings) */
  readonly role: string | undefined
  readonly oauth: OAuthSettings | undefined
  readonly limits: PrincipalLimitSettings
}

const bad = (name: string, message: string) =>
  Config.fail(new ConfigProvider.SourceError({ message: `${name}: ${message}` }))

const optionalString = (name: string) =>
  Config.String(name).pipe(
    Config.option,
    Config.map((o) => (Option.isSome(o) && o.value.trim() !== "" ? o.value.trim() : undefined))
  )

const isLoopback = (url: URL) => ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname)

/** An https URL (http only to a loopback address, for tests and local IdPs), without query or fragment. */
const checkUrl = (name: string, raw: string): URL | string => {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return `${name}: "${raw}" is not a URL`
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopback(url))) {
    return `${name}: must be an https:// URL (http:// only on a loopback address), got "${raw}"`
  }
  if (url.search !== "" || url.hash !== "") return `${name}: must have no query or fragment, got "${raw}"`
  return url
}

const limit = (name: string, fallback: number) =>
  Config.Int(name).pipe(
    Config.withDefault(fallback),
    Config.flatMap((n) => (n > 0 ? Config.succeed(n) : bad(name, `must be a whole number above 0, got ${n}`)))
  )

const oauthConfig = Config.all({
  issuer: optionalString("REDIS_MCP_OAUTH_ISSUER"),
  audience: optionalString("REDIS_MCP_OAUTH_AUDIENCE"),
  jwksUrl: optionalString("REDIS_MCP_OAUTH_JWKS_URL"),
  roleClaim: optionalString("REDIS_MCP_OAUTH_ROLE_CLAIM"),
  algorithms: optionalString("REDIS_MCP_OAUTH_ALGORITHMS"),
  clockTolerance: Config.Int("REDIS_MCP_OAUTH_CLOCK_TOLERANCE_SECONDS").pipe(Config.withDefault(30)),
  resource: optionalString("REDIS_MCP_OAUTH_RESOURCE")
})

const parseOAuth = (
  c: Config.Success<typeof oauthConfig>,
  authFile: string | undefined
): Config.Config<OAuthSettings | undefined> => {
  if (c.issuer === undefined) {
    const stray = Object.entries({
      REDIS_MCP_OAUTH_AUDIENCE: c.audience,
      REDIS_MCP_OAUTH_JWKS_URL: c.jwksUrl,
      REDIS_MCP_OAUTH_RESOURCE: c.resource
    }).find(([, v]) => v !== undefined)
    return stray ? bad(stray[0], "is set but REDIS_MCP_OAUTH_ISSUER is not") : Config.succeed(undefined)
  }
  const issuer = checkUrl("REDIS_MCP_OAUTH_ISSUER", c.issuer)
  if (typeof issuer === "string") return Config.fail(new ConfigProvider.SourceError({ message: issuer }))
  if (c.audience === undefined) return bad("REDIS_MCP_OAUTH_AUDIENCE", "is required when REDIS_MCP_OAUTH_ISSUER is set")
  if (authFile === undefined) {
    return bad(
      "REDIS_MCP_AUTH_FILE",
      "is required when REDIS_MCP_OAUTH_ISSUER is set (the roles tokens name live there)"
    )
  }
  const jwksUrl = c.jwksUrl === undefined ? undefined : checkUrl("REDIS_MCP_OAUTH_JWKS_URL", c.jwksUrl)
  if (typeof jwksUrl === "string") return Config.fail(new ConfigProvider.SourceError({ message: jwksUrl }))
  const algorithms = (c.algorithms ?? ASYMMETRIC_ALGORITHMS.join(","))
    .split(",")
    .map((a) => a.trim())
    .filter((a) => a !== "")
  const wrong = algorithms.find((a) => !(ASYMMETRIC_ALGORITHMS as ReadonlyArray<string>).includes(a))
  if (wrong !== undefined || algorithms.length === 0) {
    return bad(
      "REDIS_MCP_OAUTH_ALGORITHMS",
      `${wrong === undefined ? "names no algorithm" : `"${wrong}" is not allowed`}; choose from ${ASYMMETRIC_ALGORITHMS.join(", ")}`
    )
  }
  if (c.clockTolerance < 0 || c.clockTolerance > 300) {
    return bad("REDIS_MCP_OAUTH_CLOCK_TOLERANCE_SECONDS", `must be 0 to 300, got ${c.clockTolerance}`)
  }
  let resource: URL | undefined
  if (c.resource !== undefined) {
    const r = checkUrl("REDIS_MCP_OAUTH_RESOURCE", c.resource)
    if (typeof r === "string") return Config.fail(new ConfigProvider.SourceError({ message: r }))
    resource = r
  } else if (URL.canParse(c.audience) && /^https?:$/.test(new URL(c.audience).protocol)) {
    resource = new URL(c.audience)
  }
  return Config.succeed<OAuthSettings>({
    issuer: c.issuer,
    audience: c.audience,
    jwksUrl,
    roleClaim: c.roleClaim ?? "redis_mcp_role",
    algorithms,
    clockToleranceSeconds: c.clockTolerance,
    resource
  })
}

/** All the auth settings, validated. */
export const authSettingsConfig: Config.Config<AuthSettingsShape> = Config.all({
  authFile: optionalString("REDIS_MCP_AUTH_FILE"),
  role: optionalString("REDIS_MCP_ROLE"),
  oauth: oauthConfig,
  maxConcurrentCalls: limit("REDIS_MCP_MAX_CONCURRENT_CALLS_PER_PRINCIPAL", 32),
  maxSubscriptions: limit("REDIS_MCP_MAX_SUBSCRIPTIONS_PER_PRINCIPAL", 10)
}).pipe(
  Config.flatMap((c) => {
    if (c.role !== undefined && c.authFile === undefined) {
      return bad("REDIS_MCP_ROLE", "is set but REDIS_MCP_AUTH_FILE is not (roles are defined there)")
    }
    return parseOAuth(c.oauth, c.authFile).pipe(
      Config.map(
        (oauth): AuthSettingsShape => ({
          authFile: c.authFile,
          role: c.role,
          oauth,
          limits: { maxConcurrentCalls: c.maxConcurrentCalls, maxSubscriptions: c.maxSubscriptions }
        })
      )
    )
  })
)

export class AuthSettings extends Context.Service<AuthSettings, AuthSettingsShape>()("effect-redis-mcp/AuthSettings") {
  static readonly layer = Layer.effect(AuthSettings, authSettingsConfig)
}
