/**
 * State documents as MCP resources: `state://{namespace}/{key}` can be read and
 * subscribed to; a change made through any server on the same store sends
 * `notifications/resources/updated` to the subscribed client. The change
 * listener (a dedicated Redis connection, or the in-memory PubSub) starts with
 * the first subscription and lives as long as the server's program. Offered
 * only when the `state` toolset is on.
 */
import type { ResourceTemplate } from "@modelcontextprotocol/sdk/types.js"
import { Deferred, Duration, Effect, Option, Stream } from "effect"
import { NotFound } from "../Errors.ts"
import { ServerConfig } from "../layers/Config.ts"
import { parseStateUri, State, type StateEvent, stateUri } from "../services/State.ts"
import type { Notify, ServerExtension } from "./Resources.ts"

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

export const stateResources: ServerExtension<State> = Effect.gen(function* () {
  const config = yield* Effect.serviceOption(ServerConfig)
  if (Option.isSome(config) && !config.value.toolsets.includes("state")) return {}
  const state = yield* State
  const subscriptions = new Set<string>()
  // The first subscribe hands over how to notify, which starts the listener; `ready` is done once it listens.
  const start = yield* Deferred.make<Notify>()
  const ready = yield* Deferred.make<void>()

  const onEvent = (notify: Notify) => (event: StateEvent) =>
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

  yield* Deferred.await(start).pipe(
    Effect.flatMap((notify) => Stream.runForEach(state.changes, onEvent(notify))),
    Effect.forkChild
  )

  return {
    resources: {
      templates: [STATE_TEMPLATE],
      list: Effect.succeed([]),
      read: (uri) => {
        const doc = parseStateUri(uri)
        if (doc === undefined) return Effect.succeed(undefined)
        return state.get(doc.namespace, doc.key).pipe(
          Effect.flatMap((stored) =>
            stored.found
              ? Effect.succeed({
                  contents: [
                    {
                      uri,
                      mimeType: "application/json",
                      text: JSON.stringify(stored.value),
                      _meta: { version: stored.version, updatedAt: stored.updatedAt, expiresAt: stored.expiresAt }
                    }
                  ]
                })
              : Effect.fail(
                  new NotFound({
                    message: `Resource not found: no state document "${doc.key}" in namespace "${doc.namespace}". Create it with state_set.`
                  })
                )
          )
        )
      },
      subscribe: (uri, notify) =>
        Effect.suspend(() => {
          const doc = parseStateUri(uri)
          if (doc === undefined) return Effect.succeed(false)
          subscriptions.add(stateUri(doc.namespace, doc.key))
          // Answer once the listener hears changes, so none made after this reply is missed (bounded: Redis may be down).
          return Deferred.succeed(start, notify).pipe(
            Effect.andThen(Deferred.await(ready)),
            Effect.timeout(READY_WAIT),
            Effect.ignore,
            Effect.as(true)
          )
        }),
      unsubscribe: (uri) =>
        Effect.sync(() => {
          const doc = parseStateUri(uri)
          if (doc === undefined) return false
          subscriptions.delete(stateUri(doc.namespace, doc.key))
          return true
        })
    }
  }
})
