/**
 * `startSentinelSet(options)`: a primary, N replicas and M redis-sentinel
 * processes monitoring them, all on loopback.
 */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { command, type Endpoint, loopback, replicaInSync, role } from "./admin.ts"
import { type Directive, renderConfig } from "./config.ts"
import { binary } from "./env.ts"
import { freePort, HOST } from "./ports.ts"
import { makeTempDir, removeTempDir } from "./registry.ts"
import { type ServerProcess, serverProcess } from "./server-process.ts"
import { type RedisHandle, startRedis } from "./standalone.ts"
import { waitFor } from "./wait.ts"

export interface SentinelSetOptions {
  /** Number of replicas (default 1). */
  readonly replicas?: number
  /** Number of sentinels (default 3). */
  readonly sentinels?: number
  /** Default "mymaster". */
  readonly masterName?: string
  /** Default 2. */
  readonly quorum?: number
  /** sentinel down-after-milliseconds (default 1000). */
  readonly downAfterMs?: number
  /** sentinel failover-timeout (default 5000). */
  readonly failoverTimeoutMs?: number
  /** requirepass/masterauth on the data nodes and auth-pass in the sentinels. */
  readonly password?: string
  /** How long to wait for the whole set to become healthy (default 30 s). */
  readonly readyTimeoutMs?: number
}

export interface Address {
  readonly host: string
  readonly port: number
}

export interface SentinelNode extends Address {
  readonly dir: string
  readonly endpoint: Endpoint
  readonly process: ServerProcess
  isRunning(): boolean
  kill(): Promise<void>
  /** Start again with its (sentinel-rewritten) config file. */
  restart(): Promise<void>
  command(name: string, ...args: (string | number)[]): Promise<unknown>
}

export interface SentinelSet {
  readonly masterName: string
  /** Sentinel addresses, for client configuration. */
  readonly sentinels: readonly Address[]
  readonly sentinelNodes: readonly SentinelNode[]
  /** Data nodes; nodes[0] is the initial primary. */
  readonly nodes: readonly RedisHandle[]
  /** Current primary as reported by the first reachable sentinel. */
  primary(): Promise<Address>
  /** Handle of the current primary. */
  primaryHandle(): Promise<RedisHandle>
  /** SIGKILLs the current primary and returns its handle (restart() it later). */
  killPrimary(): Promise<RedisHandle>
  /** SENTINEL FAILOVER and wait until a different primary answers ROLE master. */
  failover(timeoutMs?: number): Promise<Address>
  /** Waits until all running sentinels report a primary other than `oldPort` that answers ROLE master. */
  waitForPrimaryChange(oldPort: number, timeoutMs?: number): Promise<Address>
  /** Waits until every running sentinel agrees on the primary and sees all running replicas and sentinels. */
  waitForHealthy(timeoutMs?: number): Promise<void>
  /** SIGKILLs everything and removes the directories. */
  stop(): Promise<void>
}

const toMap = (reply: unknown): Map<string, string> => {
  const flat = reply as string[]
  const map = new Map<string, string>()
  for (let i = 0; i + 1 < flat.length; i += 2) map.set(String(flat[i]), String(flat[i + 1]))
  return map
}

const startSentinel = async (
  name: string,
  primary: RedisHandle,
  options: SentinelSetOptions
): Promise<SentinelNode> => {
  const port = await freePort()
  const dir = makeTempDir(`sentinel-${port}`)
  const confFile = join(dir, "sentinel.conf")
  const config: Directive[] = [
    ["port", String(port)],
    ["bind", HOST],
    ["dir", dir],
    ["daemonize", "no"],
    ["logfile", ""],
    ["sentinel", "resolve-hostnames", "no"],
    ["sentinel", "monitor", name, HOST, String(primary.port), String(options.quorum ?? 2)],
    ["sentinel", "down-after-milliseconds", name, String(options.downAfterMs ?? 1000)],
    ["sentinel", "failover-timeout", name, String(options.failoverTimeoutMs ?? 5000)],
    ["sentinel", "parallel-syncs", name, "1"]
  ]
  if (options.password !== undefined) config.push(["sentinel", "auth-pass", name, options.password])
  writeFileSync(confFile, renderConfig(config))
  const endpoint = loopback(port)
  const proc = serverProcess({
    name: `redis-sentinel ${HOST}:${port}`,
    bin: binary("redis-sentinel"),
    args: [confFile],
    cwd: dir,
    logFile: join(dir, "sentinel.log"),
    endpoint
  })
  await proc.start()
  return {
    host: HOST,
    port,
    dir,
    endpoint,
    process: proc,
    isRunning: () => proc.isRunning(),
    kill: () => proc.terminate("SIGKILL"),
    restart: async () => {
      await proc.terminate("SIGKILL")
      await proc.start()
    },
    command: (cmd, ...args) => command(endpoint, cmd, ...args)
  }
}

