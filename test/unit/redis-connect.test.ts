/**
 * How the standalone client is given its credentials (`RedisConnect.ts`):
 * REDIS_USERNAME and REDIS_PASSWORD win over the URL's user and password, each
 * on its own; the URL handed to ioredis never carries credentials (they go in
 * its options, decoded).
 * The same against a real redis-server with an ACL user: redis-acl.test.ts.
 */
import { assert, describe, it } from "@effect/vitest"
import { Redacted } from "effect"
import type { RedisSettings } from "../../src/layers/Config.ts"
import { standaloneUrl } from "../../src/layers/RedisConnect.ts"

const with_ = (url: string | undefined, username?: string, password?: string) =>
  standaloneUrl({
    url,
    username,
    password: password === undefined ? undefined : Redacted.make(password)
  } as RedisSettings)

describe("standalone credentials", () => {
  it("the URL's own credentials when no setting names any", () => {
    assert.deepStrictEqual(with_("redis://mcp:s3cret@10.0.0.5:6379/2"), {
      url: "redis://10.0.0.5:6379/2",
      username: "mcp",
      password: "s3cret"
    })
    assert.deepStrictEqual(with_("redis://:p%40ss@host:6379"), {
      url: "redis://host:6379",
      username: undefined,
      password: "p@ss"
    })
    assert.deepStrictEqual(with_(undefined), {
      url: "redis://127.0.0.1:6379",
      username: undefined,
      password: undefined
    })
  })

  it("settings win over the URL's, each on its own; the URL keeps host, port and database", () => {
    assert.deepStrictEqual(with_("redis://mcp:old@host:6380/3", undefined, "new"), {
      url: "redis://host:6380/3",
      username: "mcp",
      password: "new"
    })
    assert.deepStrictEqual(with_("redis://:old@host:6380", "reader", "r3ad"), {
      url: "redis://host:6380",
      username: "reader",
      password: "r3ad"
    })
    assert.deepStrictEqual(with_("rediss://nobody:pw@host:6380", "reader"), {
      url: "rediss://host:6380",
      username: "reader",
      password: "pw"
    })
    assert.deepStrictEqual(with_("redis://host:6379", "u", "p"), {
      url: "redis://host:6379",
      username: "u",
      password: "p"
    })
  })
})
