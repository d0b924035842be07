/**
 * The program, loaded by the launcher (main.ts) once the Node version is known
 * to be good. It only composes: flags → configuration → services (Redis or
 * in-memory) → the MCP edge and its background work → the transport → launch,
 * until the client goes away or a signal arrives. stdout carries the protocol
 * only (and the answer to --help / --version); everything else goes to stderr.
 * Subcommands (the table below) and the HTTP transport (with OAuth) are imported
 * only when asked for, so a stdio start never loads them.
 */
import { ConfigProvider, Effect, Layer } from "effect"
import { configProvider, HELP, parseCli, type Subcommand, subcommandOf, underFlagNames } from "./layers/Cli.ts"
import { describeConfigError, RedisConfig, ServerConfig } from "./layers/Config.ts"
import * as CpuProfile from "./layers/CpuProfile.ts"
import * as Logging from "./layers/Logging.ts"
import * as MetricsSettings from "./layers/MetricsSettings.ts"
import { MetricsConfig } from "./layers/MetricsSettings.ts"
import { runMain } from "./layers/RunMain.ts"
import { Audit } from "./mcp/audit/Audit.ts"
import { AuthSettings } from "./mcp/auth/AuthSettings.ts"
import { AuthStore } from "./mcp/auth/AuthStore.ts"
import { PrincipalLimits } from "./mcp/auth/PrincipalLimits.ts"
import * as Background from "./mcp/Background.ts"
import { McpEdge, VERSION } from "./mcp/Server.ts"
import { McpConfig, TOOLSET_CATALOG } from "./mcp/Settings.ts"
import * as Stdio from "./mcp/Stdio.ts"
import { McpTransport } from "./mcp/Transport.ts"
import * as Stack from "./services/Stack.ts"

const out = {
  stdout: (text: string) => process.stdout.write(text),
  stderr: (text: string) => process.stderr.write(text)
}

/** What each subcommand runs (operators' commands: their output goes to stdout); resolves with the exit code. */
const subcommands: Record<Subcommand, (argv: ReadonlyArray<string>) => Promise<number>> = {
  doctor: async (argv) => (await import("./mcp/doctor/DoctorCommand.ts")).doctorCommand(argv, process.env, out),
  "hash-token": async () =>
    (await import("./mcp/auth/HashToken.ts")).hashTokenMain(process.stdin, process.stdout, process.stderr)
}

/** The HTTP transport and what only it needs (the HTTP stack, OAuth), loaded for `--transport http` only. */
const http = Effect.promise(() => import("./mcp/Http.ts"))

/** The loopback listener of `/healthz`, `/readyz`, `/metrics`, loaded only when REDIS_MCP_METRICS_PORT is set. */
const metricsPort = Layer.unwrap(
  Effect.gen(function* () {
    if ((yield* MetricsConfig).port === undefined) return Layer.empty
    return (yield* Effect.promise(() => import("./mcp/HttpMetricsPort.ts"))).layer
  })
)

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

  const config = Layer.mergeAll(
    RedisConfig.layer,
    ServerConfig.layer,
    McpConfig.layer,
    AuthSettings.layer,
    MetricsConfig.layer
  )

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

  // Checked before anything connects: the auth file (both transports: an invalid one stops the
  // start) and the HTTP settings (a non-loopback bind without auth stops it too). Layers are
  // memoized, so the transport below gets these same values.
  const startup = Layer.unwrap(
    Effect.gen(function* () {
      const auth = Layer.mergeAll(AuthStore.layer(TOOLSET_CATALOG), PrincipalLimits.layer)
      if ((yield* McpConfig).transport !== "http") return auth
      return Layer.merge(auth, (yield* http).settingsLayer)
    })
  )

  // The audit log (REDIS_MCP_AUDIT; its default follows the transport), recorded around each call by
  // the edge, and for each refused request by the HTTP transport (one log: layers are memoized).
  const audit = Layer.unwrap(Effect.map(McpConfig, (s) => Audit.layerConfig(s.transport)))

  // The HTTP one is imported lazily, so a stdio start never loads the HTTP stack or OAuth
  // (test/package/bundle.test.ts checks).
  const transport = Layer.unwrap(
    Effect.gen(function* () {
      if ((yield* McpConfig).transport !== "http") return Stdio.layer
      return (yield* http).serviceLayer(audit)
    })
  )

  const server = Layer.mergeAll(transport, Background.layer, CpuProfile.layer, metricsPort).pipe(
    Layer.provide(McpEdge.layer.pipe(Layer.provide(audit))),
    Layer.provide(services),
    Layer.provide(startup),
    Layer.provide(config)
  )
  const logging = Layer.unwrap(Effect.map(ServerConfig, (s) => Logging.layer(s.logLevel))).pipe(
    Layer.provide(ServerConfig.layer)
  )
  // What the recording layers read: the queue-depth settings; with REDIS_MCP_METRICS=off, the flag and a
  // registry that keeps nothing.
  const metrics = Layer.unwrap(Effect.map(MetricsConfig, MetricsSettings.layer)).pipe(
    Layer.provide(MetricsConfig.layer)
  )

  const main = Effect.flatMap(McpTransport, (t) => t.closed).pipe(
    Effect.provide(server),
    Effect.provide(logging),
    Effect.provide(metrics),
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
    Effect.catchTag("AuthFileError", (e) =>
      Effect.sync(() => {
        process.stderr.write(`effect-redis-mcp: ${e.message}\n`)
        process.exitCode = 2
      })
    ),
    Effect.tapCause((cause) => Effect.sync(() => process.stderr.write(`effect-redis-mcp: fatal: ${cause}\n`))),
    Effect.provide(ConfigProvider.layer(configProvider(process.env, cli.env)))
  )

  runMain(main, { disableErrorReporting: true })
}

const argv = process.argv.slice(2)
const subcommand = subcommandOf(argv)
if (subcommand === undefined) serve(argv)
else {
  subcommands[subcommand](argv.slice(1)).then((code) => {
    // Exit once stdout is flushed: a Redis client being released must not hold the process (or cut the output).
    process.stdout.write("", () => process.exit(code))
  })
}
