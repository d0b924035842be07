/**
 * deploy/systemd: the unit passes `systemd-analyze verify` without a warning and
 * scores at most 2.0 on `systemd-analyze security --offline=true`; it carries the
 * directives SERVICE.md names, and its stop timeout leaves room for the drain.
 * verify needs ExecStart's program to exist: it runs on a copy whose node path
 * points at the Node running the tests (the rest of the file is unchanged).
 */
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { requireTool, run, useTempDir } from "./tools.ts"

const deploy = join(import.meta.dirname, "../../deploy")
const UNIT = "effect-redis-mcp.service"
const unitText = readFileSync(join(deploy, "systemd", UNIT), "utf8")
const envText = readFileSync(join(deploy, "effect-redis-mcp.env.example"), "utf8")
const NODE = "/opt/effect-redis-mcp/node_modules/node/bin/node"

/** Every `Key=value` line of the unit (comments skipped); a key may repeat. */
const directives = unitText
  .split("\n")
  .map((line) => line.trim())
  .filter((line) => line !== "" && !line.startsWith("#") && !line.startsWith("[") && line.includes("="))
  .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)] as const)

const values = (key: string) => directives.filter(([k]) => k === key).map(([, v]) => v)

/** A systemd time span in seconds (`30`, `30s`, `1min`, `2min 30s`). */
const seconds = (span: string): number => {
  const units: Record<string, number> = { "": 1, s: 1, sec: 1, min: 60, m: 60, h: 3600 }
  return span
    .trim()
    .split(/\s+/)
    .reduce((total, part) => {
      const match = /^(\d+)([a-z]*)$/.exec(part)
      if (match === null || units[match[2]!] === undefined) throw new Error(`time span ${span}`)
      return total + Number(match[1]) * units[match[2]!]!
    }, 0)
}

describe("systemd unit", () => {
  it("carries the directives the service contract names", () => {
    const expected: Record<string, string> = {
      After: "network-online.target redis-server.service",
      Wants: "network-online.target",
      Restart: "on-failure",
      DynamicUser: "yes",
      NoNewPrivileges: "yes",
      ProtectSystem: "strict",
      ProtectHome: "yes",
      PrivateTmp: "yes",
      PrivateDevices: "yes",
      RestrictAddressFamilies: "AF_INET AF_INET6 AF_UNIX",
      CapabilityBoundingSet: "",
      ExecReload: "/bin/kill -HUP $MAINPID",
      EnvironmentFile: "/etc/effect-redis-mcp/effect-redis-mcp.env"
    }
    for (const [key, value] of Object.entries(expected)) expect(values(key), key).toEqual([value])
    expect(values("SystemCallFilter")).toContain("@system-service")
    for (const key of [
      "RestartSec",
      "StartLimitBurst",
      "StartLimitIntervalSec",
      "MemoryMax",
      "TasksMax",
      "LimitNOFILE"
    ]) {
      expect(values(key).length, key).toBe(1)
    }
    expect(values("ExecStart")).toEqual([
      `${NODE} /opt/effect-redis-mcp/node_modules/effect-redis-mcp/dist/main.js --transport http`
    ])
  })

  it("gives the SIGTERM drain more time than the shutdown grace of the env example", () => {
    const grace = /^REDIS_MCP_SHUTDOWN_GRACE_MS=(\d+)$/m.exec(envText)
    expect(grace).not.toBeNull()
    expect(values("KillSignal")).toEqual(["SIGTERM"])
    expect(seconds(values("TimeoutStopSec")[0]!)).toBeGreaterThan(Number(grace![1]) / 1000 + 5)
  })
})

describe("systemd unit with systemd-analyze", () => {
  requireTool("systemd-analyze")
  const tempDir = useTempDir("systemd-unit-")
  const unitCopy = () => {
    const path = join(tempDir(), UNIT)
    writeFileSync(path, unitText.replaceAll(NODE, process.execPath))
    return path
  }

  it("systemd-analyze verify passes without a warning", () => {
    const result = run("systemd-analyze", ["verify", "--man=no", unitCopy()])
    expect(result.status, result.stderr).toBe(0)
    expect(`${result.stdout}${result.stderr}`.trim()).toBe("")
  })

  it("systemd-analyze verify does report a broken copy (the check can fail)", () => {
    const broken = join(tempDir(), "broken.service")
    writeFileSync(
      broken,
      unitText.replaceAll(NODE, process.execPath).replace("Restart=on-failure", "Restart=sometimes")
    )
    const result = run("systemd-analyze", ["verify", "--man=no", broken])
    expect(result.stderr).toContain("restart specifier")
  })

  it("systemd-analyze security --offline=true scores at most 2.0", () => {
    const result = run("systemd-analyze", ["security", "--offline=true", "--no-pager", unitCopy()])
    expect(result.status, result.stderr).toBe(0)
    const score = /Overall exposure level for effect-redis-mcp\.service: (\d+(?:\.\d+)?)/.exec(result.stdout)
    expect(score, result.stdout).not.toBeNull()
    expect(Number(score![1])).toBeLessThanOrEqual(2.0)
  })
})
