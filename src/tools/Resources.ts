/**
 * Resources and prompts at the MCP edge. A feature only provides data: a
 * `ResourceProvider` (templates, listed resources, reads, optionally
 * subscriptions) and/or a `PromptProvider`. `serveExtensions` registers the SDK
 * handlers once, declares the capabilities the providers need, merges their
 * lists and routes each read, subscribe and prompt to the provider that owns
 * the URI or name. Typed errors become JSON-RPC errors here and nowhere else.
 */
import type { Server } from "@modelcontextprotocol/sdk/server/index.js"
import {
  ErrorCode,
  GetPromptRequestSchema,
  type GetPromptResult,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  McpError,
  type Prompt,
  ReadResourceRequestSchema,
  type ReadResourceResult,
  type Resource,
  type ResourceTemplate,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema
} from "@modelcontextprotocol/sdk/types.js"
import { Effect, Result } from "effect"
import type { AppError } from "../Errors.ts"

/** MCP's "resource not found" error code. */
export const RESOURCE_NOT_FOUND = -32002

/** Sends `notifications/resources/updated` for a URI to the client (never fails). */
export type Notify = (uri: string) => Effect.Effect<void>

/** The resources one feature serves. */
export interface ResourceProvider<R = never> {
  /** What `resources/templates/list` shows for this feature. */
  readonly templates: ReadonlyArray<ResourceTemplate>
  /** Concrete resources for `resources/list` (a failure should yield what is known, e.g. nothing). */
  readonly list: Effect.Effect<ReadonlyArray<Resource>, never, R>
  /**
   * Reads a URI, or `undefined` when the URI is not this feature's. A missing
   * resource is `NotFound` (JSON-RPC -32002), a malformed one `InvalidArgument`.
   */
  readonly read: (uri: string) => Effect.Effect<ReadResourceResult | undefined, AppError, R>
  /**
   * Starts telling `notify` of changes to `uri`; false when the URI is not this
   * feature's. The reply is sent when this succeeds, so it may wait until
   * changes are heard. Offering it declares the `resources.subscribe` capability.
   */
  readonly subscribe?: (uri: string, notify: Notify) => Effect.Effect<boolean, never, R>
  /** Stops notifying changes to `uri`; false when the URI is not this feature's. */
  readonly unsubscribe?: (uri: string) => Effect.Effect<boolean, never, R>
}

/** The prompts one feature serves; `get` is only asked for a name in `prompts`. */
export interface PromptProvider<R = never> {
  readonly prompts: ReadonlyArray<Prompt>
  /** Renders a prompt; bad arguments are `InvalidArgument` (JSON-RPC -32602). */
  readonly get: (name: string, args: Readonly<Record<string, string>>) => Effect.Effect<GetPromptResult, AppError, R>
}

/** What a feature adds to the server beyond tools; `{}` when it is switched off. */
export interface Extension<R = never> {
  readonly resources?: ResourceProvider<R>
  readonly prompts?: PromptProvider<R>
}

/**
 * Builds a feature's extension on the server's services, once, when the server
 * is made (read config, acquire services, fork listeners that live as long as
 * the server's program).
 */
export type ServerExtension<R> = Effect.Effect<Extension<R>, never, R>

/** Runs an effect on the server's services, interrupted when `signal` aborts. */
export type Runner<R> = <A>(effect: Effect.Effect<A, never, R>, signal?: AbortSignal) => Promise<A>

const toMcpError = (error: AppError): McpError =>
  new McpError(
    error._tag === "InvalidArgument"
      ? ErrorCode.InvalidParams
      : error._tag === "NotFound"
        ? RESOURCE_NOT_FOUND
        : ErrorCode.InternalError,
    error.message
  )

/** The first answer (not `undefined`) of the providers, asked in order. */
const firstAnswer = <P, A, E, R>(
  providers: ReadonlyArray<P>,
  ask: (provider: P) => Effect.Effect<A | undefined, E, R>
): Effect.Effect<A | undefined, E, R> =>
  Effect.gen(function* () {
    for (const provider of providers) {
      const answer = yield* ask(provider)
      if (answer !== undefined) return answer
    }
    return undefined
  })

