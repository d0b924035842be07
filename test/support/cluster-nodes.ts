/**
 * Parsing `CLUSTER NODES` output.
 */

export interface ClusterNodeInfo {
  readonly id: string
  readonly host: string
  readonly port: number
  readonly flags: readonly string[]
  readonly role: "primary" | "replica"
  /** Id of the primary for replicas, undefined for primaries. */
  readonly primaryId: string | undefined
  /** True unless flagged fail / fail? / handshake / noaddr. */
  readonly healthy: boolean
  readonly connected: boolean
  /** Inclusive slot ranges served (primaries only; importing/migrating markers skipped). */
  readonly slots: readonly (readonly [number, number])[]
}

const UNHEALTHY = new Set(["fail", "fail?", "handshake", "noaddr"])

const parseSlots = (fields: readonly string[]): [number, number][] =>
  fields
    .filter((field) => !field.startsWith("["))
    .map((field) => {
      const [from, to] = field.split("-")
      const start = Number(from)
      return [start, to === undefined ? start : Number(to)]
    })

/** Parses one line of CLUSTER NODES. */
export const parseClusterNodeLine = (line: string): ClusterNodeInfo => {
  const [id = "", address = "", flagText = "", primary = "-", , , , linkState = "", ...slots] = line.trim().split(" ")
  const hostPort = address.split(",")[0]?.split("@")[0] ?? ""
  const colon = hostPort.lastIndexOf(":")
  const flags = flagText.split(",")
  const isPrimary = flags.includes("master")
  return {
    id,
    host: hostPort.slice(0, colon),
    port: Number(hostPort.slice(colon + 1)),
    flags,
    role: isPrimary ? "primary" : "replica",
    primaryId: primary === "-" ? undefined : primary,
    healthy: !flags.some((flag) => UNHEALTHY.has(flag)),
    connected: linkState === "connected",
    slots: isPrimary ? parseSlots(slots) : []
  }
}

/** Parses the full CLUSTER NODES reply. */
export const parseClusterNodes = (text: string): ClusterNodeInfo[] =>
  text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map(parseClusterNodeLine)

/** The node whose slot ranges contain `slot`. */
export const ownerOfSlot = (nodes: readonly ClusterNodeInfo[], slot: number): ClusterNodeInfo | undefined =>
  nodes.find((node) => node.role === "primary" && node.slots.some(([from, to]) => slot >= from && slot <= to))
