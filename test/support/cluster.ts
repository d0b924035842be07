/**
 * `startCluster(options)`: a Redis Cluster of N primaries with R replicas each,
 * created with `redis-cli --cluster create`.
 */
import { command, type Endpoint, replicaInSync, role } from "./admin.ts"
import { cliAuthArgs, runCli } from "./cli.ts"
import { type ClusterNodeInfo, ownerOfSlot, parseClusterNodes } from "./cluster-nodes.ts"
import type { Directive } from "./config.ts"
import { HOST } from "./ports.ts"
import type { Address } from "./sentinel.ts"
import { type RedisHandle, startRedis } from "./standalone.ts"
import { waitFor } from "./wait.ts"

export interface StartClusterOptions {
  /** Default 3. */
  readonly primaries?: number
  /** Default 1. */
  readonly replicasPerPrimary?: number
  /** cluster-node-timeout (default 2000 ms; failover then takes ~3-6 s). */
  readonly nodeTimeoutMs?: number
  /** requirepass + masterauth on every node. */
  readonly password?: string
  /** Appended to every node's command line. */
  readonly extraArgs?: readonly string[]
  /** How long to wait for cluster_state:ok after creation (default 60 s). */
  readonly readyTimeoutMs?: number
}

export interface RedisCluster {
  /** Addresses of all nodes (as started), for `new Cluster(seeds)`. */
  readonly seeds: readonly Address[]
  readonly nodes: readonly RedisHandle[]
  readonly password?: string
  /** Handle of the node on `port`. */
  node(port: number): RedisHandle
  /** CLUSTER NODES as seen by the first reachable running node. */
  clusterNodes(): Promise<ClusterNodeInfo[]>
  /** Healthy primaries (from CLUSTER NODES). */
  primaries(): Promise<ClusterNodeInfo[]>
  /** Healthy replicas (from CLUSTER NODES). */
  replicas(): Promise<ClusterNodeInfo[]>
  /** Healthy replicas of the primary on `primaryPort`. */
  replicasOf(primaryPort: number): Promise<ClusterNodeInfo[]>
  /** The primary serving `key` (CLUSTER KEYSLOT + CLUSTER NODES). */
  primaryForKey(key: string): Promise<ClusterNodeInfo>
  /** SIGKILL one node; returns its handle. */
  killNode(port: number): Promise<RedisHandle>
  /** Starts a node again (same port, dir and nodes.conf); waits for PING only. */
  restartNode(port: number): Promise<RedisHandle>
  /** Every running node: cluster_state:ok, all slots ok, no running node flagged failed, replicas in sync. */
  waitForClusterOk(timeoutMs?: number): Promise<void>
  /** After killing a primary: waits until its slots are served by another node and the cluster is ok. */
  waitForFailover(oldPrimaryPort: number, timeoutMs?: number): Promise<void>
  /** CLUSTER FAILOVER on a replica of `primaryPort`; waits until it is primary and the cluster is ok. */
  failoverReplicaOf(primaryPort: number, timeoutMs?: number): Promise<ClusterNodeInfo>
  /** SIGKILLs all nodes and removes their directories. */
  stop(): Promise<void>
}

const SLOTS = 16384

const clusterInfoOk = async (endpoint: Endpoint): Promise<boolean> => {
  const reply = String(await command(endpoint, "CLUSTER", "INFO"))
  const map = new Map(reply.split(/\r?\n/).map((line) => line.split(":") as [string, string]))
  return (
    map.get("cluster_state") === "ok" &&
    Number(map.get("cluster_slots_assigned")) === SLOTS &&
    Number(map.get("cluster_slots_ok")) === SLOTS
  )
}

/** Roles, replication links and slot ranges of the running nodes, as one comparable string. */
const topologySignature = (view: readonly ClusterNodeInfo[], ports: ReadonlySet<number>): string => {
  const portOf = new Map(view.map((entry) => [entry.id, entry.port]))
  return view
    .filter((entry) => ports.has(entry.port))
    .map((entry) =>
      entry.role === "primary"
        ? `${entry.port}:primary:${entry.slots.map(([from, to]) => `${from}-${to}`).join(",")}`
        : `${entry.port}:replica-of:${entry.primaryId === undefined ? "?" : portOf.get(entry.primaryId)}`
    )
    .sort()
    .join(" ")
}

const viewOf = async (endpoint: Endpoint): Promise<ClusterNodeInfo[]> =>
  parseClusterNodes(String(await command(endpoint, "CLUSTER", "NODES")))

