import type { LoggerProtocol } from '@lyotrace/contracts';
import { associationEvent, type EpcisEvent } from '../epcis/events.js';
import { locationUri, lyotraceUri, siteUri, ssccUri } from '../epcis/identifiers.js';
import { epcisTimeZoneOffset } from '../epcis/time-zone.js';

/**
 * A logger as an EPCIS identifier. Serial numbers are unique per protocol only (an Elitech and a Modbus probe
 * may share one), so the protocol is part of the name.
 */
export const loggerUri = (protocol: LoggerProtocol | string, serial: string): string =>
  lyotraceUri('device', protocol, serial);

/** Where a logger is put: a location of a site, or a shipper known by its SSCC. */
export type LoggerPlace = { kind: 'location'; id: string } | { kind: 'container'; sscc: string };

export const loggerPlaceUri = (place: LoggerPlace): string =>
  place.kind === 'location' ? locationUri(place.id) : ssccUri(place.sscc);

/**
 * EPCIS 2.0 AssociationEvent of a logger put into (ADD) or taken out of (DELETE) a location or a shipper: the
 * place is the parent, the logger the child (EPCIS 2.0 §7.4.4: association of a sensor device with the
 * object it monitors).
 */
export function loggerAssociationEvent(input: {
  action: 'ADD' | 'DELETE';
  logger: { protocol: string; serial: string };
  place: LoggerPlace;
  time: Date;
  siteId: string;
  timeZone: string;
}): EpcisEvent {
  return associationEvent({
    eventTime: input.time,
    eventTimeZoneOffset: epcisTimeZoneOffset(input.time, input.timeZone),
    action: input.action,
    bizStep: input.action === 'ADD' ? 'assembling' : 'disassembling',
    parentID: loggerPlaceUri(input.place),
    childEPCs: [loggerUri(input.logger.protocol, input.logger.serial)],
    readPoint: siteUri(input.siteId),
    bizLocation: siteUri(input.siteId),
  });
}
