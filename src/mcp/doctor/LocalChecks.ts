/**
 * Checks of the server's own settings, before any Redis: the configuration as a whole, auth on
 * the HTTP listener, the raw `command` toolset and who gets it, the auth file (valid, and not
 * writable by others), the OAuth issuer's keys, and where the audit lines go.
 */
import { accessSync, constants, statSync } from "node:fs"
import { dirname } from "node:path"
import { Effect } from "effect"
import type { AuthState } from "../auth/AuthFile.ts"
import type { OAuthSettings } from "../auth/AuthSettings.ts"
import { discoverJwksUrl } from "../auth/Discovery.ts"
import type { DoctorSettings } from "./DoctorSettings.ts"
import { isLoopbackHost } from "./Probe.ts"
import { type Check, check } from "./Report.ts"

export const configCheck = (s: DoctorSettings): Check =>
  check(
    "config",
    "Configuration",
    "pass",
    `valid: Redis ${s.redis.mode}, toolsets ${s.mcp.toolsets.join(",")}${s.mcp.readOnly ? " (read-only)" : ""}, transport ${s.mcp.transport}${s.server.keyPrefix === "" ? "" : `, key prefix "${s.server.keyPrefix}"`}.`
  )

const authConfigured = (s: DoctorSettings) => s.auth.authFile !== undefined || s.auth.oauth !== undefined

export const httpAuthCheck = (s: DoctorSettings): Check => {
  if (s.mcp.transport === "stdio") {
    return check("http.auth", "Auth on the HTTP listener", "pass", "stdio transport: no network listener.")
  }
  const bind = `${s.mcp.httpHost}:${s.mcp.httpPort}`
  if (authConfigured(s)) {
    return check(
      "http.auth",
      "Auth on the HTTP listener",
      "pass",
      `HTTP on ${bind} requires a token (${[s.auth.authFile === undefined ? [] : ["auth file"], s.auth.oauth === undefined ? [] : ["OAuth"]].flat().join(" and ")}).`
    )
  }
  if (isLoopbackHost(s.mcp.httpHost)) {
    return check(
      "http.auth",
      "Auth on the HTTP listener",
      "pass",
      `HTTP on ${bind} without auth: only processes on this machine can reach it.`
    )
  }
  if (s.allowUnauthenticated) {
    return check(
      "http.auth",
      "Auth on the HTTP listener",
      "warn",
      `HTTP on ${bind} with no auth at all (REDIS_MCP_ALLOW_UNAUTHENTICATED): anyone who reaches the port can use every tool.`,
      "Configure REDIS_MCP_AUTH_FILE (tokens) or OAuth, or bind to 127.0.0.1 behind a proxy that authenticates."
    )
  }
  return check(
    "http.auth",
    "Auth on the HTTP listener",
    "fail",
    `HTTP on ${bind} with no auth method: the server refuses to start (exit 2).`,
    "Configure REDIS_MCP_AUTH_FILE or OAuth, or bind REDIS_MCP_HTTP_HOST to 127.0.0.1."
  )
}

/** Who may use the raw `command` tool: nobody, every session (no role), or the roles that name it. */
export const commandToolsetCheck = (s: DoctorSettings, auth: AuthState | undefined): Check => {
  const id = "toolsets.command"
  const title = "Raw command toolset"
  if (!s.mcp.toolsets.includes("command")) {
    return check(id, title, "pass", "the raw command toolset is off.")
  }
  const noRole = s.mcp.transport === "stdio" ? s.auth.role === undefined : !authConfigured(s) || auth === undefined
  if (noRole) {
    return check(
      id,
      title,
      "warn",
      `the raw command toolset is on and sessions run without a role: an agent can send any command the deny list and the Redis user allow${s.mcp.readOnly ? " (read-only ones only)" : ""}.`,
      s.mcp.transport === "stdio"
        ? "Run as a role of the auth file (REDIS_MCP_ROLE) with a keys list, or leave command out of REDIS_MCP_TOOLSETS."
        : "Configure an auth file whose roles scope keys, or leave command out of REDIS_MCP_TOOLSETS."
    )
  }
  const roles = [...(auth?.roles.values() ?? [])].filter((r) => r.toolsets.includes("command"))
  const unscoped = roles.filter((r) => r.keys === undefined)
  const session = s.mcp.transport === "stdio" ? ` (this stdio session runs as "${s.auth.role}")` : ""
  if (unscoped.length > 0) {
    return check(
      id,
      title,
      "warn",
      `roles ${unscoped.map((r) => `"${r.name}"`).join(", ")} may use the raw command toolset with no keys list${session}: any key the Redis user can reach.`,
      "Give those roles a keys list, or take command out of their toolsets."
    )
  }
  return check(
    id,
    title,
    "pass",
    roles.length === 0
      ? `the raw command toolset is on, but no role names it${session}.`
      : `roles ${roles.map((r) => `"${r.name}"`).join(", ")} may use it, each limited to its keys list${session}.`
  )
}

