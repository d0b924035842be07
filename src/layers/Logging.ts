/**
 * Logs go to stderr as JSON lines: stdout is the MCP channel.
 */
import { Layer, Logger, References } from "effect"
import type { ServerSettings } from "./Config.ts"

/** JSON lines on stderr, at the given minimum level. */
export const layer = (level: ServerSettings["logLevel"]) =>
  Layer.mergeAll(
    Logger.layer([Logger.withConsoleError(Logger.formatJson)]),
    Layer.succeed(References.MinimumLogLevel, level === "None" ? "None" : level)
  )
