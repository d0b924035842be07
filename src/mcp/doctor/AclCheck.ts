/**
 * Can the server's Redis user run what the enabled toolsets send? Asked three ways, best first:
 * 1. `ACL DRYRUN <user> <command> …` (Redis ≥ 7.0, needs a user allowed to run it), on every
 *    primary: exact, and it checks the key and channel patterns too.
 * 2. Otherwise, on a connection of its own as the server's user: `MULTI`, each command queued
 *    (Redis checks ACL when it queues, so `NOPERM` comes back then and nothing ever runs),
 *    `DISCARD`. Subscriptions are tried for real on another connection (subscribing changes
 *    nothing) and `EXEC` outside a transaction (refused for its ACL before "EXEC without MULTI").
 * 3. If even `MULTI` is refused: the read commands are run as they are (on probe keys that do
 *    not exist); the writes stay unknown (a warning, not a failure).
 */
import { Effect } from "effect"
import type { Redis } from "ioredis"
import type { RedisClientShape } from "../../layers/RedisClient.ts"
import { type Need, needsFor } from "./Needs.ts"
import { ask, askEach, replyText } from "./Probe.ts"
import { type Check, check } from "./Report.ts"

type Verdict = { readonly kind: "allowed" } | { readonly kind: "missing" | "unknown"; readonly why: string }
type Method = "ACL DRYRUN" | "queued probes (MULTI … DISCARD)" | "read-only probes"

const ALLOWED: Verdict = { kind: "allowed" }

/** An error reply as a verdict: NOPERM and unknown commands are missing; arity errors say nothing; anything else passed ACL. */
const fromError = (message: string): Verdict => {
  if (/NOPERM|no permissions/i.test(message)) return { kind: "missing", why: message.replace(/^NOPERM\s*/, "") }
  if (/unknown command/i.test(message)) return { kind: "missing", why: "this Redis version does not have it" }
  if (/wrong number of arguments|not allowed inside a transaction|not allowed in this context/i.test(message)) {
    return { kind: "unknown", why: message }
  }
  return ALLOWED
}

const tryCall = (conn: Redis, argv: ReadonlyArray<string>): Effect.Effect<Verdict> =>
  Effect.promise(() =>
    conn.call(argv[0]!, argv.slice(1)).then(
      (): Verdict => ALLOWED,
      (e: unknown): Verdict => fromError(e instanceof Error ? e.message : String(e))
    )
  ).pipe(
    Effect.timeoutOrElse({
      duration: "5 seconds",
      orElse: () => Effect.succeed<Verdict>({ kind: "unknown", why: "timed out" })
    })
  )

const isSubscribe = (n: Need) => n.name === "subscribe" || n.name === "psubscribe"
const NOT_QUEUED = new Set(["multi", "exec", "hello"])

/** Queued probes on connections of their own. Undefined when MULTI itself is refused. */
const queued = (redis: RedisClientShape, needs: ReadonlyArray<Need>, prefix: string) =>
  Effect.scoped(
    Effect.gen(function* () {
      const conn = yield* redis.dedicated
      // The connection may put the key prefix on keys itself; then the calls must not carry it.
      const added = conn.options.keyPrefix ?? ""
      const local = added === prefix ? relocate(needs, prefix) : needs
      const out = new Map<Need, Verdict>()
      const hello = needs.find((n) => n.name === "hello")
      if (hello) out.set(hello, yield* tryCall(conn, hello.argv))
      const multi = yield* tryCall(conn, ["MULTI"])
      if (multi.kind !== "allowed") {
        conn.disconnect()
        return undefined
      }
      for (const [i, need] of needs.entries()) {
        if (NOT_QUEUED.has(need.name) || isSubscribe(need)) continue
        out.set(need, yield* tryCall(conn, local[i]!.argv))
      }
      yield* tryCall(conn, ["DISCARD"])
      for (const need of needs) {
        if (need.name === "multi") out.set(need, ALLOWED)
        if (need.name === "exec") out.set(need, yield* tryCall(conn, ["EXEC"]))
      }
      conn.disconnect()
      for (const need of needs.filter(isSubscribe)) out.set(need, yield* subscribeProbe(redis, need))
      return out
    })
  ).pipe(Effect.catch(() => Effect.succeed(undefined)))

