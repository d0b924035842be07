/**
 * Settings of the Streamable HTTP transport beyond its bind (Settings.ts): which `Host` and
 * `Origin` headers are accepted, the largest request body, the SIGTERM drain, and the explicit
 * opt-out from authentication on a non-loopback bind. Read once at start (flag > environment >
 * default); a bad value, or a non-loopback bind with no auth method, is one line naming the
 * setting (exit 2).
 */
import { Config, ConfigProvider, Context, Effect, Layer } from "effect"
import { ServerConfig } from "../layers/Config.ts"
import { AuthSettings } from "./auth/AuthSettings.ts"
import { McpConfig } from "./Settings.ts"

export interface HttpSettingsShape {
  /** Hostnames the `Host` header may name (REDIS_MCP_ALLOWED_HOSTS). @default loopback names and the bind host */
  readonly allowedHosts: ReadonlyArray<string>
  /**
   * Origins a request carrying `Origin` may come from (REDIS_MCP_ALLOWED_ORIGINS): full origins
   * (`https://app.example.com`, scheme, host and port must match) or bare hostnames (any scheme
   * and port). @default the loopback hostnames
   */
  readonly allowedOrigins: ReadonlyArray<string>
  /** Largest request body (REDIS_MCP_HTTP_MAX_BODY_BYTES). @default 4 MiB + REDIS_MCP_MAX_VALUE_BYTES */
  readonly maxBodyBytes: number
  /** How long calls in flight may finish after SIGTERM (REDIS_MCP_SHUTDOWN_GRACE_MS). @default 10000 */
  readonly shutdownGraceMs: number
  /** Serve a non-loopback bind with no auth method (REDIS_MCP_ALLOW_UNAUTHENTICATED). @default false */
  readonly allowUnauthenticated: boolean
}

export const LOOPBACK_HOSTNAMES: ReadonlyArray<string> = ["localhost", "127.0.0.1", "[::1]"]

/** The bind address names only this machine. */
export const isLoopback = (host: string): boolean => {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase()
  return h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h)
}

/** A bind host as a `Host` header's hostname says it (IPv6 in brackets); undefined for a wildcard bind. */
const hostnameOf = (bind: string): string | undefined => {
  const h = bind.replace(/^\[|\]$/g, "").toLowerCase()
  if (h === "0.0.0.0" || h === "::" || h === "") return undefined
  return h.includes(":") ? `[${h}]` : h
}

/** A hostname as `Host` and `Origin` carry it: a name or IPv4 address, or an IPv6 address in brackets. */
const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$|^\[[0-9A-Fa-f:.]+\]$/

const list = (raw: string) =>
  raw
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")

const bad = (name: string, message: string) =>
  Config.fail(new ConfigProvider.SourceError({ message: `${name}: ${message}` }))

/** An origin entry is a full `scheme://host[:port]` origin or a bare hostname; the normalised form, or why not. */
export const parseOriginEntry = (entry: string): string | undefined => {
  if (!entry.includes("://")) return HOSTNAME.test(entry) ? entry.toLowerCase() : undefined
  if (!URL.canParse(entry)) return undefined
  const url = new URL(entry)
  return url.origin !== "null" && (url.pathname === "/" || url.pathname === "") && url.search === ""
    ? url.origin
    : undefined
}

const raw = Config.all({
  allowedHosts: Config.String("REDIS_MCP_ALLOWED_HOSTS").pipe(
    Config.option,
    Config.flatMap((o) => {
      if (o._tag === "None") return Config.succeed(undefined)
      const entries = list(o.value)
      const wrong = entries.find((h) => !HOSTNAME.test(h))
      return wrong !== undefined
        ? bad(
            "REDIS_MCP_ALLOWED_HOSTS",
            `"${wrong}" is not a hostname (no scheme or port; IPv6 in brackets, e.g. [::1])`
          )
        : entries.length === 0
          ? bad("REDIS_MCP_ALLOWED_HOSTS", "names no host")
          : Config.succeed(entries.map((h) => h.toLowerCase()))
    })
  ),
  allowedOrigins: Config.String("REDIS_MCP_ALLOWED_ORIGINS").pipe(
    Config.withDefault(LOOPBACK_HOSTNAMES.join(",")),
    Config.flatMap((value) => {
      const entries = list(value)
      const parsed = entries.map(parseOriginEntry)
      const wrong = parsed.indexOf(undefined)
      return wrong >= 0
        ? bad(
            "REDIS_MCP_ALLOWED_ORIGINS",
            `"${entries[wrong]}" is neither an origin (https://app.example.com) nor a hostname`
          )
        : Config.succeed(parsed as ReadonlyArray<string>)
    })
  ),
  maxBodyBytes: Config.Int("REDIS_MCP_HTTP_MAX_BODY_BYTES").pipe(
    Config.option,
    Config.flatMap((o) =>
      o._tag === "Some" && o.value < 1024
        ? bad("REDIS_MCP_HTTP_MAX_BODY_BYTES", `must be at least 1024, got ${o.value}`)
        : Config.succeed(o._tag === "Some" ? o.value : undefined)
    )
  ),
  shutdownGraceMs: Config.Int("REDIS_MCP_SHUTDOWN_GRACE_MS").pipe(
    Config.withDefault(10_000),
    Config.flatMap((n) =>
      n >= 0 && n <= 3_600_000
        ? Config.succeed(n)
        : bad("REDIS_MCP_SHUTDOWN_GRACE_MS", `must be 0 to 3600000 (one hour), got ${n}`)
    )
  ),
  allowUnauthenticated: Config.Boolean("REDIS_MCP_ALLOW_UNAUTHENTICATED").pipe(Config.withDefault(false))
})

export class HttpConfig extends Context.Service<HttpConfig, HttpSettingsShape>()("effect-redis-mcp/HttpConfig") {
  /** Needs McpConfig (the bind), ServerConfig (the value cap) and AuthSettings (is any auth configured). */
  static readonly layer = Layer.effect(
    HttpConfig,
    Effect.gen(function* () {
      const r = yield* raw
      const { httpHost } = yield* McpConfig
      const { limits } = yield* ServerConfig
      const auth = yield* AuthSettings
      const authenticated = auth.authFile !== undefined || auth.oauth !== undefined
      if (!isLoopback(httpHost) && !authenticated && !r.allowUnauthenticated) {
        return yield* Effect.fail(
          new Config.ConfigError(
            new ConfigProvider.SourceError({
              message: `REDIS_MCP_HTTP_HOST: ${httpHost} is not a loopback address and no auth method is configured (REDIS_MCP_AUTH_FILE or REDIS_MCP_OAUTH_ISSUER); anyone who can reach it could use Redis. Configure auth, bind 127.0.0.1 behind a proxy, or pass --allow-unauthenticated (REDIS_MCP_ALLOW_UNAUTHENTICATED=1) on a trusted network`
            })
          )
        )
      }
      const bindName = hostnameOf(httpHost)
      const allowedHosts = r.allowedHosts ?? [
        ...new Set([...LOOPBACK_HOSTNAMES, ...(bindName === undefined ? [] : [bindName])])
      ]
      return HttpConfig.of({
        allowedHosts,
        allowedOrigins: r.allowedOrigins,
        maxBodyBytes: r.maxBodyBytes ?? 4 * 1024 * 1024 + limits.maxValueBytes,
        shutdownGraceMs: r.shutdownGraceMs,
        allowUnauthenticated: r.allowUnauthenticated
      })
    })
  )
}
