/**
 * Transcripts of the built server (dist/main.js) for the fast-path parity tests:
 * the same steps sent to a server with the stdio fast path on and to one with
 * REDIS_MCP_FASTPATH=0, every stdout line kept per step, then compared byte for
 * byte. A step ends when its expected answers are in (or after `settleMs` when
 * none is expected) and a sentinel `ping` has been answered behind them, so
 * nothing of one step spills into the next.
 */
import { spawn } from "node:child_process"
import { MAIN, MODERN_META } from "./raw.ts"

export type Era = "2025-11-25" | "2026-07-28"

export interface Step {
  readonly label: string
  /** Lines written to stdin, in order (each gets its newline). */
  readonly lines: ReadonlyArray<string>
  /** Responses (lines with an id and no method) to wait for before the sentinel. */
  readonly answers: number
  /** Time to let pass when nothing is expected (a cancelled call, a dropped line). */
  readonly settleMs?: number
  /** When the number of answers is not known: wait for `answers` at most this long, then go on. */
  readonly atMostMs?: number
}

export interface Transcript {
  /** Per step, what stdout carried (sorted: concurrent answers may come in either order). */
  readonly steps: ReadonlyArray<{ readonly label: string; readonly lines: ReadonlyArray<string> }>
  readonly stderr: string
}

const STEP_TIMEOUT_MS = 15_000

const isResponse = (line: string): boolean => {
  try {
    const m = JSON.parse(line)
    return typeof m === "object" && m !== null && "id" in m && !("method" in m)
  } catch {
    return false
  }
}

/** An MCP `ping` request (never a tool call, so never the fast path's). */
const sentinel = (era: Era, n: number): { readonly id: string; readonly line: string } => {
  const id = `sentinel-${n}`
  const params = era === "2026-07-28" ? { params: { _meta: MODERN_META } } : {}
  return { id, line: JSON.stringify({ jsonrpc: "2.0", id, method: "ping", ...params }) }
}

/** Runs `steps` against a fresh server with `env` (on top of PATH and HOME); stdin is closed at the end. */
export const transcript = async (
  era: Era,
  env: Record<string, string>,
  steps: ReadonlyArray<Step>,
  args: ReadonlyArray<string> = []
): Promise<Transcript> => {
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdio: "pipe"
  })
  const lines: Array<string> = []
  let partial = ""
  let stderr = ""
  let wake: (() => void) | undefined
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    partial += chunk
    const parts = partial.split("\n")
    partial = parts.pop() ?? ""
    lines.push(...parts)
    wake?.()
  })
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk
  })
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  const until = (test: () => boolean, what: string, atMostMs?: number) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        wake = undefined
        if (atMostMs !== undefined) return resolve()
        reject(
          new Error(`${what}: nothing within ${STEP_TIMEOUT_MS} ms; stdout: ${lines.join("\n")}\nstderr: ${stderr}`)
        )
      }, atMostMs ?? STEP_TIMEOUT_MS)
      const check = () => {
        if (!test()) return
        clearTimeout(timer)
        wake = undefined
        resolve()
      }
      wake = check
      check()
    })

  const out: Array<{ label: string; lines: ReadonlyArray<string> }> = []
  try {
    for (const [n, step] of steps.entries()) {
      const from = lines.length
      for (const line of step.lines) child.stdin.write(`${line}\n`)
      await until(() => lines.slice(from).filter(isResponse).length >= step.answers, step.label, step.atMostMs)
      if (step.settleMs !== undefined) await new Promise((r) => setTimeout(r, step.settleMs))
      const mark = sentinel(era, n)
      child.stdin.write(`${mark.line}\n`)
      await until(() => lines.slice(from).some((l) => l.includes(`"${mark.id}"`)), `${step.label} (sentinel)`)
      out.push({
        label: step.label,
        lines: lines
          .slice(from)
          .filter((l) => !l.includes(`"${mark.id}"`))
          .sort()
      })
    }
  } finally {
    child.stdin.end()
    const killer = setTimeout(() => child.kill("SIGKILL"), 10_000)
    await exited
    clearTimeout(killer)
  }
  return { steps: out, stderr }
}

/** Every step whose lines differ between two transcripts of the same steps, described for a failure message. */
export const differences = (a: Transcript, b: Transcript): ReadonlyArray<string> =>
  a.steps.flatMap((step, i) => {
    const other = b.steps[i]?.lines ?? []
    return JSON.stringify(step.lines) === JSON.stringify(other)
      ? []
      : [`${step.label}\n  fast: ${step.lines.join("\n        ")}\n  sdk:  ${other.join("\n        ")}`]
  })

/** How many tools/call the fast path took, from the server's closing log line. */
export const fastPathCalls = (stderr: string): number => {
  const m = /"fastPathCalls":(\d+)/.exec(stderr)
  return m === null ? 0 : Number(m[1])
}
