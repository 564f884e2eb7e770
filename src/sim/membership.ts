/**
 * The membership state of one simulated SWIM node, as a state-based CRDT.
 *
 * A member's entry is one integer, `key = incarnation·4 + rank` (rank alive 1, suspect 2,
 * dead 3; 0 = never heard of), and merging takes the greater key. That single max is
 * SWIM's precedence: suspect(i) beats alive(i), alive(i+1) beats suspect(i) and dead(i),
 * dead(i) beats both at i; so merges commute, repeat and reorder freely, like the
 * roster's merge in `src/team/roster.ts`. The difference from the roster: no certificates
 * (an Ed25519 verification per simulated message is too slow at 10,000 peers, and the
 * sim's nodes are honest), and a member is identified by a small integer.
 *
 * Memory: every view is a shared immutable base (the roster a member holds when the run
 * starts) plus its own delta of newer entries, so 10,000 views cost the changes, not
 * 10,000². A real push-pull sends the whole state; both ends hold the base, so the sim
 * sends only the delta, with the same result.
 */

export const RANK_UNKNOWN = 0
export const RANK_ALIVE = 1
export const RANK_SUSPECT = 2
export const RANK_DEAD = 3

export const keyOf = (incarnation: number, rank: number): number => incarnation * 4 + rank
export const rankOf = (key: number): number => key & 3
export const incarnationOf = (key: number): number => key >>> 2
/** listed as a member: alive or suspect (a suspect is in until declared dead) */
export const isLive = (key: number): boolean => rankOf(key) === RANK_ALIVE || rankOf(key) === RANK_SUSPECT

/**
 * one membership update on the wire; `from` is who raised a suspicion (for Lifeguard's
 * confirmations); `urgent`: a refutation of a suspicion someone is timing, which every
 * queue sends before anything else
 */
export interface Update {
  member: number
  key: number
  from: number
  urgent: boolean
}

export class View {
  private readonly delta = new Map<number, number>()
  /**
   * every entry, once the delta holds a sixteenth of the team: after a partition heals,
   * every member refutes and every view holds a newer entry for nearly every member, which
   * costs a Map per node ten times what an Int32Array does, and lookups to match
   */
  private dense: Int32Array | undefined
  private alive: number

  constructor (private readonly base: Int32Array, baseAlive: number) {
    this.alive = baseAlive
  }

  get (member: number): number {
    const d = this.dense
    if (d !== undefined) return d[member]
    return this.delta.get(member) ?? this.base[member]
  }

  /** members listed alive or suspect (the team as this node sees it, itself included) */
  get liveCount (): number {
    return this.alive
  }

  /** Merge one entry; returns the key it replaced, or -1 when the entry lost (no change). */
  merge (member: number, key: number): number {
    const old = this.get(member)
    if (key <= old) return -1
    const d = this.dense
    if (d !== undefined) {
      d[member] = key
    } else {
      this.delta.set(member, key)
      if (this.delta.size > this.base.length >> 4) this.densify()
    }
    const wasLive = rankOf(old) === RANK_ALIVE || rankOf(old) === RANK_SUSPECT
    const isLive = rankOf(key) === RANK_ALIVE || rankOf(key) === RANK_SUSPECT
    if (wasLive !== isLive) this.alive += isLive ? 1 : -1
    return old
  }

  /** the entries newer than the base, in member order (what a push-pull sends) */
  deltaEntries (): Array<[number, number]> {
    const d = this.dense
    if (d === undefined) return [...this.delta].sort((a, b) => a[0] - b[0])
    const out: Array<[number, number]> = []
    for (let m = 0; m < d.length; m++) if (d[m] !== this.base[m]) out.push([m, d[m]])
    return out
  }

  /** members this view holds dead that the base did not (the base has no dead members), in member order */
  deadMembers (): number[] {
    const out: number[] = []
    const d = this.dense
    if (d !== undefined) {
      for (let m = 0; m < d.length; m++) if (rankOf(d[m]) === RANK_DEAD) out.push(m)
      return out
    }
    for (const [member, key] of this.delta) if (rankOf(key) === RANK_DEAD) out.push(member)
    return out.sort((a, b) => a - b)
  }

  private densify (): void {
    const d = this.base.slice()
    for (const [member, key] of this.delta) d[member] = key
    this.dense = d
    this.delta.clear()
  }
}

interface Queued<T> { id: number | string, item: T, transmits: number, dropped: boolean }

/**
 * memberlist's transmit-limited queue: each update rides on up to `limit` outgoing messages
 * (λ·log N), fewest-sent first and newest first among equals, so a refutation overtakes
 * the suspicion it answers. A newer update for the same id replaces the queued one and
 * starts again from zero. One stack per transmit count, so a take costs what it takes:
 * it cuts what it took off the top; an entry replaced further down is skipped, and swept
 * when a stack is mostly such.
 */
