/**
 * Server configuration: read once at start from a ConfigProvider (CLI flags over
 * environment over defaults, see `Cli.ts`), validated, then provided as services.
 */
import { Config, ConfigProvider, Context, Layer, Option, type Redacted } from "effect"

export interface HostPort {
  readonly host: string
  readonly port: number
}

export interface RetryPolicy {
  /** First reconnect delay. @default 100 ms */
  readonly baseMs: number
  /** Cap on any single delay. @default 5000 ms */
  readonly maxMs: number
  /** Growth factor between attempts. @default 2 */
  readonly factor: number
}

export interface TlsSettings {
  readonly enabled: boolean
  readonly caFile: string | undefined
  readonly certFile: string | undefined
  readonly keyFile: string | undefined
  readonly servername: string | undefined
  /** Skip certificate verification (tunnels, never production). @default false */
  readonly insecure: boolean
}

/** How to reach Redis. `memory` means no Redis at all: the in-memory layers serve. */
export interface RedisSettings {
  readonly mode: "memory" | "standalone" | "sentinel" | "cluster"
  readonly url: string | undefined
  readonly clusterNodes: ReadonlyArray<HostPort>
  readonly sentinels: ReadonlyArray<HostPort>
  readonly sentinelMaster: string | undefined
  readonly sentinelUsername: string | undefined
  readonly sentinelPassword: Redacted.Redacted<string> | undefined
  readonly username: string | undefined
  readonly password: Redacted.Redacted<string> | undefined
  readonly tls: TlsSettings
  /** The longest any call waits for Redis, retries included; the cap of adaptive timeouts. @default 5000 */
  readonly commandTimeoutMs: number
  /**
   * `adaptive`: each command's timeout follows its recent latency (10 × p99), between
   * `commandTimeoutMinMs` and `commandTimeoutMs`; `fixed`: always `commandTimeoutMs`. @default "adaptive"
   */
  readonly commandTimeoutMode: "adaptive" | "fixed"
  /** The shortest adaptive timeout (lowered to `commandTimeoutMs` if above it). @default 1000 */
  readonly commandTimeoutMinMs: number
  /**
   * How concurrent calls' commands are written (REDIS_AUTO_PIPELINING, WriteBatching.ts): `busy`
   * writes a command at once when no other is in flight, and the commands sent in one turn of the
   * event loop while others are in flight in one write at its end; `off` writes every command in
   * its own write; `on` is ioredis's auto-pipelining (a lone command waits for the end of the turn too).
   * @default "busy"
   */
  readonly autoPipelining: AutoPipelining
  /** @default 5000 */
  readonly connectTimeoutMs: number
  readonly retry: RetryPolicy
  /** Cluster: how often to refresh the slot map. @default 5000 */
  readonly slotsRefreshIntervalMs: number
  /** Cluster: timeout of one slot refresh. @default 2000 */
  readonly slotsRefreshTimeoutMs: number
  /** Cluster: where read-only commands go. @default "master" */
  readonly scaleReads: "master" | "slave" | "all"
  /** Cluster: announced address → reachable address. */
  readonly natMap: Readonly<Record<string, HostPort>>
}

/** Default of REDIS_MCP_MAX_KEY_BYTES. */
export const DEFAULT_MAX_KEY_BYTES = 8192
/** The largest REDIS_MCP_MAX_KEY_BYTES may be; tool inputs refuse longer key names before any service sees them. */
export const MAX_KEY_BYTES_CEILING = 65536

export interface Limits {
  /** Largest value a write may store, in bytes. @default 1 MiB */
  readonly maxValueBytes: number
  /** Largest output of one call, in bytes. @default 1 MiB */
  readonly maxOutputBytes: number
  /** Most items one call returns. @default 1000 */
  readonly maxItems: number
  /** Longest key name the data tools accept, in UTF-8 bytes (REDIS_MCP_MAX_KEY_BYTES, at most 65536). @default 8192 */
  readonly maxKeyBytes: number
}

