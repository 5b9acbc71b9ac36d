import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDateString, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

export class AuditQueryRequest {
  @ApiPropertyOptional({ example: 'user' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  entityType?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(200)
  entityId?: string;

  @ApiPropertyOptional({ description: 'the acting user id' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  userId?: string;

  @ApiPropertyOptional({ description: 'the acting user name (or bridge:NAME, or a system name)' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  username?: string;

  @ApiPropertyOptional({ example: 'auth.login_failed' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  action?: string;

  // strict: a day the month does not have (2026-02-31) is refused, not rolled over into March by `new Date`.
  @ApiPropertyOptional({ description: 'ISO 8601, inclusive' })
  @IsOptional()
  @IsDateString({ strict: true })
  from?: string;

  @ApiPropertyOptional({ description: 'ISO 8601, exclusive' })
  @IsOptional()
  @IsDateString({ strict: true })
  to?: string;

  @ApiPropertyOptional({ description: 'paging: nextBeforeId of the previous page' })
  @IsOptional()
  @Matches(/^\d{1,19}$/)
  beforeId?: string;

  @ApiPropertyOptional({ default: 100, maximum: 1000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}

export class AuditEventResponse {
  @ApiProperty() id!: string;
  @ApiProperty() lane!: number;
  @ApiProperty() laneSeq!: string;
  @ApiProperty() occurredAt!: string;
  @ApiProperty() actorKind!: string;
  @ApiProperty({ nullable: true, type: String }) actorId!: string | null;
  @ApiProperty() actorName!: string;
  @ApiProperty() action!: string;
  @ApiProperty() entityType!: string;
  @ApiProperty() entityId!: string;
  @ApiProperty({ nullable: true, type: Object }) oldValues!: Record<string, unknown> | null;
  @ApiProperty({ nullable: true, type: Object }) newValues!: Record<string, unknown> | null;
  @ApiProperty({ nullable: true, type: String }) reason!: string | null;
  @ApiProperty({ nullable: true, type: String }) requestId!: string | null;
  @ApiProperty() prevHash!: string;
  @ApiProperty() hash!: string;
}

export class AuditPageResponse {
  @ApiProperty({ type: [AuditEventResponse] }) items!: AuditEventResponse[];
  @ApiProperty({ nullable: true, type: String }) nextBeforeId!: string | null;
}

export class ChainBreakResponse {
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'null when rows are missing from the end of a lane',
  })
  id!: string | null;
  @ApiProperty() lane!: number;
  @ApiProperty() laneSeq!: string;
  @ApiProperty() problem!: string;
}

export class AuditVerifyResponse {
  @ApiProperty() ok!: boolean;
  @ApiProperty() eventsChecked!: number;
  @ApiProperty() lanesChecked!: number;
  @ApiProperty({ nullable: true, type: ChainBreakResponse }) firstBroken!: ChainBreakResponse | null;
}

export class AuditVerificationResponse {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: ['queued', 'running', 'intact', 'broken', 'failed'] }) status!: string;
  @ApiProperty() requestedBy!: string;
  @ApiProperty() requestedAt!: string;
  @ApiProperty({ nullable: true, type: String }) finishedAt!: string | null;
  @ApiProperty({ nullable: true, type: Number }) eventsChecked!: number | null;
  @ApiProperty({ nullable: true, type: Object }) firstBroken!: Record<string, unknown> | null;
  @ApiProperty({ nullable: true, type: String }) error!: string | null;
}
