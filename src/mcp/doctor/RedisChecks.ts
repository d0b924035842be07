/**
 * What doctor reads from Redis itself: version, topology, protected mode, whether the default
 * user answers without a password, the memory limit and eviction policy, persistence. Settings
 * are read with CONFIG GET where the user may (an admin running doctor), else from INFO; what
 * neither gives is a warning saying so, never a guess.
 */
import { Effect } from "effect"
import type { RedisSettings } from "../../layers/Config.ts"
import type { RedisClientShape } from "../../layers/RedisClient.ts"
import type { Topology } from "../../services/Admin.ts"
import { tlsOptions, unauthenticatedPing } from "./Network.ts"
import { ask, askEach, configFields, infoFields, isLoopbackHost, splitAddress } from "./Probe.ts"
import { type Check, check } from "./Report.ts"

/** Older than this: tools fail (LPOP with a count, ZRANGE BYSCORE REV, XAUTOCLAIM need 6.2). */
const MIN_VERSION = [6, 2] as const
/** Older than this: no ACL DRYRUN, no multi-part command key specs. */
const GOOD_VERSION = [7, 0] as const

const atLeast = (version: string, [major, minor]: readonly [number, number]) => {
  const [a = 0, b = 0] = version.split(".").map(Number)
  return a > major || (a === major && b >= minor)
}

const perNode = (list: ReadonlyArray<{ readonly node: string; readonly value: string }>) =>
  [...new Set(list.map((x) => x.value))].length === 1
    ? list[0]!.value
    : list.map((x) => `${x.node} ${x.value}`).join(", ")

export const versionCheck = Effect.fn("Doctor.version")(function* (redis: RedisClientShape) {
  const answers = yield* askEach(redis, ["INFO", "server"])
  const versions = answers.flatMap(({ node, answer }) =>
    answer.ok ? [{ node, value: infoFields(answer.reply).get("redis_version") ?? "?" }] : []
  )
  if (versions.length === 0) {
    const error = answers.find((a) => !a.answer.ok)
    return check(
      "redis.version",
      "Redis version",
      "warn",
      `could not read INFO server (${error && !error.answer.ok ? error.answer.error : "no answer"})`,
      "Allow the user INFO (the client's readiness check uses it too): ACL SETUSER <user> +info."
    )
  }
  const shown = perNode(versions)
  const details = { versions: Object.fromEntries(versions.map((v) => [v.node, v.value])) }
  if (versions.some((v) => !atLeast(v.value, MIN_VERSION))) {
    return check(
      "redis.version",
      "Redis version",
      "fail",
      `Redis ${shown}: older than 6.2, so lpop/rpop with a count, zrange by score in reverse and xautoclaim fail.`,
      "Upgrade Redis to 7.0 or later.",
      details
    )
  }
  if (versions.some((v) => !atLeast(v.value, GOOD_VERSION))) {
    return check(
      "redis.version",
      "Redis version",
      "warn",
      `Redis ${shown}: works, but before 7.0 there is no ACL DRYRUN (doctor's ACL check guesses) and raw commands' keys are found less precisely.`,
      "Upgrade Redis to 7.0 or later.",
      details
    )
  }
  return check("redis.version", "Redis version", "pass", `Redis ${shown}.`, undefined, details)
})

