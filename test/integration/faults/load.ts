/**
 * The load generator of the fault suite: a bounded loop of calls that records
 * every call's outcome (acknowledged, typed error tag, or other), the writes it
 * makes and remembers once acknowledged, and the check that none of those was lost.
 */
import { performance } from "node:perf_hooks"
import { sleep } from "../../support/wait.ts"

/** Every tag of a typed error (src/Errors.ts). Anything else is an untyped defect ("other"). */
export const TYPED_TAGS: ReadonlySet<string> = new Set([
  "RedisUnavailable",
  "Timeout",
  "WrongType",
  "PermissionDenied",
  "OutOfMemory",
  "RedisBusy",
  "RedisCommandError",
  "InvalidArgument",
  "NotFound",
  "TooLarge",
  "ReadOnlyMode",
  "VersionConflict",
  "LeaseExpired",
  "DependencyFailed"
])

/** What one call came back with. */
export type Outcome =
  | { readonly kind: "ok"; readonly value: unknown }
  | { readonly kind: "error"; readonly tag: string; readonly message: string }
  | { readonly kind: "other"; readonly detail: string }

/** One call as the load generator saw it. Times are `now()` milliseconds. */
export interface CallRecord {
  readonly op: string
  readonly worker: number
  readonly startedAt: number
  readonly endedAt: number
  /** `hung`: still pending `hangAfterMs` after it started. */
  readonly kind: "ok" | "error" | "other" | "hung"
  readonly tag?: string
  /** The error's message (cut), or what went wrong for "other". */
  readonly detail?: string
}

/** Monotonic milliseconds; fault times and call records share this clock. */
export const now = (): number => performance.now()

/** The message of a thrown value, for an "other" outcome. */
export const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e))

/** A failure tag: typed when it is one of `TYPED_TAGS`, otherwise "other". */
export const fromTag = (tag: string, message: string): Outcome =>
  TYPED_TAGS.has(tag) ? { kind: "error", tag, message } : { kind: "other", detail: `${tag}: ${message}` }

/** One call the load generator makes; `onOk` runs only when it is acknowledged in time. */
export interface Operation {
  readonly op: string
  readonly run: () => Promise<Outcome>
  readonly onOk?: (value: unknown) => void
}

/** Which calls count: an op name, a test on it, or (undefined) every call. */
export type OpFilter = string | ((op: string) => boolean) | undefined

export const matches = (filter: OpFilter, op: string) =>
  filter === undefined || (typeof filter === "string" ? filter === op : filter(op))

export interface LoadOptions {
  /** Concurrent loops, each making one call at a time. @default 2 */
  readonly workers?: number
  /** Pause between two calls of one loop, so the load stays modest on a shared machine. @default 5 */
  readonly pauseMs?: number
  /** Upper bound on the calls of the whole run. @default 100000 */
  readonly maxCalls?: number
  /** A call still pending this long after it started is recorded as `hung` (and the loop moves on). */
  readonly hangAfterMs: number
}

export interface Load {
  readonly records: ReadonlyArray<CallRecord>
  /** The first acknowledged call (of `op`, when given) that started at or after `since`; fails after `timeoutMs`. */
  readonly firstOkSince: (since: number, timeoutMs: number, op?: OpFilter) => Promise<CallRecord>
  /** Wait until `count` more calls have finished (whatever their outcome). */
  readonly settle: (count: number) => Promise<void>
  /** Stop every loop and wait for the calls in flight (hung ones are not awaited). */
  readonly stop: () => Promise<ReadonlyArray<CallRecord>>
}

type Settled = { readonly outcome: Outcome } | { readonly hung: true }

