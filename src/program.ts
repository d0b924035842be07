/**
 * The program, loaded by the launcher (main.ts) once the Node version is known
 * to be good. It only composes: flags → configuration → services (Redis or
 * in-memory) → the MCP edge and its background work → the transport → launch,
 * until the client goes away or a signal arrives. stdout carries the protocol
 * only (and the answer to --help / --version); everything else goes to stderr.
 * Subcommands (`doctor`) are imported only when asked for, so a server's start
 * never loads them.
 */
import { ConfigProvider, Effect, Layer } from "effect"
import { configProvider, HELP, parseCli, underFlagNames } from "./layers/Cli.ts"
import { describeConfigError, RedisConfig, ServerConfig } from "./layers/Config.ts"
import * as Logging from "./layers/Logging.ts"
import { runMain } from "./layers/RunMain.ts"
import { Audit } from "./mcp/audit/Audit.ts"
import * as Background from "./mcp/Background.ts"
import { McpEdge, VERSION } from "./mcp/Server.ts"
import { McpConfig } from "./mcp/Settings.ts"
import * as Stdio from "./mcp/Stdio.ts"
import { McpTransport } from "./mcp/Transport.ts"
import * as Stack from "./services/Stack.ts"

const serve = (argv: ReadonlyArray<string>) => {
  const cli = parseCli(argv)
  if (cli._tag === "Help") {
    process.stdout.write(HELP)
    process.exit(0)
  }
  if (cli._tag === "Version") {
    process.stdout.write(`${VERSION}\n`)
    process.exit(0)
  }
  if (cli._tag === "Invalid") {
    process.stderr.write(`effect-redis-mcp: ${cli.message}. See --help.\n`)
    process.exit(2)
  }

  const config = Layer.mergeAll(RedisConfig.layer, ServerConfig.layer, McpConfig.layer)

  const services = Layer.unwrap(
    Effect.map(RedisConfig, (r) =>
      r.mode === "memory"
        ? Layer.merge(
            Stack.layerMemory,
            Layer.effectDiscard(
              Effect.logWarning(
                "no Redis configured (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES): serving from the in-memory store; data lives only as long as this process"
              )
            )
          )
        : Stack.layerRedis
    )
  )

  // Stdio is the only transport so far (the settings refuse http); the HTTP one is picked here too,
  // imported lazily (`Layer.unwrap(Effect.promise(() => import("./mcp/Http.ts")).pipe(Effect.map((m) => m.layer)))`)
  // so a stdio start never loads the HTTP stack or OAuth (test/package/bundle.test.ts checks).
  const transport = Layer.unwrap(Effect.map(McpConfig, () => Stdio.layer))

  // The audit log (REDIS_MCP_AUDIT; its default follows the transport), recorded around each call by the edge.
  const audit = Layer.unwrap(Effect.map(McpConfig, (s) => Audit.layerConfig(s.transport)))

  const server = Layer.mergeAll(transport, Background.layer).pipe(
    Layer.provide(McpEdge.layer.pipe(Layer.provide(audit))),
    Layer.provide(services),
    Layer.provide(config)
  )
  const logging = Layer.unwrap(Effect.map(ServerConfig, (s) => Logging.layer(s.logLevel))).pipe(
    Layer.provide(ServerConfig.layer)
  )

  const main = Effect.flatMap(McpTransport, (t) => t.closed).pipe(
    Effect.provide(server),
    Effect.provide(logging),
    Effect.catchTag("ConfigError", (e) =>
      Effect.sync(() => {
        const problem = underFlagNames(describeConfigError(e), cli.env)
        process.stderr.write(`effect-redis-mcp: invalid configuration: ${problem}\n`)
        process.exitCode = 2
      })
    ),
    Effect.catchTag("AuditFileError", (e) =>
      Effect.sync(() => {
        process.stderr.write(`effect-redis-mcp: invalid configuration: ${e.message}\n`)
        process.exitCode = 2
      })
    ),
    Effect.tapCause((cause) => Effect.sync(() => process.stderr.write(`effect-redis-mcp: fatal: ${cause}\n`))),
    Effect.provide(ConfigProvider.layer(configProvider(process.env, cli.env)))
  )

  runMain(main, { disableErrorReporting: true })
}

const argv = process.argv.slice(2)
if (argv[0] === "doctor") {
  // An operator's command, not the MCP server: its report goes to stdout.
  const { doctorCommand } = await import("./mcp/doctor/DoctorCommand.ts")
  doctorCommand(argv.slice(1), process.env, {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text)
  }).then((code) => {
    // Exit once stdout is flushed: a Redis client being released must not hold the process (or cut the report).
    process.stdout.write("", () => process.exit(code))
  })
} else {
  serve(argv)
}
