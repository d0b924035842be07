/**
 * One task queue in process memory: the same data as the Redis keys of a queue
 * (a record per task, a sorted index per status, dependents sets, the
 * idempotency index, two counters) and the same transitions as the Lua prelude
 * (lua/common.ts), method for method. Callers apply a whole operation in one
 * synchronous step, which makes it atomic.
 */
import { SortedIndex } from "./SortedIndex.ts"
import {
  type ClaimedTask,
  type FailResult,
  STATUSES,
  type TaskInfo,
  type TaskStatus,
  type TaskSummary,
  TERMINAL
} from "./TaskModel.ts"
import { type LeaseRefusal, type NormalisedCreate, retryDelayMs, summaryError } from "./TaskRules.ts"

export interface MemTask {
  readonly id: string
  state: TaskStatus
  readonly payload: string
  readonly priority: number
  attempts: number
  readonly maxAttempts: number
  readonly backoffMs: number
  readonly createdAt: number
  updatedAt: number
  runAt?: number | undefined
  leaseExpiresAt?: number | undefined
  leaseMs?: number | undefined
  token?: string | undefined
  worker?: string | undefined
  claimedAt?: number | undefined
  finishedAt?: number | undefined
  result?: string | undefined
  error?: string | undefined
  readonly deps?: ReadonlyArray<string> | undefined
  pending?: number | undefined
  readonly idem?: string | undefined
}

/** Why a lease-checked operation cannot go ahead. */
export type Refusal = { readonly _tag: "notfound" } | ({ readonly _tag: "lease" } & LeaseRefusal)

const PRIORITY_SPAN = 1e12
const idNum = (id: string) => Number(id.slice(1)) || 0
const byId = (a: string, b: string) => idNum(a) - idNum(b)
const expiredMessage = (t: MemTask) => `lease expired without heartbeat or completion (worker ${t.worker ?? "?"})`

export type CreateOutcome =
  | { readonly _tag: "ok"; readonly taskId: string; readonly created: boolean; readonly status: TaskStatus }
  | { readonly _tag: "notfound"; readonly dep: string }
  | { readonly _tag: "depfailed"; readonly dep: string; readonly status: TaskStatus }

export interface ClaimRequest {
  readonly count: number
  readonly worker: string
  readonly leaseMs: number
  readonly tokens: ReadonlyArray<string>
  readonly budget: number
}

export class MemoryQueue {
  readonly tasks = new Map<string, MemTask>()
  readonly index = Object.fromEntries(STATUSES.map((s) => [s, new SortedIndex()])) as Record<TaskStatus, SortedIndex>
  readonly dependents = new Map<string, Set<string>>()
  readonly idem = new Map<string, string>()
  ids = 0
  /** Grows with every change of a task's state (and retention cut): a change is seen by comparing it. */
  version = 0
  private seq = 0

  /** task_create: the existing task of an idempotency key, or a new one (waiting, delayed or blocked). */
  create(c: NormalisedCreate, now: number): CreateOutcome {
    if (c.idempotencyKey !== undefined) {
      const existing = this.idem.get(c.idempotencyKey)
      const t = existing === undefined ? undefined : this.tasks.get(existing)
      if (t !== undefined) return { _tag: "ok", taskId: t.id, created: false, status: t.state }
    }
    const pending: Array<string> = []
    for (const dep of c.dependsOn) {
      const d = this.tasks.get(dep)
      if (d === undefined) return { _tag: "notfound", dep }
      if (d.state === "failed" || d.state === "cancelled") return { _tag: "depfailed", dep, status: d.state }
      if (d.state !== "completed") pending.push(dep)
    }
    this.ids += 1
    const t: MemTask = {
      id: `t${this.ids}`,
      state: "waiting",
      payload: c.payload,
      priority: c.priority,
      attempts: 0,
      maxAttempts: c.maxAttempts,
      backoffMs: c.backoffMs,
      createdAt: now,
      updatedAt: now,
      deps: c.dependsOn.length > 0 ? c.dependsOn : undefined,
      idem: c.idempotencyKey
    }
    this.tasks.set(t.id, t)
    if (c.idempotencyKey !== undefined) this.idem.set(c.idempotencyKey, t.id)
    if (pending.length > 0) {
      if (c.delayMs > 0) t.runAt = now + c.delayMs
      t.state = "blocked"
      t.pending = pending.length
      this.index.blocked.add(t.id, idNum(t.id))
      this.version += 1
      for (const dep of pending) {
        const set = this.dependents.get(dep) ?? new Set<string>()
        set.add(t.id)
        this.dependents.set(dep, set)
      }
    } else if (c.delayMs > 0) this.toDelayed(t, now + c.delayMs, now)
    else this.toWaiting(t, now)
    return { _tag: "ok", taskId: t.id, created: true, status: t.state }
  }

