import { describe, expect, it } from 'vitest'
import { defaultConfig, envLayer, mergeConfig, validateLayer } from '../../../src/daemon/config.js'

describe('config merging', () => {
  it('layers apply in order: defaults, file, env, flags', () => {
    const file = validateLayer({ name: 'from-file', apiPort: 5000, mdns: { intervalMs: 2000 } }, 'config.json')
    const env = envLayer({ PAIRED_NAME: 'from-env', PAIRED_MDNS: '0' })
    const flags = validateLayer({ apiPort: 6000 }, 'command line')
    const c = mergeConfig(defaultConfig(), file, env, flags)
    expect(c.name).toBe('from-env')
    expect(c.apiPort).toBe(6000)
    expect(c.mdns).toEqual({ enabled: false, intervalMs: 2000 })
    expect(c.listen).toEqual(['/ip4/0.0.0.0/tcp/4801', '/ip6/::/tcp/4801'])
  })

  it('does not mutate its inputs', () => {
    const base = defaultConfig()
    const copy = structuredClone(base)
    mergeConfig(base, { listen: ['/ip4/127.0.0.1/tcp/1'], mdns: { enabled: false } })
    expect(base).toEqual(copy)
  })

  it('names the bad key', () => {
    expect(() => validateLayer({ nmae: 'x' }, 'config.json')).toThrow(/unknown config key "nmae"/)
    expect(() => validateLayer({ apiPort: 70000 }, 'config.json')).toThrow(/"apiPort"/)
    expect(() => validateLayer({ listen: ['not an address'] }, 'config.json')).toThrow(/"listen\[0\]"/)
    expect(() => validateLayer({ bootstrap: ['/ip4/127.0.0.1/tcp/4001'] }, 'config.json')).toThrow(/"bootstrap\[0\]".*p2p/)
    expect(() => validateLayer({ mdns: { enabled: 'yes' } }, 'config.json')).toThrow(/"mdns.enabled"/)
    expect(() => validateLayer([], 'config.json')).toThrow(/must be a JSON object/)
    expect(() => envLayer({ PAIRED_MDNS: 'maybe' })).toThrow(/PAIRED_MDNS/)
    expect(() => envLayer({ PAIRED_API_PORT: 'abc' })).toThrow(/"apiPort"/)
  })
})