/** Policy of the raw `command` and `pipeline` tools. */
export interface CommandSettings {
  /** "NAME" or "NAME SUBCOMMAND" entries replacing the built-in deny list (REDIS_MCP_COMMAND_DENY). @default undefined (built-in list) */
  readonly deny: ReadonlyArray<string> | undefined
  /** Entries lifted from the deny list (REDIS_MCP_COMMAND_ALLOW). @default [] */
  readonly allow: ReadonlyArray<string>
  /** Most commands one `pipeline` call may send (REDIS_MCP_PIPELINE_MAX_COMMANDS). @default 100 */
  readonly pipelineMaxCommands: number
}

/** Limits of the pub/sub subscriptions. */
export interface PubSubSettings {
  /** Open subscriptions at most (REDIS_MCP_PUBSUB_MAX_SUBSCRIPTIONS). @default 50 */
  readonly maxSubscriptions: number
  /** Messages kept per subscription; older ones are dropped (REDIS_MCP_PUBSUB_BUFFER). @default 1000 */
  readonly bufferSize: number
  /**
   * Bytes (message plus channel name) kept per subscription; older messages are
   * dropped, and a message bigger than this is not kept at all
   * (REDIS_MCP_PUBSUB_BUFFER_BYTES). @default 4 MiB
   */
  readonly bufferBytes: number
  /**
   * Bytes kept by all subscriptions together; past it the subscription holding the
   * most loses its oldest messages (REDIS_MCP_PUBSUB_TOTAL_BYTES). @default 32 MiB
   */
  readonly totalBytes: number
  /** A subscription not read for this long is closed (REDIS_MCP_PUBSUB_IDLE_MS). @default 600000 */
  readonly idleMs: number
}

/** How concurrent calls' commands are written to Redis (REDIS_AUTO_PIPELINING, WriteBatching.ts). */
export type AutoPipelining = "off" | "busy" | "on"

/** The services' settings (the MCP edge's own, toolsets and transport, are in mcp/Settings.ts). */
export interface ServerSettings {
  readonly keyPrefix: string
  readonly logLevel: "Trace" | "Debug" | "Info" | "Warn" | "Error" | "None"
  readonly limits: Limits
  readonly commands: CommandSettings
  readonly pubsub: PubSubSettings
  /** Versions `state_history` keeps per document (REDIS_MCP_STATE_HISTORY). @default 20 */
  readonly stateHistory: number
  /** How long completed, failed and cancelled tasks are kept, in seconds (REDIS_MCP_TASK_RETENTION_SECONDS). @default 604800 (7 days) */
  readonly taskRetentionSeconds: number
}

const bad = (name: string, message: string) =>
  Config.fail(new ConfigProvider.SourceError({ message: `${name}: ${message}` }))

const parseHostPorts = (name: string) =>
  Config.String(name).pipe(
    Config.option,
    Config.flatMap((o) => {
      if (Option.isNone(o) || o.value.trim() === "") return Config.succeed<ReadonlyArray<HostPort>>([])
      const out: Array<HostPort> = []
      for (const part of o.value.split(",")) {
        const m = /^\s*\[?([^\]\s]+?)\]?:(\d{1,5})\s*$/.exec(part)
        const port = m ? Number(m[2]) : Number.NaN
        if (!m || port < 1 || port > 65535) return bad(name, `"${part.trim()}" is not host:port`)
        out.push({ host: m[1]!, port })
      }
      return Config.succeed<ReadonlyArray<HostPort>>(out)
    })
  )

const optionalString = (name: string) => Config.String(name).pipe(Config.option, Config.map(Option.getOrUndefined))
const optionalRedacted = (name: string) => Config.Redacted(name).pipe(Config.option, Config.map(Option.getOrUndefined))
/** A whole number above 0 (digits only), or `fallback` when unset; anything else is named in the error as given. */
const positiveInt = (name: string, fallback: number) =>
  Config.String(name).pipe(
    Config.option,
    Config.flatMap((o) => {
      if (Option.isNone(o)) return Config.succeed(fallback)
      const n = /^\s*\d+\s*$/.test(o.value) ? Number(o.value) : Number.NaN
      return Number.isSafeInteger(n) && n > 0
        ? Config.succeed(n)
        : bad(name, `must be a whole number above 0, got ${JSON.stringify(o.value)}`)
    })
  )