export const topologyCheck = (settings: RedisSettings, topology: Topology): Check => {
  const primaries = topology.nodes.filter((n) => n.role === "primary")
  const replicas = topology.nodes.filter((n) => n.role === "replica")
  const unhealthy = topology.nodes.filter((n) => n.flags.length > 0)
  const details = {
    mode: topology.mode,
    primaries: primaries.length,
    replicas: replicas.length,
    slotsCovered: topology.slotsCovered,
    nodes: topology.nodes.map((n) => ({ address: n.address, role: n.role, flags: n.flags }))
  }
  const flagged = unhealthy.map((n) => `${n.address} (${n.flags.join(", ")})`).join(", ")
  if (settings.mode === "cluster") {
    const covered = topology.slotsCovered ?? 0
    const lonely = primaries.filter((p) => !replicas.some((r) => r.primary === p.address))
    const found = `Cluster of ${primaries.length} primaries and ${replicas.length} replicas; ${covered} of 16384 slots covered`
    if (covered < 16384) {
      return check(
        "redis.topology",
        "Mode and topology",
        "fail",
        `${found}: keys in the other slots fail with CLUSTERDOWN.`,
        "Assign the missing slots (redis-cli --cluster fix) or bring their primary back.",
        details
      )
    }
    if (unhealthy.length > 0 || lonely.length > 0) {
      const why = [
        ...(unhealthy.length > 0 ? [`nodes flagged ${flagged}`] : []),
        ...(lonely.length > 0 ? [`no replica for ${lonely.map((p) => p.address).join(", ")}`] : [])
      ].join("; ")
      return check(
        "redis.topology",
        "Mode and topology",
        "warn",
        `${found}; ${why}: a primary that fails then takes its slots down.`,
        "Give every primary a healthy replica (redis-cli --cluster add-node --cluster-slave).",
        details
      )
    }
    return check("redis.topology", "Mode and topology", "pass", `${found}.`, undefined, details)
  }
  const self = topology.nodes[0]
  if (self?.role === "replica") {
    return check(
      "redis.topology",
      "Mode and topology",
      "fail",
      `${settings.mode === "sentinel" ? "Sentinel pointed the server" : "REDIS_URL points"} at ${self.address}, a replica of ${self.primary}: every write fails with READONLY.`,
      settings.mode === "sentinel"
        ? "Check the sentinels agree on the primary (SENTINEL GET-MASTER-ADDR-BY-NAME)."
        : "Point REDIS_URL at the primary, or use Sentinel so failovers are followed.",
      details
    )
  }
  const where =
    settings.mode === "sentinel"
      ? `Sentinel (master "${settings.sentinelMaster}", ${settings.sentinels.length} sentinels configured): primary ${self?.address}`
      : `standalone primary ${self?.address}`
  const found = `${where} with ${replicas.length} replica${replicas.length === 1 ? "" : "s"}`
  if (unhealthy.length > 0) {
    return check(
      "redis.topology",
      "Mode and topology",
      "warn",
      `${found}; ${flagged}.`,
      "Repair the replication links.",
      details
    )
  }
  if (settings.mode === "sentinel" && replicas.length === 0) {
    return check(
      "redis.topology",
      "Mode and topology",
      "warn",
      `${found}: a failover has nothing to promote.`,
      "Add a replica (replicaof) for the sentinels to promote.",
      details
    )
  }
  return check("redis.topology", "Mode and topology", "pass", `${found}.`, undefined, details)
}

/**
 * The topology from INFO replication, for a user without ROLE (outside a Cluster): the node the
 * client is on and its replicas, or its primary.
 */
export const topologyFromInfo = Effect.fn("Doctor.topologyFromInfo")(function* (
  redis: RedisClientShape,
  settings: RedisSettings
) {
  const answer = yield* ask(redis, ["INFO", "replication"])
  if (!answer.ok || settings.mode === "cluster") return answer.ok ? "INFO does not describe a Cluster" : answer.error
  const f = infoFields(answer.reply)
  const [self] = yield* Effect.map(redis.primaries, (p) => p.map((n) => n.address)).pipe(
    Effect.catch(() => Effect.succeed(["?"]))
  )
  const address = self ?? "?"
  if (f.get("role") === "slave") {
    const primary = `${f.get("master_host")}:${f.get("master_port")}`
    const link = f.get("master_link_status")
    return {
      mode: settings.mode,
      nodes: [
        { id: null, address, role: "replica", primary, slots: [], flags: link === "up" ? [] : [`link ${link}`] },
        { id: null, address: primary, role: "primary", primary: null, slots: [], flags: [] }
      ],
      slotsCovered: null
    } satisfies Topology
  }
  const replicas = [...f.entries()]
    .filter(([k]) => /^slave\d+$/.test(k))
    .map(([, v]) => new Map(v.split(",").map((kv) => kv.split("=") as [string, string])))
  return {
    mode: settings.mode,
    nodes: [
      { id: null, address, role: "primary", primary: null, slots: [], flags: [] },
      ...replicas.map((r) => ({
        id: null,
        address: `${r.get("ip")}:${r.get("port")}`,
        role: "replica" as const,
        primary: address,
        slots: [],
        flags: r.get("state") === "online" ? [] : [`state ${r.get("state")}`]
      }))
    ],
    slotsCovered: null
  } satisfies Topology
})

