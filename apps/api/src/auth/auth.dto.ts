import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';

export class LoginRequest {
  @ApiProperty({ example: 'qa' })
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  username!: string;

  @ApiProperty({ example: 'demo-password-2026' })
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  password!: string;
}

export class LoginResponse {
  @ApiProperty({ description: 'JWT to send as `Authorization: Bearer <token>`' })
  accessToken!: string;

  @ApiProperty({ description: 'seconds until the token expires' })
  expiresIn!: number;
}

export class MeResponse {
  @ApiProperty() kind!: string;
  @ApiProperty() userId!: string;
  @ApiProperty() username!: string;
  @ApiProperty() displayName!: string;
  @ApiProperty() role!: string;
  @ApiProperty({ nullable: true, type: String }) siteId!: string | null;
}
