/**
 * Where a call goes on a Cluster: the primaries and their slots as the client's
 * slot map has them, the node connection serving a slot, and connections of
 * their own to one node (blocking reads of a key). Outside a Cluster the one
 * connection plays every part.
 */
import { type Cluster, Redis } from "ioredis"
import { SLOT_COUNT, toRanges } from "./ClusterSlots.ts"
import type { RedisSettings } from "./Config.ts"
import { nodeOptions } from "./RedisConnect.ts"

/** A primary and the slots it serves. */
export interface PrimaryNode {
  /** `host:port` the client reaches it at (after the Cluster NAT map). */
  readonly address: string
  /** Inclusive slot ranges; `[[0, 16383]]` outside a Cluster. */
  readonly slots: ReadonlyArray<readonly [number, number]>
}

/** `host:port` of a node connection, as the Cluster's slot map names it. */
export const addressOf = (node: Redis): string => `${node.options.host}:${node.options.port}`

/** Where a standalone or sentinel connection points right now (its socket's peer). */
export const connectedAddress = (client: Redis): string => {
  const stream = client.stream as { remoteAddress?: string; remotePort?: number } | undefined
  return stream?.remoteAddress !== undefined && stream.remotePort !== undefined
    ? `${stream.remoteAddress}:${stream.remotePort}`
    : addressOf(client)
}

/** The one node of a standalone or sentinel connection, serving every slot. */
export const singlePrimary = (client: Redis): Array<PrimaryNode> => [
  { address: connectedAddress(client), slots: [[0, SLOT_COUNT - 1]] }
]

/** The primaries of the client's slot map, ordered by their lowest slot. */
export const primariesOf = (cluster: Cluster): Array<PrimaryNode> => {
  const bySlot = new Map<string, Array<number>>()
  for (let slot = 0; slot < SLOT_COUNT; slot++) {
    const owner = cluster.slots[slot]?.[0]
    if (owner === undefined) continue
    const slots = bySlot.get(owner)
    if (slots === undefined) bySlot.set(owner, [slot])
    else slots.push(slot)
  }
  return [...bySlot.entries()]
    .map(([address, slots]) => ({ address, slots: toRanges(slots) }))
    .sort((a, b) => a.slots[0]![0] - b.slots[0]![0])
}

/** The Cluster's own connection to the primary serving `slot`; undefined while none is known. */
export const nodeServing = (cluster: Cluster, slot: number): Redis | undefined => {
  const owner = cluster.slots[slot]?.[0]
  return owner === undefined ? undefined : cluster.nodes("master").find((n) => addressOf(n) === owner)
}

/** A new, not yet connected connection to the node at `address`, with the key prefix and credentials. */
export const connectionTo = (settings: RedisSettings, keyPrefix: string, address: string): Redis => {
  const at = address.lastIndexOf(":")
  return new Redis(
    nodeOptions(settings, keyPrefix, { host: address.slice(0, at), port: Number(address.slice(at + 1)) })
  )
}