/** Starts primary + replicas, waits for replication, then starts the sentinels and waits until healthy. */
export const startSentinelSet = async (options: SentinelSetOptions = {}): Promise<SentinelSet> => {
  const masterName = options.masterName ?? "mymaster"
  const replicaCount = options.replicas ?? 1
  const sentinelCount = options.sentinels ?? 3
  const auth = options.password !== undefined ? { password: options.password } : {}
  const nodes: RedisHandle[] = []
  const sentinelNodes: SentinelNode[] = []

  const stop = async (): Promise<void> => {
    await Promise.all(sentinelNodes.map((s) => s.kill()))
    for (const s of sentinelNodes) removeTempDir(s.dir)
    await Promise.all(nodes.map((n) => n.dispose()))
  }

  const running = (): SentinelNode[] => sentinelNodes.filter((s) => s.isRunning())

  const primary = async (): Promise<Address> => {
    let lastError: unknown = new Error("no sentinel running")
    for (const sentinel of running()) {
      try {
        const reply = (await sentinel.command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", masterName)) as string[] | null
        if (reply !== null) return { host: String(reply[0]), port: Number(reply[1]) }
      } catch (error) {
        lastError = error
      }
    }
    throw lastError
  }

  const handleFor = (port: number): RedisHandle => {
    const node = nodes.find((n) => n.port === port)
    if (node === undefined) throw new Error(`no data node on port ${port}`)
    return node
  }

  const waitForPrimaryChange = (oldPort: number, timeoutMs = 30_000): Promise<Address> =>
    waitFor(
      async () => {
        const reports = await Promise.all(
          running().map(async (s) => (await s.command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", masterName)) as string[])
        )
        const ports = new Set(reports.map((r) => Number(r[1])))
        if (ports.size !== 1 || ports.has(oldPort)) return undefined
        const port = [...ports][0] as number
        return (await role({ ...loopback(port), ...auth })) === "master" ? { host: HOST, port } : undefined
      },
      { timeoutMs, intervalMs: 200, description: `sentinels to report a primary other than ${HOST}:${oldPort}` }
    )

  const waitForHealthy = async (timeoutMs = options.readyTimeoutMs ?? 30_000): Promise<void> => {
    await waitFor(
      async () => {
        const current = await primary()
        const expectedReplicas = nodes.filter((n) => n.isRunning() && n.port !== current.port).length
        const expectedSentinels = running().length - 1
        for (const sentinel of running()) {
          const master = toMap(await sentinel.command("SENTINEL", "MASTER", masterName))
          if (master.get("flags") !== "master" || Number(master.get("port")) !== current.port) return false
          if (Number(master.get("num-other-sentinels")) < expectedSentinels) return false
          if (Number(master.get("num-slaves")) < expectedReplicas) return false
        }
        // Replication itself is checked on the replicas: sentinels only refresh it every 10 s.
        for (const node of nodes) {
          if (!node.isRunning() || node.port === current.port) continue
          const replication = await node.info("replication")
          if (
            replication.get("master_link_status") !== "up" ||
            Number(replication.get("master_port")) !== current.port
          ) {
            return false
          }
        }
        return true
      },
      { timeoutMs, intervalMs: 200, description: `sentinel set "${masterName}" to become healthy` }
    )
  }

  try {
    const first = await startRedis({ ...auth })
    nodes.push(first)
    const replicaConfig: Directive[] = [["replicaof", HOST, String(first.port)]]
    if (options.password !== undefined) replicaConfig.push(["masterauth", options.password])
    nodes.push(
      ...(await Promise.all(Array.from({ length: replicaCount }, () => startRedis({ ...auth, config: replicaConfig }))))
    )
    await waitFor(
      async () => (await Promise.all(nodes.slice(1).map((n) => replicaInSync(n.endpoint)))).every(Boolean),
      {
        timeoutMs: 20_000,
        description: "replicas to sync with the primary"
      }
    )
    for (let i = 0; i < sentinelCount; i++) sentinelNodes.push(await startSentinel(masterName, first, options))
    await waitForHealthy()
  } catch (error) {
    await stop()
    throw error
  }

  return {
    masterName,
    sentinels: sentinelNodes.map((s) => ({ host: s.host, port: s.port })),
    sentinelNodes,
    nodes,
    primary,
    primaryHandle: async () => handleFor((await primary()).port),
    killPrimary: async () => {
      const node = handleFor((await primary()).port)
      await node.kill()
      return node
    },
    failover: async (timeoutMs = 30_000) => {
      const old = await primary()
      await waitFor(
        async () => {
          const sentinel = running()[0]
          if (sentinel === undefined) throw new Error("no sentinel running")
          return (await sentinel.command("SENTINEL", "FAILOVER", masterName)) === "OK"
        },
        { timeoutMs: Math.min(timeoutMs, 15_000), intervalMs: 250, description: "SENTINEL FAILOVER to be accepted" }
      )
      return waitForPrimaryChange(old.port, timeoutMs)
    },
    waitForPrimaryChange,
    waitForHealthy,
    stop
  }
}