const uriTemplates = (providers: ReadonlyArray<ResourceProvider<any>>) =>
  providers.flatMap((p) => p.templates.map((t) => t.uriTemplate)).join(", ")

/**
 * Registers `resources/*` and `prompts/*` on `server` for the given extensions.
 * Each capability is declared only when some extension provides it; call before
 * the server connects.
 */
export const serveExtensions = <R>(server: Server, extensions: ReadonlyArray<Extension<R>>, run: Runner<R>): void => {
  const resources = extensions.flatMap((e) => (e.resources ? [e.resources] : []))
  const prompts = extensions.flatMap((e) => (e.prompts ? [e.prompts] : []))
  const handle = <A>(effect: Effect.Effect<A, McpError, R>, signal: AbortSignal): Promise<A> =>
    run(Effect.result(effect), signal).then(Result.getOrThrow)

  if (resources.length > 0) {
    const subscribable = resources.filter((p) => p.subscribe !== undefined)
    server.registerCapabilities({
      resources: subscribable.length > 0 ? { subscribe: true, listChanged: false } : { listChanged: false }
    })
    const resourceTemplates = resources.flatMap((p) => p.templates)
    const notify: Notify = (uri) => Effect.promise(() => server.sendResourceUpdated({ uri }).catch(() => undefined))

    server.setRequestHandler(ListResourcesRequestSchema, (_request, extra) =>
      handle(
        Effect.forEach(resources, (p) => p.list, { concurrency: "unbounded" }).pipe(
          Effect.map((lists) => ({ resources: lists.flat() }))
        ),
        extra.signal
      )
    )
    server.setRequestHandler(ListResourceTemplatesRequestSchema, () => ({ resourceTemplates }))
    server.setRequestHandler(ReadResourceRequestSchema, (request, extra) => {
      const { uri } = request.params
      return handle(
        firstAnswer(resources, (p) => p.read(uri)).pipe(
          Effect.mapError(toMcpError),
          Effect.flatMap((result) =>
            result === undefined
              ? Effect.fail(
                  new McpError(
                    RESOURCE_NOT_FOUND,
                    `Resource not found: ${uri}. This server's resources look like ${uriTemplates(resources)}.`
                  )
                )
              : Effect.succeed(result)
          )
        ),
        extra.signal
      )
    })

    if (subscribable.length > 0) {
      server.setRequestHandler(SubscribeRequestSchema, (request, extra) => {
        const { uri } = request.params
        return handle(
          firstAnswer(subscribable, (p) => Effect.map(p.subscribe!(uri, notify), (mine) => mine || undefined)).pipe(
            Effect.flatMap((mine) =>
              mine
                ? Effect.succeed({})
                : Effect.fail(
                    new McpError(
                      ErrorCode.InvalidParams,
                      `Cannot subscribe to ${uri}: subscriptions are offered for ${uriTemplates(subscribable)} only.`
                    )
                  )
            )
          ),
          extra.signal
        )
      })
      server.setRequestHandler(UnsubscribeRequestSchema, (request, extra) =>
        handle(
          firstAnswer(subscribable, (p) =>
            p.unsubscribe
              ? Effect.map(p.unsubscribe(request.params.uri), (mine) => mine || undefined)
              : Effect.succeed(undefined)
          ).pipe(Effect.as({})),
          extra.signal
        )
      )
    }
  }

  if (prompts.length > 0) {
    server.registerCapabilities({ prompts: { listChanged: false } })
    const listed = prompts.flatMap((p) => p.prompts)
    const owner = new Map<string, PromptProvider<R>>()
    for (const provider of prompts)
      for (const p of provider.prompts) if (!owner.has(p.name)) owner.set(p.name, provider)

    server.setRequestHandler(ListPromptsRequestSchema, () => ({ prompts: listed }))
    server.setRequestHandler(GetPromptRequestSchema, (request, extra) => {
      const { name, arguments: args } = request.params
      const provider = owner.get(name)
      return handle(
        provider === undefined
          ? Effect.fail(
              new McpError(ErrorCode.InvalidParams, `Unknown prompt: ${name}. prompts/list shows the prompts.`)
            )
          : provider.get(name, args ?? {}).pipe(Effect.mapError(toMcpError)),
        extra.signal
      )
    })
  }
}
