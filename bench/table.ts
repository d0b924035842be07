/**
 * Output: aligned tables on stdout (one per client section, one for the
 * variants), and the same rows as JSON.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { dirname } from "node:path"
import type { Row, Section } from "./results.ts"
import type { VariantRow } from "./variants.ts"

const fmt = (v: number | undefined | null, digits: number): string =>
  v === undefined || v === null
    ? ""
    : v.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })

const clip = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max - 1)}…`)

const times = (v: number | undefined): string => (v === undefined ? "" : `${v.toFixed(2)}×`)

const valueText = (r: { readonly value: number | null; readonly unit: string }): string => {
  if (r.value === null) return ""
  return `${fmt(r.value, r.unit === "ms" || r.unit === "MiB" || r.value < 100 ? 1 : 0)} ${r.unit}`
}

/** Columns aligned (the `right` ones to the right), a rule under the header, a blank line before each new group. */
const layout = (header: ReadonlyArray<string>, cells: ReadonlyArray<ReadonlyArray<string>>, right: Set<number>) => {
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c]!.length)))
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

export const SECTION_TITLES: Record<Section, string> = {
  raw: "Servers side by side: the ratio rows (raw load generators, whose own cost per call is next to nothing)",
  sdk: "As an SDK client sees it (v1 Client for 2025-11-25, v2 Client pinned to 2026-07-28; the client's own CPU bounds calls/s)"
}

/** One section's rows as text: one group of rows per target; ratios are this row's value ÷ the other's. */
export const renderTable = (rows: ReadonlyArray<Row>): string => {
  const header = [
    "target",
    "server",
    "via",
    "value",
    "p50 ms",
    "p99 ms",
    "CPU µs/op",
    "client µs/op",
    "÷ reference",
    "CPU ÷ ref",
    "÷ ceiling",
    "CPU ÷ ceil",
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
    fmt(r.clientCpuUs, 0),
    times(r.vsReference),
    times(r.cpuVsReference),
    r.vsCeiling === undefined ? "" : `${times(r.vsCeiling)} ${r.ceiling}`,
    times(r.cpuVsCeiling),
    clip(r.note ?? "", 110)
  ])
  return layout(header, cells, new Set([3, 4, 5, 6, 7, 8, 9, 11]))
}

/** The variants of ours: each beside the defaults (calls/s ratio, and CPU µs/op difference). */
export const renderVariants = (rows: ReadonlyArray<VariantRow>): string => {
  const header = [
    "target",
    "ours with",
    "value",
    "p50 ms",
    "p99 ms",
    "CPU µs/op",
    "÷ defaults",
    "CPU Δ µs/op",
    "Δ over rounds",
    "note"
  ]
  const signed = (v: number) => `${v >= 0 ? "+" : "−"}${fmt(Math.abs(v), 0)}`
  const cells = rows.map((r, i) => [
    i > 0 && rows[i - 1]!.target === r.target ? "" : r.target,
    r.variant,
    valueText({ value: r.value, unit: "calls/s" }),
    fmt(r.p50, 2),
    fmt(r.p99, 2),
    fmt(r.cpuUs, 0),
    times(r.vsDefaults),
    r.cpuDeltaUs === undefined ? "" : signed(r.cpuDeltaUs),
    r.cpuDeltaRangeUs === undefined ? "" : `${signed(r.cpuDeltaRangeUs[0])} … ${signed(r.cpuDeltaRangeUs[1])}`,
    clip(r.note ?? "", 110)
  ])
  return layout(header, cells, new Set([2, 3, 4, 5, 6, 7, 8]))
}

export const writeJson = (file: string, data: unknown): void => {
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`)
}
