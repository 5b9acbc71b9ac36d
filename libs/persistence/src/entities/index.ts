import { AuditEventEntity } from './audit-event.entity.js';
import { AuditVerificationEntity } from './audit-verification.entity.js';
import { BridgeCredentialEntity } from './bridge-credential.entity.js';
import { ElectronicSignatureEntity } from './electronic-signature.entity.js';
import { EpcisEventEntity } from './epcis-event.entity.js';
import { LotEntity } from './lot.entity.js';
import { OrganisationEntity } from './organisation.entity.js';
import { ProductEntity } from './product.entity.js';
import { RecallEntity, RecallItemEntity } from './recall.entity.js';
import { SiteEntity } from './site.entity.js';
import {
  LotEdgeEntity,
  TransformationEntity,
  TransformationInputEntity,
  TransformationOutputEntity,
} from './transformation.entity.js';
import { UserEntity } from './user.entity.js';
import { AggregationEntity, ContainerEntity, ReceiptLineEntity, ShipmentEntity } from './container.entity.js';
import { CustodyIntervalEntity } from './custody-interval.entity.js';
import { DoseCorrectionEntity, DoseEntity, PatientEntity } from './dose.entity.js';
import { ExcursionEntity } from './excursion.entity.js';
import { LocationEntity } from './location.entity.js';
import { QaTaskEntity } from './qa-task.entity.js';
import { ScanEntity } from './scan.entity.js';
import { VialEntity } from './vial.entity.js';
import { LoggerAssignmentEntity, LoggerEntity } from './logger.entity.js';
import {
  IngestBatchEntity,
  IngestOutboxEntity,
  ReadingEntity,
  ReadingGapEntity,
  ReadingStreamEntity,
} from './reading.entity.js';

export {
  IngestBatchEntity,
  IngestOutboxEntity,
  LoggerAssignmentEntity,
  LoggerEntity,
  ReadingEntity,
  ReadingGapEntity,
  ReadingStreamEntity,
  AggregationEntity,
  ContainerEntity,
  CustodyIntervalEntity,
  DoseCorrectionEntity,
  DoseEntity,
  ExcursionEntity,
  LocationEntity,
  PatientEntity,
  QaTaskEntity,
  ReceiptLineEntity,
  ScanEntity,
  ShipmentEntity,
  RecallEntity,
  RecallItemEntity,
  EpcisEventEntity,
  LotEdgeEntity,
  LotEntity,
  ProductEntity,
  TransformationEntity,
  TransformationInputEntity,
  TransformationOutputEntity,
  VialEntity,
  AuditEventEntity,
  AuditVerificationEntity,
  BridgeCredentialEntity,
  ElectronicSignatureEntity,
  OrganisationEntity,
  SiteEntity,
  UserEntity,
};
export type { AuditVerificationStatus } from './audit-verification.entity.js';
export type { LoggerRegistration } from './logger.entity.js';

export const ENTITIES = [
  OrganisationEntity,
  SiteEntity,
  UserEntity,
  BridgeCredentialEntity,
  AuditEventEntity,
  ElectronicSignatureEntity,
  AuditVerificationEntity,
  ProductEntity,
  LotEntity,
  TransformationEntity,
  TransformationInputEntity,
  TransformationOutputEntity,
  LotEdgeEntity,
  VialEntity,
  EpcisEventEntity,
  RecallEntity,
  RecallItemEntity,
  LocationEntity,
  ShipmentEntity,
  ContainerEntity,
  AggregationEntity,
  ReceiptLineEntity,
  CustodyIntervalEntity,
  ScanEntity,
  PatientEntity,
  DoseEntity,
  DoseCorrectionEntity,
  QaTaskEntity,
  ExcursionEntity,
  LoggerEntity,
  LoggerAssignmentEntity,
  ReadingStreamEntity,
  ReadingEntity,
  ReadingGapEntity,
  IngestBatchEntity,
  IngestOutboxEntity,
];
