/**
 * Command-line flags. Each flag names the environment variable it overrides, so
 * precedence is simply: flag > environment > default.
 */
import { parseArgs } from "node:util"
import { ConfigProvider } from "effect"

const valueFlags = {
  "redis-url": "REDIS_URL",
  "cluster-nodes": "REDIS_CLUSTER_NODES",
  sentinels: "REDIS_SENTINELS",
  "sentinel-master": "REDIS_SENTINEL_MASTER",
  toolsets: "REDIS_MCP_TOOLSETS",
  "key-prefix": "REDIS_MCP_KEY_PREFIX",
  transport: "REDIS_MCP_TRANSPORT",
  host: "REDIS_MCP_HTTP_HOST",
  port: "REDIS_MCP_HTTP_PORT",
  "log-level": "REDIS_MCP_LOG_LEVEL",
  "command-timeout-ms": "REDIS_COMMAND_TIMEOUT_MS",
  "auth-file": "REDIS_MCP_AUTH_FILE",
  "allowed-hosts": "REDIS_MCP_ALLOWED_HOSTS",
  "allowed-origins": "REDIS_MCP_ALLOWED_ORIGINS",
  "cpu-profile": "REDIS_MCP_CPU_PROFILE",
  "metrics-port": "REDIS_MCP_METRICS_PORT"
} as const

const booleanFlags = {
  "read-only": "REDIS_MCP_READ_ONLY",
  "allow-unauthenticated": "REDIS_MCP_ALLOW_UNAUTHENTICATED"
} as const

/**
 * Subcommands (the first argument) with their line in --help; program.ts maps each name to what it
 * runs. They are operators' commands: their output goes to stdout.
 */
export const SUBCOMMANDS = {
  doctor: { usage: "doctor [--json]", help: "check the configuration, Redis and its ACL (doctor --help)" },
  "hash-token": { usage: "hash-token", help: "read a token on stdin, print its SHA-256 hex for the auth file" }
} as const

export type Subcommand = keyof typeof SUBCOMMANDS

/** The subcommand `argv` starts with, if any. */
export const subcommandOf = (argv: ReadonlyArray<string>): Subcommand | undefined => {
  const first = argv[0]
  return first !== undefined && Object.hasOwn(SUBCOMMANDS, first) ? (first as Subcommand) : undefined
}

export type CliResult =
  | { readonly _tag: "Run"; readonly env: Record<string, string> }
  | { readonly _tag: "Help" }
  | { readonly _tag: "Version" }
  | { readonly _tag: "Invalid"; readonly message: string }

/** Parse the server's argv into environment-style settings that override `process.env`. */
export const parseCli = (argv: ReadonlyArray<string>): CliResult => {
  try {
    const { values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        ...Object.fromEntries(Object.keys(valueFlags).map((k) => [k, { type: "string" as const }])),
        ...Object.fromEntries(Object.keys(booleanFlags).map((k) => [k, { type: "boolean" as const }])),
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "v" }
      }
    })
    if (values.help) return { _tag: "Help" }
    if (values.version) return { _tag: "Version" }
    const given = values as Record<string, string | boolean | undefined>
    const env: Record<string, string> = {}
    for (const [flag, name] of Object.entries(valueFlags)) {
      const v = given[flag]
      if (typeof v === "string") env[name] = v
    }
    for (const [flag, name] of Object.entries(booleanFlags)) {
      if (given[flag] === true) env[name] = "true"
    }
    return { _tag: "Run", env }
  } catch (e) {
    return { _tag: "Invalid", message: e instanceof Error ? e.message : String(e) }
  }
}

const flagOf: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries({ ...valueFlags, ...booleanFlags }).map(([flag, name]) => [name, `--${flag}`])
)

/**
 * A configuration message with every setting that came from a flag called by
 * that flag's name: `REDIS_COMMAND_TIMEOUT_MS: must be …` becomes
 * `--command-timeout-ms: must be …` when `--command-timeout-ms` set it, and
 * stays as it is when the environment did.
 */
export const underFlagNames = (message: string, fromFlags: Record<string, string>): string =>
  message.replace(/\b[A-Z][A-Z0-9_]*\b/g, (name) => (Object.hasOwn(fromFlags, name) ? (flagOf[name] ?? name) : name))

/** Where configuration is read from: the flags' settings over the environment (defaults live in Config.ts). */
export const configProvider = (
  env: Record<string, string | undefined>,
  flags: Record<string, string>
): ConfigProvider.ConfigProvider => ConfigProvider.fromEnvRecord({ ...env, ...flags })

export const HELP = `effect-redis-mcp: a Model Context Protocol server for Redis.

Usage: effect-redis-mcp [options]
       effect-redis-mcp <command>

Options (each overrides the environment variable in brackets):
  --redis-url URL            redis:// or rediss:// URL [REDIS_URL]; unset: in-memory store
  --cluster-nodes LIST       host:port,... seeds; enables Cluster mode [REDIS_CLUSTER_NODES]
  --sentinels LIST           host:port,... sentinels; enables Sentinel mode [REDIS_SENTINELS]
  --sentinel-master NAME     master name monitored by the sentinels [REDIS_SENTINEL_MASTER]
  --toolsets LIST            toolsets to expose, e.g. default,stream or all [REDIS_MCP_TOOLSETS]
  --read-only                expose read-only tools only [REDIS_MCP_READ_ONLY]
  --key-prefix PREFIX        scope every key under PREFIX [REDIS_MCP_KEY_PREFIX]
  --transport stdio|http     stdio (default) or Streamable HTTP on /mcp [REDIS_MCP_TRANSPORT]
  --host HOST, --port PORT   HTTP bind, default 127.0.0.1:3000; port 0 picks one [REDIS_MCP_HTTP_HOST/PORT]
  --auth-file PATH           tokens and roles (JSON); reloaded on SIGHUP [REDIS_MCP_AUTH_FILE]
  --allowed-hosts LIST       Host names accepted over HTTP; default loopback [REDIS_MCP_ALLOWED_HOSTS]
  --allowed-origins LIST     Origins accepted over HTTP; default loopback [REDIS_MCP_ALLOWED_ORIGINS]
  --allow-unauthenticated    serve a non-loopback bind with no auth [REDIS_MCP_ALLOW_UNAUTHENTICATED]
  --metrics-port PORT        serve /healthz /readyz /metrics on 127.0.0.1:PORT [REDIS_MCP_METRICS_PORT]
  --log-level LEVEL          trace|debug|info|warn|error|none, to stderr [REDIS_MCP_LOG_LEVEL]
  --command-timeout-ms MS    timeout of every Redis command (default 5000) [REDIS_COMMAND_TIMEOUT_MS]
  --cpu-profile FILE         write a V8 CPU profile of the run to FILE on shutdown [REDIS_MCP_CPU_PROFILE]
  -h, --help                 show this help
  -v, --version              show the version

More settings (TLS, ACL, OAuth, limits, retry, audit, metrics) are environment variables: see docs/admin-guide.md.

Commands:
${Object.values(SUBCOMMANDS)
  .map(({ usage, help }) => `  effect-redis-mcp ${usage.padEnd(18)} ${help}`)
  .join("\n")}
`