const natMapConfig = Config.String("REDIS_CLUSTER_NAT_MAP").pipe(
  Config.option,
  Config.flatMap((o) => {
    const out: Record<string, HostPort> = {}
    if (Option.isNone(o) || o.value.trim() === "") return Config.succeed(out)
    for (const pair of o.value.split(",")) {
      const m = /^\s*([^=\s]+)=([^:\s]+):(\d{1,5})\s*$/.exec(pair)
      const port = m ? Number(m[3]) : Number.NaN
      if (!m || port < 1 || port > 65535) {
        return bad("REDIS_CLUSTER_NAT_MAP", `"${pair.trim()}" is not from=host:port (port 1-65535)`)
      }
      out[m[1]!] = { host: m[2]!, port: Number(m[3]) }
    }
    return Config.succeed(out)
  })
)

/**
 * What is wrong with a Redis URL, or undefined when ioredis can use it: the scheme,
 * a URL that parses (a port of at most 65535 included), port 1-65535, the db as a
 * whole number, and percent-escapes in the user and password that decode. The
 * message never repeats the URL (it may hold a password).
 */
export const checkRedisUrl = (raw: string): string | undefined => {
  if (!/^rediss?:\/\//i.test(raw)) return "must start with redis:// or rediss://"
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return "is not a valid URL (expected redis://[user:password@]host[:port][/db], with a port from 1 to 65535)"
  }
  if (url.port !== "" && Number(url.port) < 1) return `port ${url.port} is out of range (1-65535)`
  if (url.pathname !== "" && url.pathname !== "/" && !/^\/\d{1,5}$/.test(url.pathname)) {
    return "the path must be the database number, e.g. redis://host:6379/0"
  }
  try {
    decodeURIComponent(url.username)
    decodeURIComponent(url.password)
  } catch {
    return "the user or password holds a malformed %-escape"
  }
  return undefined
}