/** A CONFIG GET on every primary: name → per-node values, or why it could not be read. */
const configOnEach = (redis: RedisClientShape, name: string) =>
  Effect.map(askEach(redis, ["CONFIG", "GET", name]), (answers) => {
    const values: Array<{ node: string; value: string }> = []
    let error: string | undefined
    for (const { node, answer } of answers) {
      if (answer.ok) values.push({ node, value: configFields(answer.reply).get(name) ?? "" })
      else error = answer.error
    }
    return { values, error }
  })

const unreadable = (what: string, error: string | undefined) =>
  `could not read ${what} (${error ?? "no answer"}); the user may not run CONFIG GET`

const ADMIN_HINT = "run doctor once as an admin (REDIS_USERNAME/REDIS_PASSWORD) to read it, or check redis.conf"

export const protectedModeCheck = Effect.fn("Doctor.protectedMode")(function* (redis: RedisClientShape) {
  const { values, error } = yield* configOnEach(redis, "protected-mode")
  if (values.length === 0) {
    return check(
      "redis.protected-mode",
      "protected-mode",
      "warn",
      unreadable("protected-mode", error),
      `${ADMIN_HINT}.`
    )
  }
  const off = values.filter((v) => v.value === "no")
  if (off.length > 0) {
    return check(
      "redis.protected-mode",
      "protected-mode",
      "warn",
      `protected-mode is no on ${off.map((v) => v.node).join(", ")}: a default user without a password is reachable from any network Redis listens on.`,
      "Set protected-mode yes in redis.conf (and CONFIG SET protected-mode yes), or give the default user a password and bind only the interfaces you need."
    )
  }
  return check("redis.protected-mode", "protected-mode", "pass", "protected-mode is yes.")
})

export const defaultUserCheck = Effect.fn("Doctor.defaultUser")(function* (
  redis: RedisClientShape,
  settings: RedisSettings
) {
  const nodes = yield* Effect.map(redis.primaries, (p) => p.map((n) => n.address)).pipe(
    Effect.catch(() => Effect.succeed([] as Array<string>))
  )
  const binds = yield* configOnEach(redis, "bind")
  const boundWide = binds.values.some((b) =>
    b.value
      .split(/\s+/)
      .filter((a) => a !== "")
      .some((a) => !isLoopbackHost(a.replace(/^-/, "")))
  )
  const remote = nodes.some((a) => !isLoopbackHost(splitAddress(a).host))
  const exposed = remote || boundWide
  const open: Array<string> = []
  const unknown: Array<string> = []
  for (const address of nodes) {
    const { host, port } = splitAddress(address)
    const r = yield* unauthenticatedPing(host, port, settings.tls.enabled ? tlsOptions(settings.tls, host) : undefined)
    if (r === "open") open.push(address)
    else if (r !== "closed") unknown.push(`${address} (${r.error})`)
  }
  const where = exposed
    ? `Redis is reachable beyond this machine (${remote ? "a non-loopback address" : "bind includes a non-loopback address"})`
    : `Redis is on loopback${binds.values.length === 0 ? " (bind not readable)" : ""}`
  if (open.length > 0 && exposed) {
    return check(
      "redis.default-user",
      "Default user and requirepass",
      "fail",
      `${where} and answers commands without a password on ${open.join(", ")}: anyone who reaches it can read, change or delete everything.`,
      "Give the default user a password (requirepass, or ACL SETUSER default on >secret) or turn it off (ACL SETUSER default off), and use a named ACL user for the server."
    )
  }
  if (unknown.length > 0) {
    return check(
      "redis.default-user",
      "Default user and requirepass",
      "warn",
      `could not tell whether the default user needs a password: ${unknown.join(", ")}.`,
      "Check with redis-cli -h <host> PING from another machine: it must answer NOAUTH."
    )
  }
  return check(
    "redis.default-user",
    "Default user and requirepass",
    "pass",
    open.length > 0
      ? `${where}; the default user has no password, so any local process can use it.`
      : `${where}; a connection without credentials is refused.`
  )
})

