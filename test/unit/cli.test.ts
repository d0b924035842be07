/**
 * Command-line flags: each flag becomes the environment setting it overrides;
 * help, version and invalid usage are recognised before anything starts.
 */
import { assert, describe, it } from "@effect/vitest"
import { HELP, parseCli, underFlagNames } from "../../src/layers/Cli.ts"

const run = (argv: ReadonlyArray<string>) => {
  const result = parseCli(argv)
  assert.strictEqual(result._tag, "Run", JSON.stringify(result))
  return result._tag === "Run" ? result.env : {}
}

describe("parseCli", () => {
  it("no flags: nothing overridden", () => {
    assert.deepStrictEqual(run([]), {})
  })

  it("maps every value flag to its environment setting", () => {
    const env = run([
      "--redis-url=redis://127.0.0.1:6390",
      "--cluster-nodes",
      "127.0.0.1:7000",
      "--sentinels",
      "127.0.0.1:26379",
      "--sentinel-master",
      "mymaster",
      "--toolsets",
      "default,stream",
      "--key-prefix",
      "app:",
      "--transport",
      "http",
      "--host",
      "0.0.0.0",
      "--port",
      "8080",
      "--log-level",
      "debug",
      "--command-timeout-ms",
      "250"
    ])
    assert.deepStrictEqual(env, {
      REDIS_URL: "redis://127.0.0.1:6390",
      REDIS_CLUSTER_NODES: "127.0.0.1:7000",
      REDIS_SENTINELS: "127.0.0.1:26379",
      REDIS_SENTINEL_MASTER: "mymaster",
      REDIS_MCP_TOOLSETS: "default,stream",
      REDIS_MCP_KEY_PREFIX: "app:",
      REDIS_MCP_TRANSPORT: "http",
      REDIS_MCP_HTTP_HOST: "0.0.0.0",
      REDIS_MCP_HTTP_PORT: "8080",
      REDIS_MCP_LOG_LEVEL: "debug",
      REDIS_COMMAND_TIMEOUT_MS: "250"
    })
  })

  it("--read-only sets REDIS_MCP_READ_ONLY=true", () => {
    assert.deepStrictEqual(run(["--read-only"]), { REDIS_MCP_READ_ONLY: "true" })
  })

  it("the last occurrence of a flag wins", () => {
    assert.deepStrictEqual(run(["--toolsets", "keys", "--toolsets", "all"]), { REDIS_MCP_TOOLSETS: "all" })
  })

  it("--help / -h and --version / -v", () => {
    assert.strictEqual(parseCli(["--help"])._tag, "Help")
    assert.strictEqual(parseCli(["-h"])._tag, "Help")
    assert.strictEqual(parseCli(["--version"])._tag, "Version")
    assert.strictEqual(parseCli(["-v"])._tag, "Version")
    assert.strictEqual(parseCli(["--toolsets", "all", "--help"])._tag, "Help")
  })

  it("an unknown flag, a positional argument or a missing value is invalid, with a message", () => {
    for (const argv of [["--bogus"], ["redis://127.0.0.1"], ["--toolsets"], ["--read-only=yes"]]) {
      const result = parseCli(argv)
      assert.strictEqual(result._tag, "Invalid", argv.join(" "))
      if (result._tag === "Invalid") assert.isAbove(result.message.length, 0)
    }
    const unknown = parseCli(["--bogus"])
    if (unknown._tag === "Invalid") assert.include(unknown.message, "--bogus")
  })

  it("the help text documents every flag and the variable it overrides", () => {
    for (const text of [
      "--redis-url",
      "REDIS_URL",
      "--cluster-nodes",
      "REDIS_CLUSTER_NODES",
      "--sentinels",
      "--sentinel-master",
      "--toolsets",
      "REDIS_MCP_TOOLSETS",
      "--read-only",
      "REDIS_MCP_READ_ONLY",
      "--key-prefix",
      "--transport",
      "--host",
      "--port",
      "--log-level",
      "--command-timeout-ms",
      "REDIS_COMMAND_TIMEOUT_MS",
      "--help",
      "--version"
    ]) {
      assert.include(HELP, text)
    }
  })

  it("a configuration message names the flag for a setting that came from one, the variable otherwise", () => {
    const fromFlags = run(["--command-timeout-ms", "0", "--sentinels", "127.0.0.1:1", "--read-only"])
    assert.strictEqual(
      underFlagNames('REDIS_COMMAND_TIMEOUT_MS: must be a whole number above 0, got "0"', fromFlags),
      '--command-timeout-ms: must be a whole number above 0, got "0"'
    )
    assert.strictEqual(
      underFlagNames("REDIS_SENTINEL_MASTER: is required when REDIS_SENTINELS is set", fromFlags),
      "REDIS_SENTINEL_MASTER: is required when --sentinels is set"
    )
    assert.strictEqual(
      underFlagNames("REDIS_MCP_READ_ONLY: expected a boolean", fromFlags),
      "--read-only: expected a boolean"
    )
    assert.strictEqual(
      underFlagNames('REDIS_COMMAND_TIMEOUT_MS: must be a whole number above 0, got "0"', {}),
      'REDIS_COMMAND_TIMEOUT_MS: must be a whole number above 0, got "0"'
    )
    // Only whole names: a setting that merely starts like a flag's variable is left alone.
    assert.strictEqual(
      underFlagNames("REDIS_URL_X and REDIS_URL", run(["--redis-url", "x"])),
      "REDIS_URL_X and --redis-url"
    )
  })
})