/** Creates the cluster and waits until it is fully healthy. */
export const startCluster = async (options: StartClusterOptions = {}): Promise<RedisCluster> => {
  const primaryCount = options.primaries ?? 3
  const replicasPerPrimary = options.replicasPerPrimary ?? 1
  const total = primaryCount * (1 + replicasPerPrimary)
  const auth = options.password !== undefined ? { password: options.password } : {}
  const config: Directive[] = [
    ["cluster-enabled", "yes"],
    ["cluster-config-file", "nodes.conf"],
    ["cluster-node-timeout", String(options.nodeTimeoutMs ?? 2000)],
    ["cluster-replica-validity-factor", "0"],
    ["cluster-allow-replica-migration", "no"]
  ]
  if (options.password !== undefined) config.push(["masterauth", options.password])
  const nodes: RedisHandle[] = []
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.dispose()))
  }

  const node = (port: number): RedisHandle => {
    const found = nodes.find((n) => n.port === port)
    if (found === undefined) throw new Error(`no cluster node on port ${port}`)
    return found
  }
  const running = (): RedisHandle[] => nodes.filter((n) => n.isRunning())

  const clusterNodes = async (): Promise<ClusterNodeInfo[]> => {
    let lastError: unknown = new Error("no cluster node running")
    for (const n of running()) {
      try {
        return await viewOf(n.endpoint)
      } catch (error) {
        lastError = error
      }
    }
    throw lastError
  }

  const waitForClusterOk = async (timeoutMs = options.readyTimeoutMs ?? 60_000): Promise<void> => {
    await waitFor(
      async () => {
        const live = running()
        const livePorts = new Set(live.map((n) => n.port))
        const signatures = new Set<string>()
        for (const n of live) {
          if (!(await clusterInfoOk(n.endpoint))) return false
          const view = await viewOf(n.endpoint)
          if (view.some((entry) => livePorts.has(entry.port) && !entry.healthy)) return false
          const self = view.find((entry) => entry.flags.includes("myself"))
          if (self?.role === "replica" && !(await replicaInSync(n.endpoint))) return false
          signatures.add(topologySignature(view, livePorts))
        }
        // Every running node must agree on who is primary/replica of whom and on the slot map.
        return signatures.size === 1
      },
      { timeoutMs, intervalMs: 200, description: "cluster_state:ok on every running node" }
    )
  }

  const replicasOf = async (primaryPort: number): Promise<ClusterNodeInfo[]> => {
    const view = await clusterNodes()
    const primary = view.find((entry) => entry.port === primaryPort)
    if (primary === undefined) throw new Error(`no node on port ${primaryPort} in CLUSTER NODES`)
    return view.filter((entry) => entry.primaryId === primary.id && entry.healthy)
  }

  const waitForPromotion = async (port: number, timeoutMs: number): Promise<void> => {
    await waitFor(
      async () => {
        if ((await role({ host: HOST, port, ...auth })) !== "master") return false
        for (const n of running()) {
          const self = (await viewOf(n.endpoint)).find((entry) => entry.port === port)
          if (self?.role !== "primary" || self.slots.length === 0) return false
        }
        return true
      },
      { timeoutMs, intervalMs: 200, description: `node ${HOST}:${port} to be promoted to primary` }
    )
  }

  try {
    nodes.push(
      ...(await Promise.all(
        Array.from({ length: total }, () =>
          startRedis({
            ...auth,
            clusterBus: true,
            config,
            ...(options.extraArgs ? { extraArgs: options.extraArgs } : {})
          })
        )
      ))
    )
    const first = nodes[0] as RedisHandle
    const create = await runCli([
      ...cliAuthArgs(first.endpoint),
      "--cluster",
      "create",
      ...nodes.map((n) => `${HOST}:${n.port}`),
      "--cluster-replicas",
      String(replicasPerPrimary),
      "--cluster-yes"
    ])
    if (create.code !== 0 || !create.stdout.includes(`All ${SLOTS} slots covered`)) {
      throw new Error(`redis-cli --cluster create failed (exit ${create.code}):\n${create.stdout}\n${create.stderr}`)
    }
    await waitForClusterOk()
  } catch (error) {
    await stop()
    throw error
  }

  return {
    seeds: nodes.map((n) => ({ host: n.host, port: n.port })),
    nodes,
    ...auth,
    node,
    clusterNodes,
    primaries: async () => (await clusterNodes()).filter((entry) => entry.role === "primary" && entry.healthy),
    replicas: async () => (await clusterNodes()).filter((entry) => entry.role === "replica" && entry.healthy),
    replicasOf,
    primaryForKey: async (key) => {
      const view = await clusterNodes()
      const live = running()[0]
      if (live === undefined) throw new Error("no cluster node running")
      const slot = Number(await command(live.endpoint, "CLUSTER", "KEYSLOT", key))
      const owner = ownerOfSlot(view, slot)
      if (owner === undefined) throw new Error(`no primary serves slot ${slot} (key "${key}")`)
      return owner
    },
    killNode: async (port) => {
      const handle = node(port)
      await handle.kill()
      return handle
    },
    restartNode: async (port) => {
      const handle = node(port)
      await handle.restart()
      return handle
    },
    waitForClusterOk,
    waitForFailover: async (oldPrimaryPort, timeoutMs = 30_000) => {
      await waitFor(
        async () => {
          for (const n of running()) {
            const view = await viewOf(n.endpoint)
            const old = view.find((entry) => entry.port === oldPrimaryPort)
            if (old !== undefined && old.role === "primary" && old.slots.length > 0) return false
          }
          return true
        },
        { timeoutMs, intervalMs: 200, description: `slots of ${HOST}:${oldPrimaryPort} to move to a replica` }
      )
      await waitForClusterOk(timeoutMs)
    },
    failoverReplicaOf: async (primaryPort, timeoutMs = 30_000) => {
      const [replica] = await replicasOf(primaryPort)
      if (replica === undefined) throw new Error(`primary ${HOST}:${primaryPort} has no healthy replica`)
      const reply = await command(node(replica.port).endpoint, "CLUSTER", "FAILOVER")
      if (reply !== "OK") throw new Error(`CLUSTER FAILOVER on ${HOST}:${replica.port} replied ${String(reply)}`)
      await waitForPromotion(replica.port, timeoutMs)
      await waitForClusterOk(timeoutMs)
      const promoted = (await clusterNodes()).find((entry) => entry.port === replica.port)
      return promoted ?? replica
    },
    stop
  }
}