export const maxmemoryCheck = Effect.fn("Doctor.maxmemory")(function* (redis: RedisClientShape) {
  const answers = yield* askEach(redis, ["INFO", "memory"])
  const rows = answers.flatMap(({ node, answer }) => {
    if (!answer.ok) return []
    const f = infoFields(answer.reply)
    return [{ node, max: Number(f.get("maxmemory") ?? 0), policy: f.get("maxmemory_policy") ?? "?" }]
  })
  if (rows.length === 0) {
    return check(
      "redis.maxmemory",
      "maxmemory and eviction",
      "warn",
      "could not read INFO memory.",
      "Allow the user INFO."
    )
  }
  const details = { nodes: rows }
  const unlimited = rows.filter((r) => r.max === 0)
  if (unlimited.length > 0) {
    return check(
      "redis.maxmemory",
      "maxmemory and eviction",
      "warn",
      `no maxmemory on ${unlimited.map((r) => r.node).join(", ")}: Redis grows until the machine runs out of memory and the kernel kills it.`,
      "Set maxmemory (about 75% of the memory Redis may use) with maxmemory-policy noeviction: writes then fail with OutOfMemory instead of the process dying.",
      details
    )
  }
  const evicting = rows.filter((r) => r.policy !== "noeviction")
  if (evicting.length > 0) {
    const all = evicting.some((r) => r.policy.startsWith("allkeys"))
    return check(
      "redis.maxmemory",
      "maxmemory and eviction",
      "warn",
      `maxmemory-policy ${perNode(evicting.map((r) => ({ node: r.node, value: r.policy })))}: when memory is full Redis evicts ${all ? "any key" : "keys with a TTL"}, ${all ? "tasks and state documents included" : "finished tasks and state documents with a TTL included"}; they vanish without an error.`,
      "Use maxmemory-policy noeviction for the database the server uses (a cache belongs in another Redis).",
      details
    )
  }
  return check(
    "redis.maxmemory",
    "maxmemory and eviction",
    "pass",
    `maxmemory ${perNode(rows.map((r) => ({ node: r.node, value: `${Math.round(r.max / 1048576)} MiB` })))} with noeviction.`,
    undefined,
    details
  )
})

export const persistenceCheck = Effect.fn("Doctor.persistence")(function* (redis: RedisClientShape) {
  const aof = yield* configOnEach(redis, "appendonly")
  const save = yield* configOnEach(redis, "save")
  const lost = "tasks, state and everything else are lost when Redis restarts"
  if (aof.values.length > 0 && save.values.length > 0) {
    const off = aof.values.filter(
      (a) => a.value !== "yes" && (save.values.find((s) => s.node === a.node)?.value ?? "") === ""
    )
    if (off.length > 0) {
      return check(
        "redis.persistence",
        "Persistence",
        "warn",
        `persistence is off on ${off.map((o) => o.node).join(", ")} (appendonly no, no save points): ${lost}.`,
        "Turn on the append-only file: appendonly yes with appendfsync everysec (at most a second of writes lost)."
      )
    }
    const rdbOnly = aof.values.filter((a) => a.value !== "yes")
    return check(
      "redis.persistence",
      "Persistence",
      "pass",
      rdbOnly.length > 0
        ? `RDB snapshots only (save ${perNode(save.values)}): writes since the last snapshot are lost on a crash; appendonly yes narrows that to a second.`
        : "append-only file on."
    )
  }
  const info = yield* askEach(redis, ["INFO", "persistence"])
  const aofOn = info.some(({ answer }) => answer.ok && infoFields(answer.reply).get("aof_enabled") === "1")
  if (aofOn) return check("redis.persistence", "Persistence", "pass", "append-only file on (from INFO).")
  return check(
    "redis.persistence",
    "Persistence",
    "warn",
    `the append-only file is off and whether RDB snapshots are configured is unknown (${unreadable("save", save.error)}); without either, ${lost}.`,
    `Turn on appendonly yes; ${ADMIN_HINT}.`
  )
})
