import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { SignableType, SignatureMeaning } from '@lyotrace/contracts';
import { IsEnum, IsInt, IsOptional, IsString, IsUUID, MaxLength, Min, MinLength } from 'class-validator';

export class SignRecordRequest {
  @ApiProperty({ enum: SignableType })
  @IsEnum(SignableType)
  entityType!: SignableType;

  @ApiProperty()
  @IsUUID()
  entityId!: string;

  @ApiPropertyOptional({
    description: 'the version you reviewed; refused (409) if the record has changed since',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  expectedVersion?: number;

  @ApiProperty({ enum: SignatureMeaning })
  @IsString()
  meaning!: string;

  @ApiProperty({ description: 'why you sign' })
  @IsString()
  @MaxLength(1000)
  reason!: string;

  @ApiProperty({ description: 'your password, re-entered for this signature (21 CFR 11.200)' })
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  password!: string;
}

export class SignatureListQuery {
  @ApiProperty()
  @IsString()
  @MaxLength(100)
  entityType!: string;

  @ApiProperty()
  @IsString()
  @MaxLength(200)
  entityId!: string;
}

export class SignatureResponse {
  @ApiProperty() id!: string;
  @ApiProperty() userId!: string;
  @ApiProperty() username!: string;
  @ApiProperty() printedName!: string;
  @ApiProperty({ enum: SignatureMeaning }) meaning!: SignatureMeaning;
  @ApiProperty() reason!: string;
  @ApiProperty() signedAt!: string;
  @ApiProperty() entityType!: string;
  @ApiProperty() entityId!: string;
  @ApiProperty() entityVersion!: number;
  @ApiProperty() contentHash!: string;
}