  /** task_claim: pop up to `count` waiting tasks (payloads within `budget` bytes) under fresh leases. */
  claim(claim: ClaimRequest, now: number): Array<ClaimedTask> {
    const out: Array<ClaimedTask> = []
    let used = 0
    while (out.length < claim.count) {
      const id = this.index.waiting.first()
      if (id === undefined) break
      const t = this.tasks.get(id)
      if (t?.state !== "waiting") {
        this.index.waiting.remove(id)
        continue
      }
      const size = Buffer.byteLength(t.payload)
      if (out.length > 0 && used + size > claim.budget) break
      used += size
      this.index.waiting.remove(id)
      t.attempts += 1
      const exp = now + claim.leaseMs
      const token = `${claim.tokens[out.length]}.${t.attempts}`
      Object.assign(t, {
        state: "active",
        token,
        worker: claim.worker,
        leaseMs: claim.leaseMs,
        leaseExpiresAt: exp,
        claimedAt: now,
        updatedAt: now
      })
      this.index.active.add(id, exp)
      this.version += 1
      out.push({
        taskId: id,
        leaseToken: token,
        payload: JSON.parse(t.payload),
        attempt: t.attempts,
        maxAttempts: t.maxAttempts,
        leaseExpiresAt: exp
      })
    }
    return out
  }

  toWaiting(t: MemTask, now: number): void {
    this.version += 1
    this.seq += 1
    this.index.waiting.add(t.id, t.priority * PRIORITY_SPAN + this.seq)
    t.state = "waiting"
    t.updatedAt = now
    t.runAt = undefined
  }

  toDelayed(t: MemTask, runAt: number, now: number): void {
    this.version += 1
    this.index.delayed.add(t.id, runAt)
    t.state = "delayed"
    t.runAt = runAt
    t.updatedAt = now
  }

  finish(t: MemTask, state: "completed" | "failed" | "cancelled", now: number): void {
    this.version += 1
    t.state = state
    t.finishedAt = now
    t.updatedAt = now
    t.leaseExpiresAt = undefined
    t.leaseMs = undefined
    t.runAt = undefined
    t.pending = undefined
    this.index[state].add(t.id, now)
  }

  private takeDependents(id: string): Array<string> {
    const ds = [...(this.dependents.get(id) ?? [])].sort(byId)
    this.dependents.delete(id)
    return ds
  }

  /** A failed or cancelled task fails every task waiting on it, transitively. */
  failDependents(id: string, why: string, now: number): void {
    const pending: Array<[string, string]> = [[id, why]]
    for (let i = 0; i < pending.length; i++) {
      const [cur, curWhy] = pending[i]!
      for (const d of this.takeDependents(cur)) {
        const dt = this.tasks.get(d)
        if (dt?.state === "blocked") {
          this.index.blocked.remove(d)
          dt.error = `DependencyFailed: task ${cur} ${curWhy}`
          this.finish(dt, "failed", now)
          pending.push([d, "failed"])
        }
      }
    }
  }

  /** A completed task releases each dependent whose last pending dependency it was, exactly once. */
  releaseDependents(id: string, now: number): Array<string> {
    const out: Array<string> = []
    for (const d of this.takeDependents(id)) {
      const dt = this.tasks.get(d)
      if (dt?.state !== "blocked") continue
      dt.pending = (dt.pending ?? 1) - 1
      if (dt.pending <= 0) {
        this.index.blocked.remove(d)
        dt.pending = undefined
        const runAt = dt.runAt ?? 0
        if (runAt > now) this.toDelayed(dt, runAt, now)
        else this.toWaiting(dt, now)
        out.push(d)
      }
    }
    return out
  }

  /** End an active task's lease: back to waiting (or delayed by backoff) while attempts remain, else failed. */
  retryOrFail(t: MemTask, now: number, error: string, retry: boolean, useBackoff: boolean): FailResult {
    this.index.active.remove(t.id)
    t.token = undefined
    t.leaseExpiresAt = undefined
    t.leaseMs = undefined
    t.error = error
    if (retry && t.attempts < t.maxAttempts) {
      const delay = useBackoff ? retryDelayMs(t.backoffMs, t.attempts) : 0
      if (delay > 0) {
        this.toDelayed(t, now + delay, now)
        return { status: "delayed", runAt: now + delay }
      }
      this.toWaiting(t, now)
      return { status: "waiting" }
    }
    this.finish(t, "failed", now)
    this.failDependents(t.id, "failed", now)
    return { status: "failed" }
  }

