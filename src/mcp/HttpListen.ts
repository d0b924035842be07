/**
 * `subscriptions/listen` over HTTP (2026-07-28): the SDK's handler serves the stream from its
 * event bus, and this module decides what goes on it. Before the request reaches the SDK, the
 * resource URIs it asks for are narrowed to those of the principal's toolsets and role (the
 * others are simply not honored, as the acknowledgement tells the client), the principal's
 * subscription count is taken, and the URIs are watched — once per URI for the whole process,
 * however many streams want it — so no change after the acknowledgement is missed. Each update
 * is published once on the bus, whose router sends it to every stream that asked for that URI.
 */
import type { IncomingMessage, ServerResponse } from "node:http"
import { Effect, Exit } from "effect"
import type { Services } from "../services/Stack.ts"
import type { PrincipalLimitsShape } from "./auth/PrincipalLimits.ts"
import { sendJson, sendRpcError } from "./HttpReply.ts"
import { checkResource, ownerOf, type Runner } from "./Resources.ts"
import type { Session } from "./Session.ts"
import type { Surface } from "./Surface.ts"

/** The `Mcp-Method` value of a listen request (the SDK refuses a body whose method differs from it). */
export const LISTEN = "subscriptions/listen"

/** The body, read whole up to `max` bytes; undefined when it is larger (nothing past the limit is read). */
export const readBody = (req: IncomingMessage, max: number): Promise<string | undefined> =>
  new Promise((resolve, reject) => {
    if (Number(req.headers["content-length"] ?? 0) > max) return resolve(undefined)
    const chunks: Array<Buffer> = []
    let size = 0
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > max) {
        req.off("data", onData)
        req.pause()
        resolve(undefined)
      } else chunks.push(chunk)
    }
    req.on("data", onData)
    req.once("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
    req.once("error", reject)
  })

const requestedUris = (body: unknown): ReadonlyArray<string> | undefined => {
  const uris = (body as { params?: { notifications?: { resourceSubscriptions?: unknown } } })?.params?.notifications
    ?.resourceSubscriptions
  return Array.isArray(uris) ? uris : undefined
}

/** The body with only `allowed` left in its resource subscriptions. */
const narrowed = (body: any, allowed: ReadonlyArray<string>) => ({
  ...body,
  params: { ...body.params, notifications: { ...body.params.notifications, resourceSubscriptions: allowed } }
})

export interface ListenOptions {
  readonly run: Runner<Services>
  /** The process's listen session, its updates published on the SDK handler's bus. */
  readonly session: Session<Services>
  readonly limits: PrincipalLimitsShape
  readonly maxBodyBytes: number
  /** Hands the request (its body already read) to the SDK's handler. */
  readonly serve: (req: IncomingMessage, res: ServerResponse, body: unknown) => Promise<void>
}

export const makeListen = (options: ListenOptions) => {
  const { run, session } = options
  let nextId = 0
  // Watches are set up one request at a time, so two streams asking for one URI count it twice.
  let queue: Promise<unknown> = Promise.resolve()
  const serially = <A>(f: () => Promise<A>): Promise<A> => {
    const next = queue.then(f, f)
    queue = next.catch(() => undefined)
    return next
  }

  /** The URIs this session's toolsets offer subscriptions for and its role may watch. */
  const allowedOf = (view: Surface<Services>, uris: ReadonlyArray<unknown>) =>
    Effect.gen(function* () {
      const families = view.resources.filter((d) => d.changes !== undefined)
      const out: Array<string> = []
      for (const uri of new Set(uris)) {
        if (typeof uri !== "string") continue
        const owner = yield* ownerOf(families, uri).pipe(Effect.orElseSucceed(() => undefined))
        if (owner === undefined) continue
        const ok = yield* checkResource(owner, view.role, uri).pipe(Effect.exit)
        if (Exit.isSuccess(ok)) out.push(uri)
      }
      return out
    })

  return async (req: IncomingMessage, res: ServerResponse, view: Surface<Services>, principal?: string) => {
    const text = await readBody(req, options.maxBodyBytes)
    if (text === undefined) {
      return sendRpcError(res, 413, `Payload Too Large: Request body must not exceed ${options.maxBodyBytes} bytes`, {
        connection: "close"
      })
    }
    let body: any
    try {
      body = JSON.parse(text)
    } catch {
      return sendJson(res, 400, {
        jsonrpc: "2.0",
        error: { code: -32700, message: "Parse error: the request body is not valid JSON" },
        id: null
      })
    }
    const uris = requestedUris(body)
    if (uris === undefined) return options.serve(req, res, body)
    const release =
      principal === undefined
        ? Effect.void
        : await run(Effect.result(options.limits.acquireSubscription(principal))).then((r) => {
            if (r._tag === "Success") return r.success
            sendJson(res, 200, {
              jsonrpc: "2.0",
              id: body.id ?? null,
              error: { code: -32603, message: r.failure.message }
            })
            return undefined
          })
    if (release === undefined) return
    const allowed = await run(allowedOf(view, uris))
    const id = `http-${++nextId}`
    let closed = false
    res.once("close", () => {
      closed = true
      session.cancel(id)
      void run(release)
    })
    await serially(() => run(session.listen(id, allowed)))
    // Gone while the watch was set up: the close above ran first, so undo the watch here.
    if (closed) return session.cancel(id)
    return options.serve(req, res, narrowed(body, allowed))
  }
}
