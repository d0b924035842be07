/**
 * The operator docs keep up with the deploy files: the quick reference and the
 * monitoring chapter list every exported series with its labels, the monitoring chapter has a section for every
 * alert (the section each rule's `runbook` points to), and the links of the
 * install, systemd and monitoring chapters lead to files that exist.
 */
import { existsSync, readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { describe, expect, it } from "vitest"
import { parse } from "yaml"
import { catalog } from "../../src/layers/Metrics.ts"

const root = join(import.meta.dirname, "../..")
const read = (path: string) => readFileSync(join(root, path), "utf8")

interface Rule {
  readonly alert: string
  readonly annotations: { readonly runbook: string }
}

const rules = (
  parse(read("deploy/prometheus/alerts.yml")) as { groups: ReadonlyArray<{ rules: Array<Rule> }> }
).groups.flatMap((g) => g.rules)

describe("operator docs", () => {
  it.each([
    ["docs/quick-reference.md", "## Metrics"],
    ["docs/admin/monitoring.md", "## Series"]
  ])("%s lists every series with its type and labels", (path, heading) => {
    const section = (read(path).split(`\n${heading}\n`)[1] ?? "").split("\n## ")[0]!
    for (const series of catalog) {
      const row = section.split("\n").find((line) => line.startsWith(`| \`${series.name}\` |`))
      expect(row, series.name).toBeDefined()
      expect(row, series.name).toContain(`| ${series.type} |`)
      for (const label of series.labels) expect(row, `${series.name} ${label}`).toContain(`\`${label}\``)
    }
  })

  it("the monitoring chapter explains every alert, where its runbook points", () => {
    const chapter = read("docs/admin/monitoring.md")
    for (const rule of rules) {
      expect(chapter, rule.alert).toContain(`\n### ${rule.alert}\n`)
      expect(rule.annotations.runbook).toBe(`docs/admin/monitoring.md#${rule.alert.toLowerCase()}`)
    }
  })

  it("relative links of the new chapters lead to existing files", () => {
    for (const page of ["docs/admin/install.md", "docs/admin/systemd.md", "docs/admin/monitoring.md"]) {
      for (const [, target] of read(page).matchAll(/\]\(([^)#:]+)(#[^)]*)?\)/g)) {
        expect(existsSync(join(root, dirname(page), target!)), `${page} -> ${target}`).toBe(true)
      }
    }
  })
})
