/**
 * deploy/prometheus: the alert rules load (`promtool check rules`), every alert
 * fires and stays quiet where its unit tests say (`promtool test rules`), and
 * every expression queries only series the server exports.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { parse } from "yaml"
import { catalog } from "../../src/layers/Metrics.ts"
import { parsePromQL, seriesFor } from "./promql.ts"
import { requireTool, run } from "./tools.ts"

const dir = join(import.meta.dirname, "../../deploy/prometheus")
const rulesText = readFileSync(join(dir, "alerts.yml"), "utf8")
const testsText = readFileSync(join(dir, "alerts.test.yml"), "utf8")

interface RuleFile {
  readonly groups: ReadonlyArray<{ readonly rules: ReadonlyArray<{ readonly alert: string; readonly expr: string }> }>
}

interface TestFile {
  readonly tests: ReadonlyArray<{
    readonly alert_rule_test: ReadonlyArray<{ readonly alertname: string; readonly exp_alerts: ReadonlyArray<unknown> }>
  }>
}

const alerts = () =>
  (parse(rulesText) as RuleFile).groups.flatMap((g) => g.rules).map((r) => ({ name: r.alert, expr: r.expr }))

describe("alert rules", () => {
  it("cover the contract's concerns", () => {
    expect(alerts().map((a) => a.name)).toEqual([
      "RedisMcpDown",
      "RedisMcpRedisDown",
      "RedisMcpReconnectStorm",
      "RedisMcpRedisTimeouts",
      "RedisMcpToolErrorRatioHigh",
      "RedisMcpToolLatencyHigh",
      "RedisMcpRedisLatencyHigh",
      "RedisMcpTaskQueueBacklog",
      "RedisMcpDeadLettersGrowing",
      "RedisMcpAuthFailureBurst",
      "RedisMcpRedisFailover",
      "RedisMcpClusterSlotsNotCovered",
      "RedisMcpMemoryHigh",
      "RedisMcpEventLoopLagHigh"
    ])
  })

  it("query only series the server exports (and Prometheus's up)", () => {
    for (const { name, expr } of alerts()) {
      const parsed = parsePromQL(expr)
      expect(parsed.errors, name).toEqual([])
      expect(parsed.names.length, name).toBeGreaterThan(0)
      for (const metric of parsed.names) {
        if (metric === "up") continue
        expect(seriesFor(catalog, metric), `${name}: ${metric}`).toBeDefined()
      }
    }
  })

  it("each have a firing and a quiet case in the unit tests", () => {
    const cases = (parse(testsText) as TestFile).tests.flatMap((t) => t.alert_rule_test)
    for (const { name } of alerts()) {
      const mine = cases.filter((c) => c.alertname === name)
      expect(mine.filter((c) => c.exp_alerts.length > 0).length, `${name} fires somewhere`).toBeGreaterThan(0)
      expect(mine.filter((c) => c.exp_alerts.length === 0).length, `${name} stays quiet somewhere`).toBeGreaterThan(0)
    }
  })
})

describe("alert rules with promtool", () => {
  requireTool("promtool")
  it("promtool check rules accepts alerts.yml", () => {
    const result = run("promtool", ["check", "rules", "alerts.yml"], { cwd: dir })
    expect(result.status, result.stdout + result.stderr).toBe(0)
    expect(result.stdout).toContain(`SUCCESS: ${alerts().length} rules found`)
  })

  it("promtool test rules passes alerts.test.yml", () => {
    const result = run("promtool", ["test", "rules", "alerts.test.yml"], { cwd: dir })
    expect(result.status, result.stdout + result.stderr).toBe(0)
    expect(result.stdout).toContain("SUCCESS")
  })
})
