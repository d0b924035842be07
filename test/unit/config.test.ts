/**
 * Configuration: CLI flag > environment > default, validation with one clear
 * message naming the setting, toolset expansion, boolean spellings.
 */
import { assert, describe, it } from "@effect/vitest"
import { type ConfigProvider, Effect, Redacted } from "effect"
import { configProvider, parseCli } from "../../src/layers/Cli.ts"
import { describeConfigError, redisSettingsConfig, serverSettingsConfig } from "../../src/layers/Config.ts"
import { DEFAULT_TOOLSETS, mcpSettingsConfig, parseToolsets, TOOLSETS } from "../../src/mcp/Settings.ts"

/** The provider program.ts builds from `process.env` and argv. */
const provider = (env: Record<string, string>, argv: ReadonlyArray<string> = []): ConfigProvider.ConfigProvider => {
  const cli = parseCli(argv)
  if (cli._tag !== "Run") throw new Error(`unexpected CLI result ${cli._tag}`)
  return configProvider(env, cli.env)
}

const settings = (env: Record<string, string>, argv: ReadonlyArray<string> = []) =>
  Effect.all({
    redis: redisSettingsConfig.parse(provider(env, argv)),
    // The services' settings and the MCP edge's, as one view (they come from one provider).
    server: Effect.map(
      Effect.all([serverSettingsConfig.parse(provider(env, argv)), mcpSettingsConfig.parse(provider(env, argv))]),
      ([services, mcp]) => ({ ...services, ...mcp })
    )
  })

/** The one-line message program.ts prints (before naming flags) for an invalid configuration. */
const failure = (env: Record<string, string>, argv: ReadonlyArray<string> = []) =>
  settings(env, argv).pipe(
    Effect.flip,
    Effect.map((e) => describeConfigError(e))
  )

describe("defaults", () => {
  it.effect("an empty environment serves from memory with the default toolsets", () =>
    Effect.gen(function* () {
      const { redis, server } = yield* settings({})
      assert.strictEqual(redis.mode, "memory")
      assert.isUndefined(redis.url)
      assert.strictEqual(redis.commandTimeoutMs, 5000)
      assert.strictEqual(redis.connectTimeoutMs, 5000)
      assert.deepStrictEqual(redis.retry, { baseMs: 100, maxMs: 5000, factor: 2 })
      assert.isFalse(redis.tls.enabled)
      assert.deepStrictEqual(server.toolsets, DEFAULT_TOOLSETS)
      assert.deepStrictEqual([...DEFAULT_TOOLSETS], ["keys", "task", "state"])
      assert.isFalse(server.readOnly)
      assert.strictEqual(server.keyPrefix, "")
      assert.strictEqual(server.transport, "stdio")
      assert.strictEqual(server.httpHost, "127.0.0.1")
      assert.strictEqual(server.httpPort, 3000)
      assert.strictEqual(server.logLevel, "Info")
      assert.deepStrictEqual(server.limits, {
        maxValueBytes: 1048576,
        maxOutputBytes: 1048576,
        maxItems: 1000,
        maxKeyBytes: 8192
      })
    })
  )

  it.effect("an empty variable counts as unset", () =>
    Effect.gen(function* () {
      const { redis, server } = yield* settings({ REDIS_URL: "", REDIS_MCP_TOOLSETS: "" })
      assert.strictEqual(redis.mode, "memory")
      assert.deepStrictEqual(server.toolsets, DEFAULT_TOOLSETS)
    })
  )
})