export class BroadcastQueue<T> {
  private readonly stacks: Array<Array<Queued<T>>> = []
  /** entries of each stack that are neither moved on nor replaced */
  private readonly live: number[] = []
  private readonly where = new Map<number | string, Queued<T>>()

  get size (): number {
    return this.where.size
  }

  put (id: number | string, item: T): void {
    const old = this.where.get(id)
    if (old !== undefined) {
      old.dropped = true
      this.live[old.transmits]--
    }
    const q = { id, item, transmits: 0, dropped: false }
    this.push(q)
    this.where.set(id, q)
  }

  /** forget the queued item for `id`, if any */
  delete (id: number | string): void {
    const old = this.where.get(id)
    if (old === undefined) return
    old.dropped = true
    this.live[old.transmits]--
    this.where.delete(id)
  }

  /** up to `max` items for one message; each counts as sent once more */
  take (max: number, limit: number): T[] {
    const out: T[] = []
    if (max <= 0 || this.where.size === 0) return out
    const picked: Array<Queued<T>> = []
    for (let b = 0; b < this.stacks.length && picked.length < max; b++) {
      if (this.live[b] === 0) {
        if (this.stacks[b].length > 0) this.stacks[b].length = 0
        continue
      }
      let s = this.stacks[b]
      if (s.length > 2 * this.live[b] + 16) s = this.stacks[b] = s.filter(q => !stale(q, b))
      let i = s.length - 1
      for (; i >= 0 && picked.length < max; i--) if (!stale(s[i], b)) picked.push(s[i])
      // all above where the scan stopped is taken or stale: cut it off, so no take rescans it
      s.length = i + 1
    }
    for (const q of picked) {
      out.push(q.item)
      this.live[q.transmits]--
      if (++q.transmits >= limit) {
        q.dropped = true
        this.where.delete(q.id)
      } else {
        this.push(q)
      }
    }
    return out
  }

  private push (q: Queued<T>): void {
    while (this.stacks.length <= q.transmits) {
      this.stacks.push([])
      this.live.push(0)
    }
    this.stacks[q.transmits].push(q)
    this.live[q.transmits]++
  }
}

/**
 * The membership updates a node has to pass on, in two lanes: urgent refutations first,
 * then the rest. Without the first lane, a refutation racing a suspicion timeout waits
 * behind whatever else is news (after a partition heals: thousands of stale suspicions and
 * the answers to them, none of which anyone is timing).
 */
export class UpdateQueue {
  private readonly urgent = new BroadcastQueue<Update>()
  private readonly rest = new BroadcastQueue<Update>()

  get size (): number {
    return this.urgent.size + this.rest.size
  }

  put (u: Update): void {
    if (u.urgent) {
      this.rest.delete(u.member)
      this.urgent.put(u.member, u)
    } else {
      this.urgent.delete(u.member)
      this.rest.put(u.member, u)
    }
  }

  take (max: number, limit: number): Update[] {
    const first = this.urgent.take(max, limit)
    if (first.length >= max) return first
    const more = this.rest.take(max - first.length, limit)
    return first.length === 0 ? more : first.concat(more)
  }
}

function stale<T> (q: Queued<T>, b: number): boolean {
  return q.dropped || q.transmits !== b
}

/** memberlist's retransmit limit: λ·ceil(log10(n + 1)) */
export function retransmitLimit (mult: number, members: number): number {
  return mult * Math.ceil(Math.log10(members + 1))
}

/**
 * Round-robin over the members in a shuffled order without storing a permutation per node
 * (10,000 of them would be 10,000²): each lap walks `offset + i·stride mod n` with a fresh
 * random offset and a stride coprime with n, which visits every index once per lap.
 */
export class ProbeOrder {
  private offset = 0
  private stride = 1
  private step = 0

  constructor (private readonly n: number, private readonly random: () => number) {
    this.reshuffle()
  }

  /** the next index for which `eligible` holds, or -1 after a full lap without one */
  next (eligible: (i: number) => boolean): number {
    for (let tries = 0; tries < this.n; tries++) {
      if (this.step >= this.n) this.reshuffle()
      const i = (this.offset + this.step * this.stride) % this.n
      this.step++
      if (eligible(i)) return i
    }
    return -1
  }

  private reshuffle (): void {
    this.step = 0
    this.offset = Math.floor(this.random() * this.n)
    if (this.n <= 2) {
      this.stride = 1
      return
    }
    let s = 1 + Math.floor(this.random() * (this.n - 1))
    while (gcd(s, this.n) !== 1) s = s % (this.n - 1) + 1
    this.stride = s
  }
}

function gcd (a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b]
  return a
}
