/**
 * State documents as resources: `state://{namespace}/{key}` can be read and
 * subscribed to; a change made through any server on the same store is
 * reported by the State service's change stream.
 */
import { Effect, Stream } from "effect"
import { InvalidArgument, NotFound } from "../Errors.ts"
import { parseStateUri, State, stateUri } from "../services/State.ts"
import type { ResourceChange, ResourceDef } from "./Feature.ts"

const parse = (uri: string) => {
  const doc = parseStateUri(uri)
  return doc === undefined
    ? Effect.fail(
        new InvalidArgument({
          message: `"${uri.slice(0, 200)}" is not a state document URI: use state://{namespace}/{key}, each part percent-encoded.`
        })
      )
    : Effect.succeed(doc)
}

export const stateDocument: ResourceDef<State> = {
  template: {
    uriTemplate: "state://{namespace}/{key}",
    name: "state",
    title: "Shared state document",
    description:
      "A versioned JSON document of the state_* tools (namespace and key percent-encoded). Read it for the current value " +
      "(_meta carries version, updatedAt and expiresAt); subscribe to be told of every change, by any agent.",
    mimeType: "application/json"
  },
  canonical: (uri) =>
    uri.startsWith("state://") ? Effect.map(parse(uri), (doc) => stateUri(doc.namespace, doc.key)) : Effect.undefined,
  touches: (uri) => Effect.map(parse(uri), (doc) => ({ namespaces: [doc.namespace] })),
  read: (uri) =>
    Effect.gen(function* () {
      const doc = yield* parse(uri)
      const stored = yield* (yield* State).get(doc.namespace, doc.key)
      if (!stored.found) {
        return yield* new NotFound({
          message: `Resource not found: no state document "${doc.key}" in namespace "${doc.namespace}". Create it with state_set.`
        })
      }
      return [
        {
          uri,
          mimeType: "application/json",
          text: JSON.stringify(stored.value),
          _meta: { version: stored.version, updatedAt: stored.updatedAt, expiresAt: stored.expiresAt }
        }
      ]
    }),
  changes: Stream.unwrap(
    Effect.map(State, (state) =>
      Stream.map(
        state.changes,
        (event): ResourceChange =>
          event._tag === "Ready" ? event : { _tag: "Changed", uri: stateUri(event.namespace, event.key) }
      )
    )
  )
}