/** Start a bounded loop of calls (`next(n, worker)` gives the n-th call) that records every outcome. */
export const startLoad = (options: LoadOptions, next: (n: number, worker: number) => Operation): Load => {
  const records: Array<CallRecord> = []
  const maxCalls = options.maxCalls ?? 100_000
  const pauseMs = options.pauseMs ?? 5
  let stopped = false
  let issued = 0

  const callOnce = async (operation: Operation, worker: number) => {
    const startedAt = now()
    let timer: NodeJS.Timeout | undefined
    const hang = new Promise<Settled>((resolve) => {
      timer = setTimeout(() => resolve({ hung: true }), options.hangAfterMs)
    })
    const settled = await Promise.race([
      operation.run().then(
        (outcome): Settled => ({ outcome }),
        (e: unknown): Settled => ({ outcome: { kind: "other", detail: `rejected: ${messageOf(e)}` } })
      ),
      hang
    ])
    clearTimeout(timer)
    const endedAt = now()
    const base = { op: operation.op, worker, startedAt, endedAt }
    if ("hung" in settled) {
      records.push({ ...base, kind: "hung" })
      return
    }
    const outcome = settled.outcome
    if (outcome.kind === "ok") {
      operation.onOk?.(outcome.value)
      records.push({ ...base, kind: "ok" })
    } else if (outcome.kind === "error")
      records.push({ ...base, kind: "error", tag: outcome.tag, detail: outcome.message.slice(0, 300) })
    else records.push({ ...base, kind: "other", detail: outcome.detail })
  }

  const loop = async (worker: number) => {
    while (!stopped && issued < maxCalls) {
      const n = issued++
      await callOnce(next(n, worker), worker)
      if (pauseMs > 0) await sleep(pauseMs)
    }
  }
  const loops = Array.from({ length: options.workers ?? 2 }, (_, worker) => loop(worker))

  const poll = async <A>(probe: () => A | undefined, timeoutMs: number, what: string): Promise<A> => {
    const deadline = now() + timeoutMs
    for (;;) {
      const found = probe()
      if (found !== undefined) return found
      if (now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`)
      if (stopped || issued >= maxCalls) throw new Error(`${what}: the load stopped first`)
      await sleep(20)
    }
  }

  return {
    records,
    firstOkSince: (since, timeoutMs, op) =>
      poll(
        () => records.find((r) => r.kind === "ok" && r.startedAt >= since && matches(op, r.op)),
        timeoutMs,
        "an acknowledged call after the fault"
      ),
    settle: (count) => {
      const target = records.length + count
      return poll(() => (records.length >= target ? true : undefined), 30_000, `${count} more calls`).then(() => {})
    },
    stop: async () => {
      stopped = true
      await Promise.all(loops)
      return records
    }
  }
}

/** Keys and values written by `set` calls: a unique key per call, remembered once acknowledged. */
export const keyWrites = (prefix: string) => {
  const acknowledged = new Map<string, string>()
  const operation = (
    op: string,
    n: number,
    write: (key: string, value: string) => Promise<Outcome>,
    key = `${prefix}:${n}`
  ): Operation => {
    const value = `v${n}-${Math.random().toString(36).slice(2, 10)}`
    return { op, run: () => write(key, value), onOk: () => acknowledged.set(key, value) }
  }
  return { acknowledged, operation }
}

/**
 * The acknowledged writes that are not readable with their value. `read` gets
 * batches of keys and returns their values in order (null when missing).
 */
export const lostWrites = async (
  acknowledged: ReadonlyMap<string, string>,
  read: (keys: ReadonlyArray<string>) => Promise<ReadonlyArray<string | null>>
): Promise<ReadonlyArray<string>> => {
  const lost: Array<string> = []
  const entries = [...acknowledged]
  for (let i = 0; i < entries.length; i += 500) {
    const batch = entries.slice(i, i + 500)
    const values = await read(batch.map(([k]) => k))
    batch.forEach(([k, v], j) => {
      if (values[j] !== v) lost.push(`${k}: expected ${v}, read ${values[j] ?? "nothing"}`)
    })
  }
  return lost
}

/** Poll `probe` until it returns a value (for events in other processes we cannot subscribe to). */
export const eventually = async <A>(
  probe: () => Promise<A | undefined>,
  what: string,
  timeoutMs = 30_000
): Promise<A> => {
  const deadline = now() + timeoutMs
  for (;;) {
    const value = await probe().catch(() => undefined)
    if (value !== undefined) return value
    if (now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(100)
  }
}

/** A random prefix so each run writes its own keys. */
export const runId = (name: string) => `fault:${name}:${Math.random().toString(36).slice(2, 8)}`
