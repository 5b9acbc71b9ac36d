/** The simulator's in-process API, for tests: build a device on a (virtual) clock, run it on a pty, inject faults. */
export { type ClimateProfile, WaveProfile, toFixedPoint } from './climate-profile.js';
export { type ClockAfterPowerLoss, DeviceClock, realClock } from './device-clock.js';
export { DEVICE_KINDS, type DeviceKind, type DeviceModel } from './device-model.js';
export { DeviceSimulator, type DeviceSimulatorOptions } from './device-simulator.js';
export * from './elitech-codec.js';
export {
  ELITECH_SENSOR_FAULT,
  ELITECH_VARIANTS,
  ElitechLogger,
  type ElitechVariant,
} from './elitech-logger.js';
export { type FaultSettings, NOISE_KINDS, NO_FAULTS, type NoiseKind } from './faults.js';
export { ModbusProbe } from './modbus-probe.js';
export * from './modbus-rtu-codec.js';
export * from './native-codec.js';
export { NativeLogger } from './native-logger.js';
export { PtyPort } from './pty-port.js';
export { RecordRing } from './record-ring.js';
export { SeededRandom } from './seeded-random.js';
export { type DeviceSpec, SpecError, buildDeviceModel, parseDeviceSpec } from './simulator-config.js';
export { SocatPair } from './socat-pair.js';
export {
  type FleetConfig,
  type FleetManifestEntry,
  type FleetMember,
  SimulatorFleet,
  parseFleetConfig,
  readFleetConfig,
} from './simulator-fleet.js';
