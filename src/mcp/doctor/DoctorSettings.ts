/**
 * Everything doctor needs from the configuration, read and validated exactly as the server does
 * at start (the same Configs, the same provider: flags over environment over defaults). A bad
 * setting is a `ConfigError`: doctor reports it and exits 2, as the server would.
 */
import { Config, Effect } from "effect"
import {
  type RedisSettings,
  redisSettingsConfig,
  type ServerSettings,
  serverSettingsConfig
} from "../../layers/Config.ts"
import { type MetricsSettings, metricsSettingsConfig } from "../../layers/MetricsSettings.ts"
import { type AuditSettings, auditSettingsConfig } from "../audit/AuditSettings.ts"
import type { ToolsetCatalog } from "../auth/AuthFile.ts"
import { type AuthSettingsShape, authSettingsConfig } from "../auth/AuthSettings.ts"
import { DEFAULT_TOOLSETS, type McpSettings, mcpSettingsConfig, TOOLSETS } from "../Settings.ts"

export interface DoctorSettings {
  readonly redis: RedisSettings
  /** The services' settings: key prefix, limits. */
  readonly server: ServerSettings
  /** The edge's: toolsets, read-only, transport and HTTP bind. */
  readonly mcp: McpSettings
  readonly auth: AuthSettingsShape
  readonly audit: AuditSettings
  /** REDIS_MCP_METRICS, the metrics port and the queue-depth sampling (validated as the server does). */
  readonly metrics: MetricsSettings
  /** REDIS_MCP_ALLOW_UNAUTHENTICATED: serve HTTP on a non-loopback address with no auth. @default false */
  readonly allowUnauthenticated: boolean
}

/** The toolset names an auth file's roles may use. */
export const catalog: ToolsetCatalog = { known: TOOLSETS, defaults: DEFAULT_TOOLSETS }

export const doctorSettings: Effect.Effect<DoctorSettings, Config.ConfigError> = Effect.gen(function* () {
  const redis = yield* redisSettingsConfig
  const server = yield* serverSettingsConfig
  const mcp = yield* mcpSettingsConfig
  const auth = yield* authSettingsConfig
  const audit = yield* auditSettingsConfig(mcp.transport)
  const metrics = yield* metricsSettingsConfig
  const allowUnauthenticated = yield* Config.Boolean("REDIS_MCP_ALLOW_UNAUTHENTICATED").pipe(Config.withDefault(false))
  return { redis, server, mcp, auth, audit, metrics, allowUnauthenticated }
})

/** The Redis user the server authenticates as: REDIS_USERNAME, else the URL's, else `default`. */
export const redisUser = (redis: RedisSettings): string => {
  if (redis.username !== undefined && redis.username !== "") return redis.username
  if (redis.url !== undefined && URL.canParse(redis.url)) {
    const name = decodeURIComponent(new URL(redis.url).username)
    if (name !== "") return name
  }
  return "default"
}
