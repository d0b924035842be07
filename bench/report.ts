/**
 * What one run of `npm run bench` prints and writes: a header, the ratio
 * table (raw load generators), the table as an SDK client sees it, the
 * variants of ours, the legend; and the same as JSON.
 */
import { execFileSync } from "node:child_process"
import { cpus, loadavg } from "node:os"
import type { Options } from "./options.ts"
import { ROOT } from "./processes.ts"
import type { Row, Section } from "./results.ts"
import { renderTable, renderVariants, SECTION_TITLES } from "./table.ts"
import { VARIANT_ERA, type VariantRow } from "./variants.ts"

const commit = (): string => {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim()
  } catch {
    return "unknown"
  }
}

export interface Report {
  readonly meta: Record<string, unknown>
  readonly rows: ReadonlyArray<Row>
  readonly variants: ReadonlyArray<VariantRow>
  readonly wrongAnswers: ReadonlyArray<string>
}

export const makeReport = (
  options: Options,
  redisVersion: string,
  loadBefore: number,
  rows: ReadonlyArray<Row>,
  variants: ReadonlyArray<VariantRow>,
  wrongAnswers: ReadonlyArray<string>
): Report => ({
  meta: {
    date: new Date().toISOString(),
    commit: commit(),
    node: process.version,
    cpus: `${cpus().length} × ${cpus()[0]?.model ?? "?"}`,
    redis: redisVersion,
    loadAverage: { before: loadBefore, after: loadavg()[0] },
    options,
    variantEra: VARIANT_ERA,
    note:
      "value is the median over runs; ratios are this row's value ÷ the reference's / the ceiling's (calls/s: higher is better; " +
      "ms, MiB, CPU µs/op: lower is better); section raw = the bench's own load generators (the ratio rows), sdk = the MCP SDK clients"
  },
  rows,
  variants,
  wrongAnswers
})

const LEGEND =
  "ratios: this row ÷ the reference / the ceiling (calls/s: higher is better; ms, MiB and CPU: lower is better)\n" +
  "CPU µs/op: the server process's own CPU time per operation (all threads), the figure least moved by other load;\n" +
  "client µs/op: the load generator's (this process's) CPU per operation\n"

export const renderReport = (report: Report): string => {
  const m = report.meta as {
    commit: string
    cpus: string
    redis: string
    loadAverage: { before: number; after: number | undefined }
    options: Options
  }
  const o = m.options
  const parts = [
    `\nnpm run bench: ${o.runs} run(s) of ${o.calls} calls after ${o.warmup} warm-up (median), ` +
      `node ${process.version}, redis ${m.redis}, ${m.cpus}, commit ${m.commit}, ` +
      `load average ${m.loadAverage.before.toFixed(1)} before / ${m.loadAverage.after?.toFixed(1)} after\n`
  ]
  for (const section of ["raw", "sdk"] as const satisfies ReadonlyArray<Section>) {
    const rows = report.rows.filter((r) => r.section === section)
    if (rows.length > 0) parts.push(`\n## ${SECTION_TITLES[section]}\n\n${renderTable(rows)}`)
  }
  if (report.variants.length > 0)
    parts.push(
      `\n## Ours with audit on / metrics off beside its stdio defaults (raw driver, ${VARIANT_ERA}, ` +
        `${o.variantRounds} interleaved rounds of ${o.calls} calls, median; Δ: this round's CPU µs/op minus the ` +
        `defaults' in the same round)\n\n${renderVariants(report.variants)}`
    )
  parts.push(`\n${LEGEND}`)
  if (report.wrongAnswers.length > 0)
    parts.push(`\nWRONG ANSWERS (the run fails):\n${report.wrongAnswers.map((w) => `  ${w}`).join("\n")}\n`)
  return parts.join("")
}
