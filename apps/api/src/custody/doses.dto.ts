import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { DoseRoute } from '@lyotrace/contracts';
import { Transform, Type } from 'class-transformer';
import {
  IsDateString,
  IsEnum,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';

/** Millilitres as a decimal string, up to 3 places and > 0 (dose.volume_ml is numeric(8,3) > 0). */
const VOLUME = /^(?=.*[1-9])\d{1,5}(\.\d{1,3})?$/;
const asDecimalString = ({ value }: { value: unknown }): unknown =>
  typeof value === 'number' && Number.isFinite(value) ? String(value) : value;

export class DoseSignatureRequest {
  @ApiProperty({ description: 'your password, re-entered for this signature (21 CFR 11.200)' })
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  password!: string;

  @ApiPropertyOptional({ description: 'why you sign; defaults to the dose (or the correction reason)' })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  reason?: string;
}

export class RecordDoseRequest {
  @ApiProperty({
    description:
      "the vial's scan: GS1 element string (]d2…, GS = 0x1D), `(01)…(21)…` text, or GS1 Digital Link URI; must carry (21)",
  })
  @IsString()
  @MinLength(1)
  @MaxLength(2000)
  raw!: string;

  @ApiProperty({
    example: 'P-7F3A',
    description:
      "the clinic's pseudonym for the patient (3–40 of A–Z a–z 0–9 . _ -): no names, no birth dates",
  })
  @IsString()
  @MaxLength(200)
  patientRef!: string;

  @ApiProperty({ example: '2026-11-20T09:30:00Z', description: 'when the dose was given' })
  @IsDateString({ strict: true })
  administeredAt!: string;

  @ApiProperty({ example: '2.5', description: 'millilitres, up to 3 decimals, > 0' })
  @Transform(asDecimalString)
  @Matches(VOLUME, { message: 'volumeMl must be a positive decimal with up to 5 digits and 3 places' })
  volumeMl!: string;

  @ApiProperty({ enum: DoseRoute })
  @IsEnum(DoseRoute)
  route!: DoseRoute;

  @ApiProperty({ type: DoseSignatureRequest })
  @ValidateNested()
  @Type(() => DoseSignatureRequest)
  signature!: DoseSignatureRequest;
}

export class DoseChangesRequest {
  @ApiPropertyOptional({ example: 'P-7F3B' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  patientRef?: string;

  @ApiPropertyOptional({ example: '2026-11-20T09:25:00Z' })
  @IsOptional()
  @IsDateString({ strict: true })
  administeredAt?: string;

  @ApiPropertyOptional({ example: '2.0' })
  @IsOptional()
  @Transform(asDecimalString)
  @Matches(VOLUME, { message: 'volumeMl must be a positive decimal with up to 5 digits and 3 places' })
  volumeMl?: string;

  @ApiPropertyOptional({ enum: DoseRoute })
  @IsOptional()
  @IsEnum(DoseRoute)
  route?: DoseRoute;
}

export class CorrectDoseRequest {
  @ApiProperty({ type: DoseChangesRequest, description: 'only the values that change' })
  @ValidateNested()
  @Type(() => DoseChangesRequest)
  changes!: DoseChangesRequest;

  @ApiProperty({ description: 'why the record is corrected (kept with the old values)' })
  @IsString()
  @MinLength(1)
  @MaxLength(1000)
  reason!: string;

  @ApiProperty({ type: DoseSignatureRequest })
  @ValidateNested()
  @Type(() => DoseSignatureRequest)
  signature!: DoseSignatureRequest;
}

export class DoseListQuery {
  @ApiProperty({ example: 'P-7F3A', description: "the patient's pseudonym at your clinic" })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  patientRef!: string;

  @ApiPropertyOptional({ default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}
