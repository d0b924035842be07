/**
 * What a fault scenario measured: the summary of the load's call records
 * (outcomes, recovery after each fault, latency) and the one-line `FAULT-REPORT`.
 */
import { type CallRecord, matches, type OpFilter } from "./load.ts"

/**
 * The tags a connection fault may surface as: all retryable. Any other error
 * during a fault (RedisCommandError, WrongType…) is a bug.
 */
export const CONNECTION_TAGS: ReadonlySet<string> = new Set(["RedisUnavailable", "Timeout", "RedisBusy"])

/** "op Tag: message" of the errors (the first per op and tag) that a connection fault does not explain. */
export const unexpectedErrors = (s: Summary): ReadonlyArray<string> =>
  s.errorSamples.filter((e) => !CONNECTION_TAGS.has(e.tag)).map(formatError)

const formatError = (e: ErrorSample) => `${e.op} ${e.tag}: ${e.message}`

/** Everything one scenario measured. */
export interface Summary {
  readonly scenario: string
  readonly calls: number
  readonly ok: number
  readonly failed: Readonly<Record<string, number>>
  readonly other: number
  readonly hung: number
  /** Per fault: from the fault to the end of the first acknowledged call started after it (-1: none). */
  readonly recoveryMs: ReadonlyArray<number>
  readonly maxLatencyMs: number
  readonly lost: number
  /** Samples of what went wrong (untyped failures, hung calls). */
  readonly otherSamples: ReadonlyArray<string>
  /** The first error of each op and tag. */
  readonly errorSamples: ReadonlyArray<ErrorSample>
}

export interface ErrorSample {
  readonly op: string
  readonly tag: string
  readonly message: string
}

/** Count the records and measure recovery after each fault (optionally only over calls of `op`). */
export const summarize = (
  scenario: string,
  records: ReadonlyArray<CallRecord>,
  faults: ReadonlyArray<number>,
  lost: number,
  op?: OpFilter
): Summary => {
  const failed: Record<string, number> = {}
  let ok = 0
  let other = 0
  let hung = 0
  let maxLatencyMs = 0
  const otherSamples: Array<string> = []
  const errorSamples = new Map<string, ErrorSample>()
  for (const r of records) {
    if (r.kind === "ok") ok++
    else if (r.kind === "error") {
      failed[r.tag!] = (failed[r.tag!] ?? 0) + 1
      const key = `${r.op} ${r.tag}`
      if (!errorSamples.has(key)) errorSamples.set(key, { op: r.op, tag: r.tag!, message: r.detail ?? "" })
    } else if (r.kind === "hung") hung++
    else other++
    if (r.kind === "other" || r.kind === "hung") {
      if (otherSamples.length < 5) otherSamples.push(`${r.op}: ${r.kind === "hung" ? "hung" : r.detail}`)
    } else maxLatencyMs = Math.max(maxLatencyMs, r.endedAt - r.startedAt)
  }
  if (process.env.FAULT_TRACE) traceRecords(scenario, records, faults)
  const ordered = records.filter((r) => r.kind === "ok" && matches(op, r.op))
  const recoveryMs = faults.map((fault) => {
    let first: CallRecord | undefined
    for (const r of ordered) if (r.startedAt >= fault && (first === undefined || r.endedAt < first.endedAt)) first = r
    return first === undefined ? -1 : Math.round(first.endedAt - fault)
  })
  return {
    scenario,
    calls: records.length,
    ok,
    failed,
    other,
    hung,
    recoveryMs,
    maxLatencyMs: Math.round(maxLatencyMs),
    lost,
    otherSamples,
    errorSamples: [...errorSamples.values()]
  }
}

/** FAULT_TRACE=1: print every call that ended within 200 ms before a fault or in the 30 s after it. */
const traceRecords = (scenario: string, records: ReadonlyArray<CallRecord>, faults: ReadonlyArray<number>) => {
  for (const fault of faults) {
    for (const r of records) {
      if (r.endedAt < fault - 200 || r.startedAt > fault + 30_000) continue
      const at = (t: number) => Math.round(t - fault)
      const what = r.kind === "error" ? r.tag : r.kind === "other" ? r.detail : r.kind
      console.error(`FAULT-TRACE ${scenario} ${r.op}#${r.worker} ${at(r.startedAt)}..${at(r.endedAt)} ms ${what}`)
    }
  }
}

/** Each recovery time, or for many faults (a soak) their median, 95th percentile and maximum. */
export const formatRecovery = (times: ReadonlyArray<number>): string => {
  if (times.length <= 10) return times.join(",")
  const seen = times.filter((t) => t >= 0).sort((a, b) => a - b)
  const at = (q: number) => seen[Math.min(seen.length - 1, Math.floor(q * seen.length))] ?? -1
  return `p50:${at(0.5)},p95:${at(0.95)},max:${seen.at(-1) ?? -1},faults:${times.length},unrecovered:${times.length - seen.length}`
}

/** Print the scenario's summary to stderr as one `FAULT-REPORT` line. */
export const report = (s: Summary, extra: Readonly<Record<string, string | number>> = {}): Summary => {
  const failedTotal = Object.values(s.failed).reduce((a, b) => a + b, 0)
  const byTag = Object.entries(s.failed)
    .sort(([, a], [, b]) => b - a)
    .map(([tag, n]) => `${tag}:${n}`)
    .join(",")
  const fields: Array<string> = [
    `scenario=${s.scenario}`,
    `calls=${s.calls}`,
    `acknowledged=${s.ok}`,
    `failed=${failedTotal}${byTag === "" ? "" : `(${byTag})`}`,
    `other=${s.other}`,
    `hung=${s.hung}`,
    `lost=${s.lost}`,
    `recoveryMs=${formatRecovery(s.recoveryMs)}`,
    `maxLatencyMs=${s.maxLatencyMs}`,
    ...Object.entries(extra).map(([k, v]) => `${k}=${v}`)
  ]
  console.error(`FAULT-REPORT ${fields.join(" ")}`)
  if (s.otherSamples.length > 0) console.error(`FAULT-REPORT-SAMPLES ${s.scenario}: ${s.otherSamples.join(" | ")}`)
  for (const sample of process.env.FAULT_TRACE ? s.errorSamples.map(formatError) : unexpectedErrors(s)) {
    console.error(`FAULT-REPORT-ERROR ${s.scenario} ${sample}`)
  }
  return s
}

/** Bytes as MiB with one decimal, for report fields. */
export const MiB = (bytes: number) => (bytes / 1024 / 1024).toFixed(1)
