/**
 * The MCP edge's own settings: which toolsets are served, read-only mode, and
 * the transport with its HTTP bind. Read once at start from the same
 * ConfigProvider as the rest (flag > environment > default); the services'
 * settings (key prefix, limits, …) stay in layers/Config.ts where they read them.
 */
import { Config, ConfigProvider, Context, Layer } from "effect"
import { features } from "../tools/index.ts"

/** Every toolset the server knows, in feature order. */
export const TOOLSETS: ReadonlyArray<string> = features.map((f) => f.name)

/** What `default` expands to. `admin` is only partly on by default (its core tools, ping and health). */
export const DEFAULT_TOOLSETS: ReadonlyArray<string> = features.filter((f) => f.default).map((f) => f.name)

/** The toolset names an auth file's roles may give. */
export const TOOLSET_CATALOG = { known: TOOLSETS, defaults: DEFAULT_TOOLSETS } as const

export interface McpSettings {
  /** Toolsets served (REDIS_MCP_TOOLSETS). @default DEFAULT_TOOLSETS */
  readonly toolsets: ReadonlyArray<string>
  /** Serve read-only tools only, and never write in the background (REDIS_MCP_READ_ONLY). @default false */
  readonly readOnly: boolean
  /** REDIS_MCP_TRANSPORT. @default "stdio" */
  readonly transport: "stdio" | "http"
  /** REDIS_MCP_HTTP_HOST. @default "127.0.0.1" */
  readonly httpHost: string
  /** REDIS_MCP_HTTP_PORT; 0 picks a free port. @default 3000 */
  readonly httpPort: number
  /**
   * Answer plain `tools/call` requests without the SDK's request pipeline (same bytes, same call
   * path; see StdioFastPath.ts). REDIS_MCP_FASTPATH=0 sends every request through the SDK. @default true
   */
  readonly fastPath: boolean
}

const bad = (name: string, message: string) =>
  Config.fail(new ConfigProvider.SourceError({ message: `${name}: ${message}` }))

/** A comma list of toolsets (`default` and `all` expand) in feature order, or why it is not one. */
export const parseToolsets = (raw: string): ReadonlyArray<string> | string => {
  const out = new Set<string>()
  for (const word of raw
    .split(",")
    .map((w) => w.trim().toLowerCase())
    .filter((w) => w !== "")) {
    if (word === "all") for (const t of TOOLSETS) out.add(t)
    else if (word === "default") for (const t of DEFAULT_TOOLSETS) out.add(t)
    else if (TOOLSETS.includes(word)) out.add(word)
    else return `unknown toolset "${word}"; known: ${TOOLSETS.join(", ")}, default, all`
  }
  return out.size === 0 ? `no toolset named; known: ${TOOLSETS.join(", ")}, default, all` : [...out]
}

export const mcpSettingsConfig: Config.Config<McpSettings> = Config.all({
  toolsets: Config.String("REDIS_MCP_TOOLSETS").pipe(
    Config.withDefault("default"),
    Config.flatMap((raw) => {
      const parsed = parseToolsets(raw)
      return typeof parsed === "string" ? bad("REDIS_MCP_TOOLSETS", parsed) : Config.succeed(parsed)
    })
  ),
  readOnly: Config.Boolean("REDIS_MCP_READ_ONLY").pipe(Config.withDefault(false)),
  transport: Config.Literals(["stdio", "http"], "REDIS_MCP_TRANSPORT").pipe(Config.withDefault("stdio" as const)),
  httpHost: Config.String("REDIS_MCP_HTTP_HOST").pipe(
    Config.withDefault("127.0.0.1"),
    Config.flatMap((h) =>
      /^(\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)$/.test(h)
        ? Config.succeed(h)
        : bad("REDIS_MCP_HTTP_HOST", `"${h}" is not a host name or IP address (no scheme, port or path)`)
    )
  ),
  // 0 asks the system for a free port (the `listening` log line says which).
  httpPort: Config.Int("REDIS_MCP_HTTP_PORT").pipe(
    Config.withDefault(3000),
    Config.flatMap((p) =>
      p >= 0 && p <= 65535
        ? Config.succeed(p)
        : bad("REDIS_MCP_HTTP_PORT", `expected a value between 0 and 65535, got ${p}`)
    )
  ),
  fastPath: Config.Boolean("REDIS_MCP_FASTPATH").pipe(Config.withDefault(true))
})

/** The MCP settings as a service. */
export class McpConfig extends Context.Service<McpConfig, McpSettings>()("effect-redis-mcp/McpConfig") {
  static readonly layer = Layer.effect(McpConfig, mcpSettingsConfig)
}