describe("precedence: flag > environment > default", () => {
  it.effect("the environment overrides defaults", () =>
    Effect.gen(function* () {
      const { redis, server } = yield* settings({
        REDIS_URL: "redis://127.0.0.1:6390/2",
        REDIS_MCP_TOOLSETS: "stream",
        REDIS_MCP_READ_ONLY: "true",
        REDIS_MCP_KEY_PREFIX: "app:",
        REDIS_MCP_LOG_LEVEL: "DEBUG",
        REDIS_COMMAND_TIMEOUT_MS: "1500",
        REDIS_RETRY_BASE_MS: "50",
        REDIS_RETRY_MAX_MS: "800",
        REDIS_MCP_MAX_ITEMS: "10"
      })
      assert.strictEqual(redis.mode, "standalone")
      assert.strictEqual(redis.url, "redis://127.0.0.1:6390/2")
      assert.strictEqual(redis.commandTimeoutMs, 1500)
      assert.deepStrictEqual(redis.retry, { baseMs: 50, maxMs: 800, factor: 2 })
      assert.deepStrictEqual(server.toolsets, ["stream"])
      assert.isTrue(server.readOnly)
      assert.strictEqual(server.keyPrefix, "app:")
      assert.strictEqual(server.logLevel, "Debug")
      assert.strictEqual(server.limits.maxItems, 10)
    })
  )

  it.effect("a flag overrides the environment", () =>
    Effect.gen(function* () {
      const env = {
        REDIS_URL: "redis://127.0.0.1:6390",
        REDIS_MCP_TOOLSETS: "stream",
        REDIS_MCP_KEY_PREFIX: "env:",
        REDIS_COMMAND_TIMEOUT_MS: "1500",
        REDIS_MCP_LOG_LEVEL: "warn",
        REDIS_MCP_HTTP_PORT: "4000"
      }
      const { redis, server } = yield* settings(env, [
        "--redis-url",
        "redis://127.0.0.1:6391",
        "--toolsets",
        "hash,list",
        "--key-prefix",
        "flag:",
        "--command-timeout-ms",
        "700",
        "--log-level",
        "error",
        "--port",
        "4001",
        "--read-only"
      ])
      assert.strictEqual(redis.url, "redis://127.0.0.1:6391")
      assert.strictEqual(redis.commandTimeoutMs, 700)
      assert.deepStrictEqual(server.toolsets, ["hash", "list"])
      assert.strictEqual(server.keyPrefix, "flag:")
      assert.strictEqual(server.logLevel, "Error")
      assert.strictEqual(server.httpPort, 4001)
      assert.isTrue(server.readOnly)
    })
  )

  it.effect("a flag fixes an invalid environment value, and vice versa a bad flag is reported", () =>
    Effect.gen(function* () {
      const { server } = yield* settings({ REDIS_MCP_TOOLSETS: "bogus" }, ["--toolsets", "all"])
      assert.deepStrictEqual(server.toolsets, TOOLSETS)
      const message = yield* failure({ REDIS_MCP_TOOLSETS: "keys" }, ["--toolsets", "bogus"])
      assert.match(message, /^REDIS_MCP_TOOLSETS: unknown toolset "bogus"/)
    })
  )

  it.effect("settings without a flag still come from the environment", () =>
    Effect.gen(function* () {
      const { redis, server } = yield* settings({ REDIS_MCP_KEY_PREFIX: "env:", REDIS_PASSWORD: "s3cret" }, [
        "--toolsets",
        "keys"
      ])
      assert.strictEqual(server.keyPrefix, "env:")
      assert.strictEqual(Redacted.value(redis.password!), "s3cret")
    })
  )
})

