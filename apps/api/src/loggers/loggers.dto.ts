import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { LoggerProtocol } from '@lyotrace/contracts';
import { Transform, Type } from 'class-transformer';
import {
  IsBoolean,
  IsDate,
  IsEnum,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { IsCalendarDate, toInstant } from '../http/calendar.validators.js';

const PRINTABLE = /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/;
const toBool = ({ value }: { value: unknown }): unknown =>
  value === 'true' ? true : value === 'false' ? false : value;

export class RegisterLoggerRequest {
  @ApiProperty({ enum: LoggerProtocol })
  @IsEnum(LoggerProtocol)
  protocol!: LoggerProtocol;

  @ApiProperty({ example: 'EL4-00172', description: 'the serial number the device reports' })
  @IsString()
  @Matches(PRINTABLE, { message: 'serial must be printable ASCII without leading or trailing spaces' })
  @MaxLength(64)
  serial!: string;

  @ApiProperty({ example: 'RC-4' })
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  model!: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(64)
  firmware?: string;

  @ApiPropertyOptional({ example: '2027-03-31', description: 'EU GDP 9.2: calibrated at least yearly' })
  @IsOptional()
  @IsCalendarDate()
  calibrationDue?: string;

  @ApiProperty({ description: 'the owner site' })
  @IsUUID()
  siteId!: string;
}

export class ApproveLoggerRequest {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  reason?: string;
}

export class ListLoggersQuery {
  @ApiPropertyOptional()
  @IsOptional()
  @IsUUID()
  siteId?: string;

  @ApiPropertyOptional({ description: 'false: the devices awaiting an admin’s approval' })
  @IsOptional()
  @Transform(toBool)
  @IsBoolean()
  approved?: boolean;

  @ApiPropertyOptional({ default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;

  @ApiPropertyOptional({ description: 'paging: the id of the last logger of the previous page' })
  @IsOptional()
  @IsUUID()
  after?: string;
}

export class ReadingsQuery {
  @ApiProperty({ example: '2026-01-01T00:00:00Z', description: 'inclusive' })
  @Transform(toInstant)
  @IsDate({ message: 'from must be an ISO 8601 instant with a zone' })
  from!: Date;

  @ApiProperty({ example: '2026-02-01T00:00:00Z', description: 'exclusive' })
  @Transform(toInstant)
  @IsDate({ message: 'to must be an ISO 8601 instant with a zone' })
  to!: Date;

  @ApiPropertyOptional({ default: 1000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10_000)
  limit?: number;

  @ApiPropertyOptional({ description: 'paging: nextAfter of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  after?: string;
}

export class GapsQuery {
  @ApiPropertyOptional({ default: true, description: 'only the gaps still open' })
  @IsOptional()
  @Transform(toBool)
  @IsBoolean()
  open?: boolean;
}

export class AssignLoggerRequest {
  @ApiPropertyOptional({ description: 'a location (give this or containerId)' })
  @IsOptional()
  @IsUUID()
  locationId?: string;

  @ApiPropertyOptional({ description: 'a shipper (give this or locationId)' })
  @IsOptional()
  @IsUUID()
  containerId?: string;

  @ApiPropertyOptional({ description: 'when the logger was put there; default now' })
  @IsOptional()
  @Transform(toInstant)
  @IsDate({ message: 'from must be an ISO 8601 instant with a zone' })
  from?: Date;

  @ApiPropertyOptional({ description: 'when it was taken out, if already known' })
  @IsOptional()
  @Transform(toInstant)
  @IsDate({ message: 'to must be an ISO 8601 instant with a zone' })
  to?: Date;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  reason?: string;
}

export class EndAssignmentRequest {
  @ApiPropertyOptional({ description: 'when the logger was taken out; default now' })
  @IsOptional()
  @Transform(toInstant)
  @IsDate({ message: 'at must be an ISO 8601 instant with a zone' })
  at?: Date;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  reason?: string;
}
