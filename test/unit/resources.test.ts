/**
 * The resource and prompt dispatcher at the MCP edge: a server made by
 * `makeMcpServer` with fake providers, driven by the SDK `Client` over an
 * in-memory transport. Lists are merged in extension order, reads, subscriptions
 * and prompts reach the provider that owns the URI or name, unknown ones and
 * typed failures become the JSON-RPC errors clients see, and capabilities are
 * declared only for what some provider offers.
 */
import { assert, describe, it } from "@effect/vitest"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js"
import { ErrorCode, ResourceUpdatedNotificationSchema } from "@modelcontextprotocol/sdk/types.js"
import { Effect } from "effect"
import { InvalidArgument, NotFound } from "../../src/Errors.ts"
import { configProvider } from "../../src/layers/Cli.ts"
import { ServerConfig, serverSettingsConfig } from "../../src/layers/Config.ts"
import { makeMcpServer } from "../../src/tools/McpServer.ts"
import { type Extension, RESOURCE_NOT_FOUND, type ServerExtension } from "../../src/tools/Resources.ts"

const text = (uri: string, body: string) => ({ contents: [{ uri, mimeType: "text/plain", text: body }] })

/** Serves `alpha://{id}`: lists alpha://1, `alpha://missing` is NotFound, `alpha://bad` InvalidArgument; subscribable. */
const alpha = (subscribed: Array<string>): Extension => ({
  resources: {
    templates: [{ uriTemplate: "alpha://{id}", name: "alpha" }],
    list: Effect.succeed([{ uri: "alpha://1", name: "alpha 1" }]),
    read: (uri) =>
      !uri.startsWith("alpha://")
        ? Effect.succeed(undefined)
        : uri === "alpha://missing"
          ? Effect.fail(new NotFound({ message: "no alpha called missing" }))
          : uri === "alpha://bad"
            ? Effect.fail(new InvalidArgument({ message: "bad alpha id" }))
            : Effect.succeed(text(uri, `alpha says ${uri}`)),
    subscribe: (uri, notify) =>
      uri.startsWith("alpha://")
        ? Effect.sync(() => subscribed.push(uri)).pipe(Effect.andThen(notify(uri)), Effect.as(true))
        : Effect.succeed(false),
    unsubscribe: (uri) =>
      Effect.sync(() => {
        if (!uri.startsWith("alpha://")) return false
        subscribed.splice(subscribed.indexOf(uri), 1)
        return true
      })
  }
})

/** Serves `beta://{id}` (lists beta://x, no subscriptions) and the prompt `greet` (needs `name`). */
const beta: Extension = {
  resources: {
    templates: [{ uriTemplate: "beta://{id}", name: "beta" }],
    list: Effect.succeed([{ uri: "beta://x", name: "beta x" }]),
    read: (uri) => Effect.succeed(uri.startsWith("beta://") ? text(uri, `beta says ${uri}`) : undefined)
  },
  prompts: {
    prompts: [{ name: "greet", arguments: [{ name: "name", required: true }] }],
    get: (name, args) =>
      args.name
        ? Effect.succeed({
            messages: [{ role: "user" as const, content: { type: "text" as const, text: `${name} ${args.name}` } }]
          })
        : Effect.fail(new InvalidArgument({ message: "greet needs a name" }))
  }
}

/** A server on the given extensions with a connected client; both close with the test's scope. */
const connect = (extensions: ReadonlyArray<ServerExtension<never>>) =>
  Effect.gen(function* () {
    const settings = yield* serverSettingsConfig.parse(configProvider({}, {}))
    const server = yield* makeMcpServer([], extensions).pipe(Effect.provideService(ServerConfig, settings))
    const [serverSide, clientSide] = InMemoryTransport.createLinkedPair()
    const client = new Client({ name: "resources-test", version: "1" })
    yield* Effect.promise(() => Promise.all([server.connect(serverSide), client.connect(clientSide)]))
    yield* Effect.addFinalizer(() => Effect.promise(() => client.close()))
    return client
  })

/** The JSON-RPC error a client call failed with. */
const failure = (call: Promise<unknown>) =>
  Effect.promise(() =>
    call.then(
      () => ({ code: undefined, message: "succeeded" }),
      (e: { code?: number; message: string }) => e
    )
  )

