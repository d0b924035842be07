/**
 * A tiny sorted set for the in-memory queue: members ordered by score, ties by
 * member string, as a Redis sorted set orders them.
 */
export class SortedIndex {
  private readonly entries: Array<{ score: number; member: string }> = []
  private readonly scores = new Map<string, number>()

  get size(): number {
    return this.entries.length
  }

  has(member: string): boolean {
    return this.scores.has(member)
  }

  /** The score of a member, if it is in the index. */
  scoreOf(member: string): number | undefined {
    return this.scores.get(member)
  }

  private position(score: number, member: string): number {
    let lo = 0
    let hi = this.entries.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const e = this.entries[mid]!
      if (e.score < score || (e.score === score && e.member < member)) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  add(member: string, score: number): void {
    this.remove(member)
    this.entries.splice(this.position(score, member), 0, { score, member })
    this.scores.set(member, score)
  }

  remove(member: string): boolean {
    const score = this.scores.get(member)
    if (score === undefined) return false
    this.entries.splice(this.position(score, member), 1)
    this.scores.delete(member)
    return true
  }

  /** The first member, if any. */
  first(): string | undefined {
    return this.entries[0]?.member
  }

  /** Members with score <= max, in order, at most `limit`. */
  upTo(max: number, limit: number): Array<string> {
    const out: Array<string> = []
    for (const e of this.entries) {
      if (e.score > max || out.length >= limit) break
      out.push(e.member)
    }
    return out
  }

  /** Members by rank [start, start + count), ascending or descending. */
  range(start: number, count: number, descending: boolean): Array<string> {
    if (!descending) return this.entries.slice(start, start + count).map((e) => e.member)
    const out: Array<string> = []
    for (let i = this.entries.length - 1 - start; i >= 0 && out.length < count; i--) out.push(this.entries[i]!.member)
    return out
  }
}
