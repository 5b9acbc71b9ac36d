/**
 * Stable, machine-readable error codes carried in every RFC 9457 problem+json answer (`code` member).
 * Clients switch on these: never rename a value, never reuse one for another meaning.
 */
export enum ProblemCode {
  ValidationFailed = 'VALIDATION_FAILED',
  MalformedJson = 'MALFORMED_JSON',
  PayloadTooLarge = 'PAYLOAD_TOO_LARGE',
  UnsupportedMediaType = 'UNSUPPORTED_MEDIA_TYPE',
  NotFound = 'NOT_FOUND',
  RouteNotFound = 'ROUTE_NOT_FOUND',
  MethodNotAllowed = 'METHOD_NOT_ALLOWED',
  Conflict = 'CONFLICT',
  Unauthenticated = 'UNAUTHENTICATED',
  InvalidCredentials = 'AUTH_INVALID_CREDENTIALS',
  AccountLocked = 'AUTH_ACCOUNT_LOCKED',
  AccountDisabled = 'AUTH_ACCOUNT_DISABLED',
  TokenInvalid = 'AUTH_TOKEN_INVALID',
  BridgeTokenInvalid = 'AUTH_BRIDGE_TOKEN_INVALID',
  Forbidden = 'FORBIDDEN',
  RateLimited = 'RATE_LIMITED',
  PasswordPolicy = 'PASSWORD_POLICY',
  UsernameTaken = 'USERNAME_TAKEN',
  SiteRequired = 'SITE_REQUIRED',
  SiteKindMismatch = 'SITE_KIND_MISMATCH',
  BridgeAlreadyActive = 'BRIDGE_ALREADY_ACTIVE',
  SignatureInvalidPassword = 'SIGNATURE_INVALID_PASSWORD',
  SignatureMeaningInvalid = 'SIGNATURE_MEANING_INVALID',
  SignatureReasonRequired = 'SIGNATURE_REASON_REQUIRED',
  SignatureTargetNotSignable = 'SIGNATURE_TARGET_NOT_SIGNABLE',
  SignatureVersionMismatch = 'SIGNATURE_VERSION_MISMATCH',
  DependencyUnavailable = 'DEPENDENCY_UNAVAILABLE',
  QueueUnavailable = 'QUEUE_UNAVAILABLE',
  GenealogyKindNotAllowed = 'GENEALOGY_KIND_NOT_ALLOWED',
  GenealogyUnknownInput = 'GENEALOGY_UNKNOWN_INPUT',
  GenealogyInputRejected = 'GENEALOGY_INPUT_REJECTED',
  GenealogyUnitMismatch = 'GENEALOGY_UNIT_MISMATCH',
  GenealogyInsufficientQuantity = 'GENEALOGY_INSUFFICIENT_QUANTITY',
  GenealogyCycle = 'GENEALOGY_CYCLE',
  LotClosed = 'LOT_CLOSED',
  LotNotPendingRelease = 'LOT_NOT_PENDING_RELEASE',
  ReleaseBySameUser = 'RELEASE_BY_SAME_USER',
  LotHasNoVials = 'LOT_HAS_NO_VIALS',
  LotCodeTaken = 'LOT_CODE_TAKEN',
  ProductRequired = 'PRODUCT_REQUIRED',
  CommissionExceedsLot = 'COMMISSION_EXCEEDS_LOT',
  TransformationAlreadyCorrected = 'TRANSFORMATION_ALREADY_CORRECTED',
  TraceRefUnknown = 'TRACE_REF_UNKNOWN',
  Internal = 'INTERNAL',
  Gs1Empty = 'GS1_EMPTY',
  Gs1Symbology = 'GS1_SYMBOLOGY',
  Gs1UnknownAi = 'GS1_UNKNOWN_AI',
  Gs1Length = 'GS1_LENGTH',
  Gs1Charset = 'GS1_CHARSET',
  Gs1CheckDigit = 'GS1_CHECK_DIGIT',
  Gs1Date = 'GS1_DATE',
  Gs1Requisite = 'GS1_REQUISITE',
  Gs1DuplicateAi = 'GS1_DUPLICATE_AI',
  Gs1DigitalLink = 'GS1_DIGITAL_LINK',
}

