/**
 * Process-wide registry of everything the harness starts: server processes,
 * ioredis clients, temp directories and port reservations.
 *
 * Cleanup happens in three layers:
 *  1. explicitly, through handle.stop()/dispose() or `stopAll()`;
 *  2. synchronously in `process.on("exit")` (SIGKILL + rm -rf);
 *  3. by a detached watchdog shell that notices when this process has died
 *     without running exit handlers (e.g. vitest SIGKILLs a worker) and then
 *     SIGKILLs the recorded redis pids and removes the recorded paths.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

/** Prefix of every temp directory created by the harness (under os.tmpdir()). */
export const TEMP_PREFIX = "effect-redis-mcp-test-"

/** Anything that can be closed when the session ends (ioredis clients, ...). */
export interface Closable {
  disconnect(): void
}

const children = new Map<number, ChildProcess>()
const clients = new Set<Closable>()
const paths = new Set<string>()
const portLocks = new Set<string>()
let root: string | undefined
let watchdog: ChildProcess | undefined
let hooked = false

/** The per-process session directory; created lazily. */
export const sessionDir = (): string => {
  if (root === undefined) {
    root = mkdtempSync(join(tmpdir(), TEMP_PREFIX))
    installHooks()
  }
  return root
}

/** A fresh directory inside the session directory. */
export const makeTempDir = (label: string): string => {
  const dir = mkdtempSync(join(sessionDir(), `${label}-`))
  paths.add(dir)
  persist()
  return dir
}

/** Forget and delete a directory created by `makeTempDir`. */
export const removeTempDir = (dir: string): void => {
  rmSync(dir, { recursive: true, force: true })
  paths.delete(dir)
  persist()
}

export const trackChild = (child: ChildProcess): void => {
  if (child.pid === undefined) return
  const pid = child.pid
  children.set(pid, child)
  ensureWatchdog()
  persist()
  child.once("exit", () => {
    children.delete(pid)
    persist()
  })
}

export const trackClient = <C extends Closable>(client: C): C => {
  clients.add(client)
  return client
}

export const untrackClient = (client: Closable): void => {
  clients.delete(client)
}

export const trackPortLock = (file: string): void => {
  portLocks.add(file)
  persist()
}

/** Pids of the server processes currently alive (for diagnostics / tests). */
export const livePids = (): number[] => [...children.keys()]

const closeClients = (): void => {
  for (const client of clients) {
    try {
      client.disconnect()
    } catch {
      // already closed
    }
  }
  clients.clear()
}

/**
 * SIGKILLs every tracked process, closes every tracked client and removes
 * every server directory. Safe to call at any time, e.g. from `afterAll`.
 */
export const stopAll = async (): Promise<void> => {
  closeClients()
  const exits = [...children.values()].map(
    (child) =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve()
        child.once("exit", () => resolve())
        child.kill("SIGKILL")
      })
  )
  await Promise.all(exits)
  for (const dir of paths) rmSync(dir, { recursive: true, force: true })
  paths.clear()
  persist()
}

const exitCleanup = (): void => {
  for (const pid of children.keys()) {
    try {
      process.kill(pid, "SIGKILL")
    } catch {
      // already gone
    }
  }
  children.clear()
  for (const file of portLocks) rmSync(file, { force: true })
  if (root !== undefined) rmSync(root, { recursive: true, force: true })
  if (watchdog?.pid !== undefined) {
    try {
      process.kill(watchdog.pid, "SIGKILL")
    } catch {
      // already gone
    }
  }
}

/**
 * Termination signals skip "exit" handlers (vitest stops its fork workers with
 * SIGTERM), so clean up on them too, then die of the signal as if we had not
 * listened — unless someone else also listens and decides what happens next.
 */
const onSignal = (signal: NodeJS.Signals): void => {
  exitCleanup()
  process.removeListener(signal, onSignal)
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
}

const installHooks = (): void => {
  if (hooked) return
  hooked = true
  process.on("exit", exitCleanup)
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.on(signal, onSignal)
}

const stateFile = (): string => join(sessionDir(), "watchdog.state")

/** Writes the state the watchdog acts on: pids first, then paths (session root last). */
const persist = (): void => {
  if (root === undefined || watchdog === undefined) return
  const lines = [
    ...[...children.keys()].map((pid) => `pid ${pid}`),
    ...[...portLocks].map((file) => `path ${file}`),
    `path ${root}`
  ]
  try {
    writeFileSync(stateFile(), `${lines.join("\n")}\n`)
  } catch {
    // session dir already removed (exit in progress)
  }
}

const WATCHDOG_SCRIPT = `
parent="$1"; state="$2"
while kill -0 "$parent" 2>/dev/null; do sleep 1; done
[ -f "$state" ] || exit 0
while read -r kind value; do
  case "$kind" in
    pid) if grep -q redis "/proc/$value/cmdline" 2>/dev/null; then kill -9 "$value" 2>/dev/null; fi ;;
    path) case "$value" in */${TEMP_PREFIX}*) rm -rf -- "$value" ;; esac ;;
  esac
done < "$state"
`

/** Set to "1" to run without the watchdog (used by the harness's own tests of the other hooks). */
export const NO_WATCHDOG_ENV = "REDIS_TEST_NO_WATCHDOG"

const ensureWatchdog = (): void => {
  if (watchdog !== undefined || process.env[NO_WATCHDOG_ENV] === "1") return
  const state = stateFile()
  watchdog = spawn("/bin/sh", ["-c", WATCHDOG_SCRIPT, "redis-test-watchdog", String(process.pid), state], {
    detached: true,
    stdio: "ignore"
  })
  watchdog.unref()
  persist()
}
