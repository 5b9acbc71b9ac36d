import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { SiteKind } from '@lyotrace/contracts';
import { IsEnum, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';

export class CreateSiteRequest {
  @ApiProperty({ example: 'Lyotrace Demo' })
  @IsString()
  @MinLength(2)
  @MaxLength(200)
  organisation!: string;

  @ApiProperty({ example: 'CLINIC-C' })
  @Matches(/^[A-Z0-9][A-Z0-9-]{1,31}$/, { message: 'code must be 2–32 characters: A-Z, 0-9, -' })
  code!: string;

  @ApiProperty()
  @IsString()
  @MinLength(2)
  @MaxLength(200)
  name!: string;

  @ApiProperty({ enum: SiteKind })
  @IsEnum(SiteKind)
  kind!: SiteKind;

  @ApiPropertyOptional({
    example: 'Europe/Rome',
    description: 'IANA time zone; business dates are judged in it',
  })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  timezone?: string;
}

export class SiteResponse {
  @ApiProperty() id!: string;
  @ApiProperty() organisationId!: string;
  @ApiProperty() code!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: SiteKind }) kind!: SiteKind;
  @ApiProperty() timezone!: string;
  @ApiProperty() version!: number;
}

export class CreateBridgeCredentialRequest {
  @ApiPropertyOptional({ example: 'depot-pc-1' })
  @IsOptional()
  @IsString()
  @MinLength(2)
  @MaxLength(100)
  name?: string;
}

export class BridgeCredentialResponse {
  @ApiProperty() id!: string;
  @ApiProperty() siteId!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ description: 'shown once: store it in the bridge configuration (BRIDGE_TOKEN)' })
  token!: string;
}
