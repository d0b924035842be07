/**
 * doctor's checks put together: the configuration read as the server reads it (invalid: the
 * report says so and exits 2), then the local checks, then Redis through the same connection
 * layer as the server (or the memory-mode notes). DoctorCommand.ts is the command around it.
 */
import { Effect, Layer, References } from "effect"
import { describeConfigError, RedisConfig, ServerConfig } from "../../layers/Config.ts"
import { RedisClient } from "../../layers/RedisClient.ts"
import { Admin } from "../../services/Admin.ts"
import { AuthSettings } from "../auth/AuthSettings.ts"
import { make as makeAuthStore } from "../auth/AuthStore.ts"
import { VERSION } from "../Server.ts"
import { aclCheck } from "./AclCheck.ts"
import { catalog, type DoctorSettings, doctorSettings, redisUser } from "./DoctorSettings.ts"
import {
  auditCheck,
  authFileCheck,
  commandToolsetCheck,
  configCheck,
  httpAuthCheck,
  oauthCheck
} from "./LocalChecks.ts"
import { shortError } from "./Probe.ts"
import {
  defaultUserCheck,
  maxmemoryCheck,
  persistenceCheck,
  protectedModeCheck,
  topologyCheck,
  topologyFromInfo,
  versionCheck
} from "./RedisChecks.ts"
import { type Check, check, makeReport, type Report } from "./Report.ts"
import { certificatesCheck, tlsCheck } from "./TlsCheck.ts"

export interface DoctorOptions {
  /** Print one JSON object instead of text. */
  readonly json: boolean
  /** The Redis user whose permissions ACL DRYRUN checks. @default the configured user */
  readonly aclUser?: string | undefined
}

/** The Redis checks, in report order (each is reported even when it cannot run). */
export const REDIS_CHECKS = [
  ["redis.connection", "Redis connection"],
  ["redis.version", "Redis version"],
  ["redis.topology", "Mode and topology"],
  ["redis.acl", "ACL permissions"],
  ["redis.protected-mode", "protected-mode"],
  ["redis.default-user", "Default user and requirepass"],
  ["redis.maxmemory", "maxmemory and eviction"],
  ["redis.persistence", "Persistence"],
  ["tls", "TLS to Redis"],
  ["tls.certificates", "TLS certificates"]
] as const

/** `host:port` of the nodes the settings name (before connecting). */
const configuredAddresses = (s: DoctorSettings): ReadonlyArray<string> => {
  if (s.redis.mode === "cluster") return s.redis.clusterNodes.map((n) => `${n.host}:${n.port}`)
  if (s.redis.mode === "standalone" && s.redis.url !== undefined && URL.canParse(s.redis.url)) {
    const url = new URL(s.redis.url)
    return [`${url.hostname}:${url.port || 6379}`]
  }
  return []
}

const memoryChecks = (): ReadonlyArray<Check> =>
  REDIS_CHECKS.map(([id, title]) => {
    if (id === "redis.connection") {
      return check(
        id,
        title,
        "pass",
        "memory mode: no Redis configured (REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES); the in-memory store serves, one process only."
      )
    }
    if (id === "redis.persistence") {
      return check(
        id,
        title,
        "warn",
        "memory mode: every key, task and state document is lost when the process exits.",
        "Set REDIS_URL to a Redis with persistence for anything that must outlive the process."
      )
    }
    return check(id, title, "pass", "not applicable in memory mode.")
  })

