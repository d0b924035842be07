/**
 * deploy/grafana: the dashboard has one row per concern, every panel's PromQL is
 * valid and names only series the server exports (histograms through their
 * `_bucket`/`_sum`/`_count`), and every exported series is on some panel.
 * With promtool, the Prometheus parser itself checks every expression too.
 */
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { stringify } from "yaml"
import { catalog } from "../../src/layers/Metrics.ts"
import { parsePromQL, seriesFor, withoutGrafanaVariables } from "./promql.ts"
import { requireTool, run, useTempDir } from "./tools.ts"

interface Panel {
  readonly id: number
  readonly type: string
  readonly title: string
  readonly targets?: ReadonlyArray<{ readonly expr: string; readonly refId: string }>
}

interface Dashboard {
  readonly uid: string
  readonly title: string
  readonly panels: ReadonlyArray<Panel>
  readonly templating: { readonly list: ReadonlyArray<{ readonly name: string; readonly definition?: string }> }
}

const dashboard = JSON.parse(
  readFileSync(join(import.meta.dirname, "../../deploy/grafana/effect-redis-mcp.json"), "utf8")
) as Dashboard
const panels = dashboard.panels.filter((p) => p.type !== "row")
const queries = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })))

describe("Grafana dashboard", () => {
  it("has one row per concern, in order", () => {
    expect(dashboard.panels.filter((p) => p.type === "row").map((p) => p.title)).toEqual([
      "Calls",
      "Latency",
      "Redis",
      "Queues",
      "Auth",
      "Process"
    ])
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length)
  })

  it("every panel queries something, in valid PromQL", () => {
    for (const panel of panels) expect(panel.targets?.length ?? 0, panel.title).toBeGreaterThan(0)
    for (const { panel, expr } of queries) expect(parsePromQL(expr).errors, `${panel}: ${expr}`).toEqual([])
  })

  it("every query names only series the server exports", () => {
    for (const { panel, expr } of queries) {
      const { names } = parsePromQL(expr)
      expect(names.length, panel).toBeGreaterThan(0)
      for (const name of names) expect(seriesFor(catalog, name), `${panel}: ${name}`).toBeDefined()
    }
    for (const variable of dashboard.templating.list) {
      const metric = /^label_values\((\w+)/.exec(variable.definition ?? "")?.[1]
      if (metric !== undefined) expect(seriesFor(catalog, metric), `$${variable.name}`).toBeDefined()
    }
  })

  it("every exported series is on some panel", () => {
    const used = new Set(queries.flatMap(({ expr }) => parsePromQL(expr).names.map((n) => seriesFor(catalog, n)?.name)))
    expect(catalog.map((s) => s.name).filter((name) => !used.has(name))).toEqual([])
  })

  it("the parser helper does see a foreign series and a syntax error", () => {
    expect(seriesFor(catalog, "redis_mcp_tool_calls")).toBeUndefined()
    expect(seriesFor(catalog, "redis_mcp_tool_calls_total_bucket")).toBeUndefined()
    expect(seriesFor(catalog, "redis_mcp_redis_command_duration_seconds")).toBeUndefined()
    expect(parsePromQL("sum(rate(foo[$__rate_interval])").errors.length).toBeGreaterThan(0)
  })
})

describe("Grafana dashboard with promtool", () => {
  requireTool("promtool")
  const tempDir = useTempDir("grafana-promql-")

  it("the Prometheus parser accepts every query", () => {
    const dir = tempDir()
    // Each query as a recording rule: `promtool check rules` parses it with Prometheus's own parser.
    const rules = queries.map(({ expr }, i) => ({
      record: `dashboard:query_${i}`,
      expr: withoutGrafanaVariables(expr)
    }))
    writeFileSync(join(dir, "queries.yml"), stringify({ groups: [{ name: "dashboard", rules }] }))
    const result = run("promtool", ["check", "rules", "queries.yml"], { cwd: dir })
    expect(result.status, result.stdout + result.stderr).toBe(0)
    expect(result.stdout).toContain(`SUCCESS: ${queries.length} rules found`)
  })
})