  /** Promote due delayed tasks, reclaim expired leases, drop finished tasks older than `keepMs`. */
  maintain(now: number, keepMs: number): void {
    for (const id of this.index.delayed.upTo(now, Number.MAX_SAFE_INTEGER)) {
      this.index.delayed.remove(id)
      const t = this.tasks.get(id)
      if (t?.state === "delayed") this.toWaiting(t, now)
    }
    for (const id of this.index.active.upTo(now, Number.MAX_SAFE_INTEGER)) {
      const t = this.tasks.get(id)
      if (t?.state === "active") this.retryOrFail(t, now, expiredMessage(t), true, false)
      else this.index.active.remove(id)
    }
    for (const state of TERMINAL) {
      for (const id of this.index[state].upTo(now - keepMs, Number.MAX_SAFE_INTEGER)) {
        const t = this.tasks.get(id)
        if (t?.idem !== undefined && this.idem.get(t.idem) === id) this.idem.delete(t.idem)
        this.tasks.delete(id)
        this.dependents.delete(id)
        this.index[state].remove(id)
        this.version += 1
      }
    }
  }

  /** When housekeeping is next due (a delayed task, a lease end, a retention cut); undefined when never. */
  nextDue(keepMs: number): number | undefined {
    const firsts = [
      this.firstScore("delayed"),
      this.firstScore("active"),
      ...TERMINAL.map((s) => {
        const at = this.firstScore(s)
        return at === undefined ? undefined : at + keepMs
      })
    ].filter((at): at is number => at !== undefined)
    return firsts.length === 0 ? undefined : Math.min(...firsts)
  }

  private firstScore(status: TaskStatus): number | undefined {
    const first = this.index[status].first()
    return first === undefined ? undefined : this.index[status].scoreOf(first)
  }

  /** undefined when `token` holds a live lease on the task; else the refusal (an expired lease is reclaimed first). */
  checkLease(t: MemTask | undefined, token: string, now: number): Refusal | undefined {
    if (t === undefined) return { _tag: "notfound" }
    if (t.state !== "active") return { _tag: "lease", reason: "state", status: t.state }
    if (t.token !== token) return { _tag: "lease", reason: "token" }
    const expiredAt = t.leaseExpiresAt ?? 0
    if (expiredAt <= now) {
      const { status } = this.retryOrFail(t, now, expiredMessage(t), true, false)
      return { _tag: "lease", reason: "expired", expiredAt, status }
    }
    return undefined
  }
}

export const info = (queue: string, t: MemTask): TaskInfo => ({
  taskId: t.id,
  queue,
  status: t.state,
  priority: t.priority,
  payload: JSON.parse(t.payload),
  attempts: t.attempts,
  maxAttempts: t.maxAttempts,
  backoffSeconds: t.backoffMs / 1000,
  createdAt: t.createdAt,
  updatedAt: t.updatedAt,
  ...(t.runAt !== undefined ? { runAt: t.runAt } : {}),
  ...(t.leaseExpiresAt !== undefined ? { leaseExpiresAt: t.leaseExpiresAt } : {}),
  ...(t.claimedAt !== undefined ? { claimedAt: t.claimedAt } : {}),
  ...(t.worker !== undefined ? { worker: t.worker } : {}),
  ...(t.finishedAt !== undefined ? { finishedAt: t.finishedAt } : {}),
  ...(t.result !== undefined ? { result: JSON.parse(t.result) } : {}),
  ...(t.error !== undefined ? { error: t.error } : {}),
  ...(t.deps !== undefined ? { dependsOn: t.deps } : {}),
  ...(t.pending !== undefined ? { pendingDependencies: t.pending } : {}),
  ...(t.idem !== undefined ? { idempotencyKey: t.idem } : {})
})

export const summary = (t: MemTask): TaskSummary => {
  const error = summaryError(t.error)
  return {
    taskId: t.id,
    status: t.state,
    priority: t.priority,
    attempts: t.attempts,
    maxAttempts: t.maxAttempts,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
    ...(t.runAt !== undefined ? { runAt: t.runAt } : {}),
    ...(t.leaseExpiresAt !== undefined ? { leaseExpiresAt: t.leaseExpiresAt } : {}),
    ...(t.worker !== undefined ? { worker: t.worker } : {}),
    ...(error !== undefined ? { error } : {})
  }
}
