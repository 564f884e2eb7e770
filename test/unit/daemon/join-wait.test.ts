import { describe, expect, it } from 'vitest'
import { JOIN_MAX_WAIT_MS, JOIN_TIMEOUT_MS, joinWait } from '../../../src/daemon/team-moves.js'

describe('how long a join waits to be admitted', () => {
  it('gives up on a team it never reached after the join timeout', () => {
    expect(joinWait(0, undefined, JOIN_TIMEOUT_MS - 1)).toBe('wait')
    expect(joinWait(0, undefined, JOIN_TIMEOUT_MS)).toBe('unreachable')
  })

  it('waits past the join timeout while the team is reachable, up to the longest wait', () => {
    // a busy admitting member: connections keep opening, the hello is not answered yet
    expect(joinWait(0, JOIN_TIMEOUT_MS - 100, JOIN_TIMEOUT_MS + 5_000)).toBe('wait')
    expect(joinWait(0, JOIN_MAX_WAIT_MS - 1_000, JOIN_MAX_WAIT_MS - 1)).toBe('wait')
    expect(joinWait(0, JOIN_MAX_WAIT_MS - 1_000, JOIN_MAX_WAIT_MS)).toBe('busy')
  })

  it('calls a team that was reached once and then went silent for the join timeout busy, not unreachable', () => {
    expect(joinWait(0, 1_000, 1_000 + JOIN_TIMEOUT_MS)).toBe('busy')
  })
})
