/**
 * Output: one aligned table on stdout, and the same rows as JSON.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { dirname } from "node:path"
import type { Row } from "./results.ts"

const fmt = (v: number | undefined | null, digits: number): string =>
  v === undefined || v === null
    ? ""
    : v.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })

const clip = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max - 1)}…`)

const times = (v: number | undefined): string => (v === undefined ? "" : `${v.toFixed(2)}×`)

const valueText = (r: Row): string => {
  if (r.value === null) return ""
  return `${fmt(r.value, r.unit === "ms" || r.unit === "MiB" || r.value < 100 ? 1 : 0)} ${r.unit}`
}

/** The table as text: one group of rows per target; ratios are this row's value ÷ the other's. */
export const renderTable = (rows: ReadonlyArray<Row>): string => {
  const header = [
    "target",
    "server",
    "via",
    "value",
    "p50 ms",
    "p99 ms",
    "CPU µs/op",
    "÷ reference",
    "÷ ceiling",
    "note"
  ]
  const cells = rows.map((r, i) => [
    i > 0 && rows[i - 1]!.target === r.target ? "" : r.target,
    r.system,
    r.via,
    valueText(r),
    fmt(r.p50, 2),
    fmt(r.p99, 2),
    fmt(r.cpuUs, 0),
    times(r.vsReference),
    r.vsCeiling === undefined ? "" : `${times(r.vsCeiling)} ${r.ceiling}`,
    clip(r.note ?? "", 110)
  ])
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c]!.length)))
  const right = new Set([3, 4, 5, 6, 7])
  const line = (row: ReadonlyArray<string>) =>
    row
      .map((cell, c) => (right.has(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join("  ")
      .trimEnd()
  const out = [line(header), line(widths.map((w) => "-".repeat(w)))]
  cells.forEach((row, i) => {
    if (i > 0 && row[0] !== "") out.push("")
    out.push(line(row))
  })
  return `${out.join("\n")}\n`
}

export const writeJson = (file: string, data: unknown): void => {
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`)
}
