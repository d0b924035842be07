/**
 * Settings of the stdio wire: the longest accepted JSON-RPC line and how long
 * in-flight requests may take to answer once stdin has ended.
 */
import { Config, ConfigProvider, Option } from "effect"
import { redisSettingsConfig, serverSettingsConfig } from "../layers/Config.ts"

export interface WireSettings {
  /**
   * Longest line accepted on stdin, in bytes, newline excluded (REDIS_MCP_MAX_MESSAGE_BYTES).
   * @default 8 MiB, or 6 × REDIS_MCP_MAX_VALUE_BYTES + 1 MiB when that is more
   */
  readonly maxMessageBytes: number
  /**
   * After stdin ends, how long requests in flight may take to answer before the
   * connection closes anyway (REDIS_MCP_DRAIN_TIMEOUT_MS).
   * @default REDIS_COMMAND_TIMEOUT_MS + 1000
   */
  readonly drainTimeoutMs: number
}

/**
 * 8 MiB: a 1 MiB value (the default REDIS_MCP_MAX_VALUE_BYTES) JSON-escaped at
 * worst 6 bytes per byte (`\u00XX`), plus the request envelope, with room to spare.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 8 * 1024 * 1024
/** Room for the request around the largest value, when the value cap is raised. */
export const ENVELOPE_BYTES = 1024 * 1024
export const MIN_MAX_MESSAGE_BYTES = 1024
/** Kept well under V8's longest string (~512 MiB) so an accepted line can always be decoded. */
export const MAX_MAX_MESSAGE_BYTES = 256 * 1024 * 1024
/** Added to the command timeout: time to encode and write the answer of a call that waited that long. */
export const DRAIN_MARGIN_MS = 1000
export const MAX_DRAIN_TIMEOUT_MS = 10 * 60 * 1000

const bad = (name: string, message: string) =>
  Config.fail(new ConfigProvider.SourceError({ message: `${name}: ${message}` }))

const inRange =
  (name: string, min: number, max: number) =>
  (n: number): Config.Config<number> =>
    n >= min && n <= max ? Config.succeed(n) : bad(name, `must be a whole number from ${min} to ${max}, got ${n}`)

const commandTimeoutMs = Config.map(redisSettingsConfig, (r) => r.commandTimeoutMs)

/** Big enough for the largest value a write may carry, JSON-escaped at worst. */
const defaultMaxMessageBytes = Config.map(serverSettingsConfig, (s) =>
  Math.min(MAX_MAX_MESSAGE_BYTES, Math.max(DEFAULT_MAX_MESSAGE_BYTES, 6 * s.limits.maxValueBytes + ENVELOPE_BYTES))
)

export const wireSettingsConfig: Config.Config<WireSettings> = Config.all({
  maxMessageBytes: Config.Int("REDIS_MCP_MAX_MESSAGE_BYTES").pipe(
    Config.option,
    Config.flatMap((given) =>
      Option.isSome(given)
        ? inRange("REDIS_MCP_MAX_MESSAGE_BYTES", MIN_MAX_MESSAGE_BYTES, MAX_MAX_MESSAGE_BYTES)(given.value)
        : defaultMaxMessageBytes
    )
  ),
  drainTimeoutMs: Config.Int("REDIS_MCP_DRAIN_TIMEOUT_MS").pipe(
    Config.option,
    Config.flatMap((given) =>
      Option.isSome(given)
        ? inRange("REDIS_MCP_DRAIN_TIMEOUT_MS", 0, MAX_DRAIN_TIMEOUT_MS)(given.value)
        : Config.map(commandTimeoutMs, (ms) => Math.min(ms + DRAIN_MARGIN_MS, MAX_DRAIN_TIMEOUT_MS))
    )
  )
})
