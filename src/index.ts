/**
 * effect-redis-mcp as a library: the Effect services behind the MCP tools, their
 * Redis and in-memory layers, the connection layer, configuration and errors.
 * Each service has `layer` (needs `RedisClient`) and `layerMemory`; the data
 * services' memory layers need `MemoryStore`.
 *
 * @packageDocumentation
 */

/** Tagged errors (`_tag`, `message`, `retryable`) every service fails with. */
export * from "./Errors.ts"
/** Configuration: `RedisConfig` and `ServerConfig` services, read from a ConfigProvider. */
export { type Limits, RedisConfig, type RedisSettings, ServerConfig, type ServerSettings } from "./layers/Config.ts"
/** The Redis connection: scoped ioredis client, Schedule-driven reconnect, timeouts, typed errors, health. */
export {
  type CommandLatency,
  type Health,
  type Latencies,
  RedisClient,
  type RedisClientShape,
  type RunOptions
} from "./layers/RedisClient.ts"
/** The jittered exponential retry policy used for (re)connecting and idempotent commands. */
export { backoff, commandRetry } from "./layers/RetrySchedule.ts"
export { McpEdge, VERSION } from "./mcp/Server.ts"
/** The MCP edge: its settings, the server factory layer, and the package version. */
export { DEFAULT_TOOLSETS, McpConfig, type McpSettings, TOOLSETS } from "./mcp/Settings.ts"
/** Whether the current call may write (the MCP edge sets it per call; an embedding app may too). */
export { ReadOnly } from "./services/Access.ts"
/** Server operations: ping, health, info, topology. */
export * from "./services/Admin.ts"
/** Raw commands and pipelines under the command policy. */
export { Batch, type BatchShape } from "./services/Batch.ts"
/** The keys and channels a raw command names, from Redis's key specs (or why they cannot be named). */
export {
  type ChannelRef,
  CommandKeys,
  type CommandKeysShape,
  type CommandScope,
  type KeyRef
} from "./services/CommandKeys.ts"
/** Hash fields and values. */
export { Hashes, type HashesShape } from "./services/Hashes.ts"
/** String values, counters, TTLs and bounded key scans. */
export * from "./services/Kv.ts"
/** Lists. */
export { Lists, type ListsShape } from "./services/Lists.ts"
/** The in-memory keyspace behind the memory layers. */
export { MemoryStore, type MemoryStoreShape } from "./services/MemoryStore.ts"
/** Pub/sub with buffered, capped subscriptions. */
export { PubSub, type PubSubShape } from "./services/PubSub.ts"
/** Sets. */
export { Sets, type SetsShape } from "./services/Sets.ts"
/** Sorted sets. */
export { SortedSets, type SortedSetsShape } from "./services/SortedSets.ts"
/** Every service on Redis (`layerRedis`) or in memory (`layerMemory`). */
export { layerMemory, layerRedis, type Services } from "./services/Stack.ts"
/** Versioned JSON documents, merge patches, history and fenced locks. */
export * from "./services/State.ts"
/** Streams with consumer groups. */
export * from "./services/Streams.ts"
/** The agent task queue: leased claims, heartbeats, retries, dead-letter, dependencies. */
export * from "./services/Tasks.ts"
/** The toolsets as data: each feature's tools, resources and prompts. */
export type { Feature, PromptDef, ResourceDef } from "./tools/Feature.ts"
export { allTools, features } from "./tools/index.ts"
export type { AnyTool, ToolDef, ToolHints, Touches } from "./tools/Tool.ts"