describe("resource and prompt dispatch", () => {
  it.effect("merges lists and templates of every provider, in extension order", () =>
    Effect.gen(function* () {
      const client = yield* connect([Effect.succeed(alpha([])), Effect.succeed(beta)])
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

  it.effect("routes a read to the provider that owns the URI", () =>
    Effect.gen(function* () {
      const client = yield* connect([Effect.succeed(alpha([])), Effect.succeed(beta)])
      const a = yield* Effect.promise(() => client.readResource({ uri: "alpha://7" }))
      assert.deepStrictEqual(a.contents, [{ uri: "alpha://7", mimeType: "text/plain", text: "alpha says alpha://7" }])
      const b = yield* Effect.promise(() => client.readResource({ uri: "beta://x" }))
      assert.deepStrictEqual(b.contents, [{ uri: "beta://x", mimeType: "text/plain", text: "beta says beta://x" }])
    })
  )

  it.effect("an unknown URI or a NotFound is -32002, an InvalidArgument is invalid params", () =>
    Effect.gen(function* () {
      const client = yield* connect([Effect.succeed(alpha([])), Effect.succeed(beta)])
      const unknown = yield* failure(client.readResource({ uri: "gamma://1" }))
      assert.strictEqual(unknown.code, RESOURCE_NOT_FOUND)
      assert.include(unknown.message, "gamma://1")
      assert.include(unknown.message, "alpha://{id}, beta://{id}")
      const missing = yield* failure(client.readResource({ uri: "alpha://missing" }))
      assert.strictEqual(missing.code, RESOURCE_NOT_FOUND)
      assert.include(missing.message, "no alpha called missing")
      const bad = yield* failure(client.readResource({ uri: "alpha://bad" }))
      assert.strictEqual(bad.code, ErrorCode.InvalidParams)
      assert.include(bad.message, "bad alpha id")
    })
  )

  it.effect("routes subscriptions to the provider that offers them and lets it notify", () =>
    Effect.gen(function* () {
      const subscribed: Array<string> = []
      const client = yield* connect([Effect.succeed(alpha(subscribed)), Effect.succeed(beta)])
      const updated = new Promise<string>((resolve) =>
        client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => resolve(n.params.uri))
      )
      yield* Effect.promise(() => client.subscribeResource({ uri: "alpha://1" }))
      assert.deepStrictEqual(subscribed, ["alpha://1"])
      assert.strictEqual(yield* Effect.promise(() => updated), "alpha://1")
      const notMine = yield* failure(client.subscribeResource({ uri: "beta://x" }))
      assert.strictEqual(notMine.code, ErrorCode.InvalidParams)
      assert.include(notMine.message, "alpha://{id}")
      yield* Effect.promise(() => client.unsubscribeResource({ uri: "beta://x" }))
      yield* Effect.promise(() => client.unsubscribeResource({ uri: "alpha://1" }))
      assert.deepStrictEqual(subscribed, [])
    })
  )

  it.effect("routes prompts by name; an unknown name or bad arguments are invalid params", () =>
    Effect.gen(function* () {
      const client = yield* connect([Effect.succeed(alpha([])), Effect.succeed(beta)])
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

  it.effect("declares resources, subscribe and prompts only when some provider offers them", () =>
    Effect.gen(function* () {
      const none = yield* connect([Effect.succeed({})])
      const bare = none.getServerCapabilities()
      assert.isDefined(bare?.tools)
      assert.isUndefined(bare?.resources)
      assert.isUndefined(bare?.prompts)
      const listed = yield* failure(none.listPrompts())
      assert.strictEqual(listed.code, ErrorCode.MethodNotFound)

      const onlyBeta = (yield* connect([Effect.succeed(beta)])).getServerCapabilities()
      assert.isDefined(onlyBeta?.resources)
      assert.notStrictEqual(onlyBeta?.resources?.subscribe, true)
      assert.isDefined(onlyBeta?.prompts)

      const onlyAlpha = (yield* connect([Effect.succeed(alpha([]))])).getServerCapabilities()
      assert.strictEqual(onlyAlpha?.resources?.subscribe, true)
      assert.isUndefined(onlyAlpha?.prompts)
    })
  )
})