/** The same needs with the key prefix taken off their keys (channels keep it: nothing adds it to them). */
const relocate = (needs: ReadonlyArray<Need>, prefix: string): ReadonlyArray<Need> =>
  prefix === ""
    ? needs
    : needs.map((n) => {
        const [name, ...rest] = n.argv
        if (n.name === "publish" || isSubscribe(n)) return n
        return { ...n, argv: [name!, ...rest.map((a) => (a.startsWith(prefix) ? a.slice(prefix.length) : a))] }
      })

const subscribeProbe = (redis: RedisClientShape, need: Need): Effect.Effect<Verdict> =>
  Effect.scoped(
    Effect.flatMap(redis.dedicated, (conn) =>
      Effect.ensuring(
        tryCall(conn, need.argv),
        Effect.sync(() => conn.disconnect())
      )
    )
  ).pipe(Effect.catch((e) => Effect.succeed<Verdict>({ kind: "unknown", why: e.message })))

/** Reads run as they are; writes unknown. */
const readsOnly = (redis: RedisClientShape, needs: ReadonlyArray<Need>, prefix: string) =>
  Effect.scoped(
    Effect.gen(function* () {
      const conn = yield* redis.dedicated
      const local = (conn.options.keyPrefix ?? "") === prefix ? relocate(needs, prefix) : needs
      const out = new Map<Need, Verdict>()
      for (const [i, need] of needs.entries()) {
        if (need.write) out.set(need, { kind: "unknown", why: "a write cannot be tried without MULTI" })
        else if (isSubscribe(need)) out.set(need, yield* subscribeProbe(redis, need))
        else out.set(need, yield* tryCall(conn, local[i]!.argv))
      }
      conn.disconnect()
      return out
    })
  ).pipe(
    Effect.catch((e) =>
      Effect.succeed(new Map(needs.map((n) => [n, { kind: "unknown", why: e.message } as Verdict] as const)))
    )
  )

/** ACL DRYRUN on every primary; a command is allowed when every primary allows it. */
const dryRun = (redis: RedisClientShape, user: string, needs: ReadonlyArray<Need>) =>
  Effect.forEach(
    needs,
    (need) =>
      Effect.map(askEach(redis, ["ACL", "DRYRUN", user, ...need.argv]), (answers): readonly [Need, Verdict] => {
        for (const { node, answer } of answers) {
          if (!answer.ok) return [need, fromError(answer.error)]
          const reply = replyText(answer.reply)
          if (reply !== "OK") return [need, { kind: "missing", why: answers.length > 1 ? `${node}: ${reply}` : reply }]
        }
        return [need, ALLOWED]
      }),
    { concurrency: 8 }
  ).pipe(Effect.map((pairs) => new Map(pairs)))

const grantFor = (
  user: string,
  missing: ReadonlyArray<{ readonly need: Need; readonly why: string }>,
  prefix: string
) => {
  const commands = [
    ...new Set(missing.filter((m) => /run the/.test(m.why) || /version/.test(m.why)).map((m) => m.need.name))
  ]
  const keys = missing.some((m) => /key/.test(m.why))
  const channels = missing.some((m) => /channel/.test(m.why))
  const rules = [
    ...commands.map((c) => `+${c}`),
    ...(keys ? [`~${prefix}*`] : []),
    ...(channels ? [`&${prefix}*`] : [])
  ]
  return rules.length === 0 ? "" : `ACL SETUSER ${user} ${rules.join(" ")}`
}

export interface AclInput {
  readonly toolsets: ReadonlyArray<string>
  readonly readOnly: boolean
  readonly keyPrefix: string
  /** The server's Redis user as configured (REDIS_USERNAME or the URL's), `default` when none. */
  readonly user: string
}

