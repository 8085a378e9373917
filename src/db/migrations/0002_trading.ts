import { sql, type Kysely } from 'kysely';

/**
 * Version 2: named configurations (analysis, trade control, account control), analyses,
 * accounts, balance history, trade logs, simulations and neural network models.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('named_configs')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('kind', 'text', (c) => c.notNull().check(sqlIn('kind', ['analysis', 'trade_control', 'account_control'])))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('params_json', 'text', (c) => c.notNull())
    .addColumn('created_at', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'integer', (c) => c.notNull())
    .addUniqueConstraint('named_configs_kind_name', ['kind', 'name'])
    .execute();

  await db.schema
    .createTable('analyses')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('config_id', 'integer', (c) => c.notNull().references('named_configs.id').onDelete('cascade'))
    .addColumn('symbol', 'text', (c) => c.notNull())
    .addColumn('interval', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('last_open_time', 'integer')
    .addColumn('created_at', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'integer', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('accounts')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('credentials_ref', 'text')
    .addColumn('settings_json', 'text', (c) => c.notNull())
    .addColumn('created_at', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'integer', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('balance_history')
    .addColumn('account_id', 'integer', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('time', 'integer', (c) => c.notNull())
    .addColumn('asset', 'text', (c) => c.notNull())
    .addColumn('wallet_balance', 'text', (c) => c.notNull())
    .addColumn('margin_balance', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('balance_history_pk', ['account_id', 'time', 'asset'])
    .execute();

  await db.schema
    .createTable('simulations')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('params_json', 'text', (c) => c.notNull())
    .addColumn('result_json', 'text')
    .addColumn('created_at', 'integer', (c) => c.notNull())
    .addColumn('started_at', 'integer')
    .addColumn('finished_at', 'integer')
    .execute();

  await db.schema
    .createTable('simulation_balance')
    .addColumn('simulation_id', 'integer', (c) => c.notNull().references('simulations.id').onDelete('cascade'))
    .addColumn('time', 'integer', (c) => c.notNull())
    .addColumn('wallet_balance', 'real', (c) => c.notNull())
    .addColumn('margin_balance', 'real', (c) => c.notNull())
    .addPrimaryKeyConstraint('simulation_balance_pk', ['simulation_id', 'time'])
    .execute();

  await db.schema
    .createTable('trade_logs')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('account_id', 'integer', (c) => c.references('accounts.id').onDelete('cascade'))
    .addColumn('simulation_id', 'integer', (c) => c.references('simulations.id').onDelete('cascade'))
    .addColumn('time', 'integer', (c) => c.notNull())
    .addColumn('symbol', 'text', (c) => c.notNull())
    .addColumn('side', 'text', (c) => c.notNull())
    .addColumn('position_side', 'text', (c) => c.notNull())
    .addColumn('order_type', 'text', (c) => c.notNull())
    .addColumn('price', 'text', (c) => c.notNull())
    .addColumn('quantity', 'text', (c) => c.notNull())
    .addColumn('fee', 'text', (c) => c.notNull())
    .addColumn('fee_asset', 'text', (c) => c.notNull())
    .addColumn('realized_pnl', 'text', (c) => c.notNull())
    .addColumn('order_id', 'text')
    .addColumn('client_order_id', 'text')
    .addColumn('reason', 'text')
    .execute();
  await db.schema.createIndex('trade_logs_account_time').on('trade_logs').columns(['account_id', 'time']).execute();
  await db.schema.createIndex('trade_logs_simulation_time').on('trade_logs').columns(['simulation_id', 'time']).execute();

  await db.schema
    .createTable('neural_models')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('params_json', 'text', (c) => c.notNull())
    .addColumn('weights', 'blob')
    .addColumn('metrics_json', 'text')
    .addColumn('created_at', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'integer', (c) => c.notNull())
    .execute();
}

function sqlIn(column: string, values: string[]) {
  return sql`${sql.ref(column)} IN (${sql.join(values.map((v) => sql.lit(v)))})`;
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['neural_models', 'trade_logs', 'simulation_balance', 'simulations', 'balance_history', 'accounts', 'analyses', 'named_configs']) {
    await db.schema.dropTable(table).execute();
  }
}
