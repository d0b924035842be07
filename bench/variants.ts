/**
 * Issue 11's cost of audit and metrics: ours with its stdio defaults (audit
 * off, metrics on) beside ours with the audit log written to a file and ours
 * with metric recording off, `get` and `set` sequential over the raw driver.
 * All three run at once; the measured blocks are interleaved (a different
 * variant first in each round) and each row is the median over rounds, since
 * the machine is noisy. A variant the server rejects or ignores is n/a.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { makeTempDir, removeTempDir } from "../test/support/registry.ts"
import { METRICS_OFF, metricsOffVerdict, type Verdict } from "./metrics-probe.ts"
import { cpuMs, path, requireMain } from "./processes.ts"
import { connectRaw } from "./raw-stdio.ts"
import { WrongAnswer } from "./raw-wire.ts"
import { firstLine, type Sizes, untilReady } from "./run-targets.ts"
import { measure, median, medianSample, type Sample } from "./stats.ts"
import type { Era, Session, Spawn } from "./stdio-client.ts"
import { node, oursEnv } from "./systems.ts"
import { type Op, oursOps, planFor, target } from "./workloads.ts"

/** The era the variants are driven in (the cost of audit and metrics does not depend on it). */
export const VARIANT_ERA: Era = "2025-11-25"
const TARGET_IDS = ["get", "set"] as const

export interface VariantRow {
  readonly target: string
  readonly variant: string
  /** calls/s, median over rounds; null when not measured (see note). */
  readonly value: number | null
  readonly p50?: number
  readonly p99?: number
  readonly cpuUs?: number
  readonly rounds: number
  /** value ÷ the defaults' value in the same round, median over rounds. */
  readonly vsDefaults?: number
  /** CPU µs/op minus the defaults' in the same round (what the setting costs per call): median, and range over rounds. */
  readonly cpuDeltaUs?: number
  readonly cpuDeltaRangeUs?: readonly [number, number]
  readonly note?: string
}

type VariantTarget = (typeof TARGET_IDS)[number]

interface Variant {
  readonly name: string
  readonly env: Record<string, string>
  session?: Session
  ops?: Record<VariantTarget, Op>
  samples: Record<VariantTarget, Array<Sample>>
  note?: string
}

const start = async (v: Variant, spawn: Spawn): Promise<void> => {
  try {
    const session = await connectRaw({ ...spawn, env: { ...spawn.env, ...v.env } }, VARIANT_ERA)
    v.session = session
    await session.listTools()
    const ops = oursOps(session)
    v.ops = { get: ops.get!, set: ops.set! }
    await untilReady(ops.get!)
  } catch (e) {
    v.note = `n/a (${firstLine(e)})`
    await v.session?.close().catch(() => undefined)
    delete v.session
  }
}

/**
 * Beside the defaults, round by round: the CPU µs/op difference of each round (both measured
 * back to back), their median and range; and the median calls/s ratio.
 */
const versus = (v: ReadonlyArray<Sample>, base: ReadonlyArray<Sample>) => {
  const rounds = Math.min(v.length, base.length)
  if (rounds === 0) return {}
  const pairs = Array.from({ length: rounds }, (_, r) => ({ a: v[r]!, b: base[r]! }))
  const deltas = pairs.flatMap(({ a, b }) =>
    a.cpuUs === undefined || b.cpuUs === undefined ? [] : [a.cpuUs - b.cpuUs]
  )
  return {
    vsDefaults: median(pairs.map(({ a, b }) => a.perSec / b.perSec)),
    ...(deltas.length === 0
      ? {}
      : { cpuDeltaUs: median(deltas), cpuDeltaRangeUs: [Math.min(...deltas), Math.max(...deltas)] as const })
  }
}

