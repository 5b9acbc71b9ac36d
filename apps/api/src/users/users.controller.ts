import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Role } from '@lyotrace/contracts';
import type { ActorContext } from '@lyotrace/persistence';
import { UserService } from '@lyotrace/services';
import { Ctx, Roles } from '../http/access.decorators.js';
import { CreateUserRequest, ReasonRequest, UserResponse } from './users.dto.js';

@ApiTags('users')
@Controller('users')
@Roles(Role.Admin)
export class UsersController {
  constructor(private readonly users: UserService) {}

  @Post()
  create(@Ctx() ctx: ActorContext, @Body() body: CreateUserRequest): Promise<UserResponse> {
    return this.users.create(ctx, body);
  }

  @Get()
  list(): Promise<UserResponse[]> {
    return this.users.list();
  }

  @Get(':id')
  get(@Param('id', ParseUUIDPipe) id: string): Promise<UserResponse> {
    return this.users.get(id);
  }

  @Post(':id/unlock')
  @HttpCode(200)
  unlock(
    @Ctx() ctx: ActorContext,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: ReasonRequest,
  ): Promise<UserResponse> {
    return this.users.unlock(ctx, id, body.reason);
  }
}
