/**
 * The `pubsub` toolset: publish, and polling subscriptions (subscribe, then
 * read_messages across calls, then unsubscribe).
 */
import { Effect, Schema } from "effect"
import { MAX_GLOB_BYTES } from "../services/Glob.ts"
import { PubSub } from "../services/PubSub.ts"
import { Encoding, toBuffer } from "../services/Values.ts"
import * as Feature from "./Feature.ts"
import { GlobPattern, KeyName } from "./schemas.ts"
import * as Tool from "./Tool.ts"

const Channel = KeyName.check(Schema.isMinLength(1))
const Pattern = GlobPattern.check(Schema.isMinLength(1))
const SubscriptionId = Schema.String.check(Schema.isMinLength(1)).annotate({
  description: "The subscriptionId that subscribe returned."
})

export const publish = Tool.make({
  name: "publish",
  title: "Publish a message",
  description:
    "Publish a message on a Redis pub/sub channel. Returns how many subscribers received it (0 when nobody listens: " +
    "pub/sub keeps nothing, so use a stream (xadd) or a task queue when the message must not be lost).",
  toolset: "pubsub",
  input: Schema.Struct({
    channel: Channel.annotate({ description: "Channel name, e.g. agents.events." }),
    message: Schema.String.annotate({ description: "The message text (or base64 with encoding: base64)." }),
    encoding: Schema.optionalKey(Encoding.annotate({ description: 'How `message` is written; default "utf8".' }))
  }),
  output: Schema.Struct({
    receivers: Schema.Int.annotate({
      description:
        "Subscribers (channel and pattern matches) that received it. On a Redis Cluster only those connected to the node that took the message are counted."
    })
  }),
  hints: Tool.hints.write,
  touches: ({ channel }) => ({ channels: [channel] }),
  handler: ({ channel, message, encoding }) =>
    Effect.gen(function* () {
      const bytes = yield* toBuffer(message, encoding)
      return { receivers: yield* (yield* PubSub).publish(channel, bytes) }
    })
})

export const subscribe = Tool.make({
  name: "subscribe",
  title: "Subscribe to channels",
  description:
    "Start buffering messages from channels and/or glob patterns (news.*, user:[0-9]*). Returns a subscriptionId; " +
    "call read_messages with it to collect what arrived. Only messages published after this call are seen. " +
    "The buffer keeps the newest messages, within a count and a byte cap per subscription and a byte cap for all " +
    "subscriptions together (older ones are dropped and counted; a message bigger than the buffer is dropped); a " +
    "subscription not read for idleTimeoutMs is closed. Call unsubscribe when done: the number of open subscriptions is capped.",
  toolset: "pubsub",
  input: Schema.Struct({
    channels: Schema.optionalKey(
      Schema.Array(Channel)
        .check(Schema.isMaxLength(100))
        .annotate({ description: "Exact channel names (at most 100)." })
    ),
    patterns: Schema.optionalKey(
      Schema.Array(Pattern)
        .check(Schema.isMaxLength(100))
        .annotate({
          description: `Glob patterns: * any run, ? one character, [abc] a set (at most 100, each at most ${MAX_GLOB_BYTES} bytes).`
        })
    )
  }),
  output: Schema.Struct({
    subscriptionId: Schema.String,
    channels: Schema.Array(Schema.String),
    patterns: Schema.Array(Schema.String),
    idleTimeoutMs: Schema.Int.annotate({ description: "The subscription closes after this long without a read." })
  }),
  hints: { readOnly: true, destructive: false, idempotent: false },
  touches: ({ channels, patterns }) => ({ channels: channels ?? [], channelPatterns: patterns ?? [] }),
  handler: (input) => Effect.flatMap(PubSub, (p) => p.subscribe(input))
})

const Message = Schema.Struct({
  channel: Schema.String,
  pattern: Schema.optionalKey(
    Schema.String.annotate({ description: "The pattern that matched (pattern subscriptions)." })
  ),
  message: Schema.String,
  encoding: Encoding,
  receivedAt: Schema.Finite.annotate({ description: "When the server received it, epoch ms." }),
  truncated: Schema.optionalKey(Schema.Boolean.annotate({ description: "Only the start of an oversized message." })),
  length: Schema.optionalKey(Schema.Int.annotate({ description: "Full size in bytes of a truncated message." }))
})

export const readMessages = Tool.make({
  name: "read_messages",
  title: "Read subscribed messages",
  description:
    "Take the messages a subscription buffered since the last read, oldest first, and remove them from the buffer. " +
    "With waitMs, wait up to that long (at most 30000) for the first message when none is buffered. The result stays " +
    "under the output cap (a message alone over it comes cut). `dropped` (and `droppedBytes`) count messages lost to " +
    "a full buffer, or too big to keep, since the last read; `remaining` > 0 means more are buffered: read again.",
  toolset: "pubsub",
  input: Schema.Struct({
    subscriptionId: SubscriptionId,
    maxCount: Schema.optionalKey(
      Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 1000 })).annotate({
        description: "Most messages to return (1 to 1000, default 100)."
      })
    ),
    waitMs: Schema.optionalKey(
      Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 30_000 })).annotate({
        description: "Wait up to this many ms for a first message when the buffer is empty (default 0: return at once)."
      })
    )
  }),
  output: Schema.Struct({
    messages: Schema.Array(Message),
    dropped: Schema.Int.annotate({
      description: "Messages lost since the last read (buffer full, or too big to keep)."
    }),
    droppedBytes: Schema.Int.annotate({ description: "Their bytes (message plus channel name)." }),
    remaining: Schema.Int,
    truncated: Schema.Boolean.annotate({ description: "More messages are buffered than were returned." })
  }),
  hints: { readOnly: true, destructive: false, idempotent: false },
  touches: Tool.touches.nothing,
  handler: ({ subscriptionId, ...options }) => Effect.flatMap(PubSub, (p) => p.read(subscriptionId, options))
})

export const unsubscribe = Tool.make({
  name: "unsubscribe",
  title: "Close a subscription",
  description:
    "Close a subscription and discard its buffered messages. Returns unsubscribed: false when it was not open " +
    "(already closed or expired).",
  toolset: "pubsub",
  input: Schema.Struct({ subscriptionId: SubscriptionId }),
  output: Schema.Struct({ unsubscribed: Schema.Boolean }),
  hints: { readOnly: true, destructive: false, idempotent: true },
  touches: Tool.touches.nothing,
  handler: ({ subscriptionId }) =>
    Effect.map(
      Effect.flatMap(PubSub, (p) => p.unsubscribe(subscriptionId)),
      (unsubscribed) => ({ unsubscribed })
    )
})

export const pubsubTools = [publish, subscribe, readMessages, unsubscribe]

export const pubsubFeature = Feature.make({ name: "pubsub", default: false, tools: pubsubTools })
