/**
 * Resources and prompts at the MCP edge: fake features served by
 * `serveExtensions` on the SDK's Server, driven by the v1 SDK `Client` over an
 * in-memory transport. Lists are merged in feature order, reads, subscriptions
 * and prompts reach the family that owns the URI or name, unknown ones and typed
 * failures become the JSON-RPC errors clients see, and capabilities are
 * declared only for what some feature offers.
 */
import { assert, describe, it } from "@effect/vitest"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { ErrorCode, ResourceUpdatedNotificationSchema } from "@modelcontextprotocol/sdk/types.js"
import { InMemoryTransport, Server } from "@modelcontextprotocol/server"
import { Effect, Queue, Stream } from "effect"
import { InvalidArgument, NotFound } from "../../../src/Errors.ts"
import { makeChangeHub } from "../../../src/mcp/Changes.ts"
import { extensionCapabilities, serveExtensions } from "../../../src/mcp/Resources.ts"
import { makeSession } from "../../../src/mcp/Session.ts"
import { makeCatalog, surface } from "../../../src/mcp/Surface.ts"
import * as Feature from "../../../src/tools/Feature.ts"

const template = (scheme: string) => ({
  uriTemplate: `${scheme}://{id}`,
  name: scheme,
  title: scheme,
  description: `${scheme} things`,
  mimeType: "text/plain"
})
const text = (uri: string, body: string) => [{ uri, mimeType: "text/plain", text: body }]
const ownScheme = (scheme: string) => (uri: string) => Effect.succeed(uri.startsWith(`${scheme}://`) ? uri : undefined)

/** `alpha://{id}`: lists alpha://1, `alpha://missing` is NotFound, `alpha://bad` InvalidArgument; subscribable. */
const alpha = (changes: Queue.Queue<Feature.ResourceChange>): Feature.ResourceDef => ({
  template: template("alpha"),
  list: Effect.succeed([{ uri: "alpha://1", name: "alpha 1" }]),
  canonical: (uri) =>
    uri === "alpha://bad" ? Effect.fail(new InvalidArgument({ message: "bad alpha id" })) : ownScheme("alpha")(uri),
  touches: () => Effect.succeed({}),
  read: (uri) =>
    uri === "alpha://missing"
      ? Effect.fail(new NotFound({ message: "no alpha called missing" }))
      : Effect.succeed(text(uri, `alpha says ${uri}`)),
  changes: Stream.fromQueue(changes)
})

/** `beta://{id}` (lists beta://x, no subscriptions). */
const beta: Feature.ResourceDef = {
  template: template("beta"),
  list: Effect.succeed([{ uri: "beta://x", name: "beta x" }]),
  canonical: ownScheme("beta"),
  touches: () => Effect.succeed({}),
  read: (uri) => Effect.succeed(text(uri, `beta says ${uri}`))
}

/** The prompt `greet` (needs `name`). */
const greet: Feature.PromptDef = {
  name: "greet",
  title: "Greet",
  description: "Say hello",
  arguments: [{ name: "name", description: "who", required: true }],
  get: (args) =>
    args.name
      ? Effect.succeed({
          description: "hello",
          messages: [{ role: "user", content: { type: "text", text: `greet ${args.name}` } }]
        })
      : Effect.fail(new InvalidArgument({ message: "greet needs a name" }))
}

