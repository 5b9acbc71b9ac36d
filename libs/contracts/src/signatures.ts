/** 21 CFR Part 11 §11.50(a)(3): the meaning associated with a signature. Stored as text: never rename. */
export enum SignatureMeaning {
  Approval = 'approval',
  Review = 'review',
  Responsibility = 'responsibility',
  Authorship = 'authorship',
}

/** Record types a signature may be applied to. Later features register more. */
export enum SignableType {
  Site = 'site',
  User = 'user',
}

export interface SignatureView {
  id: string;
  userId: string;
  username: string;
  printedName: string;
  meaning: SignatureMeaning;
  reason: string;
  signedAt: string;
  entityType: string;
  entityId: string;
  entityVersion: number;
  /** SHA-256 of the canonical content of the record version that was signed. */
  contentHash: string;
}
