/**
 * How doctor asks Redis things: one command on the shared connection, or on every primary
 * (Cluster: each node answers for itself), with the reply or the error's text. Never fails:
 * a refused or failed command is a finding, not an error of doctor.
 */
import { Effect } from "effect"
import type { RedisClientShape } from "../../layers/RedisClient.ts"

export type Answer = { readonly ok: true; readonly reply: unknown } | { readonly ok: false; readonly error: string }

const text = (v: unknown): string => (Buffer.isBuffer(v) ? v.toString("utf8") : String(v))

/** Redis's own words when the error quotes them (`NOPERM …`), else the message. */
export const shortError = (message: string): string => /\((NOPERM [^)]*|ERR [^)]*)\)/.exec(message)?.[1] ?? message

const answer = <E extends { readonly message: string }>(effect: Effect.Effect<unknown, E>): Effect.Effect<Answer> =>
  effect.pipe(
    Effect.map((reply): Answer => ({ ok: true, reply })),
    Effect.catch((e) => Effect.succeed<Answer>({ ok: false, error: shortError(e.message) }))
  )

/** `argv` on the shared connection. */
export const ask = (redis: RedisClientShape, argv: ReadonlyArray<string>): Effect.Effect<Answer> =>
  answer(redis.run(argv.join(" "), (c) => c.call(argv[0]!, argv.slice(1)), { idempotent: true }))

/** `argv` on every primary, each answer with the primary's address. */
export const askEach = (
  redis: RedisClientShape,
  argv: ReadonlyArray<string>
): Effect.Effect<ReadonlyArray<{ readonly node: string; readonly answer: Answer }>> =>
  redis.primaries.pipe(
    Effect.flatMap((nodes) =>
      Effect.forEach(
        nodes,
        (node) =>
          Effect.map(
            answer(
              redis.runOnPrimary(node.slots[0]![0], argv.join(" "), (c) => c.call(argv[0]!, argv.slice(1)), {
                idempotent: true
              })
            ),
            (a) => ({ node: node.address, answer: a })
          ),
        { concurrency: 4 }
      )
    ),
    Effect.catch((e) => Effect.succeed([{ node: "?", answer: { ok: false, error: shortError(e.message) } as Answer }]))
  )

/** INFO text → field → value (sections flattened). */
export const infoFields = (reply: unknown): ReadonlyMap<string, string> => {
  const out = new Map<string, string>()
  for (const line of text(reply).split(/\r?\n/)) {
    const at = line.indexOf(":")
    if (at > 0 && !line.startsWith("#")) out.set(line.slice(0, at), line.slice(at + 1).trim())
  }
  return out
}

/** CONFIG GET reply (flat name, value list) → name → value. */
export const configFields = (reply: unknown): ReadonlyMap<string, string> => {
  const out = new Map<string, string>()
  const list = Array.isArray(reply) ? reply.map(text) : []
  for (let i = 0; i + 1 < list.length; i += 2) out.set(list[i]!, list[i + 1]!)
  return out
}

export const replyText = text

/** 127.0.0.0/8, ::1 and localhost: only this machine can reach them. */
export const isLoopbackHost = (host: string): boolean => {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase()
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === "::ffff:127.0.0.1"
}

/** `host:port` → its parts (IPv6 in brackets or bare). */
export const splitAddress = (address: string): { readonly host: string; readonly port: number } => {
  const at = address.lastIndexOf(":")
  return { host: address.slice(0, at).replace(/^\[|\]$/g, ""), port: Number(address.slice(at + 1)) }
}