describe("validation: one line naming the setting", () => {
  const cases: ReadonlyArray<readonly [string, Record<string, string>, RegExp]> = [
    ["bad REDIS_URL scheme", { REDIS_URL: "http://127.0.0.1:6379" }, /^REDIS_URL: must start with redis:\/\//],
    ["unknown toolset", { REDIS_MCP_TOOLSETS: "keys,bogus" }, /^REDIS_MCP_TOOLSETS: unknown toolset "bogus"; known: /],
    ["only commas as toolsets", { REDIS_MCP_TOOLSETS: " , " }, /^REDIS_MCP_TOOLSETS: no toolset named/],
    [
      "port out of range",
      { REDIS_MCP_HTTP_PORT: "99999" },
      /^REDIS_MCP_HTTP_PORT: expected a value between 0 and 65535/
    ],
    ["port not a number", { REDIS_MCP_HTTP_PORT: "http" }, /^REDIS_MCP_HTTP_PORT: expected /],
    ["bad boolean", { REDIS_MCP_READ_ONLY: "maybe" }, /^REDIS_MCP_READ_ONLY: expected .*"true".*"false"/],
    ["bad TLS boolean", { REDIS_TLS_INSECURE: "sure" }, /^REDIS_TLS_INSECURE: expected /],
    [
      "sentinels without a master",
      { REDIS_SENTINELS: "127.0.0.1:26379" },
      /^REDIS_SENTINEL_MASTER: is required when REDIS_SENTINELS is set/
    ],
    ["bad sentinel address", { REDIS_SENTINELS: "127.0.0.1", REDIS_SENTINEL_MASTER: "m" }, /^REDIS_SENTINELS: /],
    ["bad cluster node", { REDIS_CLUSTER_NODES: "127.0.0.1:7000,nohost" }, /^REDIS_CLUSTER_NODES: "nohost" is not/],
    ["zero timeout", { REDIS_COMMAND_TIMEOUT_MS: "0" }, /^REDIS_COMMAND_TIMEOUT_MS: must be a whole number above 0/],
    [
      "timeout not a number",
      { REDIS_COMMAND_TIMEOUT_MS: "soon" },
      /^REDIS_COMMAND_TIMEOUT_MS: must be a whole number above 0, got "soon"$/
    ],
    [
      "timeout not whole",
      { REDIS_COMMAND_TIMEOUT_MS: "2.5" },
      /^REDIS_COMMAND_TIMEOUT_MS: must be a whole number above 0, got "2.5"$/
    ],
    [
      "timeout negative",
      { REDIS_COMMAND_TIMEOUT_MS: "-1" },
      /^REDIS_COMMAND_TIMEOUT_MS: must be a whole number above 0, got "-1"$/
    ],
    [
      "timeout beyond a safe integer",
      { REDIS_COMMAND_TIMEOUT_MS: "99999999999999999999" },
      /^REDIS_COMMAND_TIMEOUT_MS: must be a whole number above 0, got "99999999999999999999"$/
    ],
    [
      "unknown timeout mode",
      { REDIS_COMMAND_TIMEOUT_MODE: "smart" },
      /^REDIS_COMMAND_TIMEOUT_MODE: expected "adaptive"/
    ],
    [
      "zero timeout floor",
      { REDIS_COMMAND_TIMEOUT_MIN_MS: "0" },
      /^REDIS_COMMAND_TIMEOUT_MIN_MS: must be a whole number/
    ],
    ["unknown log level", { REDIS_MCP_LOG_LEVEL: "loud" }, /^REDIS_MCP_LOG_LEVEL: "loud" is not one of /],
    ["unknown transport", { REDIS_MCP_TRANSPORT: "tcp" }, /^REDIS_MCP_TRANSPORT: expected "stdio" \| "http"/],
    ["bad scaleReads", { REDIS_CLUSTER_SCALE_READS: "any" }, /^REDIS_CLUSTER_SCALE_READS: expected /],
    ["bad NAT map", { REDIS_CLUSTER_NAT_MAP: "10.0.0.1:7000" }, /^REDIS_CLUSTER_NAT_MAP: /],
    ["NAT map port out of range", { REDIS_CLUSTER_NAT_MAP: "a:1=10.0.0.1:70000" }, /^REDIS_CLUSTER_NAT_MAP: /],
    ["REDIS_URL port out of range", { REDIS_URL: "redis://127.0.0.1:99999" }, /^REDIS_URL: is not a valid URL/],
    ["REDIS_URL port 0", { REDIS_URL: "redis://127.0.0.1:0" }, /^REDIS_URL: port 0 is out of range/],
    ["REDIS_URL not a URL", { REDIS_URL: "redis://[::1" }, /^REDIS_URL: is not a valid URL/],
    ["REDIS_URL db not a number", { REDIS_URL: "redis://127.0.0.1:6379/zero" }, /^REDIS_URL: the path must be/],
    ["REDIS_URL bad %-escape", { REDIS_URL: "redis://u:%E0%A4%A@127.0.0.1" }, /^REDIS_URL: the user or password/],
    ["HTTP host with a scheme", { REDIS_MCP_HTTP_HOST: "http://0.0.0.0" }, /^REDIS_MCP_HTTP_HOST: /],
    ["HTTP host with a port", { REDIS_MCP_HTTP_HOST: "localhost:3000" }, /^REDIS_MCP_HTTP_HOST: /],
    [
      "key bytes over the ceiling",
      { REDIS_MCP_MAX_KEY_BYTES: "65537" },
      /^REDIS_MCP_MAX_KEY_BYTES: must be at most 65536/
    ],
    ["zero key bytes", { REDIS_MCP_MAX_KEY_BYTES: "0" }, /^REDIS_MCP_MAX_KEY_BYTES: must be a whole number above 0/]
  ]
  for (const [title, env, expected] of cases) {
    it.effect(title, () =>
      Effect.gen(function* () {
        const message = yield* failure(env)
        assert.match(message, expected)
        assert.notInclude(message, "\n")
      })
    )
  }
})

describe("URLs and hosts that are fine", () => {
  it.effect("ioredis URL forms, IPv6 and host names pass; the URL's password is never in a message", () =>
    Effect.gen(function* () {
      for (const url of [
        "redis://127.0.0.1:6379",
        "redis://127.0.0.1",
        "rediss://user:p%40ss@cache.example:6380/2",
        "redis://:secret@[::1]:6379/0",
        "redis://127.0.0.1:6379/"
      ]) {
        const { redis } = yield* settings({ REDIS_URL: url })
        assert.strictEqual(redis.url, url)
      }
      for (const host of ["127.0.0.1", "::1", "[::1]", "localhost", "mcp.internal"]) {
        const { server } = yield* settings({ REDIS_MCP_HTTP_HOST: host })
        assert.strictEqual(server.httpHost, host)
      }
      assert.notInclude(yield* failure({ REDIS_URL: "redis://u:s3cret@127.0.0.1:99999" }), "s3cret")
      assert.strictEqual((yield* settings({ REDIS_MCP_MAX_KEY_BYTES: "65536" })).server.limits.maxKeyBytes, 65536)
    })
  )
})

describe("booleans", () => {
  it.effect("accept 1/0, true/false, yes/no", () =>
    Effect.gen(function* () {
      for (const [raw, expected] of [
        ["1", true],
        ["0", false],
        ["true", true],
        ["false", false],
        ["yes", true],
        ["no", false]
      ] as const) {
        const { redis, server } = yield* settings({ REDIS_MCP_READ_ONLY: raw, REDIS_TLS_INSECURE: raw })
        assert.strictEqual(server.readOnly, expected, `REDIS_MCP_READ_ONLY=${raw}`)
        assert.strictEqual(redis.tls.insecure, expected, `REDIS_TLS_INSECURE=${raw}`)
      }
    })
  )
})

describe("toolsets", () => {
  it("default expands to keys, task, state", () => {
    assert.deepStrictEqual(parseToolsets("default"), ["keys", "task", "state"])
  })
  it("default,stream adds stream to the defaults", () => {
    assert.deepStrictEqual(parseToolsets("default,stream"), ["keys", "task", "state", "stream"])
  })
  it("all is every toolset", () => {
    assert.deepStrictEqual(parseToolsets("all"), [...TOOLSETS])
    assert.deepStrictEqual(parseToolsets("keys,all"), ["keys", ...TOOLSETS.filter((t) => t !== "keys")])
  })
  it("names are trimmed, case-insensitive and deduplicated", () => {
    assert.deepStrictEqual(parseToolsets(" Hash , LIST,hash,"), ["hash", "list"])
  })
  it("an unknown name is an error listing the known ones", () => {
    const result = parseToolsets("keys,strings")
    assert.isString(result)
    assert.include(result as string, '"strings"')
    for (const t of TOOLSETS) assert.include(result as string, t)
  })
})

describe("Redis mode and TLS", () => {
  it.effect("scaleReads takes primary and replica as names for master and slave", () =>
    Effect.gen(function* () {
      assert.strictEqual((yield* settings({ REDIS_CLUSTER_SCALE_READS: "replica" })).redis.scaleReads, "slave")
      assert.strictEqual((yield* settings({ REDIS_CLUSTER_SCALE_READS: "primary" })).redis.scaleReads, "master")
      assert.strictEqual((yield* settings({ REDIS_CLUSTER_SCALE_READS: "all" })).redis.scaleReads, "all")
    })
  )
  it.effect("picks the topology from what is set", () =>
    Effect.gen(function* () {
      assert.strictEqual((yield* settings({ REDIS_URL: "redis://127.0.0.1:6379" })).redis.mode, "standalone")
      const sentinel = (yield* settings({
        REDIS_SENTINELS: "127.0.0.1:26379, 127.0.0.1:26380",
        REDIS_SENTINEL_MASTER: "mymaster"
      })).redis
      assert.strictEqual(sentinel.mode, "sentinel")
      assert.deepStrictEqual(sentinel.sentinels, [
        { host: "127.0.0.1", port: 26379 },
        { host: "127.0.0.1", port: 26380 }
      ])
      const cluster = (yield* settings({ REDIS_CLUSTER_NODES: "127.0.0.1:7000,[::1]:7001" })).redis
      assert.strictEqual(cluster.mode, "cluster")
      assert.deepStrictEqual(cluster.clusterNodes, [
        { host: "127.0.0.1", port: 7000 },
        { host: "::1", port: 7001 }
      ])
    })
  )

  it.effect("rediss:// or a CA file turns TLS on; files and servername are kept", () =>
    Effect.gen(function* () {
      assert.isTrue((yield* settings({ REDIS_URL: "rediss://127.0.0.1:6380" })).redis.tls.enabled)
      const { tls } = (yield* settings({
        REDIS_URL: "redis://127.0.0.1:6380",
        REDIS_TLS_CA_FILE: "/etc/redis/ca.crt",
        REDIS_TLS_CERT_FILE: "/etc/redis/client.crt",
        REDIS_TLS_KEY_FILE: "/etc/redis/client.key",
        REDIS_TLS_SERVERNAME: "redis.internal"
      })).redis
      assert.deepStrictEqual(tls, {
        enabled: true,
        caFile: "/etc/redis/ca.crt",
        certFile: "/etc/redis/client.crt",
        keyFile: "/etc/redis/client.key",
        servername: "redis.internal",
        insecure: false
      })
    })
  )

  it.effect("passwords are redacted when printed", () =>
    Effect.gen(function* () {
      const { redis } = yield* settings({ REDIS_URL: "redis://127.0.0.1:6379", REDIS_PASSWORD: "hunter2" })
      assert.notInclude(String(redis.password), "hunter2")
      assert.notInclude(JSON.stringify(redis), "hunter2")
      assert.strictEqual(Redacted.value(redis.password!), "hunter2")
    })
  )

  it.effect("a retry cap below the base is raised to the base", () =>
    Effect.gen(function* () {
      const { redis } = yield* settings({ REDIS_RETRY_BASE_MS: "500", REDIS_RETRY_MAX_MS: "100" })
      assert.deepStrictEqual(redis.retry, { baseMs: 500, maxMs: 500, factor: 2 })
    })
  )
})

describe("command timeouts", () => {
  it.effect("adaptive by default, floored at 1000 ms and capped by REDIS_COMMAND_TIMEOUT_MS", () =>
    Effect.gen(function* () {
      const { redis } = yield* settings({})
      assert.strictEqual(redis.commandTimeoutMode, "adaptive")
      assert.strictEqual(redis.commandTimeoutMinMs, 1000)
      assert.strictEqual(redis.commandTimeoutMs, 5000)
    })
  )

  it.effect("fixed mode and the floor are read from the environment; a floor above the cap is lowered to it", () =>
    Effect.gen(function* () {
      const fixed = (yield* settings({ REDIS_COMMAND_TIMEOUT_MODE: "fixed", REDIS_COMMAND_TIMEOUT_MIN_MS: "200" }))
        .redis
      assert.strictEqual(fixed.commandTimeoutMode, "fixed")
      assert.strictEqual(fixed.commandTimeoutMinMs, 200)
      const low = (yield* settings({ REDIS_COMMAND_TIMEOUT_MIN_MS: "2000" }, ["--command-timeout-ms", "800"])).redis
      assert.strictEqual(low.commandTimeoutMs, 800)
      assert.strictEqual(low.commandTimeoutMinMs, 800)
    })
  )
})