/** The Redis part of the configuration. */
export const redisSettingsConfig: Config.Config<RedisSettings> = Config.all({
  url: optionalString("REDIS_URL"),
  clusterNodes: parseHostPorts("REDIS_CLUSTER_NODES"),
  sentinels: parseHostPorts("REDIS_SENTINELS"),
  sentinelMaster: optionalString("REDIS_SENTINEL_MASTER"),
  sentinelUsername: optionalString("REDIS_SENTINEL_USERNAME"),
  sentinelPassword: optionalRedacted("REDIS_SENTINEL_PASSWORD"),
  username: optionalString("REDIS_USERNAME"),
  password: optionalRedacted("REDIS_PASSWORD"),
  tlsCa: optionalString("REDIS_TLS_CA_FILE"),
  tlsCert: optionalString("REDIS_TLS_CERT_FILE"),
  tlsKey: optionalString("REDIS_TLS_KEY_FILE"),
  tlsServername: optionalString("REDIS_TLS_SERVERNAME"),
  tlsInsecure: Config.Boolean("REDIS_TLS_INSECURE").pipe(Config.withDefault(false)),
  tlsEnabled: Config.Boolean("REDIS_TLS").pipe(Config.withDefault(false)),
  commandTimeoutMs: positiveInt("REDIS_COMMAND_TIMEOUT_MS", 5000),
  commandTimeoutMode: Config.Literals(["adaptive", "fixed"], "REDIS_COMMAND_TIMEOUT_MODE").pipe(
    Config.withDefault("adaptive" as const)
  ),
  commandTimeoutMinMs: positiveInt("REDIS_COMMAND_TIMEOUT_MIN_MS", 1000),
  autoPipelining: Config.Literals(["off", "busy", "on"], "REDIS_AUTO_PIPELINING").pipe(
    Config.withDefault("busy" as const)
  ),
  connectTimeoutMs: positiveInt("REDIS_CONNECT_TIMEOUT_MS", 5000),
  retryBaseMs: positiveInt("REDIS_RETRY_BASE_MS", 100),
  retryMaxMs: positiveInt("REDIS_RETRY_MAX_MS", 5000),
  slotsRefreshIntervalMs: positiveInt("REDIS_CLUSTER_SLOTS_REFRESH_INTERVAL_MS", 5000),
  slotsRefreshTimeoutMs: positiveInt("REDIS_CLUSTER_SLOTS_REFRESH_TIMEOUT_MS", 2000),
  scaleReads: Config.Literals(["master", "slave", "all", "primary", "replica"], "REDIS_CLUSTER_SCALE_READS").pipe(
    Config.withDefault("master" as const),
    Config.map((v) => (v === "primary" ? "master" : v === "replica" ? "slave" : v))
  ),
  natMap: natMapConfig
}).pipe(
  Config.flatMap((c) => {
    const urlProblem = c.url === undefined ? undefined : checkRedisUrl(c.url)
    if (urlProblem !== undefined) return bad("REDIS_URL", urlProblem)
    if (c.sentinels.length > 0 && c.sentinelMaster === undefined) {
      return bad("REDIS_SENTINEL_MASTER", "is required when REDIS_SENTINELS is set")
    }
    const mode: RedisSettings["mode"] =
      c.clusterNodes.length > 0
        ? "cluster"
        : c.sentinels.length > 0
          ? "sentinel"
          : c.url !== undefined
            ? "standalone"
            : "memory"
    const tlsFromUrl = c.url?.startsWith("rediss://") ?? false
    return Config.succeed<RedisSettings>({
      mode,
      url: c.url,
      clusterNodes: c.clusterNodes,
      sentinels: c.sentinels,
      sentinelMaster: c.sentinelMaster,
      sentinelUsername: c.sentinelUsername,
      sentinelPassword: c.sentinelPassword,
      username: c.username,
      password: c.password,
      tls: {
        enabled: tlsFromUrl || c.tlsEnabled || c.tlsCa !== undefined,
        caFile: c.tlsCa,
        certFile: c.tlsCert,
        keyFile: c.tlsKey,
        servername: c.tlsServername,
        insecure: c.tlsInsecure
      },
      commandTimeoutMs: c.commandTimeoutMs,
      commandTimeoutMode: c.commandTimeoutMode,
      commandTimeoutMinMs: Math.min(c.commandTimeoutMinMs, c.commandTimeoutMs),
      autoPipelining: c.autoPipelining,
      connectTimeoutMs: c.connectTimeoutMs,
      retry: { baseMs: c.retryBaseMs, maxMs: Math.max(c.retryMaxMs, c.retryBaseMs), factor: 2 },
      slotsRefreshIntervalMs: c.slotsRefreshIntervalMs,
      slotsRefreshTimeoutMs: c.slotsRefreshTimeoutMs,
      scaleReads: c.scaleReads,
      natMap: c.natMap
    })
  })
)

/** A comma list of "NAME" / "NAME SUBCOMMAND" entries, upper-cased; "none" is empty; unset gives undefined. */
const commandList = (name: string) =>
  Config.String(name).pipe(
    Config.option,
    Config.flatMap((o) => {
      if (Option.isNone(o)) return Config.succeed<ReadonlyArray<string> | undefined>(undefined)
      const out: Array<string> = []
      if (o.value.trim().toLowerCase() === "none") return Config.succeed<ReadonlyArray<string> | undefined>(out)
      for (const raw of o.value.split(",")) {
        const entry = raw
          .trim()
          .replace(/[\s|]+/g, " ")
          .toUpperCase()
        if (entry === "") continue
        if (!/^[A-Z0-9_.:-]+( [A-Z0-9_.:-]+)?$/.test(entry)) {
          return bad(name, `"${raw.trim()}" is not a command name or "COMMAND SUBCOMMAND"`)
        }
        out.push(entry)
      }
      return Config.succeed<ReadonlyArray<string> | undefined>(out)
    })
  )

