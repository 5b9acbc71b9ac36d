import { FixedClock } from '@lyotrace/domain';
import { WaveProfile } from './climate-profile.js';
import { DeviceClock } from './device-clock.js';
import { withModbusCrc } from './modbus-rtu-codec.js';
import { ModbusProbe } from './modbus-probe.js';
import { SeededRandom } from './seeded-random.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function probe(meanC: number): ModbusProbe {
  const host = new FixedClock(new Date(Date.UTC(2026, 0, 1)));
  return new ModbusProbe({
    serial: 'MD02-1',
    clock: new DeviceClock(host, { afterPowerLoss: 'kept' }),
    climate: new WaveProfile({ meanC, amplitudeC: 0, jitterC: 0, humidityPct: 45, humidityJitterPct: 0 }),
    random: new SeededRandom(1),
  });
}

let realMs = 0;
const ask = (device: ModbusProbe, request: Buffer): Buffer[] => device.receive(request, (realMs += 1000));

describe('ModbusProbe (XY-MD02)', () => {
  it('answers the COLD-CHAIN.md example: 30.5 °C and −20.5 °C', () => {
    expect(ask(probe(30.5), hex('01 04 00 01 00 01 60 0A'))).toEqual([hex('01 04 02 01 31 79 74')]);
    expect(ask(probe(-20.5), hex('01 04 00 01 00 01 60 0A'))).toEqual([hex('01 04 02 FF 33 B8 D5')]);
  });

  it('reads temperature and RH together; an illegal address gets exception 02', () => {
    const device = probe(5);
    const [both] = ask(device, withModbusCrc(hex('01 04 00 01 00 02')));
    expect(both?.subarray(0, 7)).toEqual(hex('01 04 04 00 32 01 C2'));
    expect(ask(device, withModbusCrc(hex('01 04 00 05 00 01')))).toEqual([withModbusCrc(hex('01 84 02'))]);
    expect(ask(device, withModbusCrc(hex('01 04 00 01 00 00')))).toEqual([withModbusCrc(hex('01 84 03'))]);
    expect(ask(device, withModbusCrc(hex('01 2B 0E 01 00')))).toEqual([withModbusCrc(hex('01 AB 01'))]);
  });

  it('ignores other slaves, bad CRCs and broadcasts; misses and power loss are silence', () => {
    const device = probe(5);
    expect(ask(device, withModbusCrc(hex('02 04 00 01 00 01')))).toEqual([]);
    expect(ask(device, hex('01 04 00 01 00 01 60 0B'))).toEqual([]);
    expect(ask(device, withModbusCrc(hex('00 04 00 01 00 01')))).toEqual([]);
    device.missSamples(1);
    expect(ask(device, hex('01 04 00 01 00 01 60 0A'))).toEqual([]);
    expect(ask(device, hex('01 04 00 01 00 01 60 0A'))).toHaveLength(1);
    device.powerOff();
    expect(ask(device, hex('01 04 00 01 00 01 60 0A'))).toEqual([]);
  });
});
