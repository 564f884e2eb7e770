import { describe, expect, it } from 'vitest'
import { taskCancel, taskReplicas, taskRetry } from '../../../src/state/crdt/index.js'
import { newTracked, placementRequest, placementShape, wanted } from '../../../src/tasks/tracked.js'
import { reported, task } from './records.js'

const slot = { attempt: 1, accepted: true, expiresWall: 0 }

describe('newTracked', () => {
  it('counts successes of the current attempt as reported and every failure but a cancel as a failure', () => {
    const record = reported(taskRetry(task({ replicas: 3 })), ['x', 1, 0], ['y', 1, 1], ['z', 1, 130], ['x', 2, 0], ['y', 2, 0], ['w', 2, 2])
    expect(record.attempt).toBe(2)
    const t = newTracked(record)
    expect([...t.reported].sort()).toStrictEqual(['x', 'y'])
    expect(t.failures).toBe(2)
    expect(t).toMatchObject({ taskId: 't1', priority: 'normal', lost: 0, extra: 0, gaveUp: false, notBefore: 0, inQueue: false })
    expect(t.slots.size + t.avoid.size).toBe(0)
  })
})

describe('wanted', () => {
  it('a single-replica task wants one executor until it has one', () => {
    const t = newTracked(task())
    expect(wanted(t)).toBe(1)
    t.slots.set('x', { ...slot })
    expect(wanted(t)).toBe(0)
  })

  it('a replicated task wants its replicas (plus extra) less those running or reported', () => {
    const t = newTracked(reported(task({ replicas: 3 }), ['x', 1, 0]))
    expect(wanted(t)).toBe(2)
    t.slots.set('y', { ...slot })
    expect(wanted(t)).toBe(1)
    t.extra = 2
    expect(wanted(t)).toBe(3)
  })

  it('a task given up on, or finished, wants nothing', () => {
    const t = newTracked(task())
    t.gaveUp = true
    expect(wanted(t)).toBe(0)
    expect(wanted(newTracked(taskCancel(task(), 'sub')))).toBe(0)
  })
})

describe('placementRequest', () => {
  it('untracked: a fresh request for all replicas, with copies of labels and needs', () => {
    const record = taskReplicas(task({ labels: { os: 'linux' }, needs: { cores: 2 } }), 3)
    const request = placementRequest(record)
    expect(request).toStrictEqual({ agent: 'echo', labels: { os: 'linux' }, needs: { cores: 2 }, avoid: [], exclude: [], replicas: 3 })
    expect(request.labels).not.toBe(record.spec.labels)
  })

  it('tracked: avoids failed executors, excludes holders (and reporters when replicated), asks for what is still wanted', () => {
    const replicated = newTracked(reported(task({ replicas: 3 }), ['r', 1, 0]))
    replicated.avoid.add('bad')
    replicated.slots.set('h', { ...slot })
    expect(placementRequest(replicated.record, replicated)).toStrictEqual({ agent: 'echo', avoid: ['bad'], exclude: ['h', 'r'], replicas: 1 })
    const single = newTracked(task())
    single.reported.add('r')
    single.slots.set('h', { ...slot })
    // nothing wanted still asks place() for one
    expect(placementRequest(single.record, single)).toMatchObject({ exclude: ['h'], replicas: 1 })
  })
})

describe('placementShape', () => {
  it('is one key for tasks asking the same of place(), none for a task with history or replicas', () => {
    const a = newTracked(task({ labels: { os: 'linux' } }))
    expect(placementShape(a)).toBe(placementShape(newTracked(task({ labels: { os: 'linux' }, input: { n: 2 } }))))
    expect(placementShape(a)).not.toBe(placementShape(newTracked(task({ labels: { os: 'mac' } }))))
    expect(placementShape(a)).not.toBe(placementShape(newTracked(task({ agent: 'lint', labels: { os: 'linux' } }))))
    expect(placementShape(newTracked(task({ replicas: 2 })))).toBeUndefined()
    a.avoid.add('x')
    expect(placementShape(a)).toBeUndefined()
  })
})
