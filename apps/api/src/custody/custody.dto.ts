import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { LocationKind, ScanAction } from '@lyotrace/contracts';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsDate,
  IsEnum,
  IsInt,
  IsNumber,
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

export class ScanContextDto {
  @ApiPropertyOptional({ description: 'the site where you scan; defaults to your own' })
  @IsOptional()
  @IsUUID()
  siteId?: string;

  @ApiPropertyOptional({ description: 'putaway / move: target location id' })
  @IsOptional()
  @IsUUID()
  locationId?: string;

  @ApiPropertyOptional({ description: 'putaway / move: target location code at the site' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  locationCode?: string;

  @ApiPropertyOptional({ description: 'pack / unpack: the shipper id' })
  @IsOptional()
  @IsUUID()
  containerId?: string;

  @ApiPropertyOptional({ description: 'pack / unpack / receipt: the shipper SSCC (18 digits)' })
  @IsOptional()
  @Matches(/^\d{18}$/, { message: 'sscc must be 18 digits' })
  sscc?: string;

  @ApiPropertyOptional({ description: 'receipt: the shipment being received' })
  @IsOptional()
  @IsUUID()
  shipmentId?: string;
}

export class ScanRequestDto {
  @ApiProperty({
    description:
      'what the scanner sent: a GS1 element string (with or without ]d2 / ]Q3 / ]C1, GS = 0x1D or a substitute) or a GS1 Digital Link URI',
  })
  @IsString()
  @MinLength(1)
  @MaxLength(2000)
  raw!: string;

  @ApiProperty({ enum: ScanAction })
  @IsEnum(ScanAction)
  action!: ScanAction;

  @ApiPropertyOptional({ type: ScanContextDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => ScanContextDto)
  context?: ScanContextDto;

  @ApiPropertyOptional({
    description:
      'idempotency key (or the Idempotency-Key header): a retried scan with the same key returns the first answer and changes nothing',
  })
  @IsOptional()
  @IsString()
  @MinLength(8)
  @MaxLength(200)
  idempotencyKey?: string;
}

export class NewLocationDto {
  @ApiProperty()
  @IsUUID()
  siteId!: string;

  @ApiProperty({ example: 'FRZ-01' })
  @Matches(/^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/, { message: 'code: letters, digits, . _ - (max 40)' })
  code!: string;

  @ApiProperty()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name!: string;

  @ApiProperty({ enum: LocationKind })
  @IsEnum(LocationKind)
  kind!: LocationKind;

  @ApiPropertyOptional()
  @IsOptional()
  @IsUUID()
  parentId?: string;

  @ApiProperty({ example: 2 })
  @IsNumber({ maxDecimalPlaces: 2 })
  @Min(-200)
  @Max(100)
  minTempC!: number;

  @ApiProperty({ example: 8 })
  @IsNumber({ maxDecimalPlaces: 2 })
  @Min(-200)
  @Max(100)
  maxTempC!: number;

  @ApiProperty({ example: 1800, description: 'seconds out of range before an excursion opens' })
  @IsInt()
  @Min(0)
  @Max(7 * 24 * 3600)
  alarmDelayS!: number;

  @ApiProperty({ example: 0.5 })
  @IsNumber({ maxDecimalPlaces: 2 })
  @Min(0)
  @Max(10)
  hysteresisC!: number;

  @ApiPropertyOptional({ description: 'cumulative seconds out of range allowed; omit for none' })
  @IsOptional()
  @IsInt()
  @Min(0)
  budgetS?: number;
}

export class LocationQuery {
  @ApiPropertyOptional()
  @IsOptional()
  @IsUUID()
  siteId?: string;
}

export class NewShipperDto {
  @ApiPropertyOptional({ description: 'the site where it is made up; defaults to your own' })
  @IsOptional()
  @IsUUID()
  siteId?: string;
}

export class NewShipmentDto {
  @ApiPropertyOptional({ description: 'defaults to your own site' })
  @IsOptional()
  @IsUUID()
  fromSiteId?: string;

  @ApiProperty({ description: 'the clinic' })
  @IsUUID()
  toSiteId!: string;

  @ApiProperty({ description: 'expiry is checked at this instant too: nothing may expire in transit' })
  @Type(() => Date)
  @IsDate()
  plannedArrivalAt!: Date;

  @ApiProperty({ type: [String] })
  @IsArray()
  @ArrayMaxSize(50)
  @IsUUID('all', { each: true })
  shipperIds!: string[];
}
