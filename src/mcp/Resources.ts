/**
 * `resources/*` and `prompts/*` on a connection's server, for the resource
 * families and prompts its session sees: lists, reads routed to the family
 * that owns the URI, subscriptions through the session, prompts by name. A
 * session's role sees only the queues and namespaces it may touch: others are
 * left out of lists and refused on read and subscribe. A typed failure becomes a
 * JSON-RPC error here (Envelope.ts).
 */
import {
  ProtocolError,
  ResourceNotFoundError,
  type Server,
  type ServerCapabilities
} from "@modelcontextprotocol/server"
import { Effect, Result } from "effect"
import type { AppError } from "../Errors.ts"
import type { PromptDef, ResourceDef, ResourceEntry } from "../tools/Feature.ts"
import { allows, denied, type Role } from "./auth/Role.ts"
import { INVALID_PARAMS, toProtocolError } from "./Envelope.ts"
import type { Session } from "./Session.ts"
import type { Surface } from "./Surface.ts"

/** Runs an effect on the server's services, interrupted when `signal` aborts. */
export type Runner<R> = <A>(effect: Effect.Effect<A, never, R>, signal?: AbortSignal) => Promise<A>

/** The capabilities the session's resources and prompts need declared (`subscribe` only where updates can be sent). */
export const extensionCapabilities = <R>(surface: Surface<R>, subscriptions = true): ServerCapabilities => ({
  ...(surface.resources.length > 0
    ? {
        resources: {
          listChanged: false,
          ...(subscriptions && surface.resources.some((d) => d.changes) ? { subscribe: true } : {})
        }
      }
    : {}),
  ...(surface.prompts.length > 0 ? { prompts: { listChanged: false } } : {})
})

const templates = (defs: ReadonlyArray<ResourceDef<any>>) => defs.map((d) => d.template.uriTemplate).join(", ")

/** The family that owns `uri`, with the URI's canonical form. */
export const ownerOf = <R>(defs: ReadonlyArray<ResourceDef<R>>, uri: string) =>
  Effect.gen(function* () {
    for (const def of defs) {
      const canonical = yield* def.canonical(uri)
      if (canonical !== undefined) return def
    }
    return undefined
  })

/** Succeeds when `role` may touch what `uri` of `def` names (no role: always). */
export const checkResource = <R>(
  def: ResourceDef<R>,
  role: Role | undefined,
  uri: string
): Effect.Effect<void, AppError> =>
  role === undefined ? Effect.void : Effect.flatMap(def.touches(uri), (t) => allows(role, t))

/** The entries of a family's list that `role` may see. */
const visibleTo = <R>(def: ResourceDef<R>, role: Role | undefined, entries: ReadonlyArray<ResourceEntry>) =>
  role === undefined
    ? Effect.succeed(entries)
    : Effect.filter(entries, (e) =>
        def.touches(e.uri).pipe(
          Effect.map((t) => denied(role, t) === undefined),
          Effect.orElseSucceed(() => false)
        )
      )

/** Registers the handlers; call before the server connects. */
export const serveExtensions = <R>(
  server: Server,
  surface: Surface<R>,
  session: Session<R> | undefined,
  run: Runner<R>
): void => {
  const { resources, prompts, role } = surface
  const handle = <A>(effect: Effect.Effect<A, ProtocolError, R>, signal: AbortSignal): Promise<A> =>
    run(Effect.result(effect), signal).then(Result.getOrThrow)

  if (resources.length > 0) {
    const resourceTemplates = resources.map((d) => ({ ...d.template }))
    server.setRequestHandler("resources/list", (_request, ctx) =>
      handle(
        Effect.forEach(
          resources,
          (d) => Effect.flatMap(d.list ?? Effect.succeed([]), (entries) => visibleTo(d, role, entries)),
          { concurrency: "unbounded" }
        ).pipe(Effect.map((lists) => ({ resources: lists.flat().map((r) => ({ ...r })) }))),
        ctx.mcpReq.signal
      )
    )
    server.setRequestHandler("resources/templates/list", () => ({ resourceTemplates }))
    server.setRequestHandler("resources/read", (request, ctx) => {
      const { uri } = request.params
      return handle(
        Effect.gen(function* () {
          const owner = yield* ownerOf(resources, uri)
          if (owner === undefined) {
            return yield* Effect.fail(
              new ResourceNotFoundError(
                uri,
                `Resource not found: ${uri.slice(0, 200)}. This server's resources look like ${templates(resources)}.`
              )
            )
          }
          yield* checkResource(owner, role, uri)
          const contents = yield* owner.read(uri)
          return { contents: contents.map((c) => ({ ...c })) }
        }).pipe(Effect.mapError((e) => (e instanceof ProtocolError ? e : toProtocolError(e, uri)))),
        ctx.mcpReq.signal
      )
    })
    const subscribable = resources.filter((d) => d.changes !== undefined)
    if (subscribable.length > 0 && session !== undefined) {
      server.setRequestHandler("resources/subscribe", (request, ctx) => {
        const { uri } = request.params
        return handle(
          session.subscribe(uri).pipe(
            Effect.mapError(toProtocolError),
            Effect.flatMap((ok) =>
              ok
                ? Effect.succeed({})
                : Effect.fail(
                    new ProtocolError(
                      INVALID_PARAMS,
                      `Cannot subscribe to ${uri.slice(0, 200)}: subscriptions are offered for ${templates(subscribable)} only.`
                    )
                  )
            )
          ),
          ctx.mcpReq.signal
        )
      })
      server.setRequestHandler("resources/unsubscribe", (request, ctx) =>
        handle(Effect.as(session.unsubscribe(request.params.uri), {}), ctx.mcpReq.signal)
      )
    }
  }

  if (prompts.length > 0) {
    const listed = prompts.map(({ get: _get, arguments: args, ...p }) => ({
      ...p,
      arguments: args.map((a) => ({ ...a }))
    }))
    const byName = new Map<string, PromptDef<R>>(prompts.map((p) => [p.name, p]))
    server.setRequestHandler("prompts/list", () => ({ prompts: listed }))
    server.setRequestHandler("prompts/get", (request, ctx) => {
      const { name, arguments: args } = request.params
      const prompt = byName.get(name)
      return handle(
        prompt === undefined
          ? Effect.fail(new ProtocolError(INVALID_PARAMS, `Unknown prompt: ${name}. prompts/list shows the prompts.`))
          : prompt.get(args ?? {}).pipe(
              Effect.map((r) => ({ description: r.description, messages: r.messages.map((m) => ({ ...m })) })),
              Effect.mapError(toProtocolError)
            ),
        ctx.mcpReq.signal
      )
    })
  }
}
