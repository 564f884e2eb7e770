import { describe, expect, it } from 'vitest'
import { heir } from '../../../src/tasks/coordinator.js'
import { LaneQueue } from '../../../src/tasks/queue.js'
import type { TaskPriority } from '../../../src/state/crdt/index.js'

describe('LaneQueue', () => {
  const item = (id: string, priority: TaskPriority): { id: string, priority: TaskPriority } => ({ id, priority })

  it('takes critical before high before normal before low, first come first served in a lane', () => {
    const q = new LaneQueue<{ id: string, priority: TaskPriority }>()
    for (const x of [item('n1', 'normal'), item('l1', 'low'), item('c1', 'critical'), item('n2', 'normal'), item('h1', 'high'), item('c2', 'critical')]) q.push(x)
    expect(q.size).toBe(6)
    expect([...q].map(x => x.id)).toStrictEqual(['c1', 'c2', 'h1', 'n1', 'n2', 'l1'])
    expect(q.take()?.id).toBe('c1')
    expect(q.take(x => x.priority !== 'critical')?.id).toBe('h1')
    const taken = [q.take(), q.take()].filter(x => x !== undefined)
    expect(taken.map(x => x.id)).toStrictEqual(['c2', 'n1'])
    q.pushFront(taken)
    expect([...q].map(x => x.id)).toStrictEqual(['c2', 'n1', 'n2', 'l1'])
    expect(q.remove(x => x.id.startsWith('n')).map(x => x.id)).toStrictEqual(['n1', 'n2'])
    expect(q.size).toBe(2)
  })
})

describe('heir (rendezvous hash)', () => {
  it('is one deterministic member, and losing another member does not move it', () => {
    const peers = ['p1', 'p2', 'p3', 'p4', 'p5']
    const owners = new Map<string, string>()
    for (let i = 0; i < 200; i++) owners.set(`t${i}`, heir(`t${i}`, peers) as string)
    // spread over everyone
    expect(new Set(owners.values()).size).toBe(5)
    // order does not matter
    for (const [t, o] of owners) expect(heir(t, [...peers].reverse())).toBe(o)
    // removing p3 only moves p3's tasks
    for (const [t, o] of owners) {
      const now = heir(t, peers.filter(p => p !== 'p3'))
      if (o !== 'p3') expect(now).toBe(o)
      else expect(now).not.toBe('p3')
    }
    expect(heir('t', [])).toBeUndefined()
  })
})
