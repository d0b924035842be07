/**
 * Free loopback ports that are safe to use from parallel vitest workers.
 *
 * Plain "bind 127.0.0.1:0" hands out ports from the kernel's ephemeral range
 * (32768-60999 here), which is also where every outgoing client socket gets
 * its local port, and `port + 10000` (the cluster bus) could exceed 65535.
 * So ports are picked at random from 12000-21999 (bus ports 22000-31999, both
 * below the ephemeral range), verified by actually binding 127.0.0.1, and
 * reserved across processes with an O_EXCL lock file holding our pid. Locks of
 * dead pids are taken over; ours are removed when this process exits.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { TEMP_PREFIX, trackPortLock } from "./registry.ts"

export const HOST = "127.0.0.1"
const MIN_PORT = 12000
const SPAN = 10000
const BUS_OFFSET = 10000
const lockDir = join(tmpdir(), `${TEMP_PREFIX}ports`)
const reserved = new Set<number>()

export interface FreePortOptions {
  /** Also require `port + 10000` (the Redis Cluster bus port) to be free. */
  readonly clusterBus?: boolean
}

/** Resolves true when 127.0.0.1:port can be bound right now. */
export const canBind = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const server = createServer()
    server.unref()
    server.once("error", () => resolve(false))
    server.listen({ host: HOST, port, exclusive: true }, () => server.close(() => resolve(true)))
  })

/** An OS-assigned port (bind 127.0.0.1:0, read, close). No reservation. */
export const ephemeralPort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once("error", reject)
    server.listen({ host: HOST, port: 0 }, () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

const pidAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

/** Atomically claims the lock file for `port`; false when another live process holds it. */
const claim = (port: number): boolean => {
  mkdirSync(lockDir, { recursive: true })
  const file = join(lockDir, String(port))
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: "wx" })
      trackPortLock(file)
      return true
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error
      const owner = Number.parseInt(readFileSync(file, "utf8"), 10)
      if (Number.isFinite(owner) && (owner === process.pid || pidAlive(owner))) return false
      rmSync(file, { force: true }) // stale lock of a dead process
    }
  }
  return false
}

const release = (port: number): void => {
  rmSync(join(lockDir, String(port)), { force: true })
}

/**
 * A free, reserved loopback port. The reservation lasts for the lifetime of
 * this process so a server can be restarted on the same port.
 */
export const freePort = async (options: FreePortOptions = {}): Promise<number> => {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = MIN_PORT + Math.floor(Math.random() * SPAN)
    if (reserved.has(port)) continue
    if (!claim(port)) continue
    const free = (await canBind(port)) && (options.clusterBus !== true || (await canBind(port + BUS_OFFSET)))
    if (free) {
      reserved.add(port)
      return port
    }
    release(port)
  }
  throw new Error("freePort: could not find a free loopback port after 200 attempts")
}

/** `count` distinct free ports (see `freePort`). */
export const freePorts = async (count: number, options: FreePortOptions = {}): Promise<number[]> => {
  const ports: number[] = []
  for (let i = 0; i < count; i++) ports.push(await freePort(options))
  return ports
}