/** A server on the given features (all on) with a connected client; both close with the test's scope. */
const connect = (features: ReadonlyArray<Feature.Feature>) =>
  Effect.gen(function* () {
    const view = surface(makeCatalog(features), { toolsets: features.map((f) => f.name), readOnly: false })
    const session = makeSession(yield* makeChangeHub<never>(), view.resources)
    const server = new Server(
      { name: "resources-test", version: "1" },
      { capabilities: { tools: {}, ...extensionCapabilities(view) } }
    )
    server.setRequestHandler("tools/list", () => ({ tools: [] }))
    serveExtensions(server, view, session, (effect, signal) =>
      Effect.runPromise(effect, signal ? { signal } : undefined)
    )
    session.attach((uri) => {
      server.sendResourceUpdated({ uri }).catch(() => undefined)
    })
    const [serverSide, clientSide] = InMemoryTransport.createLinkedPair()
    const client = new Client({ name: "resources-test", version: "1" })
    yield* Effect.promise(() => Promise.all([server.connect(serverSide), client.connect(clientSide as never)]))
    yield* Effect.addFinalizer(() => Effect.promise(() => client.close()))
    return client
  })

const both = (changes: Queue.Queue<Feature.ResourceChange, never>) => [
  Feature.make({ name: "a", default: false, tools: [], resources: [alpha(changes)] }),
  Feature.make({ name: "b", default: false, tools: [], resources: [beta], prompts: [greet] })
]

/** The JSON-RPC error a client call failed with. */
const failure = (call: Promise<unknown>) =>
  Effect.promise(() =>
    call.then(
      () => ({ code: undefined, message: "succeeded" }),
      (e: { code?: number; message: string }) => e
    )
  )

