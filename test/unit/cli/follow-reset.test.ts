import { afterEach, describe, expect, it, vi } from 'vitest'
import type { ApiClient } from '../../../src/api/index.js'
import { TaskFollower } from '../../../src/cli/commands/task.js'
import type { DaemonEvent } from '../../../src/model/docs.js'

describe('TaskFollower and `event: reset`', () => {
  afterEach(() => { vi.useRealTimers() })

  it('a reset (the daemon no longer holds what the stream missed) makes it read the task at once, not after the slow safety poll', async () => {
    let emit: (event: DaemonEvent) => void = () => {}
    let state = 'running'
    let gets = 0
    const client = {
      events: async (_path: string, onEvent: (event: DaemonEvent) => void, signal: AbortSignal) => {
        emit = onEvent
        await new Promise(resolve => { signal.addEventListener('abort', resolve, { once: true }) })
      },
      get: async () => { gets++; return { taskId: 't1', state } }
    } as unknown as ApiClient
    // no timer fires in this test: only the reset can wake the follower from its safety poll's sleep
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const follower = new TaskFollower({ client, onDrop: 'poll', pollMs: 5, home: '/h' })
    follower.open()
    const following = follower.follow('t1')
    while (gets < 1) await new Promise(resolve => setImmediate(resolve))
    await new Promise(resolve => setImmediate(resolve))
    // the final state's event was lost to the reset: only a read of the task finds it
    state = 'succeeded'
    emit({ type: 'reset', data: { reason: 'behind', message: 'fell behind' } })
    expect(await following).toEqual({ taskId: 't1', state: 'succeeded' })
  })
})
