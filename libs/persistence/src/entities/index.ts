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
import { VialEntity } from './vial.entity.js';

export {
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
];