const rowsOf = (variants: ReadonlyArray<Variant>): Array<VariantRow> =>
  TARGET_IDS.flatMap((id) => {
    const label = target(id).label
    const base = variants[0]!.samples[id]
    return variants.map((v): VariantRow => {
      const note = v.note === undefined ? {} : { note: v.note }
      if (v.samples[id].length === 0) return { target: label, variant: v.name, value: null, rounds: 0, ...note }
      const m = medianSample(v.samples[id])
      const cpu = m.cpuUs === undefined ? {} : { cpuUs: m.cpuUs }
      return {
        target: label,
        variant: v.name,
        value: m.perSec,
        p50: m.p50,
        p99: m.p99,
        ...cpu,
        rounds: v.samples[id].length,
        ...(v === variants[0] ? {} : versus(v.samples[id], base)),
        ...note
      }
    })
  })

/** Lines in the audit file (none when there is no file). */
const auditLines = (file: string): number => {
  try {
    return readFileSync(file, "utf8")
      .split("\n")
      .filter((l) => l !== "").length
  } catch {
    return 0
  }
}

/** Measure the variants in `rounds` interleaved rounds of `sizes.calls` calls per target and variant. */
export const runVariants = async (
  redisUrl: string,
  sizes: Sizes,
  rounds: number,
  log: (line: string) => void
): Promise<{ rows: Array<VariantRow>; wrongAnswers: Array<string> }> => {
  const dir = makeTempDir("bench-audit")
  const auditFile = join(dir, "audit.log")
  const spawn = node([requireMain(path("dist"))], oursEnv(redisUrl))
  const fresh = (): Record<VariantTarget, Array<Sample>> => ({ get: [], set: [] })
  const variants: Array<Variant> = [
    { name: "defaults (audit off, metrics on)", env: {}, samples: fresh() },
    { name: "audit to a file", env: { REDIS_MCP_AUDIT: auditFile }, samples: fresh() },
    { name: "metrics off", env: METRICS_OFF, samples: fresh() }
  ]
  const wrongAnswers: Array<string> = []
  try {
    for (const v of variants) await start(v, spawn)
    const metricsOff = variants[2]!
    if (metricsOff.session !== undefined) {
      log("variants: does the server honour REDIS_MCP_METRICS=off?")
      const verdict = await metricsOffVerdict(spawn).catch(
        (e): Verdict => ({ honoured: false, why: `the check failed: ${firstLine(e)}` })
      )
      if (!verdict.honoured) {
        metricsOff.note = `n/a (${verdict.why})`
        await metricsOff.session.close().catch(() => undefined)
        delete metricsOff.session
      } else if (verdict.note !== undefined) metricsOff.note = verdict.note
    }
    const live = variants.filter((v) => v.session !== undefined)
    for (let round = 0; round < rounds; round++) {
      log(`variants: round ${round + 1}/${rounds}`)
      const order = [...live.slice(round % live.length), ...live.slice(0, round % live.length)]
      for (const id of TARGET_IDS)
        for (const v of order) {
          if (v.session === undefined) continue
          const pid = v.session.pid
          try {
            v.samples[id].push(await measure(planFor(id, sizes.calls, sizes.warmup), v.ops![id], () => cpuMs(pid)))
          } catch (e) {
            v.note = `failed: ${firstLine(e)}`
            v.samples = fresh()
            if (e instanceof WrongAnswer) wrongAnswers.push(`${v.name}, ${id}: ${firstLine(e)}`)
            await v.session.close().catch(() => undefined)
            delete v.session
          }
        }
    }
  } finally {
    for (const v of variants) await v.session?.close().catch(() => undefined)
    // Every set (warm-up too) is a write, so it writes one audit line; none means the setting did nothing.
    const audit = variants[1]!
    if (audit.samples.set.length > 0) {
      const plan = planFor("set", sizes.calls, sizes.warmup)
      const sets = audit.samples.set.length * (plan.n + plan.warmup)
      const lines = auditLines(auditFile)
      if (lines === 0) {
        audit.note = "n/a (REDIS_MCP_AUDIT wrote no line)"
        audit.samples.get = []
        audit.samples.set = []
      } else audit.note ??= `${lines} audit lines for ${sets} set calls`
    }
    removeTempDir(dir)
  }
  return { rows: rowsOf(variants), wrongAnswers }
}
