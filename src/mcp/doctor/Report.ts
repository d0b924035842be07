/**
 * doctor's report: each check has a stable id, a status, what it found and the fix (one
 * sentence an operator can act on). Rendered for people (aligned lines) or as one JSON object.
 * The exit code: 2 when the configuration is invalid, 1 when any check fails, else 0.
 */

/** `skip`: not run because a check it depends on failed (Redis unreachable). */
export type Status = "pass" | "warn" | "fail" | "skip"

export interface Check {
  readonly id: string
  readonly title: string
  readonly status: Status
  /** What the check saw, in one or two sentences. */
  readonly found: string
  /** What to do about it; absent on a pass. */
  readonly fix?: string
  /** Structured findings for `--json` (versions, node counts, missing commands…). */
  readonly details?: Readonly<Record<string, unknown>>
}

export interface Report {
  readonly version: string
  readonly exitCode: 0 | 1 | 2
  readonly summary: Readonly<Record<Status, number>>
  readonly checks: ReadonlyArray<Check>
}

export const check = (
  id: string,
  title: string,
  status: Status,
  found: string,
  fix?: string,
  details?: Record<string, unknown>
): Check => ({
  id,
  title,
  status,
  found,
  ...(fix === undefined || status === "pass" || status === "skip" ? {} : { fix }),
  ...(details === undefined ? {} : { details })
})

export const makeReport = (version: string, checks: ReadonlyArray<Check>, configInvalid = false): Report => {
  const summary = { pass: 0, warn: 0, fail: 0, skip: 0 }
  for (const c of checks) summary[c.status]++
  return { version, exitCode: configInvalid ? 2 : summary.fail > 0 ? 1 : 0, summary, checks }
}

const LABEL: Record<Status, string> = { pass: "PASS", warn: "WARN", fail: "FAIL", skip: "SKIP" }

/** The report for a terminal: one block per check, a summary line last. */
export const renderText = (report: Report): string => {
  const width = Math.max(...report.checks.map((c) => c.id.length), 10)
  const lines = [`effect-redis-mcp doctor ${report.version}`, ""]
  for (const c of report.checks) {
    lines.push(`${LABEL[c.status]}  ${c.id.padEnd(width)}  ${c.found}`)
    if (c.fix !== undefined) lines.push(`${" ".repeat(width + 8)}fix: ${c.fix}`)
  }
  const { pass, warn, fail, skip } = report.summary
  lines.push(
    "",
    `${pass} passed, ${warn} warnings, ${fail} failed${skip > 0 ? `, ${skip} skipped` : ""}` +
      (report.exitCode === 2 ? " (invalid configuration)" : "")
  )
  return `${lines.join("\n")}\n`
}

/** The report as one JSON object on one line. */
export const renderJson = (report: Report): string => `${JSON.stringify(report)}\n`
