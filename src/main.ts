#!/usr/bin/env node
/**
 * The edge: read flags and configuration, pick the Redis or in-memory services,
 * and serve MCP over stdio. stdout carries the protocol only; everything else
 * goes to stderr.
 */
import * as NodeRuntime from "@effect/platform-node-shared/NodeRuntime"
import { ConfigProvider, Effect, Layer } from "effect"
import { configProvider, HELP, parseCli } from "./layers/Cli.ts"
import { describeConfigError, RedisConfig, ServerConfig } from "./layers/Config.ts"
import * as Logging from "./layers/Logging.ts"
import { serveStdio } from "./layers/StdioTransport.ts"
import * as Stack from "./services/Stack.ts"
import { allExtensions } from "./tools/extensions.ts"
import { allTools } from "./tools/index.ts"
import { makeMcpServer, VERSION } from "./tools/McpServer.ts"

const cli = parseCli(process.argv.slice(2))
if (cli._tag === "Help") {
  process.stderr.write(HELP)
  process.exit(0)
}
if (cli._tag === "Version") {
  process.stderr.write(`${VERSION}\n`)
  process.exit(0)
}
if (cli._tag === "Invalid") {
  process.stderr.write(`effect-redis-mcp: ${cli.message}. See --help.\n`)
  process.exit(2)
}

const program = Effect.gen(function* () {
  const redis = yield* RedisConfig
  if (redis.mode === "memory") {
    yield* Effect.logWarning(
      "no Redis configured (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES): serving from the in-memory store; data lives only as long as this process"
    )
  }
  const server = yield* makeMcpServer(allTools, allExtensions)
  yield* serveStdio(server)
})

const services = Layer.unwrap(
  Effect.map(RedisConfig, (r) => (r.mode === "memory" ? Stack.layerMemory : Stack.layerRedis))
)
const logging = Layer.unwrap(Effect.map(ServerConfig, (s) => Logging.layer(s.logLevel)))
const config = Layer.mergeAll(RedisConfig.layer, ServerConfig.layer)

const main = program.pipe(
  Effect.provide(services.pipe(Layer.provideMerge(config))),
  Effect.provide(logging.pipe(Layer.provide(ServerConfig.layer))),
  Effect.catchTag("ConfigError", (e) =>
    Effect.sync(() => {
      process.stderr.write(`effect-redis-mcp: invalid configuration: ${describeConfigError(e)}\n`)
      process.exitCode = 2
    })
  ),
  Effect.tapCause((cause) => Effect.sync(() => process.stderr.write(`effect-redis-mcp: fatal: ${cause}\n`))),
  Effect.provide(ConfigProvider.layer(configProvider(process.env, cli.env)))
)

NodeRuntime.runMain(main, { disableErrorReporting: true })