describe("resource and prompt dispatch", () => {
  it.effect("merges lists and templates of every feature, in feature order", () =>
    Effect.gen(function* () {
      const client = yield* connect(both(yield* Queue.unbounded<Feature.ResourceChange>()))
      const { resources } = yield* Effect.promise(() => client.listResources())
      assert.deepStrictEqual(
        resources.map((r) => r.uri),
        ["alpha://1", "beta://x"]
      )
      const { resourceTemplates } = yield* Effect.promise(() => client.listResourceTemplates())
      assert.deepStrictEqual(
        resourceTemplates.map((t) => t.uriTemplate),
        ["alpha://{id}", "beta://{id}"]
      )
    })
  )

  it.effect("routes a read to the family that owns the URI", () =>
    Effect.gen(function* () {
      const client = yield* connect(both(yield* Queue.unbounded<Feature.ResourceChange>()))
      const a = yield* Effect.promise(() => client.readResource({ uri: "alpha://7" }))
      assert.deepStrictEqual(a.contents, [{ uri: "alpha://7", mimeType: "text/plain", text: "alpha says alpha://7" }])
      const b = yield* Effect.promise(() => client.readResource({ uri: "beta://x" }))
      assert.deepStrictEqual(b.contents, [{ uri: "beta://x", mimeType: "text/plain", text: "beta says beta://x" }])
    })
  )

  it.effect(
    "an unknown URI or a NotFound is resource-not-found (-32602 with data.uri), an InvalidArgument invalid params",
    () =>
      Effect.gen(function* () {
        const client = yield* connect(both(yield* Queue.unbounded<Feature.ResourceChange>()))
        const unknown = yield* failure(client.readResource({ uri: "gamma://1" }))
        assert.strictEqual(unknown.code, ErrorCode.InvalidParams)
        assert.deepStrictEqual((unknown as { data?: unknown }).data, { uri: "gamma://1" })
        assert.include(unknown.message, "gamma://1")
        assert.include(unknown.message, "alpha://{id}, beta://{id}")
        const missing = yield* failure(client.readResource({ uri: "alpha://missing" }))
        assert.strictEqual(missing.code, ErrorCode.InvalidParams)
        assert.deepStrictEqual((missing as { data?: unknown }).data, { uri: "alpha://missing" })
        assert.include(missing.message, "no alpha called missing")
        const bad = yield* failure(client.readResource({ uri: "alpha://bad" }))
        assert.strictEqual(bad.code, ErrorCode.InvalidParams)
        assert.include(bad.message, "bad alpha id")
      })
  )

  it.effect("subscribes through the family that has changes, waits until it listens, and notifies", () =>
    Effect.gen(function* () {
      const changes = yield* Queue.unbounded<Feature.ResourceChange>()
      const client = yield* connect(both(changes))
      const updated: Array<string> = []
      client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
        updated.push(n.params.uri)
      })
      const subscribing = client.subscribeResource({ uri: "alpha://1" })
      yield* Queue.offer(changes, { _tag: "Ready" })
      yield* Effect.promise(() => subscribing)
      yield* Queue.offer(changes, { _tag: "Changed", uri: "alpha://2" })
      yield* Queue.offer(changes, { _tag: "Changed", uri: "alpha://1" })
      while (updated.length === 0) yield* Effect.promise(() => new Promise((r) => setTimeout(r, 5)))
      assert.deepStrictEqual(updated, ["alpha://1"])
      const notMine = yield* failure(client.subscribeResource({ uri: "beta://x" }))
      assert.strictEqual(notMine.code, ErrorCode.InvalidParams)
      assert.include(notMine.message, "alpha://{id}")
      const malformed = yield* failure(client.subscribeResource({ uri: "alpha://bad" }))
      assert.strictEqual(malformed.code, ErrorCode.InvalidParams)
      yield* Effect.promise(() => client.unsubscribeResource({ uri: "beta://x" }))
      yield* Effect.promise(() => client.unsubscribeResource({ uri: "alpha://1" }))
      // Listening again after a lost connection: every watched URI may have changed; none is watched now.
      yield* Queue.offer(changes, { _tag: "Ready" })
      yield* Queue.offer(changes, { _tag: "Changed", uri: "alpha://1" })
      yield* Effect.promise(() => client.listResources())
      assert.deepStrictEqual(updated, ["alpha://1"])
    })
  )

  it.effect("routes prompts by name; an unknown name or bad arguments are invalid params", () =>
    Effect.gen(function* () {
      const client = yield* connect(both(yield* Queue.unbounded<Feature.ResourceChange>()))
      const { prompts } = yield* Effect.promise(() => client.listPrompts())
      assert.deepStrictEqual(
        prompts.map((p) => p.name),
        ["greet"]
      )
      const got = yield* Effect.promise(() => client.getPrompt({ name: "greet", arguments: { name: "Ada" } }))
      assert.deepStrictEqual(got.messages, [{ role: "user", content: { type: "text", text: "greet Ada" } }])
      const unknown = yield* failure(client.getPrompt({ name: "farewell" }))
      assert.strictEqual(unknown.code, ErrorCode.InvalidParams)
      assert.include(unknown.message, "Unknown prompt: farewell")
      const bad = yield* failure(client.getPrompt({ name: "greet", arguments: {} }))
      assert.strictEqual(bad.code, ErrorCode.InvalidParams)
      assert.include(bad.message, "greet needs a name")
    })
  )

  it.effect("declares resources, subscribe and prompts only when some feature offers them", () =>
    Effect.gen(function* () {
      const none = yield* connect([Feature.make({ name: "x", default: false, tools: [] })])
      const bare = none.getServerCapabilities()
      assert.isDefined(bare?.tools)
      assert.isUndefined(bare?.resources)
      assert.isUndefined(bare?.prompts)
      const listed = yield* failure(none.listPrompts())
      assert.strictEqual(listed.code, ErrorCode.MethodNotFound)

      const onlyBeta = (yield* connect([
        both(yield* Queue.unbounded<Feature.ResourceChange>())[1]!
      ])).getServerCapabilities()
      assert.isDefined(onlyBeta?.resources)
      assert.notStrictEqual(onlyBeta?.resources?.subscribe, true)
      assert.isDefined(onlyBeta?.prompts)

      const onlyAlpha = (yield* connect([
        both(yield* Queue.unbounded<Feature.ResourceChange>())[0]!
      ])).getServerCapabilities()
      assert.strictEqual(onlyAlpha?.resources?.subscribe, true)
      assert.isUndefined(onlyAlpha?.prompts)
    })
  )
})
