/**
 * `CLUSTER NODES` parsed into the node list the `topology` tool shows: id,
 * announced address, role, its primary, slot ranges and health flags.
 */

export interface ClusterNode {
  readonly id: string
  /** `host:port` as the node announces itself (before any NAT map). */
  readonly address: string
  readonly role: "primary" | "replica"
  /** Id of the primary a replica follows; null for a primary. */
  readonly primaryId: string | null
  /** Inclusive slot ranges a primary serves (importing/migrating markers left out). */
  readonly slots: ReadonlyArray<readonly [number, number]>
  /** `CLUSTER NODES` flags without `master`/`slave`/`myself`, e.g. `fail`, `fail?`, `handshake`, `noaddr`. */
  readonly flags: ReadonlyArray<string>
  /** The cluster bus link: `connected` or `disconnected`. */
  readonly link: string
}

/** One line per node: `<id> <ip:port@cport[,hostname]> <flags> <primary> <ping> <pong> <epoch> <link> <slot>…`. */
export const parseClusterNodes = (text: string): Array<ClusterNode> =>
  text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .map((line) => {
      const [id = "", addr = "", flagList = "", primary = "-", , , , link = "", ...slotFields] = line.split(" ")
      const flags = flagList.split(",")
      const slots: Array<readonly [number, number]> = []
      for (const field of slotFields) {
        if (field.startsWith("[")) continue
        const [from, to] = field.split("-")
        slots.push([Number(from), Number(to ?? from)])
      }
      return {
        id,
        address: addr.split("@")[0] ?? addr,
        role: flags.includes("master") ? ("primary" as const) : ("replica" as const),
        primaryId: primary === "-" ? null : primary,
        slots,
        flags: flags.filter((f) => f !== "master" && f !== "slave" && f !== "myself"),
        link
      }
    })

/** How many of the 16384 slots some primary serves. */
export const slotsCovered = (nodes: ReadonlyArray<ClusterNode>): number =>
  nodes
    .filter((n) => n.role === "primary")
    .flatMap((n) => n.slots)
    .reduce((sum, [from, to]) => sum + (to - from + 1), 0)
