/**
 * Where the audit lines go (`REDIS_MCP_AUDIT`): `off`, `stderr`, or a file path. The default
 * depends on the transport: `off` for stdio (one local client, the operator is the user),
 * `stderr` for HTTP (a shared service). Read once at start; a bad value is one line naming the
 * setting (exit 2), like every other setting.
 */
import { isAbsolute, resolve } from "node:path"
import { Config, ConfigProvider } from "effect"

export type AuditSink =
  | { readonly _tag: "Off" }
  | { readonly _tag: "Stderr" }
  | { readonly _tag: "File"; readonly path: string }

export interface AuditSettings {
  readonly sink: AuditSink
  /** Lines waiting to be written at most; past it new lines are dropped and counted (REDIS_MCP_AUDIT_BUFFER). @default 10000 */
  readonly bufferLines: number
}

export const DEFAULT_BUFFER_LINES = 10_000

const bad = (name: string, message: string) =>
  Config.fail(new ConfigProvider.SourceError({ message: `${name}: ${message}` }))

/** `raw` as a sink, or why it is not one. */
export const parseSink = (raw: string, transport: "stdio" | "http"): AuditSink | string => {
  const value = raw.trim()
  const word = value.toLowerCase()
  if (value === "") return transport === "http" ? { _tag: "Stderr" } : { _tag: "Off" }
  if (word === "off") return { _tag: "Off" }
  if (word === "stderr") return { _tag: "Stderr" }
  if (word === "stdout" || word === "-") {
    return `"${value}" is not allowed: stdout carries the MCP protocol; use stderr or a file path`
  }
  if (value.includes("\0")) return "is not a file path"
  return { _tag: "File", path: isAbsolute(value) ? value : resolve(value) }
}

/** The audit settings for a server on `transport`. */
export const auditSettingsConfig = (transport: "stdio" | "http"): Config.Config<AuditSettings> =>
  Config.all({
    sink: Config.String("REDIS_MCP_AUDIT").pipe(
      Config.withDefault(""),
      Config.flatMap((raw) => {
        const sink = parseSink(raw, transport)
        return typeof sink === "string" ? bad("REDIS_MCP_AUDIT", sink) : Config.succeed(sink)
      })
    ),
    bufferLines: Config.Int("REDIS_MCP_AUDIT_BUFFER").pipe(
      Config.withDefault(DEFAULT_BUFFER_LINES),
      Config.flatMap((n) =>
        n > 0 && n <= 1_000_000
          ? Config.succeed(n)
          : bad("REDIS_MCP_AUDIT_BUFFER", `must be a whole number from 1 to 1000000, got ${n}`)
      )
    )
  })
