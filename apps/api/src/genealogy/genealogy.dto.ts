import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { LotKind, LotStatus, QuantityUnit } from '@lyotrace/contracts';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsBoolean,
  IsDateString,
  IsEnum,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';

/** Quantities travel as decimal strings (never floats); a JSON number is accepted and read as written. */
const QUANTITY = /^\d{1,12}(\.\d{1,6})?$/;
const asDecimalString = ({ value }: { value: unknown }): unknown =>
  typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
const LOT_CODE = /^[A-Za-z0-9][A-Za-z0-9._-]{1,39}$/;

export class CreateProductRequest {
  @ApiProperty({ example: '09520012345674', description: 'GTIN-14 with a valid check digit' })
  @Matches(/^\d{14}$/, { message: 'gtin must be 14 digits' })
  gtin!: string;

  @ApiProperty({ example: 'Lyosecretome 50 mg' })
  @IsString()
  @MinLength(2)
  @MaxLength(200)
  name!: string;

  @ApiProperty({ example: 730 })
  @IsInt()
  @Min(1)
  @Max(3650)
  shelfLifeDays!: number;

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  singleUse?: boolean;
}

export class NewLotRequest {
  @ApiProperty({
    example: 'LYO24A01',
    description: 'unique lot code; also the GS1 (10) batch for finished lots',
  })
  @Matches(LOT_CODE, { message: 'code must be 2–40 characters: letters, digits, . _ -' })
  code!: string;

  @ApiProperty({ enum: LotKind })
  @IsEnum(LotKind)
  kind!: LotKind;

  @ApiProperty({ example: '100', description: 'decimal, up to 6 places' })
  @Transform(asDecimalString)
  @Matches(QUANTITY, { message: 'quantity must be a decimal with up to 12 digits and 6 places' })
  quantity!: string;

  @ApiProperty({ enum: QuantityUnit })
  @IsEnum(QuantityUnit)
  unit!: QuantityUnit;

  @ApiPropertyOptional({ description: 'required for finished lots' })
  @IsOptional()
  @IsUUID()
  productId?: string;

  @ApiPropertyOptional({ example: '2027-12-31', description: 'required for finished lots' })
  @IsOptional()
  @IsDateString({ strict: true })
  expiry?: string;

  @ApiPropertyOptional({ example: { passage: 4, cellCount: 1.2e9 } })
  @IsOptional()
  @IsObject()
  attributes?: Record<string, unknown>;

  @ApiPropertyOptional({ example: { isbt128Din: 'A9999 24 123456' } })
  @IsOptional()
  @IsObject()
  externalIds?: Record<string, string>;
}

export class RegisterLotRequest extends NewLotRequest {
  @ApiProperty()
  @IsUUID()
  siteId!: string;
}

export class TransformationInputRequest {
  @ApiProperty()
  @IsUUID()
  lotId!: string;

  @ApiProperty({ example: '2.5' })
  @Transform(asDecimalString)
  @Matches(QUANTITY, { message: 'quantity must be a decimal with up to 12 digits and 6 places' })
  quantity!: string;

  @ApiProperty({ enum: QuantityUnit })
  @IsEnum(QuantityUnit)
  unit!: QuantityUnit;
}

export class TransformationOutputRequest {
  @ApiPropertyOptional({ type: NewLotRequest, description: 'a new lot made by this step…' })
  @IsOptional()
  @ValidateNested()
  @Type(() => NewLotRequest)
  lot?: NewLotRequest;

  @ApiPropertyOptional({ description: '…or more of an existing lot (e.g. another harvest into a pool)' })
  @IsOptional()
  @IsUUID()
  existingLotId?: string;

  @ApiPropertyOptional({ description: 'with existingLotId: how much this step adds' })
  @IsOptional()
  @Transform(asDecimalString)
  @Matches(QUANTITY, { message: 'quantity must be a decimal with up to 12 digits and 6 places' })
  quantity?: string;
}

export class TransformationRequest {
  @ApiProperty()
  @IsUUID()
  siteId!: string;

  @ApiProperty({ example: '2026-11-20T09:30:00Z', description: 'when the step happened' })
  @IsDateString({ strict: true })
  occurredAt!: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  note?: string;

  @ApiProperty({ type: [TransformationInputRequest] })
  @ValidateNested({ each: true })
  @ArrayMaxSize(500)
  @Type(() => TransformationInputRequest)
  inputs!: TransformationInputRequest[];

  @ApiProperty({ type: [TransformationOutputRequest] })
  @ValidateNested({ each: true })
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @Type(() => TransformationOutputRequest)
  outputs!: TransformationOutputRequest[];
}

export class CommissionRequest {
  @ApiProperty({ example: 100 })
  @IsInt()
  @Min(1)
  @Max(10_000)
  count!: number;
}

export class DispositionRequest {
  @ApiProperty({ description: 'your password, re-entered for this signature (21 CFR 11.200)' })
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  password!: string;

  @ApiProperty({ example: 'batch record and QC results reviewed' })
  @IsString()
  @MaxLength(1000)
  reason!: string;
}

export class ReasonOnlyRequest {
  @ApiProperty()
  @IsString()
  @MinLength(1)
  @MaxLength(1000)
  reason!: string;
}

export class LotListQuery {
  @ApiPropertyOptional({ enum: LotKind })
  @IsOptional()
  @IsEnum(LotKind)
  kind?: LotKind;

  @ApiPropertyOptional({ enum: LotStatus })
  @IsOptional()
  @IsEnum(LotStatus)
  status?: LotStatus;

  @ApiPropertyOptional({ description: 'paging: the last code of the previous page' })
  @IsOptional()
  @Matches(LOT_CODE)
  after?: string;

  @ApiPropertyOptional({ default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}

export class VialListQuery {
  @ApiPropertyOptional({ description: 'paging: the last serial of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(20)
  after?: string;

  @ApiPropertyOptional({ default: 500 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(5000)
  limit?: number;
}

export class CorrectLotRequest {
  @ApiPropertyOptional({ description: 'replaces the recorded process attributes' })
  @IsOptional()
  @IsObject()
  attributes?: Record<string, unknown>;

  @ApiPropertyOptional()
  @IsOptional()
  @IsObject()
  externalIds?: Record<string, string>;

  @ApiPropertyOptional({ description: 'only before any vial is commissioned' })
  @IsOptional()
  @IsDateString({ strict: true })
  expiry?: string;

  @ApiProperty({ description: 'why the record is corrected (kept with the old values)' })
  @IsString()
  @MinLength(1)
  @MaxLength(1000)
  reason!: string;
}
