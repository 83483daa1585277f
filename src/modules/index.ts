import type { BazaarModule } from '../kernel/module.ts';
import { identityModule } from './identity/index.ts';
import { inventoryModule } from './inventory/index.ts';
import { catalogModule } from './catalog/index.ts';
import { searchModule } from './search/index.ts';
import { cartModule } from './cart/index.ts';
import { promotionsModule } from './promotions/index.ts';
import { shippingModule } from './shipping/index.ts';
import { ordersModule } from './orders/index.ts';
import { paymentsModule } from './payments/index.ts';

/** Every module of the platform, in start order. A split service runs a subset (MODULES=...). */
export const allModules: BazaarModule[] = [
  identityModule,
  // Inventory before catalog: its demo locations must exist when catalog's demo stock is registered.
  inventoryModule,
  catalogModule,
  searchModule,
  cartModule,
  promotionsModule,
  shippingModule,
  ordersModule,
  paymentsModule,
];
