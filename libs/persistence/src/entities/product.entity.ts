import { Check, Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, VersionColumn } from 'typeorm';

/** A medicinal product presentation, identified by its GTIN-14 (check digit verified on entry). */
@Entity({ name: 'product' })
@Check('CHK_product_gtin', `gtin ~ '^[0-9]{14}$'`)
@Check('CHK_product_shelf_life', `shelf_life_days > 0`)
export class ProductEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'text', unique: true })
  gtin!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ name: 'shelf_life_days', type: 'int' })
  shelfLifeDays!: number;

  /** A single-use vial is dosed once (custody issue). */
  @Column({ name: 'single_use', type: 'boolean', default: true })
  singleUse!: boolean;

  /**
   * Stability budget: the time out of the storage range a vial may accumulate over its life (from the
   * product's stability data; EU GDP has no default allowance). Null: none allowed beyond the alarm rules.
   */
  @Column({ name: 'stability_budget_s', type: 'int', nullable: true })
  stabilityBudgetS!: number | null;

  @VersionColumn()
  version!: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
