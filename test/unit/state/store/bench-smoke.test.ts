import { describe, expect, it } from 'vitest'
import { benchLocalWrites } from '../../../../src/state/store/bench.js'

describe('benchLocalWrites', () => {
  it('reports positive ops/s for each pattern (no timing asserted)', async () => {
    const r = await benchLocalWrites(20)
    console.log('bench smoke', r)
    expect(r.singleOpSync).toBeGreaterThan(0)
    expect(r.batch1000Sync).toBeGreaterThan(0)
    expect(r.ingest1000).toBeGreaterThan(0)
  })
})