/** The services' part of the configuration. */
export const serverSettingsConfig: Config.Config<ServerSettings> = Config.all({
  keyPrefix: Config.String("REDIS_MCP_KEY_PREFIX").pipe(Config.withDefault("")),
  logLevel: Config.String("REDIS_MCP_LOG_LEVEL").pipe(
    Config.withDefault("info"),
    Config.flatMap((raw) => {
      const levels = {
        trace: "Trace",
        debug: "Debug",
        info: "Info",
        warn: "Warn",
        error: "Error",
        none: "None"
      } as const
      const level = levels[raw.toLowerCase() as keyof typeof levels]
      return level
        ? Config.succeed(level)
        : bad("REDIS_MCP_LOG_LEVEL", `"${raw}" is not one of ${Object.keys(levels).join(", ")}`)
    })
  ),
  maxValueBytes: positiveInt("REDIS_MCP_MAX_VALUE_BYTES", 1024 * 1024),
  maxOutputBytes: positiveInt("REDIS_MCP_MAX_OUTPUT_BYTES", 1024 * 1024),
  maxItems: positiveInt("REDIS_MCP_MAX_ITEMS", 1000),
  maxKeyBytes: positiveInt("REDIS_MCP_MAX_KEY_BYTES", DEFAULT_MAX_KEY_BYTES).pipe(
    Config.flatMap((n) =>
      n <= MAX_KEY_BYTES_CEILING
        ? Config.succeed(n)
        : bad("REDIS_MCP_MAX_KEY_BYTES", `must be at most ${MAX_KEY_BYTES_CEILING}, got ${n}`)
    )
  ),
  commands: Config.all({
    deny: commandList("REDIS_MCP_COMMAND_DENY"),
    allow: commandList("REDIS_MCP_COMMAND_ALLOW").pipe(Config.map((a) => a ?? [])),
    pipelineMaxCommands: positiveInt("REDIS_MCP_PIPELINE_MAX_COMMANDS", 100)
  }),
  pubsub: Config.all({
    maxSubscriptions: positiveInt("REDIS_MCP_PUBSUB_MAX_SUBSCRIPTIONS", 50),
    bufferSize: positiveInt("REDIS_MCP_PUBSUB_BUFFER", 1000),
    bufferBytes: positiveInt("REDIS_MCP_PUBSUB_BUFFER_BYTES", 4 * 1024 * 1024),
    totalBytes: positiveInt("REDIS_MCP_PUBSUB_TOTAL_BYTES", 32 * 1024 * 1024),
    idleMs: positiveInt("REDIS_MCP_PUBSUB_IDLE_MS", 600_000)
  }),
  stateHistory: positiveInt("REDIS_MCP_STATE_HISTORY", 20),
  taskRetentionSeconds: positiveInt("REDIS_MCP_TASK_RETENTION_SECONDS", 7 * 24 * 3600)
}).pipe(
  Config.map(({ maxValueBytes, maxOutputBytes, maxItems, maxKeyBytes, ...rest }) => ({
    ...rest,
    limits: { maxValueBytes, maxOutputBytes, maxItems, maxKeyBytes }
  }))
)

/** The Redis connection settings as a service. */
export class RedisConfig extends Context.Service<RedisConfig, RedisSettings>()("effect-redis-mcp/RedisConfig") {
  static readonly layer = Layer.effect(RedisConfig, redisSettingsConfig)
}

/** The services' settings as a service. */
export class ServerConfig extends Context.Service<ServerConfig, ServerSettings>()("effect-redis-mcp/ServerConfig") {
  static readonly layer = Layer.effect(ServerConfig, serverSettingsConfig)
}

/**
 * A configuration error as one line that starts with the setting's name, e.g.
 * `REDIS_MCP_HTTP_PORT: expected a value between 1 and 65535`.
 */
export const describeConfigError = (error: Config.ConfigError): string => {
  const cause = error.cause
  if (cause._tag === "SourceError") return cause.message
  const at = /\n\s*at \["([^"]+)"\]/.exec(cause.message)
  const what = (cause.message.split("\n", 1)[0] ?? "").trim()
  return at ? `${at[1]}: ${what.charAt(0).toLowerCase()}${what.slice(1)}` : cause.message.replace(/\s+/g, " ")
}