const redisChecks = (s: DoctorSettings, options: DoctorOptions, now: number) =>
  Effect.gen(function* () {
    const redis = yield* RedisClient
    const admin = yield* Admin
    const connected = yield* Effect.result(redis.awaitReady(s.redis.connectTimeoutMs))
    if (connected._tag === "Failure") {
      const health = yield* redis.health
      const addresses = configuredAddresses(s)
      return [
        check(
          "redis.connection",
          "Redis connection",
          "fail",
          `cannot reach ${health.target} within ${s.redis.connectTimeoutMs} ms${health.lastError === null ? "" : `: ${health.lastError}`}.`,
          "Check that Redis runs and this host reaches it (REDIS_URL / REDIS_SENTINELS / REDIS_CLUSTER_NODES, firewall), and the credentials and TLS settings."
        ),
        ...REDIS_CHECKS.slice(1, -2).map(([id, title]) => check(id, title, "skip", "not run: Redis is unreachable.")),
        tlsCheck(s.redis, addresses),
        check("tls.certificates", "TLS certificates", "skip", "not run: Redis is unreachable.")
      ]
    }
    const health = yield* redis.health
    const addresses = yield* Effect.map(redis.primaries, (p) => p.map((n) => n.address)).pipe(
      Effect.catch(() => Effect.succeed(configuredAddresses(s)))
    )
    const topology = yield* admin.topology.pipe(
      Effect.catch((e) =>
        Effect.map(topologyFromInfo(redis, s.redis), (t) => (typeof t === "string" ? shortError(e.message) : t))
      ),
      Effect.map((t) =>
        typeof t === "string"
          ? check(
              "redis.topology",
              "Mode and topology",
              "warn",
              `could not read the topology: ${t}`,
              "Allow the user ROLE and INFO (and CLUSTER NODES on a Cluster)."
            )
          : topologyCheck(s.redis, t)
      )
    )
    return [
      check(
        "redis.connection",
        "Redis connection",
        "pass",
        `connected to ${health.target}${health.latencyMs === null ? "" : ` (round trip ${health.latencyMs} ms)`}.`
      ),
      yield* versionCheck(redis),
      topology,
      yield* aclCheck(redis, {
        toolsets: s.mcp.toolsets,
        readOnly: s.mcp.readOnly,
        keyPrefix: s.server.keyPrefix,
        user: options.aclUser ?? redisUser(s.redis)
      }),
      yield* protectedModeCheck(redis),
      yield* defaultUserCheck(redis, s.redis),
      yield* maxmemoryCheck(redis),
      yield* persistenceCheck(redis),
      tlsCheck(s.redis, addresses),
      yield* certificatesCheck(s.redis, addresses, now)
    ]
  }).pipe(
    Effect.scoped,
    Effect.provide(
      Admin.layer.pipe(
        Layer.provideMerge(RedisClient.layer),
        Layer.provide(Layer.mergeAll(Layer.succeed(RedisConfig, s.redis), Layer.succeed(ServerConfig, s.server)))
      )
    )
  )

/** Every check, as a report. Needs the ConfigProvider the server would read. */
export const diagnose = (options: DoctorOptions): Effect.Effect<Report, never, never> =>
  Effect.gen(function* () {
    const read = yield* Effect.result(doctorSettings)
    if (read._tag === "Failure") {
      return makeReport(
        VERSION,
        [
          check(
            "config",
            "Configuration",
            "fail",
            describeConfigError(read.failure),
            "Fix the setting named; the server would exit 2 on it."
          )
        ],
        true
      )
    }
    const s = read.success
    const loaded =
      s.auth.authFile === undefined
        ? undefined
        : yield* makeAuthStore(catalog).pipe(
            Effect.flatMap((store) => store.current),
            Effect.map((state) => ({ state })),
            Effect.catch((e) => Effect.succeed({ error: e.message })),
            Effect.provideService(AuthSettings, s.auth)
          )
    const now = Date.now()
    const checks: Array<Check> = [
      configCheck(s),
      httpAuthCheck(s),
      authFileCheck(s, loaded),
      yield* oauthCheck(s.auth.oauth, 5000),
      commandToolsetCheck(s, loaded !== undefined && "state" in loaded ? loaded.state : undefined),
      auditCheck(s),
      ...(s.redis.mode === "memory" ? memoryChecks() : yield* redisChecks(s, options, now))
    ]
    return makeReport(VERSION, checks, loaded !== undefined && "error" in loaded)
  }).pipe(Effect.provideService(References.MinimumLogLevel, "None"))
