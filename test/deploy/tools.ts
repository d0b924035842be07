/**
 * The outside tools the deploy checks run, all from Debian packages that `.ci/run`
 * installs: `systemd-analyze` (systemd), `promtool` (prometheus), `logrotate`, and
 * the official Prometheus Python client's exposition parser (python3-prometheus-client).
 * A missing tool fails the suite that needs it (never a skip); `.ci/run` installs them.
 */
import { spawnSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll } from "vitest"

interface ToolSpec {
  readonly command: string
  readonly probe: ReadonlyArray<string>
  readonly apt: string
}

const TOOLS = {
  "systemd-analyze": { command: "systemd-analyze", probe: ["--version"], apt: "systemd" },
  promtool: { command: "promtool", probe: ["--version"], apt: "prometheus" },
  logrotate: { command: "logrotate", probe: ["--version"], apt: "logrotate" },
  // Debian's interpreter, where apt puts the module (a PATH python3 may be another install).
  "prometheus-client": {
    command: "/usr/bin/python3",
    probe: ["-c", "import prometheus_client.parser"],
    apt: "python3-prometheus-client"
  }
} satisfies Record<string, ToolSpec>

export type Tool = keyof typeof TOOLS

const works = (tool: Tool): boolean => {
  const { command, probe } = TOOLS[tool]
  const result = spawnSync(command, probe, { stdio: "ignore", timeout: 10_000 })
  return result.error === undefined && result.status === 0
}

/** Throws when `tool` does not run: a suite that needs it fails instead of being skipped. */
export const requireTool = (tool: Tool): void => {
  if (works(tool)) return
  throw new Error(`${tool} is not available (apt-get install ${TOOLS[tool].apt}); \`bash .ci/run\` installs it.`)
}

export interface Run {
  readonly status: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs `tool` with `args` (and `input` on stdin), capturing its output. */
export const run = (tool: Tool, args: ReadonlyArray<string>, options: { input?: string; cwd?: string } = {}): Run => {
  const result = spawnSync(TOOLS[tool].command, args, {
    encoding: "utf8",
    timeout: 60_000,
    ...(options.input === undefined ? {} : { input: options.input }),
    ...(options.cwd === undefined ? {} : { cwd: options.cwd })
  })
  if (result.error !== undefined) throw result.error
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

/** A fresh temporary directory for the enclosing `describe`, removed after it; call the result in tests. */
export const useTempDir = (prefix: string): (() => string) => {
  let dir = ""
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), prefix))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  return () => dir
}
