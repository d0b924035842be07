/**
 * doctor's checks that need no Redis: auth on the HTTP listener, the raw command toolset, the
 * audit destination; its own flags; the report's exit codes and text layout.
 */
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect } from "effect"
import { makeRole } from "../../src/mcp/auth/Role.ts"
import { parseDoctorArgs } from "../../src/mcp/doctor/DoctorCommand.ts"
import { type DoctorSettings, doctorSettings, redisUser } from "../../src/mcp/doctor/DoctorSettings.ts"
import { auditCheck, commandToolsetCheck, httpAuthCheck } from "../../src/mcp/doctor/LocalChecks.ts"
import { isLoopbackHost } from "../../src/mcp/doctor/Probe.ts"
import { check, makeReport, renderText } from "../../src/mcp/doctor/Report.ts"

const settings = (env: Record<string, string>) =>
  Effect.runSync(
    doctorSettings.pipe(Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromEnvRecord(env)))
  )

/** The HTTP transport is not served yet, so its settings are set by hand here. */
const overHttp = (s: DoctorSettings, host: string, extra: Partial<DoctorSettings> = {}): DoctorSettings => ({
  ...s,
  mcp: { ...s.mcp, transport: "http", httpHost: host },
  ...extra
})

describe("doctor: local checks", () => {
  const base = settings({})

  it("HTTP auth: stdio passes; loopback passes; a public bind without auth fails, or warns when explicitly allowed", () => {
    assert.strictEqual(httpAuthCheck(base).status, "pass")
    assert.strictEqual(httpAuthCheck(overHttp(base, "127.0.0.1")).status, "pass")
    const open = httpAuthCheck(overHttp(base, "0.0.0.0"))
    assert.strictEqual(open.status, "fail")
    assert.include(open.found, "refuses to start")
    assert.strictEqual(httpAuthCheck(overHttp(base, "0.0.0.0", { allowUnauthenticated: true })).status, "warn")
    const withAuth = overHttp(base, "0.0.0.0", { auth: { ...base.auth, authFile: "/etc/x.json" } })
    assert.strictEqual(httpAuthCheck(withAuth).status, "pass")
  })

  it("command toolset: off passes; on without a role warns; roles with it but no keys list warn", () => {
    assert.strictEqual(commandToolsetCheck(base, undefined).status, "pass")
    const on = settings({ REDIS_MCP_TOOLSETS: "default,command" })
    assert.strictEqual(commandToolsetCheck(on, undefined).status, "warn")
    const roles = new Map([
      ["scoped", makeRole("scoped", { toolsets: ["command"], keys: ["app:*"] })],
      ["wide", makeRole("wide", { toolsets: ["keys", "command"] })]
    ])
    const http = overHttp(on, "127.0.0.1", { auth: { ...on.auth, authFile: "/etc/x.json" } })
    const state = { path: "/etc/x.json", roles, tokens: [] }
    const wide = commandToolsetCheck(http, state)
    assert.strictEqual(wide.status, "warn")
    assert.include(wide.found, 'roles "wide"')
    roles.delete("wide")
    assert.strictEqual(commandToolsetCheck(http, state).status, "pass")
  })

  it("audit: off on HTTP warns; an unwritable path warns", () => {
    assert.strictEqual(auditCheck(base).status, "pass")
    assert.strictEqual(auditCheck(overHttp(base, "127.0.0.1")).status, "warn")
    const file = settings({ REDIS_MCP_AUDIT: "/proc/nope/audit.log" })
    assert.strictEqual(auditCheck(file).status, "warn")
  })

  it("the Redis user: REDIS_USERNAME, else the URL's, else default", () => {
    assert.strictEqual(redisUser(settings({ REDIS_URL: "redis://u%40x:p@127.0.0.1:1" }).redis), "u@x")
    assert.strictEqual(redisUser(settings({ REDIS_URL: "redis://u:p@127.0.0.1:1", REDIS_USERNAME: "v" }).redis), "v")
    assert.strictEqual(redisUser(settings({ REDIS_URL: "redis://127.0.0.1:1" }).redis), "default")
  })

  it("loopback hosts", () => {
    for (const h of ["127.0.0.1", "127.3.2.1", "localhost", "::1", "[::1]"]) assert.isTrue(isLoopbackHost(h), h)
    for (const h of ["0.0.0.0", "10.0.0.1", "redis.internal", "::", "128.0.0.1"]) assert.isFalse(isLoopbackHost(h), h)
  })
})

describe("doctor: flags and report", () => {
  it("takes --json and --acl-user, leaves the server's flags", () => {
    assert.deepStrictEqual(parseDoctorArgs(["--json", "--redis-url", "redis://x", "--acl-user=mcp"]), {
      _tag: "Run",
      options: { json: true, aclUser: "mcp" },
      rest: ["--redis-url", "redis://x"]
    })
    assert.strictEqual(parseDoctorArgs(["--acl-user"])._tag, "Invalid")
  })

  it("exit codes: 0 with warnings, 1 with a failure, 2 for invalid configuration", () => {
    const pass = check("a", "A", "pass", "fine.")
    const warn = check("b", "B", "warn", "hm.", "do x.")
    const fail = check("c", "C", "fail", "bad.", "do y.")
    assert.strictEqual(makeReport("1", [pass, warn]).exitCode, 0)
    assert.strictEqual(makeReport("1", [pass, fail]).exitCode, 1)
    assert.strictEqual(makeReport("1", [pass], true).exitCode, 2)
    assert.isUndefined(check("d", "D", "pass", "ok.", "ignored").fix)
  })

  it("text: one line per check, its fix indented under it, a summary", () => {
    const text = renderText(
      makeReport("9.9.9", [
        check("config", "C", "pass", "valid."),
        check("redis.acl", "A", "fail", "lacks set.", "Grant it.")
      ])
    )
    assert.strictEqual(
      text,
      [
        "effect-redis-mcp doctor 9.9.9",
        "",
        "PASS  config      valid.",
        "FAIL  redis.acl   lacks set.",
        "                  fix: Grant it.",
        "",
        "1 passed, 0 warnings, 1 failed",
        ""
      ].join("\n")
    )
  })
})
