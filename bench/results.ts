/**
 * Everything one run measured, keyed by system, transport/era and target;
 * turned into rows (medians over runs, plus the ratios issue 12 asks for).
 */

import { median, medianSample, type Sample } from "./stats.ts"
import type { Role } from "./systems.ts"
import { TARGETS, type TargetId, type Unit } from "./workloads.ts"

/** "2025-11-25" / "2026-07-28" over stdio, "HTTP" (2026-07-28 requests), or "RESP" for raw ioredis. */
export type Via = string

export interface Row {
  readonly target: string
  readonly targetId: TargetId
  readonly system: string
  readonly role: Role
  readonly via: Via
  readonly unit: Unit
  /** Median over runs; null when not measured (see note). */
  readonly value: number | null
  readonly p50?: number
  readonly p99?: number
  /** The server's CPU time per operation, µs (median over runs). */
  readonly cpuUs?: number
  readonly runs: number
  /** value ÷ the reference's value for the same target. */
  readonly vsReference?: number
  /** value ÷ the ceiling's value, and which ceiling. */
  readonly vsCeiling?: number
  readonly ceiling?: string
  readonly note?: string
}

interface Entry {
  readonly system: string
  readonly role: Role
  readonly via: Via
  readonly target: TargetId
  readonly samples: Array<Sample>
  readonly values: Array<number>
  note?: string
}

export class Results {
  private readonly entries: Array<Entry> = []

  private entry(system: string, role: Role, via: Via, target: TargetId): Entry {
    let e = this.entries.find((x) => x.system === system && x.via === via && x.target === target)
    if (e === undefined) {
      e = { system, role, via, target, samples: [], values: [] }
      this.entries.push(e)
    }
    return e
  }

  sample(system: string, role: Role, via: Via, target: TargetId, s: Sample): void {
    this.entry(system, role, via, target).samples.push(s)
  }

  value(system: string, role: Role, via: Via, target: TargetId, v: number | undefined): void {
    if (v !== undefined) this.entry(system, role, via, target).values.push(v)
  }

  /** Mark a target (or every given target) as not measured, with the reason. */
  missing(system: string, role: Role, via: Via, targets: ReadonlyArray<TargetId>, reason: string): void {
    for (const t of targets) {
      const e = this.entry(system, role, via, t)
      e.note ??= `n/a (${reason})`
    }
  }

  rows(): Array<Row> {
    const base = this.entries.map((e): Row => {
      const t = TARGETS.find((x) => x.id === e.target)!
      const common = { target: t.label, targetId: t.id, system: e.system, role: e.role, via: e.via, unit: t.unit }
      if (e.samples.length > 0) {
        const m = medianSample(e.samples)
        const cpu = m.cpuUs === undefined ? {} : { cpuUs: m.cpuUs }
        return { ...common, value: m.perSec, p50: m.p50, p99: m.p99, ...cpu, runs: e.samples.length }
      }
      if (e.values.length > 0) return { ...common, value: median(e.values), runs: e.values.length }
      return { ...common, value: null, runs: 0, ...(e.note === undefined ? {} : { note: e.note }) }
    })
    const order = (r: Row) => TARGETS.findIndex((t) => t.id === r.targetId)
    return base
      .map((r, i) => ({ r, i }))
      .sort((a, b) => order(a.r) - order(b.r) || a.i - b.i)
      .map(({ r }) => withRatios(r, base))
  }
}

const ratio = (a: number | null, b: number | null | undefined): number | undefined =>
  a === null || b === null || b === undefined || b === 0 ? undefined : a / b

/** The ceiling of a row: raw ioredis for pipelines, else the ceiling measured the same way (same era, or HTTP). */
const ceilingOf = (row: Row, rows: ReadonlyArray<Row>): Row | undefined => {
  const same = rows.filter((r) => r.targetId === row.targetId && r.role === "ceiling" && r.value !== null)
  return row.targetId === "pipeline" ? same[0] : same.find((r) => r.via === row.via)
}

const withRatios = (row: Row, rows: ReadonlyArray<Row>): Row => {
  if (row.role !== "ours" && row.role !== "baseline") return row
  const reference =
    row.via === "HTTP"
      ? undefined
      : rows.find((r) => r.targetId === row.targetId && r.role === "reference" && r.value !== null)
  const ceiling = ceilingOf(row, rows)
  const vsReference = ratio(row.value, reference?.value)
  const vsCeiling = ratio(row.value, ceiling?.value)
  let note = row.note
  if (row.targetId === "taskCycle" && row.value !== null) {
    const get = rows.find((r) => r.targetId === "get" && r.system === row.system && r.via === row.via)
    const perGet = ratio(get?.value ?? null, row.value)
    if (perGet !== undefined) note = `one cycle = ${perGet.toFixed(1)}× one get`
  }
  return {
    ...row,
    ...(vsReference === undefined ? {} : { vsReference }),
    ...(vsCeiling === undefined || ceiling === undefined ? {} : { vsCeiling, ceiling: ceiling.system }),
    ...(note === undefined ? {} : { note })
  }
}