/** The HTTP status that goes with each code. */
export const PROBLEM_STATUS: Readonly<Record<ProblemCode, number>> = {
  [ProblemCode.ValidationFailed]: 400,
  [ProblemCode.MalformedJson]: 400,
  [ProblemCode.PayloadTooLarge]: 413,
  [ProblemCode.UnsupportedMediaType]: 415,
  [ProblemCode.NotFound]: 404,
  [ProblemCode.RouteNotFound]: 404,
  [ProblemCode.MethodNotAllowed]: 405,
  [ProblemCode.Conflict]: 409,
  [ProblemCode.Unauthenticated]: 401,
  [ProblemCode.InvalidCredentials]: 401,
  [ProblemCode.AccountLocked]: 423,
  [ProblemCode.AccountDisabled]: 401,
  [ProblemCode.TokenInvalid]: 401,
  [ProblemCode.BridgeTokenInvalid]: 401,
  [ProblemCode.Forbidden]: 403,
  [ProblemCode.RateLimited]: 429,
  [ProblemCode.PasswordPolicy]: 422,
  [ProblemCode.UsernameTaken]: 409,
  [ProblemCode.SiteRequired]: 422,
  [ProblemCode.SiteKindMismatch]: 422,
  [ProblemCode.BridgeAlreadyActive]: 409,
  [ProblemCode.SignatureInvalidPassword]: 401,
  [ProblemCode.SignatureMeaningInvalid]: 422,
  [ProblemCode.SignatureReasonRequired]: 422,
  [ProblemCode.SignatureTargetNotSignable]: 422,
  [ProblemCode.SignatureVersionMismatch]: 409,
  [ProblemCode.DependencyUnavailable]: 503,
  [ProblemCode.QueueUnavailable]: 503,
  [ProblemCode.GenealogyKindNotAllowed]: 422,
  [ProblemCode.GenealogyUnknownInput]: 422,
  [ProblemCode.GenealogyInputRejected]: 422,
  [ProblemCode.GenealogyUnitMismatch]: 422,
  [ProblemCode.GenealogyInsufficientQuantity]: 422,
  [ProblemCode.GenealogyCycle]: 422,
  [ProblemCode.LotClosed]: 409,
  [ProblemCode.LotNotPendingRelease]: 409,
  [ProblemCode.ReleaseBySameUser]: 403,
  [ProblemCode.LotHasNoVials]: 409,
  [ProblemCode.LotCodeTaken]: 409,
  [ProblemCode.ProductRequired]: 422,
  [ProblemCode.CommissionExceedsLot]: 422,
  [ProblemCode.TransformationAlreadyCorrected]: 409,
  [ProblemCode.TraceRefUnknown]: 404,
  [ProblemCode.Internal]: 500,
  [ProblemCode.Gs1Empty]: 422,
  [ProblemCode.Gs1Symbology]: 422,
  [ProblemCode.Gs1UnknownAi]: 422,
  [ProblemCode.Gs1Length]: 422,
  [ProblemCode.Gs1Charset]: 422,
  [ProblemCode.Gs1CheckDigit]: 422,
  [ProblemCode.Gs1Date]: 422,
  [ProblemCode.Gs1Requisite]: 422,
  [ProblemCode.Gs1DuplicateAi]: 422,
  [ProblemCode.Gs1DigitalLink]: 422,
};

/** RFC 9457 problem details, with our extension members. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  code: ProblemCode;
  requestId?: string;
  /** Field-level errors of a validation failure: `field` is a dotted path into the request body. */
  errors?: { field: string; messages: string[] }[];
  [extension: string]: unknown;
}

export const PROBLEM_TYPE_BASE = 'https://lyotrace.dev/problems/';