/** The auth file as the server would load it (`load`), and its permissions. */
export const authFileCheck = (
  s: DoctorSettings,
  loaded: { readonly state: AuthState } | { readonly error: string } | undefined
): Check => {
  const id = "auth.file"
  const title = "Auth file"
  const path = s.auth.authFile
  if (path === undefined || loaded === undefined) {
    return check(id, title, "pass", "no auth file configured (REDIS_MCP_AUTH_FILE).")
  }
  if ("error" in loaded) {
    return check(
      id,
      title,
      "fail",
      `${loaded.error}: the server refuses to start (exit 2).`,
      "Fix the file as the message says; `effect-redis-mcp hash-token` prints a token's hash."
    )
  }
  const mode = statSync(path).mode & 0o777
  const summary = `${path}: ${loaded.state.roles.size} roles, ${loaded.state.tokens.length} tokens`
  if ((mode & 0o022) !== 0) {
    return check(
      id,
      title,
      "fail",
      `${summary}, but it is writable by ${mode & 0o002 ? "everyone" : "its group"} (mode ${mode.toString(8)}): whoever can write it can add a token with any role.`,
      `chmod 640 ${path} (owned by root, group of the service).`
    )
  }
  if ((mode & 0o004) !== 0) {
    return check(
      id,
      title,
      "warn",
      `${summary}, readable by everyone (mode ${mode.toString(8)}); it holds only token hashes, but its roles map your access rules.`,
      `chmod 640 ${path}.`
    )
  }
  return check(id, title, "pass", `${summary}, mode ${mode.toString(8)}.`)
}

const describeFetchError = (e: unknown): string => {
  const error = e as { name?: string; message?: string; cause?: { code?: string } }
  return error.name === "TimeoutError" ? "timed out" : (error.cause?.code ?? error.message ?? String(e))
}

/** The issuer's keys fetched the way the server fetches them on the first token. */
export const oauthCheck = Effect.fn("Doctor.oauth")(function* (oauth: OAuthSettings | undefined, timeoutMs: number) {
  const id = "auth.oauth"
  const title = "OAuth issuer"
  if (oauth === undefined) return check(id, title, "pass", "OAuth is not configured.")
  const url =
    oauth.jwksUrl ?? (yield* discoverJwksUrl(oauth.issuer, timeoutMs).pipe(Effect.catch((e) => Effect.succeed(e))))
  if (!(url instanceof URL)) {
    return check(
      id,
      title,
      "fail",
      `the issuer ${oauth.issuer} gives no JWKS URL (${url.detail ?? url.message}): every OAuth request gets 503 until it does.`,
      "Check REDIS_MCP_OAUTH_ISSUER is exactly the issuer's identifier and reachable from this host, or set REDIS_MCP_OAUTH_JWKS_URL."
    )
  }
  const keys = yield* Effect.tryPromise(async () => {
    const response = await fetch(url, { redirect: "manual", signal: AbortSignal.timeout(timeoutMs) })
    if (response.status !== 200) throw new Error(`HTTP ${response.status}`)
    const body = (await response.json()) as { keys?: unknown }
    if (!Array.isArray(body.keys)) throw new Error("no keys array")
    return body.keys.length
  }).pipe(Effect.catch((e) => Effect.succeed(describeFetchError(e.cause))))
  if (typeof keys === "string" || keys === 0) {
    return check(
      id,
      title,
      "fail",
      `the JWKS at ${url.href} ${typeof keys === "string" ? `could not be read (${keys})` : "has no keys"}: every OAuth request gets 503 (or 401) until it does.`,
      "Make the issuer's JWKS reachable from this host (proxy, firewall, DNS) or fix REDIS_MCP_OAUTH_JWKS_URL."
    )
  }
  return check(id, title, "pass", `the issuer's JWKS at ${url.href} has ${keys} key${keys === 1 ? "" : "s"}.`)
})

export const auditCheck = (s: DoctorSettings): Check => {
  const id = "audit"
  const title = "Audit log"
  const sink = s.audit.sink
  if (sink._tag === "Off") {
    return s.mcp.transport === "http"
      ? check(
          id,
          title,
          "warn",
          "the audit log is off on a shared HTTP service: no record of who wrote what or who was refused.",
          "Set REDIS_MCP_AUDIT=stderr (the journal) or a file path."
        )
      : check(id, title, "pass", "off (the stdio default: one local client).")
  }
  if (sink._tag === "Stderr") return check(id, title, "pass", "audit lines go to stderr (the journal under systemd).")
  try {
    statSync(sink.path)
    accessSync(sink.path, constants.W_OK)
    return check(id, title, "pass", `audit lines are appended to ${sink.path}.`)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === "ENOENT") {
      try {
        accessSync(dirname(sink.path), constants.W_OK)
        return check(id, title, "pass", `audit lines go to ${sink.path} (created at start).`)
      } catch {
        // fall through: the directory is missing or not writable
      }
    }
    return check(
      id,
      title,
      "warn",
      `${sink.path} cannot be written by this user (${code ?? "error"}); if the service runs as this user it refuses to start.`,
      "Point REDIS_MCP_AUDIT at a file in a directory the service may write (the unit's LogsDirectory, /var/log/effect-redis-mcp)."
    )
  }
}
