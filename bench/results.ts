/**
 * Everything one run measured, keyed by system, transport/era and target;
 * turned into rows (medians over runs, plus the ratios issue 12 asks for).
 */

import { median, medianSample, type Sample } from "./stats.ts"
import type { Role } from "./systems.ts"
import { TARGETS, type TargetId, type Unit } from "./workloads.ts"

/** "2025-11-25" / "2026-07-28" over stdio, "HTTP" (2026-07-28 requests), or "RESP" for raw ioredis. */
export type Via = string

/**
 * Which client drove the row: `raw`, the bench's own load generators (raw stdio driver, raw HTTP,
 * ioredis), whose cost per call is next to nothing, so the ratio rows compare servers; `sdk`, the
 * MCP SDK clients, as an SDK client sees the servers (the client's own CPU bounds calls/s there).
 */
export type Section = "raw" | "sdk"

/** Where a figure belongs: which server, reached how, by which client. */
export interface At {
  readonly system: string
  readonly role: Role
  readonly via: Via
  readonly section: Section
}

export interface Row {
  readonly section: Section
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
  /** The client's (this process's) CPU time per operation, µs (median over runs). */
  readonly clientCpuUs?: number
  readonly runs: number
  /** value ÷ the reference's value for the same target, and the same for CPU µs/op. */
  readonly vsReference?: number
  readonly cpuVsReference?: number
  /** value ÷ the ceiling's value, and which ceiling; and the same for CPU µs/op. */
  readonly vsCeiling?: number
  readonly cpuVsCeiling?: number
  readonly ceiling?: string
  readonly note?: string
}

interface Entry extends At {
  readonly target: TargetId
  readonly samples: Array<Sample>
  readonly values: Array<number>
  note?: string
}

const serverKey = (at: At) => `${at.section}|${at.system}|${at.via}`

export class Results {
  private readonly entries: Array<Entry> = []
  /** Servers in the order they were declared: each target's rows come in this order. */
  private readonly servers: Array<string> = []
  /** Targets that got a wrong answer (an error result, or not the expected text): the run fails. */
  readonly wrongAnswers: Array<string> = []

  private entry(at: At, target: TargetId): Entry {
    let e = this.entries.find(
      (x) => x.section === at.section && x.system === at.system && x.via === at.via && x.target === target
    )
    if (e === undefined) {
      const { system, role, via, section } = at
      e = { system, role, via, section, target, samples: [], values: [] }
      this.entries.push(e)
    }
    return e
  }

  /** A server about to be started; the table lists it where it was first declared (measurements come interleaved). */
  declare(at: At): void {
    if (!this.servers.includes(serverKey(at))) this.servers.push(serverKey(at))
  }

  sample(at: At, target: TargetId, s: Sample): void {
    this.entry(at, target).samples.push(s)
  }

  value(at: At, target: TargetId, v: number | undefined): void {
    if (v !== undefined) this.entry(at, target).values.push(v)
  }

  /** Mark a target (or every given target) as not measured, with the reason. */
  missing(at: At, targets: ReadonlyArray<TargetId>, reason: string): void {
    for (const t of targets) {
      const e = this.entry(at, t)
      e.note ??= `n/a (${reason})`
    }
  }

  rows(): Array<Row> {
    const base = this.entries.map((e): Row => {
      const t = TARGETS.find((x) => x.id === e.target)!
      const { section, system, role, via } = e
      const common = { section, target: t.label, targetId: t.id, system, role, via, unit: t.unit }
      if (e.samples.length > 0) {
        const m = medianSample(e.samples)
        const cpu = m.cpuUs === undefined ? {} : { cpuUs: m.cpuUs }
        const client = m.clientCpuUs === undefined ? {} : { clientCpuUs: m.clientCpuUs }
        return { ...common, value: m.perSec, p50: m.p50, p99: m.p99, ...cpu, ...client, runs: e.samples.length }
      }
      if (e.values.length > 0) return { ...common, value: median(e.values), runs: e.values.length }
      return { ...common, value: null, runs: 0, ...(e.note === undefined ? {} : { note: e.note }) }
    })
    const order = (r: Row) => (r.section === "raw" ? 0 : 100) + TARGETS.findIndex((t) => t.id === r.targetId)
    const declared = (r: Row) => {
      const i = this.servers.indexOf(serverKey(r))
      return i === -1 ? this.servers.length : i
    }
    return base
      .map((r, i) => ({ r, i }))
      .sort((a, b) => order(a.r) - order(b.r) || declared(a.r) - declared(b.r) || a.i - b.i)
      .map(({ r }) => withRatios(r, base))
  }
}

const ratio = (a: number | null, b: number | null | undefined): number | undefined =>
  a === null || b === null || b === undefined || b === 0 ? undefined : a / b

/** The ceiling of a row: raw ioredis for pipelines, else the ceiling measured the same way (same client, same era, or HTTP). */
const ceilingOf = (row: Row, rows: ReadonlyArray<Row>): Row | undefined => {
  const same = rows.filter((r) => r.targetId === row.targetId && r.role === "ceiling" && r.value !== null)
  return row.targetId === "pipeline" ? same[0] : same.find((r) => r.section === row.section && r.via === row.via)
}

/** Ratios of `row` to `other`: of the value and of CPU µs/op, under the given names. */
const ratios = (row: Row, other: Row | undefined, value: "vsReference" | "vsCeiling") => {
  const v = ratio(row.value, other?.value)
  const cpu = ratio(row.cpuUs ?? null, other?.cpuUs)
  const cpuName = value === "vsReference" ? "cpuVsReference" : "cpuVsCeiling"
  return { ...(v === undefined ? {} : { [value]: v }), ...(cpu === undefined ? {} : { [cpuName]: cpu }) }
}

const withRatios = (row: Row, rows: ReadonlyArray<Row>): Row => {
  if (row.role !== "ours" && row.role !== "baseline") return row
  const reference =
    row.via === "HTTP"
      ? undefined
      : rows.find(
          (r) => r.section === row.section && r.targetId === row.targetId && r.role === "reference" && r.value !== null
        )
  const ceiling = ceilingOf(row, rows)
  let note = row.note
  if (row.targetId === "taskCycle" && row.value !== null) {
    const get = rows.find(
      (r) => r.section === row.section && r.targetId === "get" && r.system === row.system && r.via === row.via
    )
    const perGet = ratio(get?.value ?? null, row.value)
    if (perGet !== undefined) note = `one cycle = ${perGet.toFixed(1)}× one get`
  }
  const toCeiling = ratios(row, ceiling, "vsCeiling")
  return {
    ...row,
    ...ratios(row, reference, "vsReference"),
    ...toCeiling,
    ...(Object.keys(toCeiling).length === 0 || ceiling === undefined ? {} : { ceiling: ceiling.system }),
    ...(note === undefined ? {} : { note })
  }
}
