/**
 * The `admin` toolset. `ping` and `health` are core: listed whatever the toolsets.
 */
import { Effect, Schema } from "effect"
import { Admin } from "../services/Admin.ts"
import * as Tool from "./Tool.ts"

const HealthOutput = Schema.Struct({
  mode: Schema.Literals(["memory", "standalone", "sentinel", "cluster"]),
  target: Schema.String,
  state: Schema.Literals(["connecting", "ready", "reconnecting", "closed", "memory"]),
  lastError: Schema.NullOr(Schema.String),
  lastErrorAt: Schema.NullOr(Schema.Finite),
  reconnects: Schema.Int,
  connectedSince: Schema.NullOr(Schema.Finite),
  latencyMs: Schema.NullOr(Schema.Finite)
})

export const ping = Tool.make({
  name: "ping",
  title: "Ping Redis",
  description:
    "Check that the server and its Redis store answer. Returns the reply and the round-trip time in milliseconds.",
  toolset: "admin",
  core: true,
  input: Schema.Struct({
    message: Schema.optionalKey(Schema.String.annotate({ description: "Text Redis should echo back instead of PONG." }))
  }),
  output: Schema.Struct({ pong: Schema.String, latencyMs: Schema.Finite }),
  hints: Tool.hints.read,
  handler: ({ message }) => Effect.flatMap(Admin, (a) => a.ping(message))
})

export const health = Tool.make({
  name: "health",
  title: "Connection health",
  description:
    "Report the Redis connection's health: mode (memory, standalone, sentinel, cluster), state (ready, reconnecting…), " +
    "the last error and when it happened (epoch ms), how often it reconnected, and the PING latency. Use it when other tools return RedisUnavailable or Timeout.",
  toolset: "admin",
  core: true,
  input: Tool.NoInput,
  output: HealthOutput,
  hints: Tool.hints.read,
  handler: () => Effect.flatMap(Admin, (a) => a.health)
})

export const adminTools = [ping, health]
