import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Role } from '@lyotrace/contracts';
import { IsEnum, IsOptional, IsString, IsUUID, Matches, MaxLength, MinLength } from 'class-validator';

export class CreateUserRequest {
  @ApiProperty({ example: 'jdoe', description: 'lower-case letters, digits, dot, dash, underscore' })
  @Matches(/^[a-z0-9][a-z0-9._-]{1,62}$/, { message: 'username must be 2–63 characters: a-z, 0-9, . _ -' })
  username!: string;

  @ApiProperty({ example: 'Jane Doe', description: 'printed name shown with signatures' })
  @IsString()
  @MinLength(2)
  @MaxLength(200)
  displayName!: string;

  @ApiProperty({ minLength: 12 })
  @IsString()
  @MaxLength(256)
  password!: string;

  @ApiProperty({ enum: Role })
  @IsEnum(Role)
  role!: Role;

  @ApiPropertyOptional({ description: 'required for role clinic: the clinic site the user belongs to' })
  @IsOptional()
  @IsUUID()
  siteId?: string;
}

export class ReasonRequest {
  @ApiProperty({ description: 'why (kept in the audit trail)' })
  @IsString()
  @MinLength(1)
  @MaxLength(1000)
  reason!: string;
}

export class UserResponse {
  @ApiProperty() id!: string;
  @ApiProperty() username!: string;
  @ApiProperty() displayName!: string;
  @ApiProperty({ enum: Role }) role!: Role;
  @ApiProperty({ nullable: true, type: String }) siteId!: string | null;
  @ApiProperty() active!: boolean;
  @ApiProperty({ nullable: true, type: String }) lockedUntil!: string | null;
  @ApiProperty() version!: number;
}