export const aclCheck = Effect.fn("Doctor.acl")(function* (redis: RedisClientShape, input: AclInput) {
  const groups = needsFor(input.toolsets, input.keyPrefix).map((g) => ({
    toolset: g.toolset,
    needs: input.readOnly ? g.needs.filter((n) => !n.write) : g.needs
  }))
  // One probe per distinct call, shared by the toolsets that need it.
  const unique = new Map<string, Need>()
  for (const g of groups) for (const n of g.needs) unique.set(n.argv.join(" "), n)
  const needs = [...unique.values()]

  const canDryRun = yield* ask(redis, ["ACL", "DRYRUN", input.user, "PING"])
  let method: Method = "ACL DRYRUN"
  let user = input.user
  let verdicts: ReadonlyMap<Need, Verdict>
  if (canDryRun.ok && replyText(canDryRun.reply) === "OK") {
    verdicts = yield* dryRun(redis, input.user, needs)
  } else {
    const whoami = yield* ask(redis, ["ACL", "WHOAMI"])
    if (whoami.ok) user = replyText(whoami.reply)
    const viaMulti = yield* queued(redis, needs, input.keyPrefix)
    method = viaMulti === undefined ? "read-only probes" : "queued probes (MULTI … DISCARD)"
    verdicts = viaMulti ?? (yield* readsOnly(redis, needs, input.keyPrefix))
  }

  const verdictOf = (n: Need) => verdicts.get(unique.get(n.argv.join(" "))!) ?? { kind: "unknown", why: "not probed" }
  const perToolset = groups.map((g) => {
    const missing: Array<{ need: Need; why: string }> = []
    const unknown: Array<{ need: Need; why: string }> = []
    for (const need of g.needs) {
      const v = verdictOf(need)
      if (v.kind === "missing") missing.push({ need, why: v.why })
      if (v.kind === "unknown") unknown.push({ need, why: v.why })
    }
    return { toolset: g.toolset, count: g.needs.length, missing, unknown }
  })
  const names = (list: ReadonlyArray<{ readonly need: Need }>) => [...new Set(list.map((m) => m.need.name))]
  const details = {
    user,
    method,
    toolsets: Object.fromEntries(
      perToolset.map((t) => [
        t.toolset,
        {
          commands: t.count,
          missing: t.missing.map((m) => ({ command: m.need.name, write: m.need.write, why: m.why })),
          unknown: names(t.unknown)
        }
      ])
    )
  }
  const lacking = perToolset.filter((t) => t.missing.length > 0)
  const how = `user "${user}", checked with ${method}`
  if (lacking.length > 0) {
    const what = lacking
      .map((t) => {
        const access = t.missing.filter((m) => /permissions to access/.test(m.why))
        const commands = t.missing.filter((m) => !/permissions to access/.test(m.why))
        const writes = names(commands.filter((m) => m.need.write))
        const reads = names(commands.filter((m) => !m.need.write))
        const denied = [
          ...new Set(
            access.map((m) => {
              const named = /access the '(.*)' (key|channel)/.exec(m.why)
              return named ? `${named[2]} ${named[1]}` : /channel/.test(m.why) ? "its channels" : "its keys"
            })
          )
        ]
        const parts = [
          ...(writes.length > 0 ? [`${writes.join(", ")} (sent by its write tools)`] : []),
          ...(reads.length > 0 ? [`${reads.join(", ")} (sent by its read tools)`] : []),
          ...(denied.length > 0 ? [`access to ${denied.join(", ")}`] : [])
        ]
        return `${t.toolset} lacks ${parts.join(" and ")}`
      })
      .join("; ")
    const grant = grantFor(
      user,
      lacking.flatMap((t) => t.missing),
      input.keyPrefix
    )
    return check(
      "redis.acl",
      "ACL permissions",
      "fail",
      `${how}: ${what}. Those tools fail with PermissionDenied.`,
      `${grant === "" ? "Grant the user these commands" : `Grant them (${grant})`}, or turn the toolsets off (REDIS_MCP_TOOLSETS) or the server read-only (REDIS_MCP_READ_ONLY).`,
      details
    )
  }
  const unsure = perToolset.filter((t) => t.unknown.length > 0)
  if (unsure.length > 0) {
    return check(
      "redis.acl",
      "ACL permissions",
      "warn",
      `${how}: every command that could be tried is allowed, but ${unsure.map((t) => `${t.toolset} (${names(t.unknown).join(", ")})`).join("; ")} could not be checked.`,
      `Let the user run MULTI and DISCARD, or run doctor once as an admin with the server's user named: REDIS_USERNAME=admin REDIS_PASSWORD=… effect-redis-mcp doctor --acl-user ${user}.`,
      details
    )
  }
  const total = needs.length
  return check(
    "redis.acl",
    "ACL permissions",
    "pass",
    `${how}: all ${total} commands the enabled toolsets (${input.toolsets.join(", ")}) send are allowed on their keys and channels.`,
    undefined,
    details
  )
}) satisfies (redis: RedisClientShape, input: AclInput) => Effect.Effect<Check>
