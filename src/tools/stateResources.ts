/**
 * State documents as MCP resources: `state://{namespace}/{key}` can be read and
 * subscribed to; a change made through any server on the same store sends
 * `notifications/resources/updated` to the subscribed client. The change
 * listener (a dedicated Redis connection, or the in-memory PubSub) starts with
 * the first subscription and lives as long as the server's program. Registered
 * only when the `state` toolset is on.
 *
 * Other features may serve resources too: each handler answers for `state://`
 * URIs and hands any other request to the handler registered before it.
 */
import type { Server } from "@modelcontextprotocol/sdk/server/index.js"
import {
  ErrorCode,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  type Resource,
  type ResourceTemplate,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema
} from "@modelcontextprotocol/sdk/types.js"
import { Deferred, Duration, Effect, Option, Result, Stream } from "effect"
import { ServerConfig } from "../layers/Config.ts"
import { parseStateUri, State, type StateEvent, stateUri } from "../services/State.ts"
import type { ServerExtension } from "./McpServer.ts"

/** MCP's "resource not found" error code. */
const RESOURCE_NOT_FOUND = -32002
/** How long a subscribe request waits for the change listener to be listening. */
const READY_WAIT = Duration.seconds(5)

export const STATE_TEMPLATE: ResourceTemplate = {
  uriTemplate: "state://{namespace}/{key}",
  name: "state",
  title: "Shared state document",
  description:
    "A versioned JSON document of the state_* tools (namespace and key percent-encoded). Read it for the current value " +
    "(_meta carries version, updatedAt and expiresAt); subscribe to be told of every change, by any agent.",
  mimeType: "application/json"
}

type RawHandler = (request: unknown, extra: unknown) => Promise<Record<string, unknown>>

/** The handler another extension registered for `method` before this one, if any. */
const previousHandler = (server: Server, method: string): RawHandler | undefined =>
  (server as unknown as { readonly _requestHandlers?: Map<string, RawHandler> })._requestHandlers?.get(method)

export const stateResources: ServerExtension<State> = (server, run) =>
  Effect.gen(function* () {
    const config = yield* Effect.serviceOption(ServerConfig)
    if (Option.isSome(config) && !config.value.toolsets.includes("state")) return
    const state = yield* State
    server.registerCapabilities({ resources: { subscribe: true, listChanged: false } })
    const previous = {
      list: previousHandler(server, "resources/list"),
      templates: previousHandler(server, "resources/templates/list"),
      read: previousHandler(server, "resources/read"),
      subscribe: previousHandler(server, "resources/subscribe"),
      unsubscribe: previousHandler(server, "resources/unsubscribe")
    }
    const subscriptions = new Set<string>()
    const start = yield* Deferred.make<void>()
    const ready = yield* Deferred.make<void>()

    const notify = (uri: string) => Effect.promise(() => server.sendResourceUpdated({ uri }).catch(() => undefined))

    const onEvent = (event: StateEvent) =>
      Effect.gen(function* () {
        if (event._tag === "Changed") {
          const uri = stateUri(event.namespace, event.key)
          if (subscriptions.has(uri)) yield* notify(uri)
          return
        }
        // Listening again after a lost connection: changes may have been missed, so say each may have changed.
        if (yield* Deferred.isDone(ready)) yield* Effect.forEach([...subscriptions], notify, { discard: true })
        yield* Deferred.succeed(ready, undefined)
      })

    yield* Deferred.await(start).pipe(Effect.andThen(Stream.runForEach(state.changes, onEvent)), Effect.forkChild)

    server.setRequestHandler(ListResourcesRequestSchema, async (request, extra) => {
      const theirs = previous.list ? await previous.list(request, extra) : undefined
      return { ...theirs, resources: (theirs?.resources as Array<Resource> | undefined) ?? [] }
    })

    server.setRequestHandler(ListResourceTemplatesRequestSchema, async (request, extra) => {
      const theirs = previous.templates ? await previous.templates(request, extra) : undefined
      const templates = (theirs?.resourceTemplates as Array<ResourceTemplate> | undefined) ?? []
      return { ...theirs, resourceTemplates: [...templates, STATE_TEMPLATE] }
    })

    server.setRequestHandler(ReadResourceRequestSchema, async (request, extra) => {
      const { uri } = request.params
      const doc = parseStateUri(uri)
      if (doc === undefined) {
        if (previous.read) return previous.read(request, extra)
        throw new McpError(
          RESOURCE_NOT_FOUND,
          `Resource not found: ${uri}. State resources look like state://{namespace}/{key}.`
        )
      }
      const result = await run(Effect.result(state.get(doc.namespace, doc.key)), extra.signal)
      if (Result.isFailure(result)) {
        const error = result.failure
        throw new McpError(
          error._tag === "InvalidArgument" ? ErrorCode.InvalidParams : ErrorCode.InternalError,
          error.message
        )
      }
      if (!result.success.found) {
        throw new McpError(
          RESOURCE_NOT_FOUND,
          `Resource not found: no state document "${doc.key}" in namespace "${doc.namespace}". Create it with state_set.`
        )
      }
      const { value, version, updatedAt, expiresAt } = result.success
      return {
        contents: [
          { uri, mimeType: "application/json", text: JSON.stringify(value), _meta: { version, updatedAt, expiresAt } }
        ]
      }
    })

    server.setRequestHandler(SubscribeRequestSchema, async (request, extra) => {
      const doc = parseStateUri(request.params.uri)
      if (doc === undefined) {
        if (previous.subscribe) return previous.subscribe(request, extra)
        throw new McpError(
          ErrorCode.InvalidParams,
          `Cannot subscribe to ${request.params.uri}: not a state:// resource.`
        )
      }
      subscriptions.add(stateUri(doc.namespace, doc.key))
      // Answer once the listener hears changes, so none made after this reply is missed (bounded: Redis may be down).
      await run(
        Deferred.succeed(start, undefined).pipe(
          Effect.andThen(Deferred.await(ready)),
          Effect.timeout(READY_WAIT),
          Effect.ignore
        ),
        extra.signal
      )
      return {}
    })

    server.setRequestHandler(UnsubscribeRequestSchema, async (request, extra) => {
      const doc = parseStateUri(request.params.uri)
      if (doc === undefined) {
        if (previous.unsubscribe) return previous.unsubscribe(request, extra)
        return {}
      }
      subscriptions.delete(stateUri(doc.namespace, doc.key))
      return {}
    })
  })
